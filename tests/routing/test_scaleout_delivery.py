"""At-least-once delivery, exactly-once effect: a worker killed while a webhook is in flight."""

from __future__ import annotations

import asyncio
import signal

import pytest
import yaml
from sqlalchemy import select

from gateway.bootstrap import migrate
from storage.tables import Outbox
from tests.gateway.harness import running_gateway
from tests.integration.test_scaleout import Workers, _settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_worker_killed_mid_delivery_is_redelivered_with_the_same_key(
    tmp_path, pg_url, clean_redis, hanging_sink, hook_secret, classify_step
):
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database_url": pg_url,
                "redis_url": clean_redis,
                "stale_after_seconds": 2,
                "sweep_interval_seconds": 1,
                "destinations": {
                    "sink": {"url": hanging_sink.url, "secret": "env:TEST_HOOK_SECRET"}
                },
                "routing": {"default": ["sink"], "escalation": ["sink"]},
            }
        )
    )
    await asyncio.to_thread(migrate, _settings(config))
    workers = Workers(config, tmp_path)
    try:
        victim = workers.start()
        async with running_gateway(_settings(config), classify_step) as gw:
            status, body = await gw.post(
                {
                    "body": "The fridge BCD-520W stopped cooling after a week.",
                    "complainant": {"email": "kill@example.com"},
                }
            )
            await asyncio.wait_for(hanging_sink.first_arrived.wait(), 60)
            victim.send_signal(signal.SIGKILL)  # dies with the request unanswered
            victim.wait(timeout=10)
            hanging_sink.release.set()
            workers.start()
            for _ in range(600):
                async with gw.svc.sessions() as session:
                    row = (await session.execute(select(Outbox))).scalars().one()
                if row.state == "delivered":
                    break
                await asyncio.sleep(0.05)
    finally:
        workers.stop_all()
    assert status == 202 and victim.returncode == -signal.SIGKILL
    assert row.state == "delivered" and row.attempts == 2
    keys = hanging_sink.keys()
    assert len(keys) == 2 and set(keys) == {f"{body['reference']}/sink/route/1"}
