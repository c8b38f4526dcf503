"""The listener supervisor starts, restarts and stops per-account listeners as accounts change."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic import BaseModel

from channels.base import AccountView, ChannelHost, ChannelType
from channels.registry import _KINDS, register
from gateway.channel_host import GatewayHost
from gateway.listeners import ListenerSupervisor
from storage.accounts import add_account, find_account, remove_account, set_enabled
from storage.records import ChannelKind
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway


class TickSettings(BaseModel):
    fail_first: bool = False
    label: str = ""


class TickKind(ChannelType):
    """A listener kind that records its starts and can fail once."""

    kind = "test.tick"
    family = ChannelKind.API
    settings_model = TickSettings
    has_listener = True
    starts: ClassVar[list[str]] = []

    async def listen(self, account: AccountView, host: ChannelHost) -> None:
        self.starts.append(f"{account.name}:{account.settings.get('label', '')}")
        if account.settings.get("fail_first") and self.starts.count(self.starts[-1]) == 1:
            raise ConnectionError("server went away")
        await asyncio.Event().wait()


async def test_accounts_added_changed_disabled_and_removed_at_run_time(sqlite_url, classify_step):
    register(TickKind())
    try:
        async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
            supervisor = ListenerSupervisor(GatewayHost(gw.svc), sync_seconds=3600)
            await supervisor.start()
            assert supervisor.running == []
            async with gw.svc.sessions.begin() as session:
                await add_account(session, "test.tick", "box-a", {"label": "v1"})
                await add_account(session, "test.tick", "box-b", {"fail_first": True})
            await supervisor.sync()
            await asyncio.sleep(1.5)  # box-b fails once and is restarted after 1 s
            assert supervisor.running == ["box-a", "box-b"]
            assert TickKind.starts.count("box-b:") == 2
            async with gw.svc.sessions.begin() as session:
                account = await find_account(session, "box-a")
                assert account is not None
                account.settings = {"label": "v2"}
                await set_enabled(session, "box-b", False)
            await supervisor.sync()
            await asyncio.sleep(0.05)
            assert supervisor.running == ["box-a"]
            assert TickKind.starts[-1] == "box-a:v2"
            async with gw.svc.sessions.begin() as session:
                await remove_account(session, "box-a")
            await supervisor.sync()
            assert supervisor.running == []
            await supervisor.stop()
    finally:
        _KINDS.pop("test.tick", None)
        TickKind.starts.clear()
