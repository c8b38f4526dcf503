"""Shared fixtures: real databases, a real webhook sink, the real classifier.

PostgreSQL (127.0.0.1:5432, database `test`) and Redis (127.0.0.1:6379) must
be running: a test that needs one fails loudly when it is missing; nothing is
skipped.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from gateway.settings import Settings, load_settings
from tests.local_server import serve_locally

PG_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL = PG_DSN.replace("postgresql://", "postgresql+asyncpg://", 1)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def reset_postgres() -> None:
    """Drop everything in the `test` database's public schema."""

    async def run() -> None:
        connection = await asyncpg.connect(PG_DSN, timeout=10)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/gateway.db"


@pytest.fixture
def pg_url() -> str:
    reset_postgres()
    return PG_URL


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/gateway.db"
    reset_postgres()
    return PG_URL


@pytest.fixture(scope="session")
def classify_step() -> Any:
    """The real classifier, loaded once for the whole run."""
    from gateway.classification import ClassifyStep

    return ClassifyStep()


@dataclass
class Sink:
    """A local webhook receiver that records what it was sent and can be told to fail."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # served first, then 200
    headers: dict[str, str] = field(default_factory=dict)

    def keys(self) -> list[str]:
        return [item["headers"]["Idempotency-Key"] for item in self.received]

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while len({*self.keys()}) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"sink got {len(set(self.keys()))} of {count} deliveries")
            await asyncio.sleep(0.02)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    state = Sink()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        state.received.append({"headers": dict(request.headers), "body": body})
        status = state.statuses.pop(0) if state.statuses else 200
        return web.Response(status=status, text="ok", headers=state.headers)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner, base_url = await serve_locally(app)
    state.url = base_url + "/hook"
    yield state
    await runner.cleanup()


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_HOOK_SECRET", "hook-secret-value")
    return "hook-secret-value"


def make_settings(database_url: str, sink_url: str | None = None, **overrides: Any) -> Settings:
    """Settings for a test: one `sink` webhook destination receiving every route."""
    destinations = {}
    routing: dict[str, Any] = {}
    if sink_url:
        destinations = {"sink": {"url": sink_url, "secret": "env:TEST_HOOK_SECRET"}}
        routing = {"default": ["sink"], "escalation": ["sink"], "review": ["sink"]}
    values: dict[str, Any] = {
        "database_url": database_url,
        "destinations": destinations,
        "routing": routing,
        "sweep_interval_seconds": 0.2,
        "stale_after_seconds": 5.0,
        "delivery_backoff_base_seconds": 0.05,
        "delivery_backoff_max_seconds": 0.2,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
