"""A parsed mail to a `ComplaintDraft`: who wrote, the clean new text, attachments, hints.

Never raises for bad mail: a message the parser can only partly read still becomes a
draft with what could be read and the `incomplete` hint, which sends it to review.
Only a message that was archived without its body (over the size limit) fails.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import phonenumbers

from channels.base import NormaliseError, RawInput
from channels.email.forwarded import FORWARD_SUBJECT, split_inline_forward
from channels.email.machine import AUTO_REPLY, machine_mail
from channels.email.mime import ParsedMail, parse_mail
from channels.email.quotes import strip_quotes_and_signature
from channels.email.threads import referenced_complaint
from storage.records import ChannelKind, Complainant, ComplaintDraft

MAX_BODY_CHARS = 50_000
INCOMPLETE = "incomplete"
FORWARDED = "forwarded"
HAS_PHOTOS = "photos"
HAS_DOCUMENTS = "documents"  # PDFs and scans that the letter channel's OCR can read
_SERIOUS_PROBLEMS = (
    "unparsable",
    "undecodable",
    "StartBoundaryNotFound",
    "MultipartInvariantViolation",
    "MissingHeaderBodySeparator",
    "InvalidBase64",
    "nesting too deep",
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z]")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|回复|回覆|答复|fwd?|fw|转发|轉寄)\s*[:：]\s*)+", re.I
)


class OversizeMessage(NormaliseError):
    """The message was larger than the account's limit; only its headers were archived."""


def normalise_mail(raw: RawInput) -> ComplaintDraft:
    oversize = raw.meta.get("oversize")
    if oversize:
        raise OversizeMessage(
            f"message of {oversize['size']} bytes is over the limit of {oversize['limit']} "
            f"bytes; its headers are archived, the message stays on the server"
        )
    mail = parse_mail(raw.data)
    return draft_from_mail(mail, raw)


def draft_from_mail(mail: ParsedMail, raw: RawInput) -> ComplaintDraft:
    machine = machine_mail(mail)
    hints = [kind for kind, _ in machine]
    if machine and AUTO_REPLY not in hints:
        hints.append(AUTO_REPLY)
    sender, subject, body, removed, sources = _content(mail, hints, bool(machine))
    if any(problem.startswith(_SERIOUS_PROBLEMS) for problem in mail.problems) or (
        not mail.headers or (not body and not subject and not mail.attachments)
    ):
        hints.append(INCOMPLETE)
    draft = ComplaintDraft(
        channel=ChannelKind.EMAIL,
        channel_account=raw.account,
        provider_ids=[raw.provider_id, *([mail.message_id] if mail.message_id else [])],
        received_at=_received_at(mail, raw),
        received_tz=_offset(mail),
        complainant=_complainant(sender, mail, removed),
        subject=subject or None,
        body=body[:MAX_BODY_CHARS],
        language=detect_language(f"{subject}\n{body}"),
        hints=hints,
    )
    if not machine:
        reply_ids = [*mail.in_reply_to, *mail.references]
        draft.follow_up_of = referenced_complaint(reply_ids, mail.subject, mail.text)
        draft.replies_to = reply_ids[-20:]
    for source in sources:
        for item in source.attachments:
            if item.data:
                draft.add_attachment(item.name, item.media_type, item.data)
    kinds = {item.media_type for item in draft.attachments}
    if any(kind.startswith("image/") for kind in kinds):
        draft.hints.append(HAS_PHOTOS)
    if kinds & {"application/pdf", "image/tiff"}:
        draft.hints.append(HAS_DOCUMENTS)
    return draft


def _content(
    mail: ParsedMail, hints: list[str], machine: bool
) -> tuple[tuple[str, str] | None, str, str, str, list[ParsedMail]]:
    """(sender, subject, clean body, removed quote/signature text, mails with attachments)."""
    if not machine and mail.forwarded and (not mail.text.strip() or _forward_subject(mail)):
        original = mail.forwarded[0]
        hints.append(FORWARDED)
        note = strip_quotes_and_signature(mail.text)
        inner = strip_quotes_and_signature(original.text)
        body = "\n\n".join(part for part in (note.body, inner.body) if part)
        subject = original.subject or _REPLY_PREFIX.sub("", mail.subject)
        sender = original.sender or mail.sender
        removed = f"{note.removed}\n{inner.removed}"
        return sender, subject, body, removed, [mail, original]
    inline = None if machine else split_inline_forward(mail.text, mail.subject)
    if inline is not None and inline.body:
        hints.append(FORWARDED)
        note = strip_quotes_and_signature(inline.note)
        inner = strip_quotes_and_signature(inline.body)
        body = "\n\n".join(part for part in (note.body, inner.body) if part)
        subject = inline.subject or _REPLY_PREFIX.sub("", mail.subject)
        removed = f"{note.removed}\n{inner.removed}"
        return inline.sender or mail.sender, subject, body, removed, [mail]
    stripped = strip_quotes_and_signature(mail.text)
    return mail.sender, mail.subject, stripped.body, stripped.removed, [mail, *mail.forwarded]


def _forward_subject(mail: ParsedMail) -> bool:
    return bool(FORWARD_SUBJECT.match(mail.subject))


def _complainant(sender: tuple[str, str] | None, mail: ParsedMail, removed: str) -> Complainant:
    name, address = sender or ("", "")
    if mail.reply_to and sender == mail.sender and mail.reply_to[1] != address:
        name, address = mail.reply_to[0] or name, mail.reply_to[1]
    return Complainant(
        name=name or None,
        email=address or None,
        phones=_phones(removed),
    )


def _phones(text: str) -> list[str]:
    """Phone numbers from a cut signature, which the classifier no longer sees."""
    found: list[str] = []
    if not text:
        return found
    for match in phonenumbers.PhoneNumberMatcher(text[:4000], "CN"):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if number not in found:
            found.append(number)
        if len(found) == 3:
            break
    return found


def _received_at(mail: ParsedMail, raw: RawInput) -> datetime:
    """When we got it; for back-filled files, when it was sent."""
    if raw.provider_id.startswith("file:") and mail.date is not None and mail.date.tzinfo:
        return mail.date.astimezone(UTC)
    return raw.received_at


def _offset(mail: ParsedMail) -> str | None:
    if mail.date is None or mail.date.utcoffset() is None:
        return None
    offset = mail.date.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def detect_language(text: str) -> str | None:
    """`zh`, `en`, `ja`, `ko`, or None when there is too little text to tell."""
    sample = text[:5000]
    kana = len(_KANA.findall(sample))
    hangul = len(_HANGUL.findall(sample))
    cjk = len(_CJK.findall(sample))
    latin = len(_LATIN.findall(sample))
    if kana > 5 and kana * 4 > cjk:
        return "ja"
    if hangul > 5:
        return "ko"
    if cjk >= 2 and cjk * 3 >= latin / 4:
        return "zh"
    if latin >= 3:
        return "en"
    return None
