"""Speech-recognition text made fit for entity extraction.

Callers say numbers the way they speak them ("幺三八 一二三四 五六七八", "one three
eight double five…", "H T 二零二六零三一五 杠 零零四二"); the recogniser writes them as
words. This module turns such runs into digits and re-joins spelled-out order
numbers. It is the hotline's own, small on purpose (channels do not import
the classifier package); the caller's original wording stays in the archive.
"""

from __future__ import annotations

import re

_ZH_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "洞": "0", "一": "1", "幺": "1", "么": "1", "二": "2",
    "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_EN_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_MIN_RUN = 4  # shorter runs ("三天", "two units") keep their meaning

_ZH_CLASS = "".join(_ZH_DIGITS)
_ZH_RUN = re.compile(f"[{_ZH_CLASS}0-9](?: ?[{_ZH_CLASS}0-9]){{{_MIN_RUN - 1},}}")
_EN_WORD = r"(?:zero|oh|one|two|three|four|for|five|six|seven|eight|nine|double|triple|\d+)"
_EN_RUN = re.compile(rf"\b{_EN_WORD}(?:[ ,-]+{_EN_WORD}){{{_MIN_RUN - 1},}}\b", re.I)
_DASH_WORDS = re.compile(r"\s*(?:杠|横杠|减|dash|hyphen|minus)\s*", re.I)
_SPELLED_HT = re.compile(r"(?<![A-Za-z])[Hh]\s*[.,]?\s*[Tt]\.?(?![A-Za-z])(?:\s*(?=\d))?")
# Full-width letters and digits (ＨＴ１２３) as ASCII; other punctuation is left as spoken.
_FULL_WIDTH = {
    code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B) if chr(code - 0xFEE0).isalnum()
}
_FULL_WIDTH[0xFF0D] = ord("-")
_ORDER = re.compile(r"HT\s*((?:\d\s*){8})-?\s*((?:\d\s*){4})")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _zh_run(match: re.Match[str]) -> str:
    raw = match.group()
    return "".join(_ZH_DIGITS.get(ch, ch) for ch in raw if ch != " ")


def _en_run(match: re.Match[str]) -> str:
    out: list[str] = []
    repeat = 1
    for word in re.split(r"[ ,-]+", match.group().lower()):
        if word in ("double", "triple"):
            repeat = 2 if word == "double" else 3
            continue
        out.append((word if word.isdigit() else _EN_DIGITS[word]) * repeat)
        repeat = 1
    return "".join(out)


def digits_from_speech(text: str) -> str:
    """Rewrite runs of spoken digits (Chinese or English) as ASCII digits."""
    text = text.translate(_FULL_WIDTH)
    text = _ZH_RUN.sub(_zh_run, text)
    return _EN_RUN.sub(_en_run, text)


def normalise_speech(text: str) -> str:
    """Digits as digits, `H T … 杠 …` order numbers re-joined (`HT20260315-0042`)."""
    text = digits_from_speech(text)
    text = _SPELLED_HT.sub("HT", text)
    text = re.sub(r"(?<=\d)" + _DASH_WORDS.pattern + r"(?=\d)", "-", text, flags=re.I)
    return _ORDER.sub(lambda m: f"HT{_squash(m.group(1))}-{_squash(m.group(2))}", text)


def order_number(text: str) -> str | None:
    """The first order number in normalised text; twelve keyed-in digits count as one."""
    found = re.search(r"HT\d{8}-\d{4}", text)
    if found:
        return found.group()
    digits = _squash(text)
    if re.fullmatch(r"\d{12}", digits):
        return f"HT{digits[:8]}-{digits[8:]}"
    return None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)
