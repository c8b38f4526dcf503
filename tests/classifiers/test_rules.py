"""The rule layer: keywords, weights, negation and figurative guards, counted patterns."""

from __future__ import annotations

import pytest

from classifiers.rules import CompiledRules, RuleSet, expand
from classifiers.taxonomy import DEFAULT_RULES, load_taxonomy
from classifiers.text import normalise
from classifiers.tokenizer import blank_pipeline


@pytest.fixture(scope="module")
def rules() -> CompiledRules:
    nlp = blank_pipeline()
    return RuleSet.load(DEFAULT_RULES, load_taxonomy()).compile(nlp)


def scores(rules: CompiledRules, text: str) -> dict[str, float]:
    nlp = blank_pipeline()
    return rules.apply(nlp(normalise(text))).scores


def test_brace_expansion() -> None:
    assert expand("leak{,s,ed}") == ["leak", "leaks", "leaked"]


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("空调内机冒烟了", "safety"),
        ("電池鼓包，差點起火", "safety"),  # Traditional
        ("没几天就冒烟了", "safety"),  # 没 + 就 is not a negation
        ("the charger caught fire last night", "safety"),
        ("I got an electric shock from the door handle", "safety"),
        ("我已经请了律师", "legal"),
        ("I will take you to court", "legal"),
        ("再不处理我就打12315", "regulator"),
        ("I have contacted Trading Standards", "regulator"),
        ("我要发到抖音上曝光你们", "media"),
        ("I'll post this on Twitter", "media"),
        ("我们小区20台都出现同样的问题", "batch"),
        ("all 30 units in our building leak", "batch"),
        ("修了三次还是漏水", "repeat"),
        ("the technician has repaired it twice and it still leaks", "repeat"),
    ],
)
def test_flag_rules_fire(rules: CompiledRules, text: str, flag: str) -> None:
    assert scores(rules, text).get(f"flag:{flag}", 0) >= 1.0, text


@pytest.mark.parametrize(
    "text",
    [
        "幸好没有冒烟",
        "没有起火，就是噪音大",
        "No fire, just noise.",
        "there was no smoke at all",
        "客服火速回复了，火爆的促销",
        "The price is killing me",
        "I was shocked by the price",
    ],
)
def test_negated_or_figurative_safety_words_do_not_fire(rules: CompiledRules, text: str) -> None:
    assert scores(rules, text).get("flag:safety", 0) < 1.0, text


def test_threat_is_legal_but_not_litigation(rules: CompiledRules) -> None:
    threat = scores(rules, "再不退款我就起诉你们")
    assert threat.get("flag:legal", 0) >= 1.0
    assert threat.get("validity:in_litigation", 0) == 0
    filed = scores(rules, "我已经向法院提起诉讼，法院已受理")
    assert filed.get("validity:in_litigation", 0) >= 1.0


def test_industry_words_still_count_inside_longer_names(rules: CompiledRules) -> None:
    assert scores(rules, "工商银行信用卡年费").get("validity:out_of_scope", 0) >= 1.0


def test_department_words(rules: CompiledRules) -> None:
    found = scores(rules, "快递送到时外包装破损，冰箱门凹了")
    assert found.get("department:logistics", 0) > found.get("department:quality", 0)
