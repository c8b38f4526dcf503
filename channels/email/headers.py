"""Header values as text: raw 8-bit headers and RFC 2047 encoded words in any charset.

Encoded words of one charset that follow each other are joined as bytes before decoding,
because Chinese mailers split a character's bytes across two words.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import getaddresses

from channels.email.charsets import decode_bytes

_ENCODED_WORD = re.compile(r"=\?([^?*\s]+)(?:\*[^?]*)?\?([bBqQ])\?([^?\s]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_FOLD = re.compile(r"\r?\n[ \t]")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    raw = text.replace("_", " ").encode("ascii", "replace")
    return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words; text between two words that is only space is dropped."""
    if "=?" not in text:
        return text
    out: list[str] = []
    pending = b""
    charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, charset
        if pending:
            out.append(decode_bytes(pending, charset)[0])
        pending, charset = b"", None

    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (between.isspace() and (pending or out)):
            flush()
            out.append(between)
        word_charset = match.group(1).lower()
        if charset is not None and word_charset != charset:
            flush()
        charset = word_charset
        pending += _word_bytes(match.group(2), match.group(3))
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out)


def unfold(value: str) -> str:
    return _FOLD.sub(" ", value).strip()


def raw_to_text(value: str, fallback_charset: str | None = None) -> str:
    """A header as stored by the parser (8-bit bytes kept as surrogates) to text."""
    value = unfold(value)
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        data = value.encode("utf-8", "surrogateescape")
        value = decode_bytes(data, fallback_charset)[0]
    return value


def decode_header(value: str | None, fallback_charset: str | None = None) -> str:
    """A header's display text: 8-bit bytes decoded, encoded words decoded, folding removed."""
    if value is None:
        return ""
    return decode_words(raw_to_text(value, fallback_charset)).strip()


def decode_addresses(
    value: str | None, fallback_charset: str | None = None
) -> list[tuple[str, str]]:
    """(display name, address) pairs; names decoded, addresses lower-cased."""
    if not value:
        return []
    text = raw_to_text(value, fallback_charset)
    pairs = []
    for name, address in getaddresses([text]):
        address = address.strip().strip("<>").lower()
        if "@" not in address:
            continue
        pairs.append((decode_words(name).strip().strip('"').strip(), address))
    return pairs


def message_ids(value: str | None) -> list[str]:
    """The `<id@host>` tokens in a Message-ID, In-Reply-To or References header."""
    if not value:
        return []
    return re.findall(r"<[^<>\s]+>", unfold(value))
