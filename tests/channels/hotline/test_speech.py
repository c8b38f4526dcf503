"""Speech-recognition text to numbers, and caller IDs to E.164."""

from __future__ import annotations

import pytest

from channels.hotline.phones import e164
from channels.hotline.speech import normalise_speech, order_number
from channels.hotline.texts import reference_from_digits, spell_reference


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("电话幺三八 一二三四 五六七八，三天前买的", "电话13812345678，三天前买的"),
        ("两台空调", "两台空调"),
        ("call me on one three eight double five one two three four five six",
         "call me on 13855123456"),
        ("two units broke", "two units broke"),
        ("订单号H T 二零二六零三一五 杠 零零四二", "订单号HT20260315-0042"),
        ("order h.t. 2026 0315 dash 0042", "order HT20260315-0042"),
        ("ＨＴ２０２６０３１５－００４２", "HT20260315-0042"),
        ("the HT model is loud", "the HT model is loud"),
    ],
)  # fmt: skip
def test_spoken_numbers(spoken: str, expected: str) -> None:
    assert normalise_speech(spoken) == expected


def test_order_numbers_from_speech_or_keypad() -> None:
    assert (
        order_number(
            normalise_speech("H T two zero two six zero three one five zero zero four two")
        )
        == "HT20260315-0042"
    )
    assert order_number("202603150042") == "HT20260315-0042"
    assert order_number("no idea") is None


def test_caller_ids() -> None:
    assert e164("+8613812345678", "CN") == "+8613812345678"
    assert e164("021-6123 4567", "CN") == "+862161234567"
    for withheld in ("+266696687", "anonymous", "Restricted", "", "+7378742833"):
        assert e164(withheld, "CN") is None


def test_reference_spoken_and_keyed() -> None:
    assert spell_reference("QC-202611-000042", "en") == "Q C, 2 0 2 6 1 1, 0 0 0 0 4 2"
    assert spell_reference("QC-202611-000042", "zh").startswith("Q C，二 零 二 六")
    assert reference_from_digits("202611000042#") == "QC-202611-000042"
    assert reference_from_digits("12345") is None
