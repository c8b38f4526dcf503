"""Raw mail bytes to a `ParsedMail`: headers, the readable body, attachments, forwarded mail.

The standard library's lenient compat32 parser reads the structure; every header and
text part is decoded by `headers` / `charsets`, so a wrong or missing charset label
costs nothing. Parsing never raises: what cannot be read is listed in `problems`.
"""

from __future__ import annotations

import email
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.policy import Compat32
from email.utils import parsedate_to_datetime
from typing import Any

from channels.email.charsets import decode_bytes
from channels.email.headers import decode_addresses, decode_header, message_ids
from channels.email.html_text import html_to_text

MAX_DEPTH = 12  # nested multiparts and forwarded messages deeper than this are not opened
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


class _RawHeaderPolicy(Compat32):
    """compat32, but header values come back exactly as read (8-bit bytes as surrogates)."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        return value


RAW_POLICY = _RawHeaderPolicy()


@dataclass
class MailAttachment:
    name: str
    media_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass
class ParsedMail:
    headers: dict[str, list[str]]
    subject: str = ""
    sender: tuple[str, str] | None = None  # (name, address) of From
    reply_to: tuple[str, str] | None = None
    recipients: list[str] = field(default_factory=list)
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    content_type: str = "text/plain"
    text: str = ""
    body_from_html: bool = False
    attachments: list[MailAttachment] = field(default_factory=list)
    forwarded: list[ParsedMail] = field(default_factory=list)
    delivery_status: str | None = None  # the message/delivery-status part of a DSN
    problems: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse_mail(data: bytes) -> ParsedMail:
    """Parse one message; never raises (problems are recorded on the result)."""
    try:
        message = email.message_from_bytes(data, policy=RAW_POLICY)
    except Exception as exc:  # the parser is lenient; this is a last resort
        text, _ = decode_bytes(data)
        return ParsedMail(headers={}, text=text, problems=[f"unparsable: {exc}"])
    return _from_message(message, depth=0)


def _first_charset(message: Message) -> str | None:
    for part in message.walk():
        charset = part.get_content_charset()
        if charset and charset.lower() not in ("us-ascii", "ascii"):
            return charset
    return None


def _from_message(message: Message, depth: int) -> ParsedMail:
    hint = _first_charset(message)
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():  # raw values, in order
        headers.setdefault(name.lower(), []).append(decode_header(value, hint))
    raw = message.get
    senders = decode_addresses(raw("From"), hint) or decode_addresses(raw("Sender"), hint)
    reply_to = decode_addresses(raw("Reply-To"), hint)
    recipients = [
        address
        for name in ("To", "Cc", "Delivered-To", "X-Original-To")
        for _, address in decode_addresses(raw(name), hint)
    ]
    mail = ParsedMail(
        headers=headers,
        subject=headers.get("subject", [""])[0],
        sender=senders[0] if senders else None,
        reply_to=reply_to[0] if reply_to else None,
        recipients=recipients,
        date=_date(raw("Date")),
        message_id=next(iter(message_ids(raw("Message-ID"))), None),
        in_reply_to=message_ids(raw("In-Reply-To")),
        references=message_ids(raw("References")),
        content_type=message.get_content_type(),
    )
    mail.problems.extend(type(defect).__name__ for defect in message.defects)
    texts: list[str] = []
    _walk(message, mail, texts, depth)
    mail.text = "\n\n".join(text for text in texts if text.strip()).strip()
    return mail


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(decode_header(value))
    except (TypeError, ValueError, IndexError):
        return None


def _walk(part: Message, mail: ParsedMail, texts: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        mail.problems.append("nesting too deep")
        return
    media_type = part.get_content_type()
    if part.defects and depth:
        mail.problems.extend(type(defect).__name__ for defect in part.defects)
    if media_type == "message/rfc822" or (
        media_type.startswith("message/") and isinstance(part.get_payload(), list)
    ):
        _forwarded(part, mail, depth)
    elif media_type == "message/delivery-status":
        mail.delivery_status = _payload_text(part, mail)[0]
    elif part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if media_type == "multipart/alternative":
            _alternative(children, mail, texts, depth)
        else:
            for child in children:
                _walk(child, mail, texts, depth + 1)
    elif _is_body_text(part, media_type) or media_type.startswith("multipart/"):
        # A multipart without a usable boundary is read as text rather than dropped.
        text, from_html = _payload_text(part, mail)
        mail.body_from_html = mail.body_from_html or from_html
        texts.append(text)
    elif media_type in TNEF_TYPES or (part.get_filename() or "").lower() == "winmail.dat":
        _tnef(part, mail, texts)
    else:
        _attachment(part, mail)


def _is_body_text(part: Message, media_type: str) -> bool:
    if media_type not in ("text/plain", "text/html", "text/enriched"):
        return False
    disposition = (part.get("Content-Disposition") or "").lower()
    return not disposition.startswith("attachment") and not part.get_filename()


def _alternative(children: list[Message], mail: ParsedMail, texts: list[str], depth: int) -> None:
    """The plain version if it says anything, else the richest readable one."""
    plain = [c for c in children if c.get_content_type() == "text/plain"]
    if plain:
        text, _ = _payload_text(plain[0], mail)
        if text.strip():
            texts.append(text)
            return
    for child in reversed(children):  # richest last, per RFC 2046
        if child.get_content_type() in ("text/html", "multipart/related", "multipart/mixed"):
            _walk(child, mail, texts, depth + 1)
            return
    for child in children:
        _walk(child, mail, texts, depth + 1)


def _payload_text(part: Message, mail: ParsedMail) -> tuple[str, bool]:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload()).encode("utf-8", "surrogateescape")
    text, clean = decode_bytes(data, part.get_content_charset())
    if not clean:
        mail.problems.append("undecodable characters")
    if part.get_content_type() == "text/html":
        return html_to_text(text), True
    return text.replace("\r\n", "\n"), False


def _filename(part: Message) -> str | None:
    name: Any = part.get_filename()
    if name is None:
        name = part.get_param("name")
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
    return decode_header(str(name)) if name else None


def _attachment(part: Message, mail: ParsedMail) -> None:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    media_type = part.get_content_type()
    disposition = (part.get("Content-Disposition") or "").lower()
    content_id = next(iter(message_ids(part.get("Content-ID"))), None)
    name = _filename(part) or _default_name(media_type, len(mail.attachments) + 1)
    mail.attachments.append(
        MailAttachment(
            name=name,
            media_type=media_type,
            data=data,
            inline=disposition.startswith("inline") or (content_id is not None and not disposition),
            content_id=content_id,
        )
    )


def _default_name(media_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(media_type) or ".bin"
    return f"attachment-{number}{extension}"


def _forwarded(part: Message, mail: ParsedMail, depth: int) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        mail.forwarded.append(_from_message(inner, depth + 1))
    else:
        _attachment(part, mail)


def _tnef(part: Message, mail: ParsedMail, texts: list[str]) -> None:
    """Outlook's winmail.dat: its files become attachments, its body joins the text."""
    from tnefparse import TNEF

    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception:
        mail.problems.append("unreadable winmail.dat")
        _attachment(part, mail)
        return
    body = getattr(tnef, "body", None)
    html = getattr(tnef, "htmlbody", None)
    if body:
        raw = body if isinstance(body, bytes) else str(body).encode()
        texts.append(decode_bytes(raw)[0])
    elif html:
        raw = html if isinstance(html, bytes) else str(html).encode()
        texts.append(html_to_text(decode_bytes(raw)[0]))
    for item in getattr(tnef, "attachments", []):
        name = item.long_filename() or item.name
        if isinstance(name, bytes):
            name = decode_bytes(name)[0]
        media_type = mimetypes.guess_type(str(name))[0] or "application/octet-stream"
        mail.attachments.append(
            MailAttachment(name=str(name).strip("\x00"), media_type=media_type, data=item.data)
        )
