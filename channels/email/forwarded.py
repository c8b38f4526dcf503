"""Forwarded mail: finding the original message and its sender in a forward.

A forward arrives either as an attached `message/rfc822` part (handled by `mime`) or
inline, below a marker such as Gmail's `---------- Forwarded message ---------`, its
Chinese form `---------- 转发的邮件 ---------`, Apple Mail's `Begin forwarded message:`
or Outlook's `From: / Sent:` block under a `FW:` / `转发:` subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses

from channels.email.quotes import quote_start

_MARKER = re.compile(
    r"^\s*(?:-{3,}\s*(?:Forwarded message|转发的邮件|轉寄的郵件|转发邮件信息|轉寄郵件資訊|转发邮件)"
    r"\s*-{3,}|Begin forwarded message:|开始转发的邮件：|以下为转发的邮件[:：]?)\s*$",
    re.IGNORECASE,
)
# These mark a quoted reply unless the subject says the mail is a forward.
_ORIGINAL_MARKER = re.compile(
    r"^\s*-{3,}\s*(?:Original Message|原始邮件|原始郵件|邮件原件|郵件原件)\s*-{3,}\s*$",
    re.IGNORECASE,
)
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|转发|轉寄|转寄|轉發)\s*[:：]", re.IGNORECASE)
_FIELD = re.compile(r"^\s*\**(?P<name>[^:：*]{1,12})\**\s*[:：]\s*(?P<value>.*)$")
_FROM_NAMES = {"from", "发件人", "發件人", "寄件者", "寄件人"}
_SUBJECT_NAMES = {"subject", "主题", "主題", "主旨"}


@dataclass(frozen=True)
class InlineForward:
    note: str  # what the forwarder wrote above the forwarded message
    sender: tuple[str, str] | None
    subject: str | None
    body: str


def split_inline_forward(text: str, subject: str) -> InlineForward | None:
    """The forwarded message inside `text`, or None when it is not a forward."""
    lines = text.replace("\r\n", "\n").split("\n")
    start = next((i for i, line in enumerate(lines) if _MARKER.match(line)), None)
    if start is None and FORWARD_SUBJECT.match(subject):
        start = next((i for i, line in enumerate(lines) if _ORIGINAL_MARKER.match(line)), None)
        if start is None:
            start = quote_start(lines)  # Outlook forwards: only a From:/Sent: block
            while start is not None and start < len(lines) and not _FIELD.match(lines[start]):
                start = start + 1 if re.fullmatch(r"[\s_-]*", lines[start]) else None
            if start is not None and start >= len(lines):
                start = None
    if start is None:
        return None
    note = "\n".join(lines[:start]).strip()
    is_marker = _MARKER.match(lines[start]) or _ORIGINAL_MARKER.match(lines[start])
    rest = lines[start + 1 :] if is_marker else lines[start:]
    sender, original_subject, body_start = _header_block(rest)
    body = "\n".join(rest[body_start:]).strip()
    return InlineForward(note=note, sender=sender, subject=original_subject, body=body)


def _header_block(lines: list[str]) -> tuple[tuple[str, str] | None, str | None, int]:
    """Sender and subject from the header lines at the top; index where the body starts."""
    sender: tuple[str, str] | None = None
    subject: str | None = None
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    seen_fields = 0
    while index < len(lines):
        match = _FIELD.match(lines[index])
        if not match:
            break
        seen_fields += 1
        name = match.group("name").strip().lower()
        value = match.group("value").strip()
        if name in _FROM_NAMES:
            pairs = [(n, a) for n, a in getaddresses([value.replace("[mailto:", "<").rstrip("]")])]
            pairs = [(n.strip().strip('"'), a.lower()) for n, a in pairs if "@" in a]
            if pairs:
                sender = pairs[0]
        elif name in _SUBJECT_NAMES:
            subject = value
        index += 1
    return sender, subject, index if seen_fields else 0
