"""The provider id of a mail: its Message-ID plus a hash of its bytes.

Content-based, so a mail fetched again (after a crash, a UIDVALIDITY change, an SMTP
client's retry) is recognised as the same input, while two different mails that reuse
a Message-ID are both kept.
"""

from __future__ import annotations

import hashlib
import re

_MESSAGE_ID = re.compile(
    rb"^message-id[ \t]*:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\r\n]{1,400}>)", re.I | re.M
)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def header_block(data: bytes) -> bytes:
    match = _HEADER_END.search(data, 0, 262144)
    return data[: match.start()] if match else data[:262144]


def message_id_of(data: bytes) -> str | None:
    match = _MESSAGE_ID.search(header_block(data))
    return match.group(1).decode("ascii", "replace") if match else None


def provider_id_for(data: bytes, *, suffix: str = "") -> str:
    digest = hashlib.sha256(data).hexdigest()[:32]
    message_id = message_id_of(data)
    base = f"{message_id}/{digest}" if message_id else f"sha256:{digest}"
    return f"{base}{suffix}"
