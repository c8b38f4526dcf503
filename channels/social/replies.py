"""The acknowledgement text, in the complainant's language (zh or en)."""

from __future__ import annotations

from typing import Any

_TEXT = {
    "zh": "您好，我们已收到您的投诉，受理编号：{reference}。我们会尽快处理并回复您。",
    "en": (
        "Thank you, we have received your complaint. Your reference is {reference}; "
        "we will get back to you soon."
    ),
}
_NOT_A_COMPLAINT = {
    "zh": "您好，我们已收到您的消息，编号：{reference}。",
    "en": "Thank you, we have received your message. Its reference is {reference}.",
}


def language_of(acknowledgement: dict[str, Any], default: str) -> str:
    complainant = acknowledgement.get("complainant") or {}
    for value in (acknowledgement.get("language"), complainant.get("language"), default):
        if value and str(value)[:2].lower() in _TEXT:
            return str(value)[:2].lower()
    return "zh"


def acknowledgement_text(acknowledgement: dict[str, Any], default_language: str) -> str:
    language = language_of(acknowledgement, default_language)
    table = _TEXT if acknowledgement.get("validity", "valid") == "valid" else _NOT_A_COMPLAINT
    return table[language].format(reference=acknowledgement["reference"])


def handle_of(acknowledgement: dict[str, Any], prefix: str) -> str | None:
    """The network id behind a "telegram:42"-style handle, when it is this network's."""
    handle = str((acknowledgement.get("complainant") or {}).get("handle") or "")
    scheme, _, target = handle.partition(":")
    return target if scheme == prefix and target else None
