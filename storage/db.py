"""Engine and session factory for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.inline_sqlite import inline_creator
from storage.tables import Base

# How long a statement waits for another process's write lock (it blocks the loop meanwhile).
BUSY_TIMEOUT_MS = 5000


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


class SqliteTransactions:
    """Transactions this process has begun on SQLite (`/metrics`): the embedded mode's cost
    in commits, which its benchmark's database floor is measured against."""

    begun = 0


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout and BEGIN IMMEDIATE, so concurrent writers wait instead of failing.

    pysqlite's own transaction handling is switched off so that SQLAlchemy
    emits BEGIN itself; IMMEDIATE takes the write lock up front, which avoids
    the read-to-write upgrade deadlock that SQLite reports as "database is locked".
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        SqliteTransactions.begun += 1


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for the URL; SQLite gets one inline connection per process."""
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
        database = make_url(url).database or ":memory:"
        engine = create_async_engine(
            url,
            pool_size=1,
            max_overflow=0,
            pool_timeout=120,
            async_creator=inline_creator(database),
        )
        _tune_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip per checkout; a dropped connection fails its
    # statement, and every job is safe to run again (the sweeper retries it).
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


@asynccontextmanager
async def single_statements(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AsyncSession]:
    """A session whose statements each commit on their own (PostgreSQL autocommit).

    For work that is one statement, or statements that need not commit together
    (a claim, then a read), BEGIN and COMMIT are two round trips saved. On SQLite,
    whose connection runs every transaction as BEGIN IMMEDIATE, an ordinary one.
    """
    if engine.dialect.name != "postgresql":
        async with sessions.begin() as session:
            yield session
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(bind=autocommit, expire_on_commit=False) as session:
            yield session


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_all(engine: AsyncEngine) -> None:
    """Create tables directly (tests of the storage layer only; the service uses Alembic)."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
