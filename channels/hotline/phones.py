"""Caller IDs as E.164 numbers; withheld numbers as nothing at all."""

from __future__ import annotations

import phonenumbers


def e164(number: str, region: str) -> str | None:
    """A caller ID as E.164, or None when it is withheld or not a phone number."""
    if not number or number.strip().lstrip("+").lower() in WITHHELD:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


#: What Twilio puts in `From` when the caller ID is withheld: the words spelled on a
#: keypad (+266696687 = ANONYMOUS, RESTRICTED, UNKNOWN, BLOCKED) or the words themselves.
WITHHELD = frozenset(
    {"266696687", "7378742833", "8656696", "2562533", "anonymous", "restricted", "unknown",
     "blocked", "private", "unavailable"}
)  # fmt: skip
