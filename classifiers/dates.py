# ruff: noqa: E501  (regex tables read better one pattern a line)
"""Dates stated in a complaint, absolute or relative to when it was received.

Used for the `date` entities and for the `expired` check (LABELS.md 5): purchase more than
the warranty period ago, or an event more than the complaint window ago. Works on the
normalised text (lower case, Simplified, ASCII digits). A date that cannot be placed
exactly is placed conservatively (a bare year → its middle; a bare month → its 15th).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from classifiers.numerals import parse_english_number, parse_number

_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEKDAYS_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS_EN = {
    name: i
    for i in range(1, 13)
    for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())
}
_MONTH_EN = "(" + "|".join(sorted(_MONTHS_EN, key=len, reverse=True)) + r")\.?"

# Purchase verbs right after a Chinese date ("去年十月买的") or before an English one
# ("bought it in March 2022", "购于2021年"), within the same clause.
_PURCHASE_AFTER = re.compile(r"^[^，。,.;；!！?？\n]{0,6}?(买|购|入手|下单|订购|安装|装的)")
_PURCHASE_BEFORE = re.compile(
    r"(买|购|购于|购买于|入手|bought|purchas\w*|ordered|got it|got this|got the|installed)[^，。,.;；!！?？\n]{0,14}$"
)
_PURCHASE_NOUN = re.compile(r"购买日期|购买时间|购机|purchase date|date of purchase")


@dataclass(frozen=True, slots=True)
class DateMention:
    """One stated date: its text, the day it means, and whether it dates the purchase."""

    text: str
    value: date
    relative: bool
    purchase: bool
    start: int
    end: int

    def as_entity(self) -> dict[str, object]:
        return {"text": self.text, "date": self.value.isoformat(), "relative": self.relative}


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))
    except (ValueError, calendar.IllegalMonthError):
        return None


def _months_back(anchor: date, months: int) -> date:
    month_index = anchor.year * 12 + anchor.month - 1 - months
    year, month = divmod(month_index, 12)
    return _safe_date(year, month + 1, anchor.day) or anchor


def _n(token: str | None) -> int | None:
    if token is None:
        return None
    return parse_number(token) or parse_english_number(token)


def _previous(anchor: date, candidate: date) -> date:
    """A day-month without a year means the last such day on or before the anchor."""
    if candidate > anchor:
        return _safe_date(candidate.year - 1, candidate.month, candidate.day) or candidate
    return candidate


# Each pattern maps a match to a date given the anchor; `relative` marks anchor-based ones.
def _ymd(m: re.Match[str], a: date) -> date | None:
    return _safe_date(int(m["y"]), int(m["m"]), int(m["d"]))


def _ym(m: re.Match[str], a: date) -> date | None:
    month = _n(m["m"])
    return _safe_date(int(m["y"]), month, 15) if month and 1 <= month <= 12 else None


def _year_only(m: re.Match[str], a: date) -> date | None:
    return _safe_date(int(m["y"]), 7, 1)


def _short_year(m: re.Match[str], a: date) -> date | None:
    return _safe_date(2000 + int(m["y"]), 7, 1)


def _md(m: re.Match[str], a: date) -> date | None:
    month, day = _n(m["m"]), _n(m["d"])
    if not month or not day or not 1 <= month <= 12:
        return None
    found = _safe_date(a.year, month, day)
    return _previous(a, found) if found else None


def _year_word(m: re.Match[str], a: date) -> date | None:
    back = {"今年": 0, "去年": 1, "前年": 2, "大前年": 3, "this year": 0, "last year": 1}[m["w"]]
    month = _n(m["m"]) if m["m"] else None
    if month and 1 <= month <= 12:
        return _safe_date(a.year - back, month, 15)
    return _safe_date(a.year - back, 7, 1) if back else a


def _ago(m: re.Match[str], a: date) -> date | None:
    count = _n(m["n"]) if m["n"] else 1
    unit = m["u"]
    if count is None:
        return None
    if m["half"]:
        return _months_back(a, 6 * (12 if unit in ("年", "year", "years") else 1) // 12)
    if unit in ("天", "日", "day", "days"):
        return a - timedelta(days=count)
    if unit in ("周", "星期", "礼拜", "week", "weeks"):
        return a - timedelta(weeks=count)
    if unit in ("月", "month", "months"):
        return _months_back(a, count)
    return _months_back(a, 12 * count)


def _simple_relative(m: re.Match[str], a: date) -> date | None:
    days = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "大前天": 3, "today": 0,
            "yesterday": 1, "this morning": 0, "tonight": 0, "last night": 1}  # fmt: skip
    word = m["w"]
    if word in days:
        return a - timedelta(days=days[word])
    if word in ("上周", "上星期", "上个星期", "上礼拜", "last week"):
        return a - timedelta(days=7)
    if word in ("上个月", "上月", "last month"):
        return _months_back(a, 1)
    return None


def _last_weekday_zh(m: re.Match[str], a: date) -> date | None:
    target = _WEEKDAYS_ZH[m["d"]]
    monday_this_week = a - timedelta(days=a.weekday())
    return monday_this_week - timedelta(days=7) + timedelta(days=target)


def _last_weekday_en(m: re.Match[str], a: date) -> date | None:
    target = _WEEKDAYS_EN.index(m["d"])
    back = (a.weekday() - target) % 7 or 7
    return a - timedelta(days=back)


def _en_mdy(m: re.Match[str], a: date) -> date | None:
    month = _MONTHS_EN[m["mon"]]
    day = int(m["d"]) if m["d"] else 15
    if m["y"]:
        return _safe_date(int(m["y"]), month, day)
    found = _safe_date(a.year, month, day)
    return _previous(a, found) if found else None


def _slash(m: re.Match[str], a: date) -> date | None:
    first, second, year = int(m["a"]), int(m["b"]), int(m["y"])
    if first > 12:  # 25/03/2026: day first
        return _safe_date(year, second, first)
    return _safe_date(year, first, second)  # 03/25/2026 or ambiguous: month first


_PATTERNS: list[tuple[re.Pattern[str], object, bool]] = [
    (re.compile(r"(?P<y>(?:19|20)\d{2})\s*[年/.\-]\s*(?P<m>\d{1,2})\s*[月/.\-]\s*(?P<d>\d{1,2})\s*[日号]?"), _ymd, False),
    (re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)\d{2})"), _slash, False),
    (re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>" + _NUM[1:-1] + r")\s*月份?"), _ym, False),
    (re.compile(r"(?P<y>(?:19|20)\d{2})\s*年(?!\s*\d)"), _year_only, False),
    (re.compile(r"(?P<w>大前年|前年|去年|今年)\s*(?:(?P<m>" + _NUM[1:-1] + r")\s*月份?)?"), _year_word, True),
    (re.compile(r"(?<![年\d])(?P<m>" + _NUM[1:-1] + r")\s*月\s*(?P<d>" + _NUM[1:-1] + r")\s*[日号]"), _md, True),
    (re.compile(r"(?P<half>半)?(?P<n>\d{1,3}|[一二两三四五六七八九十几]{1,3})?\s*个?\s*(?P<u>天|日|周|星期|礼拜|月|年)\s*(?:前|之前|以前)"), _ago, True),
    (re.compile(r"(?P<w>大前天|前天|昨天|昨日|今天|今日|上个星期|上星期|上礼拜|上周|上个月|上月)(?![一二三四五六日天末])"), _simple_relative, True),
    (re.compile(r"(?:上周|上星期|上礼拜|上个星期)(?P<d>[一二三四五六日天末])"), _last_weekday_zh, True),
    (re.compile(r"\b(?P<half>half a)?(?P<n>\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a few|several)?\s*(?P<u>days?|weeks?|months?|years?)\s+ago\b"), _ago, True),
    (re.compile(r"\b(?P<w>today|yesterday|this morning|tonight|last night|last week|last month)\b"), _simple_relative, True),
    (re.compile(r"\b(?P<w>last year|this year)\b()(?P<m>x)?"), _year_word, True),
    (re.compile(r"\blast (?P<d>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"), _last_weekday_en, True),
    (re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>" + _MONTH_EN[1:-4] + r")\.?,?\s*(?P<y>(?:19|20)\d{2})?\b"), _en_mdy, False),
    (re.compile(r"\b(?P<mon>" + _MONTH_EN[1:-4] + r")\.?\s+(?P<d>\d{1,2})?(?:st|nd|rd|th)?,?\s*(?P<y>(?:19|20)\d{2})?\b"), _en_mdy, False),
    (re.compile(r"\b(?:in|since|from)\s+(?P<y>(?:19|20)\d{2})\b"), _year_only, False),
    (re.compile(r"(?<![\d年])(?P<y>[012]\d)\s*年(?=\s*(?:买|购|入手|装|安装|下单|的时候买))"), _short_year, False),
    (re.compile(r"(?<![\d\-/.:])(?P<y>(?:19|20)\d{2})(?![\d\-/.:%])(?!\s*(?:元|块|yuan|rmb|km|w\b|mah|l\b|升|ml|台|个|units|pcs))"), _year_only, False),
]  # fmt: skip

# "用了五年", "used it for 4 years", "3 years old": the purchase was at least that long ago.
_DURATIONS = [
    re.compile(r"(?:用了|使用了|买了|已经用了|用了快|用了差不多|买了快)\s*(?P<n>\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?P<half>年半)?\s*(?:多)?\s*年?"),
    re.compile(r"\b(?:had it|used it|owned it|have had it|had this|had the unit)\s+for\s+(?:over\s+|almost\s+|about\s+|nearly\s+)?(?P<n>\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\s+years?\b"),
    re.compile(r"\b(?P<n>\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)[ -]years?[ -]old\b"),
]  # fmt: skip


def _is_purchase(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 24) : start]
    return bool(
        _PURCHASE_AFTER.search(text[end : end + 10])
        or _PURCHASE_BEFORE.search(before)
        or _PURCHASE_NOUN.search(before)
    )


_SPOKEN_YEAR = re.compile("[零〇一二三四五六七八九]{4}(?=年)")
_YEAR_DIGITS = str.maketrans("零〇一二三四五六七八九", "00123456789")


def find_dates(text: str, anchor: date) -> list[DateMention]:
    """All date mentions in `text`, non-overlapping, in text order."""
    text = _SPOKEN_YEAR.sub(lambda m: m.group().translate(_YEAR_DIGITS), text)  # 二零二一年
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern, resolve, relative in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if end - start < 2 or any(s < end and start < e for s, e in taken):
                continue
            value = resolve(match, anchor)  # type: ignore[operator]
            if value is None or value > anchor + timedelta(days=1):
                continue
            taken.append((start, end))
            found.append(
                DateMention(
                    match.group().strip(),
                    value,
                    relative,
                    _is_purchase(text, start, end),
                    start,
                    end,
                )
            )
    for pattern in _DURATIONS:
        for match in pattern.finditer(text):
            years = _n(match["n"])
            if not years or any(s < match.end() and match.start() < e for s, e in taken):
                continue
            value = _months_back(anchor, 12 * years)
            taken.append(match.span())
            found.append(DateMention(match.group().strip(), value, True, True, *match.span()))
    found.sort(key=lambda mention: mention.start)
    return found
