"""What a complainant may see of a complaint: its status and a public history, nothing else.

Shown only when the contact given matches one the complainant gave, so a
reference alone (they are sequential) reveals nothing. The history is a
fixed public vocabulary mapped from the audit trail; destinations, errors,
classifications and people are never shown.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from sqlalchemy import select

from channels.base import NormaliseError, RawInput
from channels.registry import get_kind
from gateway.services import Services
from storage.archive import load_blob
from storage.complaints import find_complaint
from storage.history import history_of
from storage.records import Complainant, ComplaintRecord, HistoryEntry
from storage.tables import ChannelAccount, RawMessage

REFERENCE = re.compile(r"QC-\d{6}-\d{6}")
STATUS_EVENTS = {"closed", "reopened", "resolved", "status_changed"}
PUBLIC_DUE = ("first_response", "final_reply")


def contact_matches(who: Complainant, contact: str) -> bool:
    """True when `contact` is the complainant's e-mail or one of their phone numbers."""
    given = contact.strip()
    if "@" in given:
        return bool(who.email) and hmac.compare_digest(
            (who.email or "").strip().lower().encode(), given.lower().encode()
        )
    digits = re.sub(r"\D", "", given)
    if len(digits) < 7:
        return False
    return any(
        hmac.compare_digest(re.sub(r"\D", "", phone)[-11:].encode(), digits[-11:].encode())
        for phone in who.phones
    )


def public_events(history: list[HistoryEntry]) -> list[dict[str, str]]:
    """The audit trail as the complainant may see it, in order, without repeats."""
    events: list[dict[str, str]] = []
    seen: set[str] = set()
    for entry in history:
        name = _public_name(entry)
        if name is None or (name in seen and name not in STATUS_EVENTS | {"follow_up"}):
            continue
        seen.add(name)
        events.append({"at": entry.at.isoformat(), "event": name})
    return events


def _public_name(entry: HistoryEntry) -> str | None:
    if entry.action == "received":
        return "received"
    if entry.action == "created":
        return "registered"
    if entry.action == "delivered":
        return "acknowledged" if entry.detail.get("purpose") == "ack" else "forwarded"
    if entry.action == "follow_up":
        return "follow_up"
    if entry.action in STATUS_EVENTS:
        return entry.action
    return None


async def public_status(svc: Services, reference: str, contact: str) -> dict[str, Any] | None:
    reference = reference.strip().upper()
    if not REFERENCE.fullmatch(reference) or not contact.strip():
        return None
    async with svc.sessions() as session:
        row = await find_complaint(session, reference)
        if row is not None:
            record = ComplaintRecord.model_validate(row.record)
            if not contact_matches(record.complainant, contact):
                return None
            history = await history_of(session, complaint_id=row.id, raw_id=row.raw_id)
            decision = record.classification
            return {
                "reference": reference,
                "status": row.status,
                "received_at": record.received_at.isoformat(),
                "outcome": decision.reason if decision.validity == "invalid" else None,
                "events": public_events(history),
                "due": {k: record.due[k].isoformat() for k in PUBLIC_DUE if k in record.due},
            }
        raw = (
            await session.execute(select(RawMessage).where(RawMessage.reference == reference))
        ).scalar_one_or_none()
        if raw is None:
            return None
        account = await session.get(ChannelAccount, raw.channel_account_id)
        data = await load_blob(session, raw.sha256)
    return _not_yet_processed(raw, account, data, reference, contact)


def _not_yet_processed(
    raw: RawMessage, account: ChannelAccount | None, data: bytes, reference: str, contact: str
) -> dict[str, Any] | None:
    """A reference shown at once whose record is not made yet: the contact is checked
    against the archived input itself."""
    if account is None:
        return None
    try:
        draft = get_kind(account.kind).normalise(
            RawInput(
                data=data,
                media_type=raw.media_type,
                account=account.name,
                provider_id=raw.provider_id,
                received_at=raw.received_at,
                meta=dict(raw.meta),
            )
        )
    except (NormaliseError, LookupError, ValueError):
        return None
    if not contact_matches(draft.complainant, contact):
        return None
    at = raw.received_at.isoformat()
    return {
        "reference": reference,
        "status": "received",
        "received_at": at,
        "outcome": None,
        "events": [{"at": at, "event": "received"}],
        "due": {},
    }
