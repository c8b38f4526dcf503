"""When a message ends its conversation early: a closing phrase, or a complete, form-like text."""

from __future__ import annotations

import re
import unicodedata

from channels.social.settings import SocialSettings

_TRAILING = re.compile(r"[\s\W_]+$", re.UNICODE)
_FORM_LINE = re.compile(r"^\s*[^\s:：]{1,16}\s*[:：]\s*\S")


def _tail(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _TRAILING.sub("", folded)


def ends_with_closing_phrase(text: str, phrases: list[str]) -> bool:
    """'…请尽快处理，谢谢！' and "that's all" close; trailing punctuation and emoji don't count."""
    tail = _tail(text)
    return bool(tail) and any(tail.endswith(_tail(phrase)) for phrase in phrases if phrase)


def is_form_like(text: str, fields: int) -> bool:
    """A message with `fields` or more 'label: value' lines is a whole complaint on its own."""
    if fields <= 0:
        return False
    return sum(1 for line in text.splitlines() if _FORM_LINE.match(line)) >= fields


def close_reason(text: str, settings: SocialSettings) -> str | None:
    if not text.strip():
        return None
    if is_form_like(text, settings.form_fields):
        return "form"
    if ends_with_closing_phrase(text, settings.closing_phrases):
        return "phrase"
    return None
