"""Scale-out delivery of `process` work: raw ids on a Redis list, taken in batches.

An arq job costs its worker about seven Redis round trips (claim the job, read it,
mark it in progress, record and clear the result) and the enqueuer three; with one
job per complaint that was most of a worker's time. A raw id needs none of that: the
row's state in the database decides whether there is work (see `gateway.jobs`). So
`ArqQueue` pushes process work onto a list (one RPUSH, shared by all ids waiting for
the same write), and each worker runs a `ProcessFeed`: it pops up to a batch of ids
in two commands and hands them to `process_ids`, a few batches at a time.

Nothing is lost by an id leaving the list: a worker killed after popping leaves the
rows `received` or `processing`, and the sweeper pushes them again once stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

__all__ = ["ProcessFeed", "process_list"]

from gateway.jobs import process_list
from gateway.process_batch import drain_sends, process_ids
from gateway.services import Services

log = logging.getLogger(__name__)
BATCHES_IN_FLIGHT = 4  # batches one worker processes at once (one waits on the database,
# another classifies); more only lengthens each batch's claims
FEED_BATCH = 24  # ids one pop takes: big enough to share a batch's fixed round trips
# (claim, blobs, commit, delivery), small enough that a backlog spreads over the
# batches in flight instead of one batch making every row in it wait for all
POP_TIMEOUT_SECONDS = 1.0  # how often an idle feed looks at whether it should stop


class ProcessFeed:
    """Pops raw ids from the process list and runs them as batches, bounded per worker."""

    def __init__(
        self,
        svc: Services,
        redis: Any,
        key: str,
        *,
        batch: int = FEED_BATCH,
        in_flight: int = BATCHES_IN_FLIGHT,
    ) -> None:
        self.svc, self.redis, self.key, self.batch = svc, redis, key, batch
        self._slots = asyncio.Semaphore(in_flight)
        self._running: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.create_task(self._feed(), name="process-feed")

    async def _feed(self) -> None:
        while True:
            await self._slots.acquire()  # a slot first: ids wait on the list, not in memory
            try:
                ids = await self._pop()
            except asyncio.CancelledError:
                self._slots.release()
                raise
            except Exception:
                self._slots.release()
                log.exception("reading the process list failed")
                await asyncio.sleep(POP_TIMEOUT_SECONDS)
                continue
            if not ids:
                self._slots.release()
                continue
            task = asyncio.create_task(self._run(ids))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _pop(self) -> list[int]:
        popped = await self.redis.blpop([self.key], timeout=POP_TIMEOUT_SECONDS)
        if popped is None:
            return []
        more = await self.redis.lpop(self.key, self.batch - 1) if self.batch > 1 else None
        return [int(popped[1]), *(int(item) for item in more or [])]

    async def _run(self, ids: list[int]) -> None:
        try:
            await process_ids(self.svc, ids)
        except Exception:  # the rows stay claimed or received; the sweeper retries them
            log.exception("processing a batch failed", extra={"rows": len(ids)})
        finally:
            self._slots.release()

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop popping; let running batches finish (bounded), then cancel the rest."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        if self._running:
            _done, pending = await asyncio.wait(set(self._running), timeout=drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await drain_sends(self.svc, drain_seconds)
