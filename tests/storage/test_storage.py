"""Storage primitives on both databases: archive dedupe, references, migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from gateway.bootstrap import migrate
from storage.accounts import add_account
from storage.archive import archive_raw, load_blob
from storage.db import create_engine, session_factory
from storage.migrate import alembic_config
from storage.references import allocate_reference, format_reference
from storage.tables import Blob, RawMessage
from tests.conftest import make_settings


async def _ready(url: str):
    await asyncio.to_thread(migrate, make_settings(url))
    engine = create_engine(url)
    return engine, session_factory(engine)


async def test_archive_is_idempotent_per_account_and_provider_id(any_db_url):
    engine, sessions = await _ready(any_db_url)
    try:
        async with sessions.begin() as session:
            account = await add_account(session, "api", "second", {})
        results = []
        for data in (b"first body", b"first body", b"changed body"):
            async with sessions.begin() as session:
                results.append(
                    await archive_raw(
                        session,
                        channel_account_id=account.id,
                        provider_id="msg-1",
                        data=data,
                        media_type="text/plain",
                    )
                )
        async with sessions.begin() as session:
            other = await archive_raw(
                session,
                channel_account_id=account.id,
                provider_id="msg-2",
                data=b"first body",
                media_type="text/plain",
            )
        async with sessions() as session:
            raws = await session.scalar(select(func.count()).select_from(RawMessage))
            blobs = await session.scalar(select(func.count()).select_from(Blob))
            kept = await load_blob(session, results[0].sha256)
    finally:
        await engine.dispose()
    assert [r.duplicate for r in results] == [False, True, True]
    assert results[0].raw_id == results[1].raw_id == results[2].raw_id
    assert results[2].sha256 == results[0].sha256  # the first copy is what is kept
    assert other.raw_id != results[0].raw_id and not other.duplicate
    assert raws == 2 and blobs == 1 and kept == b"first body"


async def test_references_never_repeat_across_parallel_connections(any_db_url):
    engine, sessions = await _ready(any_db_url)
    when = datetime(2026, 11, 5, tzinfo=UTC)

    async def take() -> str:
        async with sessions.begin() as session:
            return await allocate_reference(session, when)

    try:
        taken = await asyncio.gather(*(take() for _ in range(200)))
        async with sessions.begin() as session:
            next_month = await allocate_reference(session, datetime(2026, 12, 1, tzinfo=UTC))
    finally:
        await engine.dispose()
    assert len(set(taken)) == 200
    assert sorted(taken) == [format_reference("202611", n) for n in range(1, 201)]
    assert next_month == "QC-202612-000001"


async def test_migrations_are_repeatable(any_db_url):
    await asyncio.to_thread(migrate, make_settings(any_db_url))
    await asyncio.to_thread(migrate, make_settings(any_db_url))  # a second run changes nothing
    engine = create_engine(any_db_url)
    try:
        async with engine.connect() as connection:
            applied = set(
                (
                    await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
                ).scalars()
            )
    finally:
        await engine.dispose()
    heads = set(ScriptDirectory.from_config(alembic_config(any_db_url)).get_heads())
    assert "0001" in {
        rev.revision
        for rev in ScriptDirectory.from_config(alembic_config(any_db_url)).walk_revisions()
    }
    assert applied == heads  # every feature branch is at its head
