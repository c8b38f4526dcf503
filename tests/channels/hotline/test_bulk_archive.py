"""Bulk archiving of an import file: idempotent per call id, in one file and across files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from channels.hotline.batch import split
from gateway.channel_host import GatewayHost
from storage.tables import History, RawMessage
from tests.channels.hotline.conftest import ACCOUNT, start_hotline
from tests.gateway.harness import Gateway


def call(call_id: str, text: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "number": "+8613812345678",
        "started_at": "2026-03-15T10:20:00+08:00",
        "language": "zh",
        "turns": [{"speaker": "caller", "text": text}],
    }


@pytest.fixture
async def any_gateway(
    any_db_url: str, classify_step: Any, twilio_token: str
) -> AsyncIterator[Gateway]:
    async for gw in start_hotline(any_db_url, classify_step):
        yield gw


async def rows(gw: Gateway, model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    async with gw.svc.sessions() as session:
        return int(await session.scalar(query) or 0)


async def test_bulk_accept_is_idempotent(any_gateway: Gateway) -> None:
    gw = any_gateway
    host = GatewayHost(gw.svc)
    account = await host.account(ACCOUNT)
    assert account is not None
    calls = [call(f"B-{n}", f"第{n}台冰箱不制冷") for n in range(1_200)]
    calls.insert(5, call("B-3", "同一个电话又导出了一次"))  # the same call id twice in a file
    items = split(json.dumps(calls, ensure_ascii=False).encode(), "calls.json")
    first = await host.accept_many(account, items[:700], enqueue=False)
    assert [r.duplicate for r in first].count(True) == 1 and first[5].duplicate
    assert first[5].raw_id == first[3].raw_id
    whole = await host.accept_many(account, items, enqueue=False)  # overlaps the first part
    assert [r.raw_id for r in whole[:700]] == [r.raw_id for r in first]
    assert sum(not r.duplicate for r in whole) == 1_200 - 699
    assert await rows(gw, RawMessage) == 1_200
    assert await rows(gw, History, action="received") == 1_200
    again = await host.accept_many(account, items, enqueue=False)
    assert all(r.duplicate for r in again) and [r.raw_id for r in again] == [
        r.raw_id for r in whole
    ]
    assert await rows(gw, RawMessage) == 1_200
