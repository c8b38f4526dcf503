"""IMAP polling against a real Dovecot: archive first, then flag; nothing lost or doubled."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from channels.email.imap import MailboxPoller
from channels.email.settings import ImapSettings
from channels.registry import get_kind
from gateway.channel_host import GatewayHost
from storage.accounts import add_account
from storage.tables import Complaint, RawMessage
from tests.channels.email.conftest import complaint_count, raw_count, wait_until
from tests.channels.email.servers import PASSWORD, Dovecot
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway

COMPLAINT = "我买的热水器JSQ24-HT3漏水严重，订单号HT20260315-0042，请尽快派人维修。"


def message(number: int, body: str = COMPLAINT, size_pad: int = 0) -> bytes:
    return (
        f"From: 客户{number} <customer{number}@example.cn>\r\n"
        f"To: support@hengtai.example\r\nSubject: 投诉 {number}\r\n"
        f"Message-ID: <m{number}@example.cn>\r\nDate: Mon, 16 Mar 2026 10:00:00 +0800\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n{'x' * size_pad}\r\n"
    ).encode()


async def add_imap(gw, name: str, settings: dict) -> None:  # type: ignore[no-untyped-def]
    validated = get_kind("email.imap").validate_settings(settings)
    async with gw.svc.sessions.begin() as session:
        await add_account(session, "email.imap", name, validated)


async def poller_for(gw, name: str) -> MailboxPoller:  # type: ignore[no-untyped-def]
    host = GatewayHost(gw.svc)
    account = await host.account(name)
    assert account is not None
    poller = MailboxPoller(account, host, ImapSettings.model_validate(account.settings))
    await poller.open()
    return poller


def gateway_settings(db_url: str, **overrides):  # type: ignore[no-untyped-def]
    return make_settings(db_url, listener_sync_seconds=0.3, **overrides)


async def test_polled_mail_becomes_records_and_is_flagged_after_archiving(
    any_db_url, classify_step, dovecot: Dovecot
):
    dovecot.append(*(message(n) for n in range(5)))
    async with running_gateway(gateway_settings(any_db_url), classify_step) as gw:
        await add_imap(gw, "support-box", dovecot.settings())
        await wait_until(lambda: _equals(complaint_count(gw.svc), 5), what="5 records")
        await wait_until(lambda: dovecot.flagged() == (5, 5), what="5 flagged")
        dovecot.append(message(5))
        await wait_until(lambda: _equals(complaint_count(gw.svc), 6), what="6th record")
        await asyncio.sleep(1.0)  # several more passes: nothing fetched twice
        assert await raw_count(gw.svc) == 6
        async with gw.svc.sessions() as session:
            records = (await session.execute(select(Complaint.record))).scalars().all()
        assert {r["complainant"]["email"] for r in records} == {
            f"customer{n}@example.cn" for n in range(6)
        }
        assert all(
            r["channel"] == "email" and r["channel_account"] == "support-box" for r in records
        )


async def _equals(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected


async def test_processed_folder_receives_archived_mail(sqlite_url, classify_step, dovecot):
    dovecot.append(message(1), message(2))
    async with running_gateway(gateway_settings(sqlite_url), classify_step) as gw:
        await add_imap(gw, "box", dovecot.settings(processed_folder="Archived"))
        await wait_until(lambda: dovecot.count("Archived") == 2, what="moved to Archived")
        assert dovecot.count("INBOX") == 0
        assert await raw_count(gw.svc) == 2


async def test_idle_wakes_the_poller_at_once(sqlite_url, classify_step, dovecot):
    async with running_gateway(gateway_settings(sqlite_url), classify_step) as gw:
        await add_imap(gw, "box", dovecot.settings(idle=True, poll_seconds=3600))
        await asyncio.sleep(1.5)  # the first pass is done; the poller sits in IDLE
        started = asyncio.get_running_loop().time()
        dovecot.append(message(7))
        await wait_until(lambda: _equals(raw_count(gw.svc), 1), timeout=8, what="IDLE push")
        assert asyncio.get_running_loop().time() - started < 8


async def test_uidvalidity_change_rescans_without_duplicates(sqlite_url, classify_step, dovecot):
    dovecot.append(message(1), folder="Complaints")
    settings = gateway_settings(sqlite_url, run_listeners=False)
    async with running_gateway(settings, classify_step) as gw:
        await add_imap(gw, "box", dovecot.settings(folder="Complaints"))
        poller = await poller_for(gw, "box")
        try:
            first = await poller.poll_once()
            validity = poller.uidvalidity
            assert first.archived == 1
            with dovecot.client() as client:  # rebuild the folder: new UIDVALIDITY, UIDs restart
                client.delete_folder("Complaints")
            dovecot.append(message(1), message(2), folder="Complaints")
            second = await poller.poll_once()
            assert poller.uidvalidity != validity
            assert (second.fetched, second.archived, second.duplicates) == (2, 1, 1)
            assert await raw_count(gw.svc) == 2
        finally:
            await poller.close()


async def test_killed_between_fetch_and_flag_loses_nothing_and_doubles_nothing(
    any_db_url, classify_step, dovecot, monkeypatch
):
    dovecot.append(message(1), message(2))
    async with running_gateway(
        gateway_settings(any_db_url, run_listeners=False), classify_step
    ) as gw:
        await add_imap(gw, "box", dovecot.settings())
        poller = await poller_for(gw, "box")

        async def die(self, client, uids):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt("killed after archiving, before flagging")

        with monkeypatch.context() as patch:
            patch.setattr(MailboxPoller, "_mark_done", die)
            with pytest.raises(KeyboardInterrupt):
                await poller.poll_once()
        await poller.close()
        assert await raw_count(gw.svc) == 2
        assert dovecot.flagged() == (2, 0)
        restarted = await poller_for(gw, "box")
        try:
            again = await restarted.poll_once()
        finally:
            await restarted.close()
        assert (again.fetched, again.archived, again.duplicates) == (2, 0, 2)
        assert dovecot.flagged() == (2, 2)
        await wait_until(lambda: _equals(complaint_count(gw.svc), 2), what="2 records")
        assert await raw_count(gw.svc) == 2


async def test_reconnects_after_server_restart_and_a_broken_box_stops_no_other(
    sqlite_url, classify_step, dovecot
):
    async with running_gateway(gateway_settings(sqlite_url), classify_step) as gw:
        await add_imap(gw, "broken", dovecot.settings(password="env:NO_SUCH_PASSWORD_VAR"))
        await add_imap(gw, "good", dovecot.settings())
        dovecot.append(message(1))
        await wait_until(lambda: _equals(raw_count(gw.svc), 1), what="first mail")
        dovecot.stop()
        await asyncio.sleep(1.0)  # the poller's connection breaks; reconnects back off
        dovecot.start()
        dovecot.append(message(2))
        await wait_until(lambda: _equals(raw_count(gw.svc), 2), timeout=30, what="after restart")
        await wait_until(lambda: dovecot.flagged() == (2, 2), what="both flagged")


async def test_oversize_mail_is_archived_failed_with_a_reason(sqlite_url, classify_step, dovecot):
    dovecot.append(message(1, size_pad=5000), message(2))
    async with running_gateway(gateway_settings(sqlite_url), classify_step) as gw:
        await add_imap(gw, "box", dovecot.settings(max_message_bytes=2048))
        await wait_until(lambda: dovecot.flagged() == (2, 2), what="both marked done")
        await wait_until(lambda: _equals(complaint_count(gw.svc), 1), what="small one stored")

        async def failed() -> list[RawMessage]:
            async with gw.svc.sessions() as session:
                return list(
                    (await session.execute(select(RawMessage).where(RawMessage.state == "failed")))
                    .scalars()
                    .all()
                )

        await wait_until(lambda: _nonempty(failed()), what="failed raw")
        (row,) = await failed()
        assert "over the limit of 2048 bytes" in (row.error or "")
        assert row.meta["oversize"]["limit"] == 2048
        await asyncio.sleep(0.8)
        assert len(await failed()) == 1  # not retried, not refetched


async def _nonempty(value) -> bool:  # type: ignore[no-untyped-def]
    return bool(await value)


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_DATABASE_URL": db_url}
    command = [str(Path(sys.executable).parent / "complaint-gateway"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


async def test_channels_add_starts_polling_without_restart_and_test_reports(
    sqlite_url, classify_step, dovecot
):
    dovecot.append(message(1), message(2), message(3))
    async with running_gateway(gateway_settings(sqlite_url), classify_step) as gw:
        settings = [f"--set={key}={value}" for key, value in dovecot.settings().items()]
        added = await asyncio.to_thread(
            cli, sqlite_url, "channels", "add", "email.imap", "cli-box", "--disabled", *settings
        )
        assert added.returncode == 0, added.stderr
        assert "imap-test-secret" not in added.stdout
        tested = await asyncio.to_thread(cli, sqlite_url, "channels", "test", "cli-box")
        assert tested.returncode == 0, tested.stderr
        assert "logged in to 127.0.0.1" in tested.stdout
        assert "3 messages, 3 not yet archived" in tested.stdout
        assert "IDLE: yes" in tested.stdout
        assert "imap-test-secret" not in tested.stdout
        assert await raw_count(gw.svc) == 0
        enabled = await asyncio.to_thread(cli, sqlite_url, "channels", "enable", "cli-box")
        assert enabled.returncode == 0, enabled.stderr
        await wait_until(lambda: _equals(complaint_count(gw.svc), 3), what="polling started")


async def test_channels_test_reports_a_failed_login(
    sqlite_url, classify_step, dovecot, monkeypatch
):
    monkeypatch.setenv("WRONG_IMAP_PASSWORD", "not-it")
    async with running_gateway(gateway_settings(sqlite_url), classify_step):
        settings = [f"--set={k}={v}" for k, v in dovecot.settings().items() if k != "password"]
        added = await asyncio.to_thread(
            cli,
            sqlite_url,
            "channels",
            "add",
            "email.imap",
            "bad-box",
            "--disabled",
            "--set=password=env:WRONG_IMAP_PASSWORD",
            *settings,
        )
        assert added.returncode == 0, added.stderr
        tested = await asyncio.to_thread(cli, sqlite_url, "channels", "test", "bad-box")
        assert tested.returncode != 0
        assert "bad-box" in tested.stderr and "not-it" not in tested.stderr


@pytest.fixture
def dovecot_tls(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    server = Dovecot(tls=True)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls_logins(sqlite_url, classify_step, dovecot_tls, security):
    dovecot_tls.append(message(1))
    port = dovecot_tls.tls_port if security == "tls" else dovecot_tls.port
    settings = gateway_settings(sqlite_url, run_listeners=False)
    async with running_gateway(settings, classify_step) as gw:
        await add_imap(
            gw, "box", dovecot_tls.settings(security=security, port=port, verify_certificate=False)
        )
        poller = await poller_for(gw, "box")
        try:
            assert (await poller.poll_once()).archived == 1
        finally:
            await poller.close()
        await add_imap(gw, "strict", dovecot_tls.settings(security=security, port=port))
        with pytest.raises(ssl.SSLError):  # a self-signed certificate is refused by default
            await poller_for(gw, "strict")
