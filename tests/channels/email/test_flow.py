"""Mail end to end: acknowledgements through a real relay, no loops, threading, back-fill."""

from __future__ import annotations

import asyncio
import json
import mailbox
import os
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from channels.email.ack import AckRateLimiter
from channels.email.kinds import EmailChannel
from storage.tables import Complaint
from tests.channels.email.conftest import ack_count, complaint_count, wait_until
from tests.channels.email.servers import RelaySink
from tests.channels.email.test_smtp import add_smtp
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway

ZH = "我买的热水器JSQ24-HT3漏水严重，订单号HT20260315-0042，请尽快派人维修。"
EN = "My washing machine XQG100-HT8 leaks water badly. Order HT20260315-0042. Please repair it."


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EmailChannel, "limiter", AckRateLimiter())


def settings_for(db_url: str, relay: RelaySink):  # type: ignore[no-untyped-def]
    return make_settings(
        db_url,
        listener_sync_seconds=0.2,
        smtp_relay={
            "host": "127.0.0.1",
            "port": relay.port,
            "sender": "Hengtai Service <service@hengtai.example>",
        },
    )


def mail(
    body: str,
    *,
    sender: str = "customer@example.cn",
    subject: str = "热水器漏水",
    message_id: str | None = None,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "complaints@hengtai.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<{abs(hash((body, sender, subject)))}@example.cn>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(port: int, message: EmailMessage, mail_from: str | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message, from_addr=mail_from)


async def records(gw) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    async with gw.svc.sessions() as session:
        return list(
            (await session.execute(select(Complaint.record).order_by(Complaint.id))).scalars()
        )


async def _eq(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected


async def test_acknowledgement_in_the_complainants_language_through_the_relay(
    any_db_url, classify_step, relay
):
    async with running_gateway(settings_for(any_db_url, relay), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in", reply_from="Hengtai <service@hengtai.example>")
        original = mail(ZH, sender="张三 <zhang@example.cn>", message_id="<zh-1@example.cn>")
        await asyncio.to_thread(send, port, original)
        await asyncio.to_thread(send, port, mail(EN, sender="bob@example.com", subject="Leak"))
        await wait_until(lambda: len(relay.messages) == 2, what="two acknowledgements")
        stored = {r["complainant"]["email"]: r for r in await records(gw)}
        by_to = {m["To"]: m for m in relay.messages}
        zh = next(m for to, m in by_to.items() if "zhang@example.cn" in to)
        en = by_to["bob@example.com"]
        reference = stored["zhang@example.cn"]["reference"]
        assert reference in zh["Subject"] and "已受理" in zh["Subject"]
        assert zh["Auto-Submitted"] == "auto-replied"
        assert zh["In-Reply-To"] == "<zh-1@example.cn>"
        assert zh["Message-ID"].startswith(f"<ack.{reference}.")
        assert "受理编号" in zh.get_content()
        assert stored["bob@example.com"]["reference"] in en["Subject"]
        assert "We have received your message" in en.get_content()
        assert relay.envelopes[0][1] in (["zhang@example.cn"], ["bob@example.com"])


async def test_bounces_auto_replies_and_lists_are_kept_as_spam_and_never_answered(
    sqlite_url, classify_step, relay
):
    async with running_gateway(settings_for(sqlite_url, relay), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in")
        machine = [
            (
                mail(
                    "I am out of the office until Monday.",
                    subject="Automatic reply: 热水器",
                    Auto_Submitted="auto-replied",
                ),
                None,
            ),
            (mail("您好，本人休假中。", subject="自动回复：热水器"), None),
            (
                mail(
                    "Delivery to the following recipient failed permanently.",
                    sender="MAILER-DAEMON@mx.example.net",
                    subject="Undelivered Mail Returned to Sender",
                ),
                "",
            ),
            (
                mail(
                    "digest",
                    subject="[list] news",
                    List_Id="<news.lists.example>",
                    Precedence="list",
                ),
                None,
            ),
        ]
        for message, envelope_from in machine:
            await asyncio.to_thread(send, port, message, envelope_from)
        await wait_until(lambda: _eq(complaint_count(gw.svc), 4), what="4 records")
        for record in await records(gw):
            assert record["classification"]["validity"] == "invalid"
            assert record["classification"]["reason"] == "spam"
            assert "auto_reply" in record["hints"]
        await asyncio.sleep(0.5)
        assert await ack_count(gw.svc) == 0
        assert relay.messages == []


async def test_acknowledgements_are_rate_limited_per_address(sqlite_url, classify_step, relay):
    async with running_gateway(settings_for(sqlite_url, relay), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in", acks_per_address_per_hour=2)
        for number in range(4):
            await asyncio.to_thread(
                send, port, mail(f"{ZH} 第{number}台", sender="flood@example.cn")
            )
        await wait_until(lambda: _eq(complaint_count(gw.svc), 4), what="4 records")
        await wait_until(lambda: _eq(ack_count(gw.svc), 4), what="4 ack rows")
        await asyncio.sleep(1.0)
        assert len(relay.messages) == 2


async def test_replies_join_their_complaint_as_follow_ups(any_db_url, classify_step, relay):
    async with running_gateway(settings_for(any_db_url, relay), classify_step) as gw:
        port = await add_smtp(gw, "smtp-in", reply_from="service@hengtai.example")
        await asyncio.to_thread(send, port, mail(ZH, message_id="<first@example.cn>"))
        await wait_until(lambda: len(relay.messages) == 1, what="the acknowledgement")
        ack = relay.messages[0]
        (record,) = await records(gw)
        reference = record["reference"]
        replies = [
            mail(
                "补充照片稍后发",
                subject="Re: 您的投诉已受理",
                message_id="<r1@example.cn>",
                In_Reply_To=ack["Message-ID"],
                References=ack["Message-ID"],
            ),
            mail("师傅今天也没来", subject=f"Re: [{reference}]", message_id="<r2@example.cn>"),
            mail(
                "我再补充一句：是二楼那台",
                subject="Re: 热水器漏水",
                message_id="<r3@example.cn>",
                In_Reply_To="<first@example.cn>",
            ),
            mail(
                "还有一件事",
                subject="Re: Re: 热水器漏水",
                message_id="<r4@example.cn>",
                In_Reply_To="<r3@example.cn>",
                References="<first@example.cn> <r3@example.cn>",
            ),
        ]
        for reply in replies:
            await asyncio.to_thread(send, port, reply)

        async def follow_ups() -> int:
            return len((await records(gw))[0].get("follow_ups", []))

        await wait_until(lambda: _eq(follow_ups(), 4), what="4 follow-ups")
        assert await complaint_count(gw.svc) == 1
        bodies = [item["body"] for item in (await records(gw))[0]["follow_ups"]]
        assert "师傅今天也没来" in bodies and "还有一件事" in bodies
        unrelated = mail(
            ZH + "另一台",
            sender="other@example.cn",
            subject="新投诉",
            In_Reply_To="<unknown@elsewhere>",
        )
        await asyncio.to_thread(send, port, unrelated)
        await wait_until(lambda: _eq(complaint_count(gw.svc), 2), what="a new complaint")


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_DATABASE_URL": db_url}
    command = [str(Path(sys.executable).parent / "complaint-gateway"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_ingest_eml_and_mbox_files(tmp_path: Path):
    db_url = f"sqlite+aiosqlite:///{tmp_path}/gateway.db"
    assert cli(db_url, "migrate").returncode == 0
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail(ZH, message_id="<eml@example.cn>").as_bytes())
    box = mailbox.mbox(str(tmp_path / "many.mbox"))
    for number in range(3):
        box.add(
            mail(f"{EN} unit {number}", sender=f"u{number}@example.com", subject=f"Leak {number}")
        )
    box.flush()
    box.close()
    result = cli(db_url, "ingest", "--channel", "email", str(eml), str(tmp_path / "many.mbox"))
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(documents) == 4
    assert all(
        doc["channel"] == "email" and doc["reference"].startswith("QC-") for doc in documents
    )
    assert {doc["complainant"]["email"] for doc in documents} == {
        "customer@example.cn",
        "u0@example.com",
        "u1@example.com",
        "u2@example.com",
    }
    again = cli(db_url, "ingest", "--channel", "email", str(tmp_path / "many.mbox"))
    assert [json.loads(line)["reference"] for line in again.stdout.splitlines()] == [
        doc["reference"] for doc in documents[1:]
    ]
