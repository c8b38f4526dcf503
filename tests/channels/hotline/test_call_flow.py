"""Whole calls walked step by step, as Twilio would drive them."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from channels.hotline.texts import spell_reference
from tests.channels.hotline.conftest import (
    TOKEN,
    Caller,
    counts,
    reference_of,
    start_hotline,
)
from tests.gateway.harness import Gateway


@pytest.fixture(params=["sqlite", "postgres"])
async def any_hotline(request, any_db_url, classify_step, twilio_token):
    async for gw in start_hotline(any_db_url, classify_step):
        yield gw


async def test_whole_call_in_mandarin(any_hotline: Gateway) -> None:
    gw = any_hotline
    caller = Caller(gw)
    greeting = await caller.dial_in()
    assert greeting.status == 200
    assert 'language="cmn-CN"' in greeting.text and "Gather" in greeting.tags()
    assert "普通话请按1" in greeting.said() and "For English, press 2" in greeting.said()

    menu = await caller.answer(greeting, Digits="1")
    assert "产品质量问题请按1" in menu.said() and "lang=zh" in menu.action()
    problem = await caller.answer(menu, Digits="1")
    assert "发生了什么问题" in problem.said()
    product = await caller.answer(
        problem,
        SpeechResult="我叫王伟，上周五装的空调外机漏水，电话幺三九 八七六五 四三二一",
        Confidence="0.91",
    )
    order = await caller.answer(product, SpeechResult="空调 KFR-35GW/HT1", Confidence="0.8")
    goodbye = await caller.answer(order, SpeechResult="H T 二零二六零三一五 杠 零零四二")

    reference = await reference_of(gw, caller.sid)
    assert spell_reference(reference, "zh") in goodbye.said()
    assert goodbye.tags()[-1] == "Hangup"
    record = await gw.record(reference)
    assert record["channel"] == "hotline" and record["channel_account"] == "hotline-cn"
    assert record["complainant"]["phones"] == ["+8613812345678"]
    assert record["language"] == "zh"
    assert record["order_number"] == "HT20260315-0042"
    assert "13987654321" in record["body"] and "问题：" in record["body"]
    assert "department_hint:quality" in record["hints"] and "incomplete" not in record["hints"]

    # The status callback after the call finds the call archived already.
    assert (await caller.hang_up()).status == 200
    steps, raws, complaints = await counts(gw)
    assert (raws, complaints) == (1, 1)
    # voice, language, menu, problem, product, order, finished (the reference), archived, ended
    assert steps == 9


async def test_whole_call_in_english_by_speech_and_keypad(hotline: Gateway) -> None:
    caller = Caller(hotline, number="+14155550123")
    greeting = await caller.dial_in()
    menu = await caller.answer(greeting, SpeechResult="English please.", Confidence="0.7")
    assert 'language="en-US"' in menu.text and "a delivery problem, press 2" in menu.said()
    problem = await caller.answer(menu, SpeechResult="Delivery.")
    product = await caller.answer(
        problem, SpeechResult="The fridge arrived with a big dent in the door, three days ago."
    )
    order = await caller.answer(product, SpeechResult="BCD-520W")
    goodbye = await caller.answer(order, Digits="202603150042#")

    reference = await reference_of(hotline, caller.sid)
    assert spell_reference(reference, "en") in goodbye.said()
    record = await hotline.record(reference)
    assert record["language"] == "en"
    assert record["complainant"]["phones"] == ["+14155550123"]
    assert record["order_number"] == "HT20260315-0042"
    assert "department_hint:logistics" in record["hints"]
    assert record["body"].startswith("Problem: The fridge arrived")


async def test_retried_callbacks_change_nothing(hotline: Gateway) -> None:
    caller = Caller(hotline)
    greeting = await caller.dial_in()
    menu = await caller.answer(greeting, Digits="1")
    again = await caller.answer(greeting, Digits="1")  # Twilio retries the same request
    assert again.text == menu.text
    problem = await caller.answer(menu, Digits="1")
    product = await caller.answer(problem, SpeechResult="热水器漏电，洗澡时被电了一下")
    order = await caller.answer(product, SpeechResult="JSQ24-HT3")
    first = await caller.answer(order, Digits="#")
    retried = await caller.answer(order, Digits="#")
    assert first.said() == retried.said()
    for _ in range(3):
        await caller.hang_up()
    steps, raws, _ = await counts(hotline)
    assert (raws, steps) == (1, 9)
    await hotline.record(await reference_of(hotline, caller.sid))
    assert (await counts(hotline))[2] == 1


async def test_dropped_call_becomes_an_incomplete_record(hotline: Gateway) -> None:
    caller = Caller(hotline)
    menu = await caller.answer(await caller.dial_in(), Digits="1")
    problem = await caller.answer(menu, Digits="3")
    await caller.answer(problem, SpeechResult="洗衣机XQG100-HT8安装师傅没来，等了两天")
    assert (await caller.hang_up(status="completed", duration="31")).status == 200

    record = await hotline.record(await reference_of(hotline, caller.sid))
    assert "incomplete" in record["hints"]
    assert "department_hint:after_sales" in record["hints"]
    assert "安装师傅没来" in record["body"]
    assert record["complainant"]["phones"] == ["+8613812345678"]


async def test_hang_up_in_the_menu_or_after_a_status_check_is_no_complaint(
    hotline: Gateway,
) -> None:
    caller = Caller(hotline)
    await caller.answer(await caller.dial_in(), Digits="2")
    await caller.hang_up(status="completed")
    steps, raws, _ = await counts(hotline)
    # The steps are kept (voice, language, ended, and `archived` saying there was nothing to
    # archive), no record is made.
    assert (steps, raws) == (4, 0)


async def test_withheld_caller_gives_no_contact_and_no_acknowledgement(hotline: Gateway) -> None:
    caller = Caller(hotline, number="+266696687")  # "ANONYMOUS" on the keypad
    menu = await caller.answer(await caller.dial_in(), Digits="1")
    problem = await caller.answer(menu, Digits="1")
    product = await caller.answer(problem, SpeechResult="抽油烟机噪音很大，用了一周就坏了")
    order = await caller.answer(product, Digits="#")
    await caller.answer(order, Digits="#")

    reference = await reference_of(hotline, caller.sid)
    record = await hotline.record(reference)
    assert record["complainant"]["phones"] == []
    assert "caller_withheld" in record["hints"]
    assert record["classification"]["validity"] == "invalid"
    assert record["classification"]["reason"] == "no_contact"
    assert not [d for d in record.get("routing", []) if d["destination"].startswith("channel:")]


async def test_unsigned_or_wrongly_signed_requests_are_refused_and_leave_no_trace(
    hotline: Gateway,
) -> None:
    caller = Caller(hotline)
    params = caller.params()
    wrong = Caller(hotline, token="not-the-token")
    assert (await wrong.dial_in()).status == 403
    assert (await caller.post(caller.url("voice"), params, signature="")).status == 403
    signed = RequestValidator(TOKEN).compute_signature(caller.url("voice"), params)
    tampered = {**params, "From": "+8613900000000"}  # signed for another caller ID
    assert (await caller.post(caller.url("voice"), tampered, signature=signed)).status == 403
    forged = await caller.post(
        caller.url("status"), {**params, "CallStatus": "completed"}, signature="AAAA" + "=" * 24
    )
    assert forged.status == 403
    assert await counts(hotline) == (0, 0, 0)
    assert (await caller.post(caller.url("voice"), params, signature=signed)).status == 200
    assert await counts(hotline) == (1, 0, 0)


async def test_unknown_number_account_and_missing_fields(hotline: Gateway) -> None:
    caller = Caller(hotline, to="+8657100000000")
    assert (await caller.dial_in()).status == 404
    stranger = Caller(hotline, account="no-such-line")
    assert (await stranger.dial_in()).status == 404
    caller = Caller(hotline)
    params: dict[str, Any] = caller.params()
    del params["CallSid"]
    assert (await caller.post(caller.url("voice"), params)).status == 400
    assert await counts(hotline) == (0, 0, 0)
