"""The pipeline's routing step: outbox rows from the live table, batch incidents,
repeat notices, SLA clocks, and what a delivered row settles.

Called by `gateway.pipeline` inside the transaction that stores the record,
so the record, its outbox rows and its clocks commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.live_routing import RoutingSnapshot
from gateway.services import Services
from gateway.settings import LinkSettings
from routing.batches import batch_keys
from routing.destinations import Sender
from routing.router import filter_fields, plan_routes
from storage.batches import (
    add_batch_keys,
    incident_reference,
    lookalikes_by_key,
    open_or_join_incident,
)
from storage.clocks import start_clocks, stop_clocks
from storage.complaints import OutboxItem, find_complaint
from storage.deliveries import outbox_of
from storage.records import Classification, ComplaintDraft, ComplaintRecord, Link

ROUTE_PURPOSES = ("route", "escalation", "review")
CLOCKS_SETTLED_BY_DELIVERY = {"ack": ("acknowledge",), "escalation": ("escalate",)}


async def routing_snapshot(svc: Services) -> RoutingSnapshot:
    if svc.live is not None:
        return await svc.live.snapshot()
    return RoutingSnapshot(svc.routing, {})


async def sender_for(svc: Services, name: str) -> tuple[Sender | None, str]:
    if svc.live is not None:
        return await svc.live.sender(name)
    sender = svc.senders.get(name)
    return sender, "" if sender else f"destination {name!r} is not configured"


def record_document(record: ComplaintRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude={"history", "routing"})


def envelope(
    snapshot: RoutingSnapshot,
    destination: str,
    purpose: str,
    event: str,
    document: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """The body every destination kind receives: event, purpose, the allowed record fields."""
    allowed = snapshot.allowed_fields(destination)
    return {
        "event": event,
        "purpose": purpose,
        **extra,
        "complaint": filter_fields(document, allowed),
    }


def route_items(
    snapshot: RoutingSnapshot, record: ComplaintRecord, version: int = 1
) -> list[OutboxItem]:
    """One outbox row per planned destination; `version` > 1 after a correction."""
    document = record_document(record)
    event = "complaint.routed" if version == 1 else "complaint.corrected"
    items = []
    for target in plan_routes(record.classification, snapshot.table):
        items.append(
            OutboxItem(
                purpose=target.purpose,
                destination=target.destination,
                idempotency_key=f"{record.reference}/{target.destination}/{target.purpose}/{version}",
                payload=envelope(snapshot, target.destination, target.purpose, event, document),
            )
        )
        metrics.ROUTED.labels(record.classification.department or "none", target.purpose).inc()
    return items


@dataclass(frozen=True)
class BatchHit:
    reference: str
    key: str
    members: list[str]
    opened: bool


def draft_batch_keys(
    settings: LinkSettings, draft: ComplaintDraft, decision: Classification
) -> list[str]:
    """The batch keys a valid complaint carries (none for any other)."""
    if decision.validity != "valid":
        return []
    entities = decision.entities
    return batch_keys(
        [draft.product.model or "", *entities.get("model", [])],
        [draft.product.serial or "", *entities.get("serial", [])],
        f"{draft.subject or ''}\n{draft.body}",
        settings.fault_keywords,
    )


async def link_batch(
    session: AsyncSession,
    settings: LinkSettings,
    draft: ComplaintDraft,
    decision: Classification,
    links: list[Link],
) -> tuple[list[Link], Classification, BatchHit | None, list[str]]:
    """Join or open a batch incident when enough look-alikes arrived inside the window."""
    if decision.validity != "valid":
        return links, decision, None, []
    keys = draft_batch_keys(settings, draft, decision)
    since = draft.received_at - timedelta(days=settings.batch_window_days)
    for key in keys:  # the first key with enough look-alikes decides
        members = (await lookalikes_by_key(session, [key], since))[key]
        if len(members) + 1 < settings.batch_threshold:
            continue
        incident, opened = await open_or_join_incident(
            session, key, draft.received_at, len(members) + 1
        )
        hit = BatchHit(incident_reference(incident.id), key, members, opened)
        flags = sorted({*decision.flags, "batch"})
        decision = decision.model_copy(
            update={
                "flags": flags,
                "severity": "major",
                "explanation": [
                    *decision.explanation,
                    f"batch: {len(members) + 1} complaints with {key} within "
                    f"{settings.batch_window_days:g} days ({hit.reference})",
                ],
            }
        )
        return [*links, Link(kind="batch", reference=hit.reference)], decision, hit, keys
    return links, decision, None, keys


async def after_stored(
    session: AsyncSession,
    svc: Services,
    snapshot: RoutingSnapshot,
    complaint_id: int,
    record: ComplaintRecord,
    items: list[OutboxItem],
    batch: BatchHit | None,
    keys: list[str],
) -> list[OutboxItem]:
    """Batch keys and SLA clocks of the stored record; extra notices to send with it."""
    decision = record.classification
    await add_batch_keys(session, complaint_id, keys, record.received_at)
    running = dict(record.due) if decision.validity == "valid" else {}
    if any(item.purpose == "ack" for item in items):
        running.setdefault("acknowledge", record.due.get("acknowledge", record.received_at))
    else:
        running.pop("acknowledge", None)
    if not snapshot.table.escalation:
        running.pop("escalate", None)
    await start_clocks(session, complaint_id, running, decision.department)
    document = record_document(record)
    extra = await _repeat_notices(session, snapshot, record, document, items)
    if batch is not None and batch.opened:
        extra += [
            OutboxItem(
                purpose="batch",
                destination=name,
                idempotency_key=f"{batch.reference}/{name}/batch/1",
                payload=envelope(
                    snapshot,
                    name,
                    "batch",
                    "incident.opened",
                    document,
                    incident=batch.reference,
                    key=batch.key,
                    members=[*batch.members, record.reference],
                ),
            )
            for name in snapshot.table.escalation
        ]
    return extra


async def _repeat_notices(
    session: AsyncSession,
    snapshot: RoutingSnapshot,
    record: ComplaintRecord,
    document: dict[str, Any],
    items: list[OutboxItem],
) -> list[OutboxItem]:
    """Tell the handlers of the open case a repeat joined it (unless they get it anyway)."""
    already = {item.destination for item in items}
    notices = []
    for link in record.links:
        if link.kind != "repeat":
            continue
        case = await find_complaint(session, link.reference)
        if case is None:
            continue
        for row in await outbox_of(session, case.id):
            known = row.destination in snapshot.destinations
            if row.purpose in ROUTE_PURPOSES and known and row.destination not in already:
                already.add(row.destination)
                notices.append(
                    OutboxItem(
                        purpose="repeat",
                        destination=row.destination,
                        idempotency_key=f"{record.reference}/{row.destination}/repeat/1",
                        payload=envelope(
                            snapshot,
                            row.destination,
                            "repeat",
                            "complaint.repeat",
                            document,
                            repeat_of=case.reference,
                        ),
                    )
                )
    return notices


async def settle_delivered(
    session: AsyncSession, complaint_id: int, purpose: str, at: datetime
) -> None:
    """A delivered acknowledgement or escalation meets its clock."""
    clocks = CLOCKS_SETTLED_BY_DELIVERY.get(purpose)
    if clocks:
        await stop_clocks(session, complaint_id, clocks, at)
