"""Job queues: the same job functions run in-process (embedded) or on arq workers.

A job carries only a row id; the row's state in the database decides whether
there is work, so running a job twice, or losing one, is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

JOB_NAMES = ("process", "deliver")


class JobQueue(Protocol):
    async def enqueue(self, job: str, row_id: int) -> None: ...

    async def depth(self) -> int: ...


JobHandler = Callable[[str, int], Awaitable[None]]


class EmbeddedQueue:
    """An asyncio queue drained by a few worker tasks inside the service process."""

    def __init__(self, handler: JobHandler, workers: int) -> None:
        self._handler = handler
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._pending: set[tuple[str, int]] = set()
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []

    async def enqueue(self, job: str, row_id: int) -> None:
        key = (job, row_id)
        if key in self._pending:
            return
        self._pending.add(key)
        self._queue.put_nowait(key)

    async def depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"embedded-worker-{n}")
            for n in range(self._workers)
        ]

    async def _work(self) -> None:
        while True:
            job, row_id = await self._queue.get()
            self._pending.discard((job, row_id))
            try:
                await self._handler(job, row_id)
            except Exception:
                log.exception("job failed", extra={"job": job, "row_id": row_id})
            finally:
                self._queue.task_done()

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for queued jobs; what is left stays in the database for the sweeper."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning("shutdown with jobs still queued", extra={"left": self._queue.qsize()})

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []


class ArqQueue:
    """Enqueues onto Redis for `complaint-gateway worker` processes."""

    def __init__(self, pool: object, queue_name: str) -> None:
        self._pool = pool
        self._queue_name = queue_name

    async def enqueue(self, job: str, row_id: int) -> None:
        await self._pool.enqueue_job(  # type: ignore[attr-defined]
            f"{job}_job", row_id, _queue_name=self._queue_name
        )

    async def depth(self) -> int:
        return int(await self._pool.zcard(self._queue_name))  # type: ignore[attr-defined]


class InlineQueue:
    """Runs each job at once, in the caller's task (CLI ingest and replay)."""

    def __init__(self, handler: JobHandler) -> None:
        self._handler = handler

    async def enqueue(self, job: str, row_id: int) -> None:
        await self._handler(job, row_id)

    async def depth(self) -> int:
        return 0
