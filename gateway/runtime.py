"""Starting and stopping the job machinery of either run mode around the HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from gateway.jobs import ArqQueue, EmbeddedQueue, redis_settings
from gateway.pipeline import run_job, sweep
from gateway.process_batch import drain_sends, process_batch
from gateway.services import Services
from storage.work import release_all_claims

log = logging.getLogger(__name__)
ARQ_QUEUE = "complaint-gateway"


async def _embedded_job(svc: Services, job: str, row_id: int) -> None:
    """A `process` job takes a batch of received rows with it, as in the workers: one
    claim, one model pass and one transaction for many rows instead of one each."""
    if job == "process":
        await process_batch(svc, row_id)
    else:
        await run_job(svc, job, row_id)


class EmbeddedRuntime:
    """In-process workers plus a periodic sweeper; the only process, so claims at start are ours."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.queue = EmbeddedQueue(partial(_embedded_job, svc), svc.settings.embedded_workers)
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.svc.queue = self.queue
        async with self.svc.sessions.begin() as session:
            released = await release_all_claims(session)
        if released:
            log.info("released claims left by a previous run", extra={"rows": released})
        self.queue.start()
        await sweep(self.svc, older_than=0)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweeper")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.svc.settings.sweep_interval_seconds)
            try:
                await sweep(self.svc)
            except Exception:
                log.exception("sweep failed")

    async def stop(self, drain_seconds: float = 10.0) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.queue.drain(drain_seconds)
        await self.queue.stop()
        # Batches send their outbox rows in tasks of their own; let those finish too
        # (what does not is left `sending` and swept once its claim is stale).
        await drain_sends(self.svc, drain_seconds)


class ScaleOutFrontEnd:
    """The HTTP process of scale-out mode: enqueues onto Redis, the arq workers do the rest."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._pool: object | None = None

    async def start(self) -> None:
        from arq import create_pool

        assert self.svc.settings.redis_url
        pool = await create_pool(
            redis_settings(self.svc.settings.redis_url), default_queue_name=ARQ_QUEUE
        )
        self._pool = pool
        self.svc.extras["redis"] = pool
        self.svc.queue = ArqQueue(pool, ARQ_QUEUE)

    async def stop(self, drain_seconds: float = 0.0) -> None:
        if self._pool is not None:
            await self._pool.aclose()  # type: ignore[attr-defined]
