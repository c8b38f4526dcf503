"""Numbers written as words: spoken digit strings and small Chinese numerals.

Hotline transcripts spell numbers the way callers say them ("一三八 一二三四 五六七八",
"幺三九…", "one three eight double five…"). Entity extraction rewrites such runs as digits
first; runs shorter than five digits are left alone so that "三天前" or "two repairs" keep
their meaning for the date and rule layers.
"""

from __future__ import annotations

import re

_ZH_DIGITS = {
    "零": "0", "〇": "0", "洞": "0", "○": "0", "一": "1", "幺": "1", "么": "1", "二": "2",
    "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_EN_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_MIN_RUN = 5

_ZH_CLASS = "".join(_ZH_DIGITS)
_ZH_RUN = re.compile(f"[{_ZH_CLASS}0-9](?:[ -]?[{_ZH_CLASS}0-9]){{{_MIN_RUN - 1},}}")
_EN_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|\d)"
_EN_RUN = re.compile(rf"\b{_EN_WORD}(?:[ -]+{_EN_WORD}){{{_MIN_RUN - 2},}}\b", re.I)


def _zh_run(match: re.Match[str]) -> str:
    raw = match.group()
    digits = "".join(_ZH_DIGITS.get(ch, ch) for ch in raw if ch not in " -")
    # Only rewrite when spoken digits were involved and the run is mostly digits.
    if digits.isdigit() and any(ch in _ZH_DIGITS for ch in raw):
        return digits
    return raw


def _en_run(match: re.Match[str]) -> str:
    words = re.split(r"[ -]+", match.group().lower())
    out: list[str] = []
    repeat = 1
    for word in words:
        if word == "double":
            repeat = 2
            continue
        if word == "triple":
            repeat = 3
            continue
        digit = word if word.isdigit() else _EN_DIGITS.get(word, "")
        out.append(digit * repeat)
        repeat = 1
    digits = "".join(out)
    spoken = sum(1 for w in words if not w.isdigit())
    if len(digits) >= _MIN_RUN + 2 and spoken >= 3:
        return digits
    return match.group()


def spoken_digits_to_numbers(text: str) -> str:
    """Rewrite runs of spoken digits (Chinese or English) as ASCII digits."""
    if not text:
        return text
    text = _ZH_RUN.sub(_zh_run, text)
    return _EN_RUN.sub(_en_run, text)


_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def parse_number(token: str) -> int | None:
    """`"3"`, `"十二"`, `"两"`, `"二十五"`, `"三千"`, `"一万二"` → int; anything else → None."""
    if not token:
        return None
    if token.isdigit():
        return int(token)
    total = 0
    section = 0
    digit: int | None = None
    for ch in token:
        if ch in _ZH_DIGITS:
            digit = int(_ZH_DIGITS[ch])
        elif ch in _ZH_UNITS:
            unit = _ZH_UNITS[ch]
            if unit == 10000:
                total = (total + section + (digit or 0)) * unit
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit = None
        else:
            return None
    return total + section + (digit or 0)


_EN_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "couple of": 2,
    "a few": 3, "few": 3, "several": 3,
}  # fmt: skip


def parse_english_number(token: str) -> int | None:
    """`"3"`, `"three"`, `"a couple of"` → int."""
    token = token.strip().lower()
    if token.isdigit():
        return int(token)
    return _EN_NUMBERS.get(token)
