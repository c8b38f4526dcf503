"""Recorded messages, after hours, late transcriptions, status look-ups and the SMS sender."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from channels.hotline.texts import spell_reference
from tests.channels.hotline.conftest import (
    ACCOUNT_SID,
    NUMBER,
    TOKEN,
    Caller,
    reference_of,
    set_settings,
    start_hotline,
)
from tests.gateway.harness import Gateway
from tests.twilio_api import FakeTwilioApi

RECORDING = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE0123"


async def test_after_hours_the_operator_option_records_a_message(hotline: Gateway) -> None:
    await set_settings(hotline, business_hours={"days": []})  # never open
    caller = Caller(hotline)
    menu = await caller.answer(await caller.dial_in(), Digits="1")
    prompt = await caller.answer(menu, Digits="0")
    assert "非工作时间" in prompt.said()
    assert "Record" in prompt.tags() and "Dial" not in prompt.tags()
    record_tag = next(prompt.xml.iter("Record"))
    assert record_tag.get("maxLength") == "120" and record_tag.get("transcribe") == "true"
    assert record_tag.get("transcribeCallback", "").endswith("/transcription?lang=zh")

    goodbye = await caller.answer(
        prompt, RecordingUrl=RECORDING, RecordingSid="RE0123", RecordingDuration="17"
    )
    await caller.hang_up()
    # The caller heard a reference; the voicemail waits for Twilio's transcription.
    spoken = goodbye.said()
    assert "投诉编号" in spoken, spoken
    await caller.post(
        caller.url("transcription", "?lang=zh"),
        caller.params(
            TranscriptionText="My microwave sparks when I turn it on, order H T 2026 0315 0042.",
            TranscriptionStatus="completed",
            RecordingSid="RE0123",
            RecordingUrl=RECORDING,
        ),
    )
    reference = await reference_of(hotline, caller.sid)
    assert spell_reference(reference, "zh") in spoken
    record = await hotline.record(reference)
    assert RECORDING in record["body"] and "RE0123" in record["provider_ids"]
    assert "HT20260315-0042" in record["body"] and not record.get("follow_ups")


async def test_in_business_hours_the_operator_option_dials_a_person(hotline: Gateway) -> None:
    caller = Caller(hotline)
    menu = await caller.answer(await caller.dial_in(), Digits="1")
    prompt = await caller.answer(menu, SpeechResult="转人工客服")
    dial = next(prompt.xml.iter("Dial"))
    assert dial.text == "+8657188880001"
    nobody = await caller.answer(prompt, DialCallStatus="no-answer")
    assert "Record" in nobody.tags()


async def test_nothing_understood_falls_back_to_recording(hotline: Gateway) -> None:
    caller = Caller(hotline)
    menu = await caller.answer(await caller.dial_in(), Digits="2")
    again = await caller.answer(menu, SpeechResult="嗯")
    assert "did not catch that" in again.said() and "attempt=2" in again.action()
    problem = await caller.answer(again, Digits="1")
    fallback = await caller.answer(problem, SpeechResult="")
    assert "Record" in fallback.tags()
    short = await caller.answer(fallback, RecordingUrl=RECORDING, RecordingDuration="0")
    assert "No message was recorded" in short.said()


async def test_status_lookup_only_for_the_number_that_complained(hotline: Gateway) -> None:
    caller = Caller(hotline)
    menu = await caller.answer(await caller.dial_in(), Digits="1")
    product = await caller.answer(await caller.answer(menu, Digits="1"), SpeechResult="冰箱不制冷")
    await caller.answer(await caller.answer(product, Digits="#"), Digits="#")
    reference = await reference_of(hotline, caller.sid)
    await hotline.record(reference)
    digits = reference.replace("QC-", "").replace("-", "")

    same = Caller(hotline)
    lookup = await same.answer(await same.answer(await same.dial_in(), Digits="1"), Digits="8")
    answer = await same.answer(lookup, Digits=digits + "#")
    assert "目前的状态是：处理中" in answer.said()

    other = Caller(hotline, number="+8613700000000")
    lookup = await other.answer(await other.answer(await other.dial_in(), Digits="2"), Digits="8")
    answer = await other.answer(lookup, Digits=digits)
    assert "We found no complaint" in answer.said()


async def test_sms_acknowledgement_through_the_twilio_client(
    sqlite_url: str, classify_step: Any, twilio_token: str, twilio_api: FakeTwilioApi
) -> None:
    twilio_api.statuses = [503]  # the first attempt is retried by the outbox
    async for gw in start_hotline(
        sqlite_url, classify_step, sms_acknowledgement=True, rest_base_url=twilio_api.url
    ):
        caller = Caller(gw, number="+14155550123")
        await caller.complain("The washing machine leaks water all over the floor.")
        reference = await reference_of(gw, caller.sid)
        for _ in range(200):
            if len(twilio_api.requests) >= 2:
                break
            await asyncio.sleep(0.05)
    assert len(twilio_api.requests) == 2
    sent = twilio_api.requests[-1]
    assert sent["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent["auth"] == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{TOKEN}".encode()).decode()
    assert sent["form"]["To"] == "+14155550123" and sent["form"]["From"] == NUMBER
    assert (
        reference in sent["form"]["Body"] and "your complaint is registered" in sent["form"]["Body"]
    )
