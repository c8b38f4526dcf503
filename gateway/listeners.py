"""Runs channel listeners (IMAP pollers, SMTP servers, folder watchers) per enabled account.

Every `listener_sync_seconds` the supervisor compares the accounts in the
database with the running listeners: a new or re-enabled account starts, a
disabled, removed or changed one stops (and restarts with its new settings).
A listener that raises is restarted with back-off; one broken account never
stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from channels.base import AccountView, ChannelHost
from channels.registry import all_kinds, get_kind

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300.0


@dataclass
class _Running:
    fingerprint: str
    task: asyncio.Task[None]


def _fingerprint(account: AccountView) -> str:
    return json.dumps([account.kind, account.settings], sort_keys=True, default=str)


class ListenerSupervisor:
    def __init__(self, host: ChannelHost, sync_seconds: float) -> None:
        self.host = host
        self.sync_seconds = sync_seconds
        self._running: dict[str, _Running] = {}
        self._loop: asyncio.Task[None] | None = None

    @property
    def running(self) -> list[str]:
        return sorted(name for name, item in self._running.items() if not item.task.done())

    async def start(self) -> None:
        await self.sync()
        self._loop = asyncio.create_task(self._sync_forever(), name="listener-supervisor")

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sync_seconds)
            try:
                await self.sync()
            except Exception:
                log.exception("listener sync failed")

    async def sync(self) -> None:
        await self._housekeeping()
        wanted: dict[str, AccountView] = {}
        for kind in all_kinds():
            if kind.has_listener:
                for account in await self.host.accounts(kind.kind):
                    if account.enabled:
                        wanted[account.name] = account
        for name in list(self._running):
            current = wanted.get(name)
            if current is None or _fingerprint(current) != self._running[name].fingerprint:
                await self._stop(name)
        for name, account in wanted.items():
            if name not in self._running:
                task = asyncio.create_task(self._supervise(account), name=f"listener:{name}")
                self._running[name] = _Running(_fingerprint(account), task)
                log.info("listener started", extra={"account": name, "kind": account.kind})

    async def _housekeeping(self) -> None:
        for kind in all_kinds():
            try:
                await kind.periodic(self.host)
            except Exception:
                log.exception("periodic housekeeping failed", extra={"kind": kind.kind})

    async def _supervise(self, account: AccountView) -> None:
        delay = 1.0
        kind = get_kind(account.kind)
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await kind.listen(account, self.host)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if asyncio.get_running_loop().time() - started > 60:
                    delay = 1.0
                log.warning(
                    "listener failed; restarting",
                    extra={
                        "account": account.name,
                        "error": f"{type(exc).__name__}: {exc}",
                        "retry_in": delay,
                    },
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _stop(self, name: str) -> None:
        item = self._running.pop(name)
        item.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await item.task
        log.info("listener stopped", extra={"account": name})

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        for name in list(self._running):
            await self._stop(name)
