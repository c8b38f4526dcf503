"""Scale-out mode against real servers: PostgreSQL, Redis and arq worker processes.

Includes the crash test: a worker is SIGKILLed while it is inside `process`
(blocked on a table lock the test holds), and the complaint is still stored
and delivered exactly once after another worker takes over.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
import yaml
from sqlalchemy import func, select

from gateway.bootstrap import migrate
from gateway.settings import Settings
from storage.tables import Complaint, RawMessage
from tests.conftest import PG_DSN, REDIS_URL, make_settings
from tests.gateway.harness import running_gateway

CLI = Path(sys.executable).parent / "complaint-gateway"
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def clean_redis() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.flushdb()  # fails loudly when Redis is not running
    client.close()
    return REDIS_URL


@pytest.fixture
def scaleout_config(tmp_path, pg_url, clean_redis, sink, hook_secret) -> Path:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database_url": pg_url,
                "redis_url": clean_redis,
                "stale_after_seconds": 3,
                "sweep_interval_seconds": 1,
                "destinations": {"sink": {"url": sink.url, "secret": "env:TEST_HOOK_SECRET"}},
                "routing": {"default": ["sink"], "escalation": ["sink"], "review": ["sink"]},
            }
        )
    )
    migrate(_settings(config))
    return config


class Workers:
    def __init__(self, config: Path, log_dir: Path) -> None:
        self.config = config
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(CLI), "--config", str(self.config), "worker", "--max-jobs", "10"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def workers(scaleout_config, tmp_path) -> Iterator[Workers]:
    pool = Workers(scaleout_config, tmp_path)
    yield pool
    pool.stop_all()


def _settings(config: Path) -> Settings:
    data = yaml.safe_load(config.read_text())
    return make_settings(data.pop("database_url"), **data)


async def test_complaints_flow_through_arq_workers(scaleout_config, workers, sink, classify_step):
    workers.start()
    workers.start()
    async with running_gateway(_settings(scaleout_config), classify_step) as gw:
        posted = await asyncio.gather(
            *(
                gw.post(
                    {
                        "body": f"Fridge BCD-520W number {n} stopped cooling after a week.",
                        "complainant": {"email": f"user{n}@example.com"},
                    }
                )
                for n in range(30)
            )
        )
        await sink.wait_for(30, timeout=60)
        ready = await (await gw.client.get("/readyz")).json()
    assert {status for status, _ in posted} == {202}
    assert ready["checks"]["redis"] == "ok"
    assert len(sink.received) == 30 and len(set(sink.keys())) == 30


async def test_worker_killed_mid_process_loses_and_doubles_nothing(
    scaleout_config, workers, sink, classify_step
):
    victim = workers.start()
    locker = await asyncpg.connect(PG_DSN)
    async with running_gateway(_settings(scaleout_config), classify_step) as gw:
        transaction = locker.transaction()
        await transaction.start()
        await locker.execute("LOCK TABLE complaint IN SHARE MODE")  # inserts now wait
        status, body = await gw.post(
            {
                "body": "油烟机开机冒烟并有焦糊味，外壳很烫，吓坏了",
                "complainant": {"phone": "13700001111"},
            }
        )
        assert status == 202
        raw_id = body["raw_id"]
        for _ in range(300):
            async with gw.svc.sessions() as session:
                raw = await session.get(RawMessage, raw_id)
            if raw is not None and raw.state == "processing":
                break
            await asyncio.sleep(0.05)
        assert raw is not None and raw.state == "processing"
        await asyncio.sleep(0.5)  # the worker is now blocked inside its final transaction
        victim.kill()
        victim.wait(timeout=10)
        await transaction.rollback()
        await locker.close()
        workers.start()
        record = await gw.record(body["reference"], timeout=60)
        await sink.wait_for(1, timeout=30)
        await asyncio.sleep(2)  # room for any duplicate to show up
        async with gw.svc.sessions() as session:
            stored = await session.scalar(
                select(func.count()).select_from(Complaint).where(Complaint.raw_id == raw_id)
            )
            raw = await session.get(RawMessage, raw_id)
    assert victim.returncode == -signal.SIGKILL
    assert stored == 1
    assert raw.state == "processed" and raw.attempts == 2
    assert record["classification"]["severity"] == "major"
    assert len(sink.received) == 1
