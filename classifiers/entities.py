"""Entity extraction: phones, e-mails, order numbers, models, serials, amounts, dates, addresses.

Identifier patterns come from the taxonomy (SPEC §10 formats, per deployment); phones are
validated with `phonenumbers` (CN default region) after spoken digits are rewritten as digits.
Cheap regexes find candidates first, so the 500 docs/s budget holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import phonenumbers

from classifiers.dates import DateMention, find_dates
from classifiers.numerals import parse_number, spoken_digits_to_numbers
from classifiers.text import clean, to_simplified

_PHONE_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9@.\-/])(?:\+|00)?\(?(?:\d[\s\-().]{0,2}){6,14}\d(?![A-Za-z0-9@])"
)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.ASCII)
_HANDLE = re.compile(
    r"(?:(?<![\w.])@[\w\u4e00-\u9fff\-.]{2,30})"
    r"|(?:微信号?|wechat(?: id)?|vx|weixin)\s*[:：]?\s*[a-z][\w\-]{4,19}",
    re.I,
)
_AMOUNT_BEFORE = re.compile(
    r"(?P<cur>¥|￥|rmb|cny|us\$|usd|\$|£|€)\s*(?P<num>\d[\d,]*(?:\.\d{1,2})?)", re.I
)
_AMOUNT_AFTER = re.compile(
    r"(?P<num>\d[\d,]*(?:\.\d{1,2})?|[一二两三四五六七八九十百千万]+)\s*(?P<w>万)?\s*(?P<cur>元|块钱|块|rmb|yuan|dollars?|usd|pounds?|euros?)(?![a-z])",
    re.I,
)
_CURRENCIES = {"¥": "CNY", "￥": "CNY", "rmb": "CNY", "cny": "CNY", "元": "CNY", "块": "CNY",
               "块钱": "CNY", "yuan": "CNY", "$": "USD", "us$": "USD", "usd": "USD",
               "dollar": "USD", "dollars": "USD", "£": "GBP", "pound": "GBP", "pounds": "GBP",
               "€": "EUR", "euro": "EUR", "euros": "EUR"}  # fmt: skip
_ZH_ADDRESS = re.compile(
    r"[\u4e00-\u9fff]{2,8}?(?:省|市|自治区|区|县)[\u4e00-\u9fff0-9A-Za-z\-#]{1,30}?"
    r"(?:路|街|道|巷|弄|胡同|村|镇|小区|花园|苑|大厦|广场|公寓)"
    r"[0-9A-Za-z\-#号楼栋幢单元室层]{1,24}"
)
_EN_ADDRESS = re.compile(
    r"\b\d{1,5}[a-z]?\s+(?:[A-Za-z][A-Za-z.'\-]*\s){1,4}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Way|Court|Ct|Boulevard|Blvd|Place|Pl|Close|Crescent|Terrace)\b"
    r"\.?(?:,?\s+[A-Za-z][A-Za-z'\-]+)?(?:,?\s+[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|,?\s+[A-Z]{2}\s+\d{5}|\s+\d{5})?",
    re.I,
)


@dataclass(frozen=True)
class EntityPatterns:
    """Configurable identifier patterns (taxonomy `entities:`)."""

    order_number: re.Pattern[str]
    model: re.Pattern[str]
    serial: re.Pattern[str]

    @classmethod
    def from_config(cls, config: dict[str, str]) -> EntityPatterns:
        return cls(
            order_number=re.compile(config["order_number"], re.I),
            model=re.compile(config["model"], re.I),
            serial=re.compile(config["serial"], re.I),
        )


@dataclass
class Entities:
    """What was found; `as_dict` gives the JSON shape stored on the record."""

    phone: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    handle: list[str] = field(default_factory=list)
    order_number: list[str] = field(default_factory=list)
    model: list[str] = field(default_factory=list)
    serial: list[str] = field(default_factory=list)
    amount: list[dict[str, Any]] = field(default_factory=list)
    date: list[DateMention] = field(default_factory=list)
    address: list[str] = field(default_factory=list)

    def has_contact(self) -> bool:
        return bool(self.phone or self.email or self.handle or self.address)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in (
            "phone",
            "email",
            "handle",
            "order_number",
            "model",
            "serial",
            "amount",
            "address",
        ):
            values = getattr(self, key)
            if values:
                out[key] = values
        if self.date:
            out["date"] = [mention.as_entity() for mention in self.date]
        return out


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _identifier(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def find_phones(text: str) -> list[str]:
    """E.164 numbers; Chinese numbers without a country code are read as CN."""
    phones: list[str] = []
    for match in _PHONE_CANDIDATE.finditer(text):
        raw = match.group()
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 7 or len(digits) > 15:
            continue
        if re.fullmatch(r"(?:19|20)\d{6}", digits):  # a date like 20260315
            continue
        region = None if raw.startswith(("+", "00")) else "CN"
        if region and len(digits) == 10 and digits[0] not in "01":
            region = "US"  # ten digits that cannot be Chinese: a North American number
        candidate = "+" + raw[2:] if raw.startswith("00") else raw
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            phones.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return _unique(phones)


def find_amounts(text: str) -> list[dict[str, Any]]:
    amounts: list[dict[str, Any]] = []
    seen: set[tuple[int, int]] = set()
    for pattern in (_AMOUNT_BEFORE, _AMOUNT_AFTER):
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in seen):
                continue
            raw_num = match["num"].replace(",", "")
            value: float | None
            try:
                value = float(raw_num)
            except ValueError:
                parsed = parse_number(raw_num)
                value = float(parsed) if parsed is not None else None
            if value is None:
                continue
            if match.groupdict().get("w"):
                value *= 10000
            seen.add(match.span())
            currency = _CURRENCIES.get(match["cur"].lower(), match["cur"].upper())
            amounts.append({"text": match.group().strip(), "value": value, "currency": currency})
    return amounts


class EntityExtractor:
    """Runs every extractor over one text; configured once per taxonomy."""

    def __init__(self, patterns: EntityPatterns, own_names: tuple[str, ...] = ()) -> None:
        self.patterns = patterns
        self.own_names = tuple(name.lower() for name in own_names)

    def extract(self, text: str, anchor: date) -> Entities:
        """`text` is the raw complaint text (subject and body); `anchor` the day it came in."""
        base = spoken_digits_to_numbers(clean(text))
        emails = _unique([m.lower() for m in _EMAIL.findall(base)])
        without_emails = _EMAIL.sub(" ", base)
        ids = {
            name: _unique(
                [_identifier(m.group(1) or m.group()) for m in pattern.finditer(without_emails)]
            )
            for name, pattern in (
                ("order_number", self.patterns.order_number),
                ("model", self.patterns.model),
                ("serial", self.patterns.serial),
            )
        }
        # Identifiers and dates are digit runs too: blank them before looking for phones.
        phone_text = without_emails
        for pattern in (self.patterns.order_number, self.patterns.serial, self.patterns.model):
            phone_text = pattern.sub(" ", phone_text)
        lower = to_simplified(phone_text).lower()
        return Entities(
            phone=find_phones(phone_text),
            email=emails,
            handle=_unique(
                [
                    m.strip()
                    for m in _HANDLE.findall(without_emails)
                    if not any(name in m.lower() for name in self.own_names)  # "@恒泰电器" is us
                ]
            ),
            order_number=ids["order_number"],
            model=ids["model"],
            serial=ids["serial"],
            amount=find_amounts(lower),
            date=find_dates(lower, anchor),
            address=_unique(
                [m.group().strip() for m in _ZH_ADDRESS.finditer(base)]
                + [m.group().strip() for m in _EN_ADDRESS.finditer(base)]
            ),
        )
