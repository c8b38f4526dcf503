"""Entity extraction: phones, identifiers, amounts, dates, addresses."""

from __future__ import annotations

from datetime import date

import pytest

from classifiers.dates import find_dates
from classifiers.entities import EntityExtractor, EntityPatterns, find_phones
from classifiers.numerals import parse_number, spoken_digits_to_numbers
from classifiers.taxonomy import load_taxonomy

ANCHOR = date(2026, 10, 14)  # a Wednesday


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    taxonomy = load_taxonomy()
    return EntityExtractor(
        EntityPatterns.from_config(taxonomy.entities), tuple(taxonomy.scope.own_brands)
    )


def test_full_width_identifiers(extractor: EntityExtractor) -> None:
    found = extractor.extract(
        "订单号ｈｔ２０２６０３１５－００４２，型号ＫＦＲ－３５ＧＷ／ＨＴ１，ＳＮ２６０３Ａ１７７４５",
        ANCHOR,
    )
    assert found.order_number == ["HT20260315-0042"]
    assert found.model == ["KFR-35GW/HT1"]
    assert found.serial == ["SN2603A17745"]


def test_spoken_chinese_digits_become_a_phone(extractor: EntityExtractor) -> None:
    found = extractor.extract("我电话是幺三八 一二三四 五六七八，三天前买的", ANCHOR)
    assert found.phone == ["+8613812345678"]
    assert spoken_digits_to_numbers("三天前") == "三天前"  # short runs keep their meaning


def test_spoken_english_digits() -> None:
    assert spoken_digits_to_numbers(
        "call one three nine double five six seven eight nine zero one"
    ) == ("call 13955678901")


def test_phone_kinds() -> None:
    assert find_phones("座机 010-62345678") == ["+861062345678"]
    assert find_phones("call +44 20 7946 0958 please") == ["+442079460958"]
    assert find_phones("(415) 555-2671") == ["+14155552671"]
    assert find_phones("订单20260315") == []  # a date, not a phone


def test_amounts_and_emails(extractor: EntityExtractor) -> None:
    found = extractor.extract(
        "花了3,299元，退我¥200，还有 $49.50，邮箱 Wang.Li@Example.com", ANCHOR
    )
    values = {(a["value"], a["currency"]) for a in found.amount}
    assert values == {(3299.0, "CNY"), (200.0, "CNY"), (49.5, "USD")}
    assert found.email == ["wang.li@example.com"]


def test_addresses(extractor: EntityExtractor) -> None:
    zh = extractor.extract("地址：浙江省杭州市西湖区文三路123号5栋201室，谢谢", ANCHOR)
    assert zh.address == ["浙江省杭州市西湖区文三路123号5栋201室"]
    en = extractor.extract("I live at 12 Baker Street, London NW1 6XE.", ANCHOR)
    assert en.address and en.address[0].startswith("12 Baker Street")


def test_own_brand_mention_is_not_a_handle(extractor: EntityExtractor) -> None:
    assert extractor.extract("@恒泰电器 冰箱坏了", ANCHOR).handle == []
    assert extractor.extract("@wang_lei 冰箱坏了", ANCHOR).handle == ["@wang_lei"]


@pytest.mark.parametrize(
    ("text", "expected", "purchase"),
    [
        ("上周三开始漏水", date(2026, 10, 7), False),
        ("3天前坏的", date(2026, 10, 11), False),
        ("三天前坏的", date(2026, 10, 11), False),
        ("去年十月份买的", date(2025, 10, 15), True),
        ("两个月前安装的", date(2026, 8, 14), True),
        ("it broke last monday", date(2026, 10, 12), False),
        ("bought it in march 2022", date(2022, 3, 15), True),
        ("2 weeks ago", date(2026, 9, 30), False),
        ("二零二一年买的", date(2021, 7, 1), True),
        ("用了五年", date(2021, 10, 14), True),
    ],
)
def test_dates(text: str, expected: date, purchase: bool) -> None:
    mentions = find_dates(text, ANCHOR)
    assert mentions, text
    assert mentions[0].value == expected
    assert mentions[0].purchase is purchase


def test_parse_number() -> None:
    assert [parse_number(x) for x in ["3", "十二", "两", "二十五", "三千", "半"]] == [
        3,
        12,
        2,
        25,
        3000,
        None,
    ]
