"""Destination kinds against real servers: webhook sink, aiosmtpd process, Redis (arq)."""

from __future__ import annotations

import asyncio
import json
import time
from email import message_from_bytes
from email.message import EmailMessage

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from gateway.destination_tools import destination_tools
from gateway.settings import SmtpRelaySettings, load_settings
from routing.destinations import (
    Delivery,
    DestinationError,
    DestinationTools,
    build_sender,
    check_destination,
)
from routing.outcome import Verdict

PAYLOAD = {
    "event": "complaint.routed",
    "purpose": "route",
    "complaint": {
        "reference": "QC-202610-000007",
        "body": "热水器JSQ24-HT3漏电",
        "attachments": [
            {
                "name": "leak.png",
                "media_type": "image/png",
                "size": 8,
                "sha256": "x",
                "storage_key": "blob:x",
            }
        ],
    },
}


def _tools(**extra) -> DestinationTools:
    return DestinationTools(resolve_secret=lambda ref: "s3cret", **extra)


@pytest.mark.parametrize(
    ("kind", "settings", "message"),
    [
        ("webhook", {"url": "not a url"}, "absolute http(s) URL"),
        ("webhook", {"url": "ftp://example.com/x"}, "absolute http(s) URL"),
        ("webhook", {}, "url: Field required"),
        ("carrier-pigeon", {}, "unknown destination kind 'carrier-pigeon'"),
        ("email", {"to": ["not-an-address"]}, "not an e-mail address"),
        ("email", {"to": ["qa@example.com"]}, "needs smtp_relay"),
        ("queue", {"queue_name": "cases"}, "needs redis_url"),
        ("queue", {"queue_name": "cases", "redis_url": "http://x"}, "redis:// URL"),
        ("webhook", {"url": "http://h/x", "colour": "red"}, "colour: Extra inputs"),
    ],
)
async def test_misconfigured_destinations_are_refused_with_a_clear_message(kind, settings, message):
    with pytest.raises(DestinationError, match="dest") as error:
        await check_destination("dest", kind, settings, _tools())
    assert message in str(error.value)


async def test_a_missing_secret_is_refused_when_saved(monkeypatch):
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    tools = destination_tools(load_settings(database_url="sqlite+aiosqlite:///:memory:"))
    with pytest.raises(DestinationError, match="NO_SUCH_SECRET is not set"):
        await check_destination(
            "hook", "webhook", {"url": "http://h/x", "secret": "env:NO_SUCH_SECRET"}, tools
        )


async def test_email_destination_is_received_by_a_real_smtp_server(smtp_server):
    relay = SmtpRelaySettings(
        host="127.0.0.1", port=smtp_server.port, sender="Hengtai <service@example.com>"
    )
    settings = load_settings(database_url="sqlite+aiosqlite:///:memory:", smtp_relay=relay)
    base = destination_tools(settings)
    photo = b"\x89PNG\r\n\x1a\n"

    async def load_blob(key: str) -> bytes | None:
        return photo if key == "blob:x" else None

    tools = DestinationTools(base.resolve_secret, base.send_mail, load_blob, None)
    sender = build_sender("qa-mail", "email", {"to": ["quality@hengtai.example"]}, tools)
    outcome = await sender.send(
        Delivery("qa-mail", "route", "QC-202610-000007/qa/route/1", PAYLOAD, 1)
    )
    assert outcome.verdict is Verdict.DELIVERED, outcome.detail
    [stored] = await asyncio.to_thread(smtp_server.wait_for, 1)
    message = message_from_bytes(bytes(stored))
    assert "QC-202610-000007" in message["Subject"]
    assert message["To"] == "quality@hengtai.example"
    assert message["X-Idempotency-Key"] == "QC-202610-000007/qa/route/1"
    parts = {part.get_filename(): part for part in message.walk() if part.get_filename()}
    assert parts["leak.png"].get_payload(decode=True) == photo
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert "热水器JSQ24-HT3漏电" in text.get_payload(decode=True).decode()


async def test_email_relay_refusal_is_dead_and_an_unreachable_relay_is_retried(smtp_server):
    async def refuse(message: EmailMessage) -> None:
        from routing.destinations import DeliveryError

        raise DeliveryError("relay answered 550: no such mailbox", retry=False)

    sender = build_sender("m", "email", {"to": ["a@b.example"]}, _tools(send_mail=refuse))
    dead = await sender.send(Delivery("m", "route", "k", PAYLOAD, 1))
    assert dead.verdict is Verdict.DEAD and "550" in dead.detail
    gone = SmtpRelaySettings(host="127.0.0.1", port=9, sender="x@example.com", timeout_seconds=2)
    settings = load_settings(database_url="sqlite+aiosqlite:///:memory:", smtp_relay=gone)
    sender = build_sender("m", "email", {"to": ["a@b.example"]}, destination_tools(settings))
    retry = await sender.send(Delivery("m", "route", "k", PAYLOAD, 1))
    assert retry.verdict is Verdict.RETRY


async def test_queue_destination_puts_one_arq_job_per_idempotency_key(clean_redis):
    sender = build_sender(
        "cases-queue",
        "queue",
        {"queue_name": "case-intake", "function": "take_complaint"},
        _tools(redis_url=clean_redis),
    )
    delivery = Delivery("cases-queue", "route", "QC-202610-000007/cases-queue/route/1", PAYLOAD, 1)
    first = await sender.send(delivery)
    again = await sender.send(delivery)  # a retry after a lost answer
    await sender.close()
    assert first.verdict is again.verdict is Verdict.DELIVERED
    assert "already queued" in again.detail
    pool = await create_pool(RedisSettings.from_dsn(clean_redis))
    try:
        jobs = await pool.queued_jobs(queue_name="case-intake")
    finally:
        await pool.aclose()
    assert len(jobs) == 1
    job = jobs[0]
    assert job.function == "take_complaint"
    assert job.job_id == "QC-202610-000007/cases-queue/route/1"
    assert job.args[0]["idempotency_key"] == job.job_id
    assert job.args[0]["complaint"]["reference"] == "QC-202610-000007"


async def test_queue_destination_with_redis_gone_is_retried_quickly():
    sender = build_sender(
        "q",
        "queue",
        {"queue_name": "x", "redis_url": "redis://127.0.0.1:9/0", "timeout_seconds": 2},
        _tools(),
    )
    started = time.monotonic()
    outcome = await sender.send(Delivery("q", "route", "k", PAYLOAD, 1))
    assert outcome.verdict is Verdict.RETRY
    assert time.monotonic() - started < 5


async def test_webhook_honours_retry_after_and_times_out(sink):
    sink.statuses = [429]
    sink.headers = {"Retry-After": "7"}
    sender = build_sender("s", "webhook", {"url": sink.url}, _tools())
    outcome = await sender.send(Delivery("s", "route", "k", PAYLOAD, 1))
    await sender.close()
    assert outcome.verdict is Verdict.RETRY and outcome.retry_after == 7.0
    assert json.loads(sink.received[0]["body"])["complaint"]["reference"] == "QC-202610-000007"


async def test_webhook_timeout_is_retried(hanging_sink):
    sender = build_sender(
        "slow", "webhook", {"url": hanging_sink.url, "timeout_seconds": 0.3}, _tools()
    )
    outcome = await sender.send(Delivery("slow", "route", "k", PAYLOAD, 1))
    await sender.close()
    assert outcome.verdict is Verdict.RETRY and "Timeout" in outcome.detail
