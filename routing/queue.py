"""The `queue` destination: an arq job on a named Redis queue for in-house consumers.

Payload (one positional argument of the job function, default
`complaint_routed`): the same envelope a webhook receives plus its key,

    {"event": "complaint.routed" | "complaint.withdrawn" | …,
     "purpose": "route" | "escalation" | "review" | "withdraw" | …,
     "idempotency_key": "QC-202611-000042/cases-queue/route/1",
     "complaint": {…the record, limited to the destination's `fields`…}}

The arq job id is the idempotency key, so a second enqueue of the same
delivery (a retry after a lost answer) does not queue a second job while the
first one or its result is still in Redis; consumers should still treat the
key as the deduplication key.
"""

from __future__ import annotations

import asyncio
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from pydantic import Field, field_validator
from redis.exceptions import RedisError

from routing.destinations import Delivery, DestinationError, DestinationTools, register_kind
from routing.kind_settings import KindSettings
from routing.outcome import Outcome, Verdict


class QueueSettings(KindSettings):
    queue_name: str = Field(min_length=1, max_length=200)
    function: str = Field(default="complaint_routed", min_length=1)
    redis_url: str | None = None

    @field_validator("redis_url")
    @classmethod
    def _redis_dsn(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"must be a redis:// URL, got {value!r}")
        return value


class QueueSender:
    def __init__(self, name: str, settings: dict[str, Any], tools: DestinationTools):
        self.config = QueueSettings.model_validate(settings)
        url = self.config.redis_url or tools.redis_url
        if not url:
            raise DestinationError(
                f"queue destination {name!r} needs redis_url (or the gateway's redis_url)"
            )
        self.name = name
        self.redis = RedisSettings.from_dsn(url)
        self.redis.conn_timeout = max(int(self.config.timeout_seconds), 1)
        self.redis.conn_retries = 0
        self._pool: ArqRedis | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> ArqRedis:
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(self.redis)
            return self._pool

    async def send(self, delivery: Delivery) -> Outcome:
        envelope = {**delivery.payload, "idempotency_key": delivery.idempotency_key}
        try:
            pool = await self._connection()
            job = await asyncio.wait_for(
                pool.enqueue_job(
                    self.config.function,
                    envelope,
                    _job_id=delivery.idempotency_key,
                    _queue_name=self.config.queue_name,
                ),
                self.config.timeout_seconds,
            )
        except (RedisError, OSError, TimeoutError) as exc:
            await self.close()
            return Outcome(Verdict.RETRY, f"{type(exc).__name__}: {exc}")
        note = "queued" if job is not None else "already queued (same idempotency key)"
        return Outcome(Verdict.DELIVERED, f"{note} on {self.config.queue_name}")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()


register_kind("queue", QueueSender)
