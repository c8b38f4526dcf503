"""Decoding text whose declared charset is missing or wrong, as real mail often is.

Declared charsets are widened to the superset senders actually use (GB2312 mail is
usually GBK/GB18030, Big5 is usually Big5-HKSCS, ISO-8859-1 is usually windows-1252);
when that fails the bytes are tried as UTF-8 and then detected with charset-normalizer.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

# What a declared label really means in mail (WHATWG Encoding Standard's aliases, mostly).
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
FALLBACKS = ("gb18030", "big5hkscs", "cp1252")
MIN_HIGH_BYTES_TO_OVERRULE = 16


def _high_bytes(data: bytes) -> int:
    return len(data) - len(data.translate(None, bytes(range(128, 256))))


def codec_for(label: str | None) -> str | None:
    """The Python codec to use for a declared charset label, or None if unknown."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    name = SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _try(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, bool]:
    """Text from `data`, and whether it decoded cleanly (False means characters were lost)."""
    if not data:
        return "", True
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii"), True
    declared_codec = codec_for(declared)
    # UTF-8 is self-checking, so a mislabelled UTF-8 body is recognised before the label wins;
    # a single-byte label would decode anything and hide the mistake.
    for codec in (declared_codec, "utf-8") if _multibyte(declared_codec) else ("utf-8",):
        text = _try(data, codec)
        if text is not None:
            return text, True
    if declared_codec and not _multibyte(declared_codec):
        # Only a body with plenty of 8-bit bytes says enough to overrule its label.
        guess = _detect(data) if _high_bytes(data) >= MIN_HIGH_BYTES_TO_OVERRULE else None
        if guess is not None and guess[1]:
            return guess[0], True
        text = _try(data, declared_codec)
        if text is not None:
            return text, True
    guess = _detect(data)
    if guess is not None:
        return guess[0], True
    for codec in FALLBACKS:
        text = _try(data, codec)
        if text is not None:
            return text, True
    return data.decode(declared_codec or "utf-8", errors="replace"), False


def _multibyte(codec: str | None) -> bool:
    return (
        codec is not None
        and codec not in _SINGLE_BYTE
        and not codec.startswith(("cp12", "iso8859", "latin", "mac", "koi8", "cp8", "cp4"))
    )


_SINGLE_BYTE = {"ascii", "cp1252", "cp874", "tis-620", "iso8859-1"}


def _detect(data: bytes) -> tuple[str, bool] | None:
    """charset-normalizer's best guess: (text, confidently multi-byte CJK)."""
    best = from_bytes(data[:65536], cp_isolation=None).best()
    if best is None:
        return None
    encoding = SUPERSETS.get(best.encoding, best.encoding)
    text = _try(data, encoding)
    if text is None:
        return None
    return text, encoding in {"gb18030", "big5hkscs", "cp932", "cp949", "euc_jp", "utf_8"}
