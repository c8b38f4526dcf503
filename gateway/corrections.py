"""A supervisor's correction of a stored complaint (SPEC §5, §7).

    result = await apply_correction(
        svc, "QC-202611-000042", Correction(department="logistics"),
        actor="supervisor.li", note="transport damage, not a defect",
    )

In one transaction it: writes a history row (who, when, why, before/after);
sends a `withdraw` notice (same signed envelope, new idempotency key) to each
destination the old decision reached that the new one does not, cancels
old deliveries not yet sent, sends the corrected record to the new
decision's destinations (`complaint.corrected`, key suffix = correction
number + 1), restarts the SLA clocks not yet met, updates the contact key when a
contact field changed (so later complaints from the corrected phone or e-mail are
linked to it), and stores a training example in the `correction_example` table for
the next retraining.
Callers: the CLI (`complaint-gateway correct`), the admin API, the supervisor
UI and the scanned-letter review queue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.linking import contact_key
from gateway.routing_step import ROUTE_PURPOSES, envelope, route_items, routing_snapshot
from gateway.services import Services
from routing.router import plan_routes
from routing.sla import due_times
from storage.clocks import restart_clocks
from storage.complaints import OutboxItem, insert_outbox
from storage.corrections import add_example
from storage.db import utcnow
from storage.history import record_event
from storage.records import Classification, ComplaintRecord, DeliveryState
from storage.tables import Complaint, History, Outbox

SEVERITIES = ("minor", "general", "major")


class CorrectionError(ValueError):
    """The correction cannot be applied (unknown complaint, value not in the taxonomy, …)."""


@dataclass(frozen=True)
class Correction:
    """What the supervisor changes; a field left None keeps its current value.

    `reason` is the invalidity reason (with `validity="invalid"`); `flags` are the
    severity flags (a non-empty list makes the record major, as SPEC §4 requires).
    """

    validity: str | None = None
    reason: str | None = None
    severity: str | None = None
    flags: list[str] | None = None
    department: str | None = None
    # Extracted fields by dotted name (see EDITABLE_FIELDS); None or "" clears a field.
    fields: dict[str, Any] | None = None


@dataclass(frozen=True)
class CorrectionResult:
    reference: str
    before: dict[str, Any]
    after: dict[str, Any]
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → before/after
    withdrawn: list[str] = field(default_factory=list)  # destinations told to withdraw
    routed: list[str] = field(default_factory=list)  # destinations sent the corrected record
    cancelled: list[str] = field(default_factory=list)  # old deliveries stopped before sending

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# The extracted fields a supervisor may correct: dotted path in the record → kind.
EDITABLE_FIELDS: dict[str, str] = {
    "product.model": "text",
    "product.specification": "text",
    "product.serial": "text",
    "product.quantity": "int",
    "order_number": "text",
    "amount": "text",
    "location": "text",
    "complainant.name": "text",
    "complainant.phones": "list",
    "complainant.email": "text",
    "complainant.handle": "text",
    "complainant.address": "text",
}
MAX_FIELD_LENGTH = 500


def field_value(record: ComplaintRecord, name: str) -> Any:
    """The current value of an editable field (None/[] when the record has none)."""
    holder: Any = record
    for part in name.split("."):
        holder = getattr(holder, part, None)
    return holder


def _clean(name: str, value: Any) -> Any:
    """A submitted value in the field's type; CorrectionError when it cannot be."""
    kind = EDITABLE_FIELDS.get(name)
    if kind is None:
        known = ", ".join(EDITABLE_FIELDS)
        raise CorrectionError(f"unknown field {name!r} (known: {known})")
    if kind == "list":
        items = value.split(",") if isinstance(value, str) else value
        if items is None:
            return []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise CorrectionError(f"{name} must be a list of strings")
        return [i.strip()[:MAX_FIELD_LENGTH] for i in items if i.strip()]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "int":
        try:
            number = int(str(value).strip())
        except ValueError as error:
            raise CorrectionError(f"{name} must be a whole number, got {value!r}") from error
        if number < 0:
            raise CorrectionError(f"{name} must not be negative")
        return number
    if not isinstance(value, str | int | float):
        raise CorrectionError(f"{name} must be text")
    return str(value).strip()[:MAX_FIELD_LENGTH]


