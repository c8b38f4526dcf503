"""The shared look-up cache: hits, refresh behind a stale answer, one lookup for concurrent
misses, failures never cached, and no answer older than `seconds`."""

from __future__ import annotations

import asyncio
import logging

import pytest

from storage import ttl_cache
from storage.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class Source:
    """A lookup that counts its calls, answers `value`, and can be held or made to fail."""

    def __init__(self) -> None:
        self.calls = 0
        self.value = "v1"
        self.fail: Exception | None = None
        self.gate: asyncio.Event | None = None

    async def __call__(self, key: str) -> str:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return f"{key}:{self.value}"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ttl_cache, "time", fake)
    return fake


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_fresh_entry_is_answered_without_a_lookup(clock: Clock) -> None:
    cache: TtlCache[str, str] = TtlCache(5.0)
    source = Source()
    assert await cache.get("k", source) == "k:v1"
    clock.now += 2.0  # below refresh_after (2.5)
    source.value = "v2"
    assert await cache.get("k", source) == "k:v1"
    assert source.calls == 1


async def test_an_aging_entry_is_answered_while_one_refresh_runs(clock: Clock) -> None:
    cache: TtlCache[str, str] = TtlCache(5.0, refresh_after=2.0)
    source = Source()
    await cache.get("k", source)
    source.value, source.gate = "v2", asyncio.Event()
    clock.now += 3.0
    answers = [await cache.get("k", source) for _ in range(3)]
    assert answers == ["k:v1"] * 3  # nobody waits for the refresh
    await settle()
    assert source.calls == 2  # one refresh, however many calls saw the old entry
    source.gate.set()
    await settle()
    assert await cache.get("k", source) == "k:v2"
    assert source.calls == 2


async def test_no_answer_is_older_than_seconds(clock: Clock) -> None:
    """A disabled key must stop working within `seconds` plus one lookup, however long the
    cache sat unused: an entry that old is looked up again before anything is answered."""
    cache: TtlCache[str, str] = TtlCache(5.0)
    source = Source()
    await cache.get("k", source)
    source.value = "disabled"
    clock.now += 3600.0
    assert await cache.get("k", source) == "k:disabled"
    assert source.calls == 2


async def test_concurrent_misses_share_one_lookup(clock: Clock) -> None:
    cache: TtlCache[str, str] = TtlCache(5.0)
    source = Source()
    source.gate = asyncio.Event()
    waiting = [asyncio.create_task(cache.get("k", source)) for _ in range(5)]
    other = asyncio.create_task(cache.get("other", source))
    await settle()
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["k:v1"] * 5
    assert await other == "other:v1"
    assert source.calls == 2  # one per key


async def test_a_failed_lookup_raises_to_its_callers_and_is_not_cached(clock: Clock) -> None:
    cache: TtlCache[str, str] = TtlCache(5.0)
    source = Source()
    source.fail, source.gate = RuntimeError("database down"), asyncio.Event()
    waiting = [asyncio.create_task(cache.get("k", source)) for _ in range(3)]
    await settle()
    source.gate.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert source.calls == 1
    source.fail, source.gate = None, None
    assert await cache.get("k", source) == "k:v1"  # nothing was cached: looked up again
    assert source.calls == 2


async def test_a_failed_refresh_is_logged_and_the_next_call_retries(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    cache: TtlCache[str, str] = TtlCache(5.0, refresh_after=1.0)
    source = Source()
    await cache.get("k", source)
    source.fail = RuntimeError("database down")
    clock.now += 2.0
    with caplog.at_level(logging.WARNING, logger="storage.ttl_cache"):
        assert await cache.get("k", source) == "k:v1"
        await settle()
    assert "refresh failed" in caplog.text
    source.fail, source.value = None, "v2"
    assert await cache.get("k", source) == "k:v1"  # still the kept entry; a new refresh
    await settle()
    assert source.calls == 3
    assert await cache.get("k", source) == "k:v2"


async def test_the_size_is_bounded(clock: Clock) -> None:
    cache: TtlCache[str, str] = TtlCache(5.0, max_entries=3)
    source = Source()
    for key in "abcdefg":
        await cache.get(key, source)
    assert len(cache._entries) <= 3
