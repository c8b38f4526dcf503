"""Text normalisation and language detection.

Rules and the model match on a *normalised copy* of the text (NFKC folds full-width letters
and digits, Traditional Chinese becomes Simplified, case and whitespace are folded), so one
keyword list serves Simplified, Traditional, full-width and mixed-case input. The stored
complaint text is never changed: callers keep the original and pass it here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import opencc

#: Inputs longer than this are cut before classification: a complaint that matters says so in
#: its first pages, and a 1 MB paste must not stall a worker.
MAX_CHARS = 20_000

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u200b-\u200f\u2028\u2029\ufeff]")
_SPACE = re.compile(r"[ \t\r\f\v\u3000]+")
_NEWLINES = re.compile(r"\n\s*\n+")
_CODES = re.compile(
    r"https?://\S+|[\w.+\-]+@[\w\-.]+|[A-Za-z0-9\-/_.+]*\d[A-Za-z0-9\-/_.+]*", re.ASCII
)


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def traditional_chars() -> frozenset[str]:
    """Characters that OpenCC's t2s table changes.

    Converting with the pure-Python OpenCC costs ~2 µs a character, a large share of the
    500 docs/s budget, so text is converted only when it holds one of these characters.
    """
    table = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    chars: set[str] = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1 and parts[0] not in parts[1].split(" "):
            chars.add(parts[0])
    return frozenset(chars)


def clean(text: str | None) -> str:
    """Bound the length, drop control characters and fold Unicode compatibility forms.

    Keeps case and script, so entity values (names, order numbers) stay as written.
    """
    if not text:
        return ""
    text = text[:MAX_CHARS]
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def to_simplified(text: str) -> str:
    """Traditional → Simplified, only paying for OpenCC when a Traditional character is present."""
    if traditional_chars().isdisjoint(text):
        return text
    return str(_converter().convert(text))


def normalise(text: str | None) -> str:
    """The matching form: cleaned, Simplified, lower case, single spaces."""
    return to_simplified(clean(text)).lower()


def detect_language(text: str | None) -> str:
    """`zh`, `zh-Hant`, `en`, `mixed` or `other`, from script counts (LABELS.md values).

    Counts Han characters against Latin words, ignoring codes that hold digits (order numbers,
    models, phone numbers), e-mail addresses and URLs, which appear in every language.
    """
    if not text:
        return "other"
    sample = _CODES.sub(" ", text[:4000])
    han = _HAN.findall(sample)
    latin_words = len(_LATIN_WORD.findall(sample))
    zh_units = len(han) / 2.0  # about two characters a Chinese word
    if zh_units == 0 and latin_words == 0:
        return "other"
    if latin_words <= zh_units * 0.25 or (latin_words <= 2 and zh_units >= 4):
        trad = sum(1 for ch in han if ch in traditional_chars())
        return "zh-Hant" if trad >= max(2, 0.05 * len(han)) else "zh"
    if zh_units <= latin_words * 0.25 or (zh_units <= 2 and latin_words >= 4):
        return "en"
    return "mixed"
