"""Job queues: the same job functions run in-process (embedded) or on arq workers.

A job carries only a row id; the row's state in the database decides whether
there is work, so running a job twice, or losing one, is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from uuid import uuid4

from arq.connections import RedisSettings
from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

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


# arq connects with a 1 s timeout and a failed connect inside its poll loop ends the
# worker; on a loaded host a new pool connection can take longer than that.
CONNECT_TIMEOUT_SECONDS = 10


def redis_settings(url: str) -> RedisSettings:
    """arq's settings for `url`, patient enough for a busy host."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = CONNECT_TIMEOUT_SECONDS
    return settings


def process_list(queue_name: str) -> str:
    """The Redis list of raw ids waiting to be processed (see `gateway.process_feed`)."""
    return f"{queue_name}:process"


class ArqQueue:
    """Enqueues onto Redis for `complaint-gateway worker` processes.

    `process` work goes onto a plain list that workers pop in batches
    (`gateway.process_feed`); other jobs are arq jobs. arq's `enqueue_job` costs
    three round trips (WATCH, EXISTS, MULTI/EXEC) to keep caller-chosen job ids
    unique; ours are random, so a job is just its key and its queue entry. Work
    asked for while a write is in flight waits and goes together in the next one
    (one MULTI/EXEC), so a busy process pays one round trip for many rows and an
    idle one waits for nobody. `enqueue` returns once its work is stored.
    """

    def __init__(self, pool: object, queue_name: str) -> None:
        self._pool = pool
        self._queue_name = queue_name
        self._waiting: list[tuple[str, int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def enqueue(self, job: str, row_id: int) -> None:
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((job, row_id, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        await stored

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._write(batch)
            except Exception as exc:  # each caller sees the failure of its own job
                for _job, _row_id, stored in batch:
                    if not stored.done():
                        stored.set_exception(exc)
            else:
                for _job, _row_id, stored in batch:
                    if not stored.done():
                        stored.set_result(None)

    async def _write(self, batch: list[tuple[str, int, asyncio.Future[None]]]) -> None:
        pool: Any = self._pool
        now = timestamp_ms()
        async with pool.pipeline(transaction=True) as pipe:
            raw_ids = [row_id for job, row_id, _stored in batch if job == "process"]
            if raw_ids:
                pipe.rpush(process_list(self._queue_name), *raw_ids)
            for job, row_id, _stored in batch:
                if job == "process":
                    continue
                job_id = uuid4().hex
                data = serialize_job(
                    f"{job}_job", (row_id,), {}, None, now, serializer=pool.job_serializer
                )
                pipe.psetex(job_key_prefix + job_id, pool.expires_extra_ms, data)
                pipe.zadd(self._queue_name, {job_id: now})
            await pipe.execute()

    async def depth(self) -> int:
        pool: Any = self._pool
        jobs = await pool.zcard(self._queue_name)
        return int(jobs) + int(await pool.llen(process_list(self._queue_name)))


class InlineQueue:
    """Runs each job at once, in the caller's task (CLI ingest and replay)."""

    def __init__(self, handler: JobHandler) -> None:
        self._handler = handler

    async def enqueue(self, job: str, row_id: int) -> None:
        await self._handler(job, row_id)

    async def depth(self) -> int:
        return 0
