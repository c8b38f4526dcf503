"""Cutting quoted earlier messages and sign-offs from a mail body (they stay in the raw).

English-centric reply parsers miss the quote headers of Chinese mail clients, so the
patterns here cover both: Gmail's `On … wrote:` / `在 … 写道：`, Outlook's
`From: / Sent:` and `发件人: / 发送时间:` blocks, QQ Mail's and Foxmail's
`------ 原始邮件 ------`, NetEase's `---- 回复的原邮件 ----`, `>` lines, `-- ` signatures
and device sign-offs such as `发自我的iPhone`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ONE_LINE_HEADERS = [
    r"On\b.{0,250}\bwrote:",
    r"[>\s]*在.{0,200}(?:写道|寫道)[:：]?",
    r"[>\s]*於.{0,200}(?:写道|寫道)[:：]?",
    r"Le\b.{0,200}a écrit\s?:",
    r"Am\b.{0,200}schrieb.{0,80}:",
    r"-{2,}\s*(?:Original Message|Reply message|Original|原始邮件|原始郵件|邮件原件|郵件原件|"
    r"回复的原邮件|回覆的原郵件|原邮件|Original mail)\s*-{2,}",
    r"_{10,}",  # Outlook on the web puts a rule above the quoted block
]
_ONE_LINE = re.compile(r"^\s*(?:" + "|".join(_ONE_LINE_HEADERS) + r")\s*$", re.IGNORECASE)
# The first line of a header block, and the fields that must follow within a few lines.
_BLOCK_START = re.compile(r"^\s*\**(?:From|发件人|發件人|寄件者|寄件人)\**\s*[:：]", re.IGNORECASE)
_BLOCK_FIELD = re.compile(
    r"^\s*\**(?:Sent|Date|To|Subject|发送时间|發送時間|时间|時間|日期|收件人|收件者|主题|主題|主旨|"
    r"寄件日期|抄送|副本)\**\s*[:：]",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:发自|發自|来自|來自|寄自|从我的|從我的|Sent from|Sent via|Get Outlook for|"
    r"Envoyé de|Von meinem).{0,60}$",
    re.IGNORECASE,
)
_SIGNATURE_RULE = re.compile(r"^(?:-- ?|--|—— ?|__)$")


@dataclass(frozen=True)
class Stripped:
    body: str
    removed: str  # the quoted part and signature, for contact details the body no longer has


def quote_start(lines: list[str]) -> int | None:
    """Index of the line where a quoted earlier message begins, if any."""
    for index, line in enumerate(lines):
        if len(line) > 300:
            continue
        if _ONE_LINE.match(line):
            return index
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if line.strip() and _ONE_LINE.match(joined) and _ONE_LINE_HEADERS[0] not in line:
            return index
        if _BLOCK_START.match(line):
            following = [item for item in lines[index + 1 : index + 6] if item.strip()]
            if sum(bool(_BLOCK_FIELD.match(item)) for item in following) >= 2:
                return index
    return None


def strip_quotes_and_signature(text: str) -> Stripped:
    """The new text of a message; what was cut is returned beside it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    removed: list[str] = []
    start = quote_start(lines)
    if start is not None and any(line.strip() for line in lines[:start]):
        removed = lines[start:]
        lines = lines[:start]
    kept = [line for line in lines if not line.lstrip().startswith(">")]
    if any(line.strip() for line in kept):
        removed = [line for line in lines if line.lstrip().startswith(">")] + removed
        lines = kept
    lines, tail = _drop_signature(lines)
    body = "\n".join(lines).strip()
    return Stripped(body=body, removed="\n".join([*tail, *removed]).strip())


def _drop_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    tail: list[str] = []
    # Device sign-offs in the last lines.
    for index in range(len(lines) - 1, max(len(lines) - 4, -1), -1):
        if _SIGN_OFF.match(lines[index]) and any(item.strip() for item in lines[:index]):
            tail = lines[index:] + tail
            lines = lines[:index]
            break
    # A `-- ` rule starts the signature when it is in the last dozen lines.
    for index in range(len(lines) - 1, max(len(lines) - 13, -1), -1):
        if _SIGNATURE_RULE.match(lines[index]) and any(item.strip() for item in lines[:index]):
            tail = lines[index:] + tail
            lines = lines[:index]
            break
    return lines, tail
