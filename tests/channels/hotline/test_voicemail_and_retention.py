"""A voicemail waits (bounded) for its transcription; call steps are forgotten after retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from channels.hotline.texts import spell_reference
from channels.registry import get_kind
from gateway.channel_host import GatewayHost
from storage.db import utcnow
from storage.tables import RawMessage
from storage.tables_hotline import HotlineCallStep
from tests.channels.hotline.conftest import (
    ACCOUNT,
    ACCOUNT_SID,
    Caller,
    count,
    reference_of,
    set_settings,
)
from tests.gateway.harness import Gateway

RECORDING = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE0777"
WORDS = "The washing machine gave me an electric shock, order H T 2026 0401 0007."


async def leave_voicemail(gw: Gateway) -> tuple[Caller, str]:
    """Call, choose the operator after hours, leave a message, hang up; the goodbye said."""
    caller = Caller(gw)
    menu = await caller.answer(await caller.dial_in(), Digits="2")
    prompt = await caller.answer(menu, Digits="0")
    goodbye = await caller.answer(
        prompt, RecordingUrl=RECORDING, RecordingSid="RE0777", RecordingDuration="21"
    )
    assert goodbye.status == 200
    await caller.hang_up()
    return caller, goodbye.said()


async def transcribe(caller: Caller, text: str = WORDS) -> None:
    reply = await caller.post(
        caller.url("transcription", "?lang=en"),
        caller.params(
            TranscriptionText=text,
            TranscriptionStatus="completed",
            RecordingSid="RE0777",
            RecordingUrl=RECORDING,
        ),
    )
    assert reply.status == 200


async def raw_count(gw: Gateway, call_sid: str) -> int:
    async with gw.svc.sessions() as session:
        found = await session.scalar(select(func.count()).where(RawMessage.provider_id == call_sid))
    return int(found or 0)


async def housekeeping(gw: Gateway) -> None:
    await get_kind("hotline.twilio").periodic(GatewayHost(gw.svc))


async def test_a_voicemail_is_classified_with_its_transcription(hotline: Gateway) -> None:
    await set_settings(hotline, business_hours={"days": []})
    caller, said = await leave_voicemail(hotline)
    assert "reference" in said.lower()
    await housekeeping(hotline)  # the wait is not over: nothing archived yet
    assert await raw_count(hotline, caller.sid) == 0

    await transcribe(caller)
    await transcribe(caller)  # Twilio retries the callback: nothing doubles
    reference = await reference_of(hotline, caller.sid)
    assert spell_reference(reference, "en") in said
    record = await hotline.record(reference)
    assert "HT20260401-0007" in record["body"] and "electric shock" in record["body"]
    assert "safety" in record["classification"]["flags"]  # classified on the words
    assert not record.get("follow_ups")
    assert await raw_count(hotline, caller.sid) == 1


async def test_after_the_wait_it_is_classified_and_a_late_transcription_follows_up(
    hotline: Gateway,
) -> None:
    await set_settings(hotline, business_hours={"days": []}, transcription_wait_seconds=1)
    caller, said = await leave_voicemail(hotline)
    assert await raw_count(hotline, caller.sid) == 0
    await asyncio.sleep(1.2)
    await housekeeping(hotline)
    reference = await reference_of(hotline, caller.sid)
    assert spell_reference(reference, "en") in said
    record = await hotline.record(reference)
    assert "electric shock" not in record["body"]
    assert "safety" not in record["classification"]["flags"]
    await housekeeping(hotline)  # archived once only
    assert await raw_count(hotline, caller.sid) == 1

    await transcribe(caller)
    for _ in range(200):
        record = await hotline.record(reference)
        if record.get("follow_ups"):
            break
        await asyncio.sleep(0.05)
    assert "HT20260401-0007" in record["follow_ups"][0]["body"]


async def test_a_wait_of_zero_archives_the_voicemail_at_once(hotline: Gateway) -> None:
    await set_settings(hotline, business_hours={"days": []}, transcription_wait_seconds=0)
    caller, said = await leave_voicemail(hotline)
    reference = await reference_of(hotline, caller.sid)
    assert spell_reference(reference, "en") in said


async def test_call_steps_past_retention_are_purged(hotline: Gateway) -> None:
    await set_settings(hotline, call_step_retention_days=7)
    old, recent = Caller(hotline), Caller(hotline)
    await old.dial_in()
    await recent.dial_in()
    async with hotline.svc.sessions.begin() as session:
        await session.execute(
            update(HotlineCallStep)
            .where(HotlineCallStep.call_sid == old.sid)
            .values(created_at=utcnow() - timedelta(days=8))
        )
    assert await count(hotline, HotlineCallStep) == 2
    await housekeeping(hotline)
    async with hotline.svc.sessions() as session:
        left = list(await session.scalars(select(HotlineCallStep.call_sid)))
    assert left == [recent.sid]

    await set_settings(hotline, call_step_retention_days=30)
    async with hotline.svc.sessions.begin() as session:
        await session.execute(
            update(HotlineCallStep).values(created_at=utcnow() - timedelta(days=8))
        )
    await housekeeping(hotline)  # within the longer retention: kept
    assert await count(hotline, HotlineCallStep) == 1


async def test_calls_left_unarchived_by_a_stopped_process_are_archived_later(
    hotline: Gateway,
) -> None:
    """The webhook that ends a call answers first and archives after; should the process
    stop in between, the housekeeping archives the call under the reference it was told."""
    host = GatewayHost(hotline.svc)
    account = await host.account(ACCOUNT)
    assert account is not None
    finished, dropped = Caller(hotline), Caller(hotline)
    for caller in (finished, dropped):
        menu = await caller.answer(await caller.dial_in(), Digits="1")
        await caller.answer(await caller.answer(menu, Digits="1"), SpeechResult="冰箱不制冷")
    # What the `order` and `status` webhooks commit before they answer, and nothing after:
    told = await host.keep_call_step_with_reference(account, finished.sid, "finished", {})
    assert told and told == await host.keep_call_step_with_reference(
        account, finished.sid, "finished", {}
    )  # a retried webhook is told the same reference
    await host.keep_call_step(account, dropped.sid, "ended", dropped.params(CallStatus="completed"))
    await housekeeping(hotline)  # too soon: the webhooks' own follow-up may still come
    assert await raw_count(hotline, finished.sid) + await raw_count(hotline, dropped.sid) == 0

    async with hotline.svc.sessions.begin() as session:
        await session.execute(
            update(HotlineCallStep).values(created_at=utcnow() - timedelta(seconds=30))
        )
    await housekeeping(hotline)
    assert await reference_of(hotline, finished.sid) == told
    record = await hotline.record(await reference_of(hotline, dropped.sid))
    assert "incomplete" in record["hints"] and "不制冷" in record["body"]
    await housekeeping(hotline)
    assert await raw_count(hotline, finished.sid) + await raw_count(hotline, dropped.sid) == 2
