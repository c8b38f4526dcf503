"""Keeping chat messages fast: one transaction for many webhook requests, grouping behind.

A webhook answers once its items are durable (raw row + inbox row). Requests that
arrive together share one transaction (group commit): while one write is under
way the next requests gather, so under load each transaction carries many
messages and an idle request waits only for its own. Joining the kept messages
to conversations is a separate pass that runs shortly after, in batches, off the
request path; the periodic job runs it too, so nothing kept waits for long even
after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass

from channels.base import ChannelHost
from storage.chat_intake import ChatIntake
from storage.conversations import ChatAccepted

log = logging.getLogger(__name__)
BATCH_ITEMS = 500  # items one intake transaction takes at most
GROUP_LIMIT = 200  # messages one grouping transaction joins at most
GROUP_DELAY = 0.5  # seconds a grouping pass waits so that it joins many messages at once

Waiting = tuple[list[ChatIntake], "asyncio.Future[list[ChatAccepted]]"]


class GroupCommit:
    """Writes the items of concurrent requests with `host.accept_chat_batch`, one batch at
    a time; a failed batch is retried request by request so one bad delivery fails alone."""

    def __init__(self, host: ChannelHost) -> None:
        self.host = host
        self._waiting: list[Waiting] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, items: list[ChatIntake]) -> list[ChatAccepted]:
        future: asyncio.Future[list[ChatAccepted]] = asyncio.get_running_loop().create_future()
        self._waiting.append((items, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # requests already running add theirs to this batch
        while self._waiting:
            batch: list[Waiting] = []
            size = 0
            while self._waiting and (not batch or size + len(self._waiting[0][0]) <= BATCH_ITEMS):
                batch.append(self._waiting.pop(0))
                size += len(batch[-1][0])
            try:
                answers = await self.host.accept_chat_batch(
                    [i for items, _ in batch for i in items]
                )
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                else:
                    await self._one_by_one(batch)
                continue
            start = 0
            for items, future in batch:
                _settle(future, answers[start : start + len(items)])
                start += len(items)

    async def _one_by_one(self, batch: list[Waiting]) -> None:
        for items, future in batch:
            try:
                _settle(future, await self.host.accept_chat_batch(items))
            except Exception as exc:
                _settle(future, exc)


def _settle(
    future: asyncio.Future[list[ChatAccepted]], outcome: list[ChatAccepted] | Exception
) -> None:
    if future.done():  # the request went away; what was written stays written
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Grouping:
    """Grouping passes of one process: started by intake, one at a time, until none wait."""

    def __init__(self, host: ChannelHost, delay: float = GROUP_DELAY) -> None:
        self.host = host
        self.delay = delay
        self._again = False
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Messages were kept: group them soon."""
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        await asyncio.sleep(self.delay)
        while self._again:
            self._again = False
            try:
                if await self.drain(once=True) >= GROUP_LIMIT:
                    self._again = True
            except Exception:  # the periodic job runs the pass again
                log.exception("grouping chat messages failed")
                return
            await asyncio.sleep(0)  # webhooks waiting run between passes

    async def drain(self, *, once: bool = False) -> int:
        """Join waiting messages (all of them, or one batch when `once`); how many."""
        total = 0
        async with self._lock:
            while True:
                joined = await self.host.group_chat_messages(GROUP_LIMIT)
                total += joined
                if once or joined < GROUP_LIMIT:
                    return total


@dataclass
class _PerHost:
    commit: GroupCommit
    grouping: Grouping


_HOSTS: weakref.WeakKeyDictionary[ChannelHost, _PerHost] = weakref.WeakKeyDictionary()


def intake_of(host: ChannelHost) -> _PerHost:
    """The process's group commit and grouping for `host` (shared by the four kinds)."""
    found = _HOSTS.get(host)
    if found is None:
        found = _HOSTS[host] = _PerHost(GroupCommit(host), Grouping(host))
    return found
