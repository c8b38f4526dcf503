"""Closing conversations a batch at a time takes references the way single closes do:
consecutive, never repeated, whatever else takes them meanwhile."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gateway.bootstrap import migrate
from storage.db import create_engine, session_factory
from storage.references import allocate_reference, allocate_references, format_reference
from tests.conftest import make_settings


async def test_references_taken_in_blocks_and_one_by_one_never_repeat(any_db_url):
    await asyncio.to_thread(migrate, make_settings(any_db_url))
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    when = datetime(2031, 3, 9, tzinfo=UTC)

    async def block(size: int) -> list[str]:
        async with sessions.begin() as session:
            return await allocate_references(session, when, size)

    async def one() -> list[str]:
        async with sessions.begin() as session:
            return [await allocate_reference(session, when)]

    try:
        taken = await asyncio.gather(*(block(n % 4) if n % 2 else one() for n in range(40)))
    finally:
        await engine.dispose()
    flat = [reference for group in taken for reference in group]
    assert sorted(flat) == [format_reference("203103", n) for n in range(1, len(flat) + 1)]
    for group in filter(None, taken):  # a block is consecutive
        numbers = [int(reference.rsplit("-", 1)[1]) for reference in group]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
