"""Links a new complaint to earlier ones (SPEC §6): replies, same complainant, repeats.

The contact key is a hash of the complainant's first usable contact, so the
index that finds "the same person" holds no personal data in clear.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy.ext.asyncio import AsyncSession

from storage.complaints import earlier_by_contact, references_present, window_start
from storage.records import Classification, ComplaintDraft, Link

REFERENCE_PATTERN = re.compile(r"QC-\d{6}-\d{6}")
REPEAT_WINDOW_DAYS = 90
REPEAT_AFTER = 2  # a third complaint about the same open case is a repeat (LABELS.md)
SEVERITY_ORDER = ("minor", "general", "major")


def contact_key(draft: ComplaintDraft) -> str | None:
    who = draft.complainant
    candidates = [
        *(re.sub(r"\D", "", phone)[-11:] for phone in who.phones),
        (who.email or "").strip().lower(),
        (who.handle or "").strip().lower(),
    ]
    for value in candidates:
        if value:
            return hashlib.sha256(value.encode()).hexdigest()[:32]
    return None


def _models(record: dict[str, object]) -> set[str]:
    product = record.get("product")
    classification = record.get("classification")
    entities = classification.get("entities", {}) if isinstance(classification, dict) else {}
    names = [product.get("model") if isinstance(product, dict) else None]
    names += list(entities.get("model", [])) if isinstance(entities, dict) else []
    return {str(name).upper() for name in names if name}


def _same_case(earlier: dict[str, object], draft: ComplaintDraft, decision: Classification) -> bool:
    """The same order number, or the same product model (SPEC §6: "about an open case")."""
    if draft.order_number and earlier.get("order_number") == draft.order_number:
        return True
    orders = decision.entities.get("order_number", [])
    if orders and earlier.get("order_number") in orders:
        return True
    mine = {m.upper() for m in [draft.product.model, *decision.entities.get("model", [])] if m}
    return bool(mine & _models(earlier))


def raise_for_repeat(decision: Classification, open_cases: int) -> Classification:
    """Severity one level up; major (with flag `repeat`) when that reaches major or when
    this is the third complaint about the case (LABELS.md) — major always carries a flag."""
    level = SEVERITY_ORDER.index(decision.severity) if decision.severity in SEVERITY_ORDER else 1
    severity = SEVERITY_ORDER[min(level + 1, 2)]
    if open_cases >= REPEAT_AFTER:
        severity = "major"
    flags = sorted({*decision.flags, "repeat"}) if severity == "major" else list(decision.flags)
    return decision.model_copy(
        update={
            "flags": flags,
            "severity": severity,
            "explanation": [
                *decision.explanation,
                f"repeat: {open_cases} earlier open complaint(s) of this complainant, same case",
            ],
        }
    )


async def find_links(
    session: AsyncSession, draft: ComplaintDraft, decision: Classification, key: str | None
) -> tuple[list[Link], Classification]:
    """Links for the draft, and the decision with the `repeat` flag raised where it applies."""
    text = f"{draft.subject or ''}\n{draft.body}"
    mentioned = sorted(set(REFERENCE_PATTERN.findall(text)))
    links = [
        Link(kind="reply", reference=row.reference)
        for row in await references_present(session, mentioned)
    ]
    if key is None:
        return links, decision
    earlier = await earlier_by_contact(
        session, key, window_start(draft.received_at, REPEAT_WINDOW_DAYS)
    )
    linked = {link.reference for link in links}
    open_cases = [
        row for row in earlier if row.status == "open" and _same_case(row.record, draft, decision)
    ]
    case = open_cases[0] if open_cases else None  # the newest open case it repeats
    for row in earlier:
        if row.reference not in linked:
            kind = "repeat" if row is case else "same_complainant"
            links.append(Link(kind=kind, reference=row.reference))
    if open_cases and decision.validity == "valid":
        decision = raise_for_repeat(decision, len(open_cases))
    return links, decision