def corrected_fields(
    record: ComplaintRecord, fields: dict[str, Any] | None
) -> tuple[ComplaintRecord, dict[str, dict[str, Any]]]:
    """The record with `fields` applied and the changed ones as name → {before, after}.
    Every value is checked before anything changes, so a bad one changes nothing."""
    if not fields:
        return record, {}
    if not isinstance(fields, dict):
        raise CorrectionError("fields must be an object of field name → value")
    document = record.model_dump(mode="python")
    changed: dict[str, dict[str, Any]] = {}
    for name, raw in fields.items():
        value = _clean(str(name), raw)
        before = field_value(record, name)
        if value == before or (not value and not before):
            continue
        changed[name] = {"before": before, "after": value}
        holder = document
        *parents, leaf = name.split(".")
        for part in parents:
            holder = holder.setdefault(part, {})
        holder[leaf] = value
    if not changed:
        return record, {}
    try:
        return ComplaintRecord.model_validate(document), changed
    except ValueError as error:
        raise CorrectionError(f"invalid field value: {error}") from error


def _jsonable(changed: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: {k: list(v) if isinstance(v, list) else v for k, v in values.items()}
        for name, values in changed.items()
    }


def _labels(decision: Classification) -> dict[str, Any]:
    return {
        "validity": decision.validity,
        "reason": decision.reason,
        "severity": decision.severity,
        "flags": list(decision.flags),
        "department": decision.department,
    }


def corrected_decision(
    old: Classification, change: Correction, *, actor: str, taxonomy: Any = None
) -> Classification:
    """The decision after `change`, kept consistent (invalid → no department; flags ⇔ major)."""
    validity = change.validity or old.validity
    if validity not in ("valid", "invalid"):
        raise CorrectionError(f"validity must be valid or invalid, got {validity!r}")
    reason = change.reason if change.reason is not None else old.reason
    if validity == "valid":
        reason = None
    elif not reason:
        raise CorrectionError("an invalid record needs a reason")
    department = change.department if change.department is not None else old.department
    if validity == "invalid":
        department = None
    elif not department:
        raise CorrectionError("a valid record needs a department")
    flags = list(change.flags) if change.flags is not None else list(old.flags)
    severity = change.severity or old.severity
    if severity not in SEVERITIES:
        raise CorrectionError(f"severity must be one of {', '.join(SEVERITIES)}")
    if change.severity and change.severity != "major" and change.flags is None:
        flags = []
    if flags:
        severity = "major"
    elif severity == "major":
        raise CorrectionError("a major record needs at least one flag (--flag safety, …)")
    _check_taxonomy(taxonomy, department=department, reason=reason, flags=flags)
    return old.model_copy(
        update={
            "validity": validity,
            "reason": reason,
            "department": department,
            "severity": severity,
            "flags": sorted(set(flags)),
            "needs_review": False,
            "explanation": [*old.explanation, f"corrected by {actor}"],
        }
    )


def _check_taxonomy(
    taxonomy: Any, *, department: str | None, reason: str | None, flags: list[str]
) -> None:
    if taxonomy is None:
        return
    if department is not None and department not in taxonomy.departments:
        known = ", ".join(taxonomy.departments)
        raise CorrectionError(f"unknown department {department!r} (known: {known})")
    if reason is not None and reason not in taxonomy.invalid_reasons:
        raise CorrectionError(f"unknown invalidity reason {reason!r}")
    unknown = sorted(set(flags) - set(taxonomy.flags))
    if unknown:
        raise CorrectionError(f"unknown flags: {', '.join(unknown)}")


async def _correction_number(session: AsyncSession, complaint_id: int) -> int:
    done = await session.scalar(
        select(func.count())
        .select_from(History)
        .where(History.complaint_id == complaint_id, History.action == "corrected")
    )
    return int(done or 0) + 1


