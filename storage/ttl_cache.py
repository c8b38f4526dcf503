"""A small time-bounded cache for hot look-ups (API keys, user tokens, channel accounts).

Here in `storage` so that the gateway and the channels (which may not import the
gateway) share one. A busy client costs no query per request, and seldom waits for one:

- an entry younger than `refresh_after` is answered as it is;
- an older entry younger than `seconds` is still answered, while one lookup refreshes it
  in the background (stale-while-revalidate); a refresh that fails is logged and the
  entry is kept, so the next call tries again;
- an entry `seconds` old, or none, is never answered: the call waits for a lookup, and
  concurrent calls for one key share that lookup (single flight); a lookup that fails
  raises to every caller waiting for it and caches nothing.

An entry's age counts from when its lookup started. So a change made while the service
runs (a disabled API key or account) is seen by every call made more than `seconds`
after it, except calls that share a lookup already running when the change was made:
a change takes effect within `seconds` plus one lookup.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
log = logging.getLogger(__name__)


class TtlCache(Generic[K, V]):
    def __init__(
        self, seconds: float, max_entries: int = 10_000, refresh_after: float | None = None
    ) -> None:
        """`refresh_after` defaults to half of `seconds`; `max_entries` bounds the size
        (when full, a new key starts the cache over: many unknown keys cannot grow it)."""
        self.seconds = seconds
        self.refresh_after = seconds / 2 if refresh_after is None else refresh_after
        if not 0 <= self.refresh_after <= seconds:
            raise ValueError("refresh_after must lie between 0 and seconds")
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lookups: dict[K, asyncio.Task[V]] = {}  # also keeps running refreshes alive

    async def get(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        hit = self._entries.get(key)
        if hit is not None:
            age = time.monotonic() - hit[0]
            if age < self.seconds:
                if age >= self.refresh_after:
                    self._lookup(key, load, refresh=True)
                return hit[1]
        # shield: a caller that gives up does not cancel the lookup others wait for
        return await asyncio.shield(self._lookup(key, load, refresh=False))

    def _lookup(
        self, key: K, load: Callable[[K], Awaitable[V]], *, refresh: bool
    ) -> asyncio.Task[V]:
        """The lookup of `key` running in this event loop, or a new one."""
        running = self._lookups.get(key)
        if (
            running is not None
            and not running.done()
            and running.get_loop() is asyncio.get_running_loop()
        ):
            return running
        task = asyncio.create_task(self._load(key, load))
        self._lookups[key] = task
        task.add_done_callback(partial(self._finished, key, refresh))
        return task

    async def _load(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        started = time.monotonic()
        value = await load(key)
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (started, value)
        return value

    def _finished(self, key: K, refresh: bool, task: asyncio.Task[V]) -> None:
        if self._lookups.get(key) is task:
            del self._lookups[key]
        if task.cancelled():
            return
        error = task.exception()  # retrieved here, so a refresh nobody awaits is not reported
        if error is not None and refresh:
            log.warning("cached lookup refresh failed; the next call retries", exc_info=error)
