"""From an archived call (or a late transcription) to a `ComplaintDraft`.

The body is what the caller said, step by step, with spoken digits and
spelled-out order numbers turned into numbers so that entity extraction can
find them; the caller's own words stay in the archived call.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from channels.base import NormaliseError, RawInput
from channels.hotline.calldoc import (
    CALL_FORMAT,
    FOLLOW_UP_FORMAT,
    REJECTED_FORMAT,
    CallDocument,
    FollowUpDocument,
    Turn,
)
from channels.hotline.phones import e164
from channels.hotline.speech import normalise_speech, order_number
from storage.records import ChannelKind, Complainant, ComplaintDraft

_LABELS = {
    "zh": {"problem": "问题", "product": "产品", "order": "订单号", "recording": "留言"},
    "en": {"problem": "Problem", "product": "Product", "order": "Order", "recording": "Message"},
}
_SUBJECT = {"zh": "电话投诉", "en": "Hotline call"}


def _document(raw: RawInput) -> dict[str, Any]:
    try:
        document = json.loads(raw.data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NormaliseError(f"not a hotline call document: {exc}") from exc
    if not isinstance(document, dict):
        raise NormaliseError("not a hotline call document: expected a JSON object")
    return document


def normalise_call(raw: RawInput, default_region: str = "CN") -> ComplaintDraft:
    document = _document(raw)
    kind = document.get("format")
    if kind == REJECTED_FORMAT:
        raise NormaliseError(f"{document.get('where')}: {document.get('error')}")
    try:
        if kind == FOLLOW_UP_FORMAT:
            return _follow_up(raw, FollowUpDocument.model_validate(document))
        if kind == CALL_FORMAT:
            return _call(raw, CallDocument.model_validate(document), default_region)
    except ValidationError as exc:
        raise NormaliseError(f"invalid hotline document: {exc}") from exc
    raise NormaliseError(f"unknown hotline document format {kind!r}")


def _call(raw: RawInput, call: CallDocument, region: str) -> ComplaintDraft:
    phone = e164(call.caller or "", region)
    hints = []
    if phone is None:
        hints.append("caller_withheld")
    if not call.complete:
        hints.append("incomplete")
    if call.department_hint:
        hints.append(f"department_hint:{call.department_hint}")
    caller_turns = [t for t in call.turns if t.speaker == "caller"]
    body = _body(caller_turns, call.language, labelled=call.source == "twilio")
    order_turns = [t for t in caller_turns if t.step == "order"] or caller_turns
    order = next((o for t in order_turns if (o := order_number(normalise_speech(t.text)))), None)
    provider_ids = [raw.provider_id, *(r.sid for r in call.recordings if r.sid)]
    return ComplaintDraft(
        channel=ChannelKind.HOTLINE,
        channel_account=raw.account,
        provider_ids=provider_ids,
        received_at=call.started_at,
        received_tz=call.started_at.tzname() if call.started_at.tzinfo else None,
        complainant=Complainant(phones=[phone] if phone else [], language=call.language),
        subject=_SUBJECT[call.language],
        body="\n".join(part for part in (body, _recording_lines(call)) if part),
        language=call.language,
        order_number=order,
        hints=hints,
    )


def _body(turns: list[Turn], language: str, *, labelled: bool) -> str:
    lines = []
    for turn in turns:
        text = normalise_speech(turn.text.strip())
        label = _LABELS[language].get(turn.step or "") if labelled else None
        lines.append(f"{label}：{text}" if label and language == "zh" else
                     f"{label}: {text}" if label else text)  # fmt: skip
    return "\n".join(line for line in lines if line.strip())


def _recording_lines(call: CallDocument) -> str:
    if not call.recordings:
        return ""
    label = _LABELS[call.language]["recording"]
    return "\n".join(f"[{label}] {r.url}" for r in call.recordings)


def _follow_up(raw: RawInput, follow_up: FollowUpDocument) -> ComplaintDraft:
    return ComplaintDraft(
        channel=ChannelKind.HOTLINE,
        channel_account=raw.account,
        provider_ids=[raw.provider_id],
        received_at=raw.received_at,
        body="\n".join(normalise_speech(t.text) for t in follow_up.turns),
        follow_up_of=follow_up.reference,
    )
