"""Fixtures of the e-mail tests: a real Dovecot, a real SMTP relay sink, database waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.services import Services
from storage.tables import Complaint, Outbox, RawMessage
from tests.channels.email.servers import RelaySink, dovecot  # noqa: F401  (a fixture)


@pytest.fixture
async def relay() -> AsyncIterator[RelaySink]:
    sink = RelaySink().start()
    yield sink
    sink.stop()


async def count(svc: Services, model: Any, *where: Any) -> int:
    async with svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def wait_until(
    condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def raw_count(svc: Services) -> int:
    return await count(svc, RawMessage)


async def complaint_count(svc: Services) -> int:
    return await count(svc, Complaint)


async def ack_count(svc: Services) -> int:
    return await count(svc, Outbox, Outbox.purpose == "ack")
