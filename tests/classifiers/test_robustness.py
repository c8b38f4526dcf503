"""Bad input never raises; structural evidence decides the obvious cases."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from classifiers import Classifier, ClassifierInput

BAD_TEXTS = [
    "",
    "   \n\t ",
    "我的冰箱漏水了。" * 150_000,  # > 1 MB
    os.urandom(4096).decode("latin-1"),
    bytes(range(256)).decode("latin-1") * 10,
    "😡😡😡🔥🔥💢",
    "<html><body><p>冰箱<b>漏水</b></p><script>alert(1)</script></body></html>",
    "mixed 混合 текст 文字 ‏עברית‎ 🚲",
    "\x00\x01\x02\ufffd\ufeff",
]


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_bad_input_gets_a_decision(rules_only: Classifier, text: str) -> None:
    decision = rules_only.classify(
        ClassifierInput(text=text, channel="webform", complainant={"email": "a@b.cn"})
    )
    assert decision.validity in ("valid", "invalid")
    assert decision.severity in ("minor", "general", "major")


def test_emoji_only_is_not_specific(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(text="😡😡😡", channel="social", complainant={"handle": "@li"})
    )
    assert (decision.validity, decision.reason) == ("invalid", "not_specific")


def test_auto_reply_hint_is_spam(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(
            text="I am out until Monday.", hints=["auto_reply"], complainant={"email": "x@y.com"}
        )
    )
    assert (decision.reason, decision.severity, decision.flags) == ("spam", "minor", [])


def test_machine_subject_is_spam(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(
            text="Your message could not be delivered.",
            subject="Undeliverable: complaint",
            complainant={"email": "postmaster@example.com"},
        )
    )
    assert decision.reason == "spam"


def test_no_contact_anywhere(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(
            text="空调外机噪音很大，晚上睡不着", channel="hotline", hints=["caller_withheld"]
        )
    )
    assert decision.reason == "no_contact"


def test_contact_in_text_counts(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(text="空调外机噪音很大，晚上睡不着，电话13812345678", channel="letter")
    )
    assert decision.reason != "no_contact"
    assert decision.entities["phone"] == ["+8613812345678"]


def test_expired_purchase(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(
            text="冰箱是2019年买的，现在不制冷了",
            complainant={"phone": "13812345678"},
            received_at=datetime(2026, 10, 14, tzinfo=UTC),
        )
    )
    assert decision.reason == "expired"


def test_extended_warranty_keeps_it_valid(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(
            text="冰箱是2021年买的，买了延保，现在不制冷了",
            complainant={"phone": "13812345678"},
            received_at=datetime(2026, 10, 14, tzinfo=UTC),
        )
    )
    assert decision.reason != "expired"


def test_rules_are_the_safety_net_for_major(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(
            text="热水器漏电，我女儿洗澡被电了一下，我要找媒体曝光",
            complainant={"phone": "13812345678"},
        )
    )
    assert decision.severity == "major"
    assert {"safety", "media"} <= set(decision.flags)
    assert any("safety" in line for line in decision.explanation)


def test_litigation_is_invalid_and_legal(rules_only: Classifier) -> None:
    decision = rules_only.classify(
        ClassifierInput(
            text="关于洗衣机漏水一事，我已向法院提起诉讼，法院已受理。",
            complainant={"phone": "13812345678"},
        )
    )
    assert (decision.validity, decision.reason) == ("invalid", "in_litigation")
    assert "legal" in decision.flags and decision.severity == "major"


def test_batch_keeps_order(rules_only: Classifier) -> None:
    items = [
        ClassifierInput(text=t, complainant={"email": "a@b.cn"}, id=str(i))
        for i, t in enumerate(["冰箱漏水", "", "空调冒烟了", "my fridge leaks"])
    ]
    decisions = rules_only.classify_many(items)
    assert len(decisions) == 4
    assert decisions[2].severity == "major"
    assert decisions[1].validity == "invalid"


@pytest.mark.parametrize("text", ["嗯", "ok", "asdkjh qwe", "😀😀", "", "zzz yyy"])
def test_text_without_known_words_raises_no_flag(trained: Classifier, text: str) -> None:
    """The model's bias alone sits above the flag threshold: it must not make gibberish major."""
    decision = trained.classify(
        ClassifierInput(text=text, channel="api", complainant={"phone": "13812345678"})
    )
    assert decision.flags == [] and decision.severity != "major"
