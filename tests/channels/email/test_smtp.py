"""The SMTP listener driven by real clients (smtplib and swaks): 250 only after archiving."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import ssl
import subprocess
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from sqlalchemy import select

from channels.email.kinds import SmtpChannel
from channels.registry import get_kind
from gateway.channel_host import GatewayHost
from storage.accounts import add_account
from storage.tables import Complaint, RawMessage
from tests.channels.email.conftest import complaint_count, raw_count, wait_until
from tests.channels.email.servers import self_signed_certificate
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway

COMPLAINT = "我买的热水器JSQ24-HT3漏水严重，订单号HT20260315-0042，请尽快派人维修。"


def complaint_mail(
    sender: str = "customer@example.cn", to: str = "complaints@hengtai.example"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"客户 <{sender}>"
    message["To"] = to
    message["Subject"] = "热水器漏水"
    message["Message-ID"] = f"<{abs(hash(sender))}@example.cn>"
    message.set_content(COMPLAINT)
    return message


async def add_smtp(gw, name: str, **settings) -> int:  # type: ignore[no-untyped-def]
    values = {"listen_port": 0, "addresses": ["complaints@hengtai.example"], **settings}
    validated = get_kind("email.smtp").validate_settings(values)
    async with gw.svc.sessions.begin() as session:
        await add_account(session, "email.smtp", name, validated)
    await wait_until(lambda: SmtpChannel.servers.server_for(name) is not None, what="listener up")
    server = SmtpChannel.servers.server_for(name)
    assert server is not None
    return server.port


def settings_for(db_url: str, **overrides):  # type: ignore[no-untyped-def]
    return make_settings(db_url, listener_sync_seconds=0.2, **overrides)


def send(port: int, message: EmailMessage, **kwargs) -> dict:  # type: ignore[no-untyped-def,type-arg]
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.send_message(message, **kwargs)


async def test_accepted_recipient_gets_250_and_a_record_other_recipients_550(
    any_db_url, classify_step
):
    async with running_gateway(settings_for(any_db_url), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in", domains=["service.hengtai.example"])
        refused = await asyncio.to_thread(
            send,
            port,
            complaint_mail(),
            to_addrs=["complaints@hengtai.example", "ceo@elsewhere.example"],
        )
        assert (
            list(refused) == ["ceo@elsewhere.example"]
            and refused["ceo@elsewhere.example"][0] == 550
        )
        await asyncio.to_thread(
            send, port, complaint_mail("b@example.cn", "anyone@service.hengtai.example")
        )
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            await asyncio.to_thread(send, port, complaint_mail(to="nobody@elsewhere.example"))
        await wait_until(lambda: _eq(complaint_count(gw.svc), 2), what="2 records")
        async with gw.svc.sessions() as session:
            rows = (
                (await session.execute(select(RawMessage).order_by(RawMessage.id))).scalars().all()
            )
        assert all(row.meta["smtp"]["mail_from"] for row in rows)
        assert rows[0].meta["smtp"]["rcpt_to"] == ["complaints@hengtai.example"]


async def _eq(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected


async def test_size_limit_is_enforced_at_data(sqlite_url, classify_step):
    async with running_gateway(settings_for(sqlite_url), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in", max_message_bytes=4096)
        big = complaint_mail()
        big.set_content(COMPLAINT + ("x" * 70 + "\n") * 150)

        def at_data() -> tuple[int, bytes]:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.ehlo()
                assert client.mail("customer@example.cn")[0] == 250  # no SIZE= given
                assert client.rcpt("complaints@hengtai.example")[0] == 250
                try:
                    return client.data(big.as_bytes(policy=SMTP))
                except smtplib.SMTPDataError as exc:
                    return exc.smtp_code, exc.smtp_error

        code, text = await asyncio.to_thread(at_data)
        assert code == 552, text
        assert await raw_count(gw.svc) == 0


async def test_250_only_after_archiving_and_a_retry_is_not_a_duplicate(
    sqlite_url, classify_step, monkeypatch
):
    async with running_gateway(settings_for(sqlite_url), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in")
        message = complaint_mail()

        async def broken_accept(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise ConnectionError("database unreachable")

        with monkeypatch.context() as patch:
            patch.setattr(GatewayHost, "accept", broken_accept)
            with pytest.raises(smtplib.SMTPDataError) as failure:
                await asyncio.to_thread(send, port, message)
        assert failure.value.smtp_code == 451
        assert await raw_count(gw.svc) == 0
        await asyncio.to_thread(send, port, message)  # the client retries: 250
        await asyncio.to_thread(send, port, message)  # and once more: same input
        await wait_until(lambda: _eq(complaint_count(gw.svc), 1), what="one record")
        await asyncio.sleep(0.3)
        assert await raw_count(gw.svc) == 1 and await complaint_count(gw.svc) == 1


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    self_signed_certificate(key, cert)
    return str(cert), str(key)


async def test_starttls_and_auth(sqlite_url, classify_step, certificate, monkeypatch):
    monkeypatch.setenv("TEST_SMTP_AUTH", "relay-pass")
    cert, key = certificate
    async with running_gateway(settings_for(sqlite_url), classify_step) as gw:
        port = await add_smtp(
            gw,
            "smtp-tls",
            tls_certificate=cert,
            tls_key=key,
            require_tls=True,
            auth_users={"mx": "env:TEST_SMTP_AUTH"},
            require_auth=True,
        )
        context = ssl.create_default_context(cafile=cert)
        context.check_hostname = False

        def plain_refused() -> int:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.ehlo()
                return client.mail("customer@example.cn")[0]

        def wrong_password() -> int:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.starttls(context=context)
                try:
                    client.login("mx", "nope")
                except smtplib.SMTPAuthenticationError as exc:
                    return exc.smtp_code
                return 235

        def good() -> dict:  # type: ignore[type-arg]
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.starttls(context=context)
                client.login("mx", "relay-pass")
                return client.send_message(complaint_mail())

        assert await asyncio.to_thread(plain_refused) == 530
        assert await asyncio.to_thread(wrong_password) == 535
        assert await asyncio.to_thread(good) == {}
        await wait_until(lambda: _eq(complaint_count(gw.svc), 1), what="record")


async def test_swaks_delivers_through_the_listener(sqlite_url, classify_step):
    swaks = shutil.which("swaks")
    assert swaks, "swaks is not installed (scripts/install-system-deps.sh)"
    async with running_gateway(settings_for(sqlite_url), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in")
        result = await asyncio.to_thread(
            subprocess.run,
            [
                swaks,
                "--server",
                "127.0.0.1",
                "--port",
                str(port),
                "--from",
                "s@example.cn",
                "--to",
                "complaints@hengtai.example",
                "--header",
                "Subject: washer leaks",
                "--body",
                "My washing machine XQG100-HT8 leaks. Order HT20260315-0042.",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "250 2.0.0 OK queued as" in result.stdout
        await wait_until(lambda: _eq(complaint_count(gw.svc), 1), what="record")
        async with gw.svc.sessions() as session:
            record = (await session.execute(select(Complaint.record))).scalar_one()
        assert record["complainant"]["email"] == "s@example.cn"
        assert "XQG100-HT8" in record["body"]
