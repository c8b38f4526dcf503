"""Normalisation and language detection."""

from __future__ import annotations

from classifiers.text import MAX_CHARS, clean, detect_language, normalise
from classifiers.tokenizer import blank_pipeline


def test_normalise_folds_width_traditional_and_case() -> None:
    assert normalise("ＫＦＲ－３５ＧＷ／ＨＴ１ 冰箱漏水") == "kfr-35gw/ht1 冰箱漏水"
    assert normalise("我們的產品質量問題") == "我们的产品质量问题"
    assert normalise("  Fridge\t\tLEAKS  ") == "fridge leaks"


def test_clean_keeps_case_and_bounds_length() -> None:
    assert clean("Order HT20260315-0042\x00\x07") == "Order HT20260315-0042"
    assert len(clean("a" * (MAX_CHARS * 3))) == MAX_CHARS
    assert clean(None) == ""


def test_detect_language() -> None:
    assert detect_language("冰箱冷藏室一直漏水，请尽快派人处理") == "zh"
    assert detect_language("冰箱冷藏室一直漏水，請盡快派人處理，謝謝") == "zh-Hant"
    assert detect_language("My fridge has been leaking water for a week") == "en"
    assert (
        detect_language("我的fridge一直leaking water，师傅说compressor坏了 please help") == "mixed"
    )
    assert detect_language("😡😡😡") == "other"
    assert detect_language("") == "other"
    # Codes and numbers do not make Chinese text look English.
    assert detect_language("订单HT20260315-0042，型号KFR-35GW/HT1，漏水") == "zh"


def test_tokenizer_one_token_per_han_character_and_whole_words() -> None:
    nlp = blank_pipeline()
    doc = nlp(normalise("空调KFR-35GW漏水 didn't cool"))
    assert [t.text for t in doc] == ["空", "调", "kfr", "-", "35gw", "漏", "水", "didn't", "cool"]
    assert doc.text == normalise("空调KFR-35GW漏水 didn't cool")