async def apply_correction(
    svc: Services, reference: str, change: Correction, *, actor: str, note: str
) -> CorrectionResult:
    """Apply `change` to complaint `reference` on behalf of `actor`, who explains it in `note`."""
    if not actor.strip() or not note.strip():
        raise CorrectionError("a correction needs the actor and a reason")
    snapshot = await routing_snapshot(svc)
    taxonomy = getattr(getattr(svc.classify, "classifier", None), "taxonomy", None)
    async with svc.sessions.begin() as session:
        row = (
            await session.execute(
                select(Complaint).where(Complaint.reference == reference).with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            raise CorrectionError(f"no complaint {reference}")
        record = ComplaintRecord.model_validate(row.record)
        old = record.classification
        new = corrected_decision(old, change, actor=actor, taxonomy=taxonomy)
        record, changed_fields = corrected_fields(record, change.fields)
        version = await _correction_number(session, row.id) + 1
        record.classification = new
        record.due = due_times(
            record.received_at,
            new.severity,
            svc.settings.sla.limits,
            timezone=svc.settings.sla.timezone,
        )
        document = record.model_dump(mode="json", exclude={"history", "routing"})
        planned = {(t.destination, t.purpose) for t in plan_routes(new, snapshot.table)}
        previous = await _route_rows(session, row.id)
        withdraw, cancelled = await _retire(session, snapshot, previous, planned, document, version)
        sends = route_items(snapshot, record, version)
        outbox_ids = await insert_outbox(session, row.id, [*withdraw, *sends])
        row.record = document
        if any(name.startswith("complainant.") for name in changed_fields):
            row.contact_key = contact_key(record)  # later complaints find the corrected person
        row.validity, row.severity = new.validity, new.severity
        row.department, row.needs_review = new.department, new.needs_review
        row.updated_at = utcnow()
        await restart_clocks(
            session, row.id, record.due if new.validity == "valid" else {}, new.department
        )
        result = CorrectionResult(
            reference=reference,
            before=_labels(old),
            after=_labels(new),
            fields=_jsonable(changed_fields),
            withdrawn=[item.destination for item in withdraw],
            routed=[item.destination for item in sends],
            cancelled=cancelled,
        )
        await record_event(
            session,
            "corrected",
            actor=actor,
            complaint_id=row.id,
            detail={
                "reason": note,
                **{k: v for k, v in result.as_dict().items() if k != "reference"},
            },
        )
        # A change of extracted fields alone says nothing about the labels: no example.
        labels_touched = _labels(new) != _labels(old) or not changed_fields
        if labels_touched:
            await add_example(
                session,
                complaint_id=row.id,
                reference=reference,
                text="\n".join(part for part in (record.subject, record.body) if part),
                language=record.language,
                labels=_labels(new),
                previous=_labels(old),
                actor=actor,
                reason=note,
            )
    for outbox_id in outbox_ids:
        await svc.enqueue("deliver", outbox_id)
    return result


async def _route_rows(session: AsyncSession, complaint_id: int) -> list[Outbox]:
    """The complaint's live route rows: the latest one per (destination, purpose)."""
    rows = (
        await session.execute(
            select(Outbox)
            .where(Outbox.complaint_id == complaint_id, Outbox.purpose.in_(ROUTE_PURPOSES))
            .order_by(Outbox.id)
        )
    ).scalars()
    latest: dict[tuple[str, str], Outbox] = {}
    for row in rows:
        latest[(row.destination, row.purpose)] = row
    return list(latest.values())


async def _retire(
    session: AsyncSession,
    snapshot: Any,
    rows: list[Outbox],
    planned: set[tuple[str, str]],
    document: dict[str, Any],
    version: int,
) -> tuple[list[OutboxItem], list[str]]:
    """Old deliveries: cancel what was not sent yet, withdraw what may have been received."""
    withdraw: list[OutboxItem] = []
    cancelled: list[str] = []
    for row in rows:
        if row.state == DeliveryState.PENDING.value:
            stopped = await session.execute(
                update(Outbox)
                .where(Outbox.id == row.id, Outbox.state == DeliveryState.PENDING.value)
                .values(
                    state=DeliveryState.CANCELLED.value,
                    last_error="superseded by a correction",
                    updated_at=utcnow(),
                )
            )
            if stopped.rowcount:  # type: ignore[attr-defined]
                cancelled.append(row.destination)
                if row.attempts == 0:  # never left here: nothing to withdraw
                    continue
        if row.state == DeliveryState.DEAD.value or (row.destination, row.purpose) in planned:
            continue
        withdraw.append(
            OutboxItem(
                purpose="withdraw",
                destination=row.destination,
                idempotency_key=(
                    f"{document['reference']}/{row.destination}/withdraw-{row.purpose}/{version}"
                ),
                payload=envelope(
                    snapshot,
                    row.destination,
                    "withdraw",
                    "complaint.withdrawn",
                    document,
                    withdraws=row.idempotency_key,
                    reason="corrected by a supervisor",
                ),
            )
        )
    return withdraw, cancelled
