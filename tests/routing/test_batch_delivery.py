"""Batch delivery: one job claims several due rows, sends them together, records each outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import insert, select, update

from gateway.pipeline import deliver, process
from storage.db import utcnow
from storage.records import DeliveryState
from storage.tables import History, Outbox
from storage.work import claim_due_outbox
from tests.conftest import make_settings
from tests.gateway.harness import Gateway, running_gateway
from tests.local_server import serve_locally

COMPLAINT = {
    "body": "The dishwasher WQP12-HT5 leaves every plate dirty since last week.",
    "complainant": {"email": "batch@example.com"},
}


@dataclass
class KeyedSink:
    """Answers 503 to the idempotency keys in `failing`, 200 to the rest."""

    url: str = ""
    failing: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)


@pytest.fixture
async def keyed_sink() -> AsyncIterator[KeyedSink]:
    state = KeyedSink()

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        key = request.headers["Idempotency-Key"]
        state.keys.append(key)
        return web.Response(status=503 if key in state.failing else 200, text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner, base_url = await serve_locally(app)
    state.url = base_url + "/hook"
    yield state
    await runner.cleanup()


async def _seed(gw: Gateway, extra: int) -> list[Outbox]:
    """One processed complaint (one outbox row) plus `extra` due rows for the same sink."""
    _, body = await gw.post(COMPLAINT)
    assert await process(gw.svc, body["raw_id"]) == body["reference"]
    async with gw.svc.sessions.begin() as session:
        first = (await session.execute(select(Outbox))).scalars().one()
        now = utcnow()
        rows: list[dict[str, Any]] = [
            {
                "complaint_id": first.complaint_id,
                "purpose": "route",
                "destination": "sink",
                "idempotency_key": f"{body['reference']}/sink/route/extra-{n}",
                "payload": first.payload,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(extra)
        ]
        if rows:
            await session.execute(insert(Outbox), rows)
    return await _rows(gw)


async def _rows(gw: Gateway) -> list[Outbox]:
    async with gw.svc.sessions() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def _actions(gw: Gateway) -> list[str]:
    async with gw.svc.sessions() as session:
        query = select(History.action).where(History.action.like("deliver%"))
        return list((await session.execute(query.order_by(History.id))).scalars())


async def test_one_job_delivers_a_batch_and_a_failing_row_is_retried_alone(
    any_db_url, keyed_sink, hook_secret, classify_step
):
    settings = make_settings(any_db_url, keyed_sink.url, delivery_backoff_base_seconds=30.0)
    async with running_gateway(settings, classify_step, run_jobs=False) as gw:
        rows = await _seed(gw, extra=5)
        failing = rows[3]
        keyed_sink.failing = {failing.idempotency_key}

        assert await deliver(gw.svc, rows[0].id) is DeliveryState.DELIVERED
        after = {row.id: row for row in await _rows(gw)}
        assert sorted(keyed_sink.keys) == sorted(row.idempotency_key for row in rows)
        for row in rows:
            assert after[row.id].attempts == 1
            expected = "pending" if row.id == failing.id else "delivered"
            assert after[row.id].state == expected, row.idempotency_key
        retry = after[failing.id]
        assert retry.last_error == "HTTP 503" and retry.claimed_at is None
        assert retry.next_attempt_at > utcnow()  # backed off, not due yet
        assert sorted(await _actions(gw)) == ["delivered"] * 5 + ["delivery_retry"]

        # The jobs queued for the rows the batch took find nothing to do.
        for row in rows[1:]:
            assert await deliver(gw.svc, row.id) is None
        assert len(keyed_sink.keys) == len(rows)

        # Once due, the failed row is sent again alone, with the same idempotency key.
        keyed_sink.failing = set()
        async with gw.svc.sessions.begin() as session:
            await session.execute(
                update(Outbox).where(Outbox.id == failing.id).values(next_attempt_at=utcnow())
            )
        assert await deliver(gw.svc, failing.id) is DeliveryState.DELIVERED
        final = {row.id: row for row in await _rows(gw)}
    assert keyed_sink.keys[-1] == failing.idempotency_key
    assert keyed_sink.keys.count(failing.idempotency_key) == 2
    assert len(keyed_sink.keys) == len(rows) + 1
    assert final[failing.id].state == "delivered" and final[failing.id].attempts == 2
    assert all(row.attempts == 1 for row in final.values() if row.id != failing.id)


async def test_concurrent_batch_claimers_never_take_the_same_row(
    pg_url, keyed_sink, hook_secret, classify_step
):
    settings = make_settings(pg_url, keyed_sink.url)
    async with running_gateway(settings, classify_step, run_jobs=False) as gw:
        rows = await _seed(gw, extra=39)
        # Two open transactions: the second skips what the first holds, without waiting.
        async with gw.svc.sessions.begin() as first, gw.svc.sessions.begin() as second:
            held = await claim_due_outbox(first, 15)
            other = await asyncio.wait_for(claim_due_outbox(second, 100), 5)
        assert len(held) == 15 and len(other) == len(rows) - 15
        assert not {c.id for c in held} & {c.id for c in other}

        # Many claimers at once over fresh due rows: every row goes to exactly one.
        async with gw.svc.sessions.begin() as session:
            await session.execute(
                update(Outbox).values(state="pending", attempts=0, next_attempt_at=utcnow())
            )

        async def claimer() -> list[int]:
            async with gw.svc.sessions.begin() as session:
                return [c.id for c in await claim_due_outbox(session, 7)]

        taken = await asyncio.gather(*(claimer() for _ in range(8)))
    flat = [outbox_id for batch in taken for outbox_id in batch]
    assert len(flat) == len(set(flat)) == len(rows)
