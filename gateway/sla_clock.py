"""Time limits at run time: the periodic overdue check and downstream progress events.

`mark_overdue` runs with every sweep (the embedded sweeper, the arq cron):
each clock past its due time is claimed once, recorded in the history,
reported to the escalation destinations and counted in `/metrics`.
`record_progress` is what `POST /api/v1/complaints/{reference}/events` does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import metrics
from gateway.routing_step import envelope, routing_snapshot
from gateway.services import Services
from storage.batches import close_stale_incidents
from storage.clocks import claim_overdue, clocks_of, overdue_counts, stop_clocks
from storage.complaints import OutboxItem, find_complaint, insert_outbox
from storage.db import utcnow
from storage.history import record_event
from storage.tables import Complaint

# Progress reported by downstream → the clocks it meets (each implies the ones before it).
PROGRESS_CLOCKS: dict[str, tuple[str, ...]] = {
    "acknowledged": ("acknowledge", "escalate"),
    "responded": ("acknowledge", "escalate", "first_response"),
    "resolved": ("acknowledge", "escalate", "first_response", "investigation", "final_reply"),
}


class UnknownComplaint(LookupError):
    """No complaint has this reference."""


async def mark_overdue(svc: Services, now: datetime | None = None) -> int:
    """Claim clocks past due, notify the escalation destinations; returns how many."""
    now = now or utcnow()
    snapshot = await routing_snapshot(svc)
    outbox_ids: list[int] = []
    async with svc.sessions.begin() as session:
        overdue = await claim_overdue(session, now)
        for clock in overdue:
            complaint = await session.get(Complaint, clock.complaint_id)
            assert complaint is not None
            due_at = clock.due_at.isoformat()
            items = [
                OutboxItem(
                    purpose="overdue",
                    destination=name,
                    idempotency_key=f"{complaint.reference}/{name}/overdue-{clock.clock}/1",
                    payload=envelope(
                        snapshot,
                        name,
                        "overdue",
                        "complaint.overdue",
                        dict(complaint.record),
                        clock=clock.clock,
                        due_at=due_at,
                    ),
                )
                for name in snapshot.table.escalation
            ]
            outbox_ids += await insert_outbox(session, complaint.id, items)
            await record_event(
                session,
                "overdue",
                complaint_id=complaint.id,
                detail={"clock": clock.clock, "due_at": due_at, "notified": len(items)},
            )
            metrics.OVERDUE.labels(clock.department or "none", clock.clock).inc()
        window = timedelta(days=svc.settings.links.batch_window_days)
        await close_stale_incidents(session, now - window)
    for outbox_id in outbox_ids:
        await svc.enqueue("deliver", outbox_id)
    return len(overdue)


async def record_progress(
    svc: Services,
    reference: str,
    event: str,
    *,
    actor: str,
    at: datetime | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Stop the clocks `event` meets; `resolved` also closes the case. Idempotent."""
    if event not in PROGRESS_CLOCKS:
        raise ValueError(f"event must be one of {', '.join(PROGRESS_CLOCKS)}, got {event!r}")
    at = at or utcnow()
    async with svc.sessions.begin() as session:
        complaint = await find_complaint(session, reference)
        if complaint is None:
            raise UnknownComplaint(reference)
        stopped = await stop_clocks(session, complaint.id, PROGRESS_CLOCKS[event], at)
        if event == "resolved":
            complaint.status = "resolved"
        await record_event(
            session,
            f"progress_{event}",
            actor=actor,
            complaint_id=complaint.id,
            detail={"at": at.isoformat(), "clocks_met": stopped, "note": note},
        )
        clocks = await clocks_of(session, complaint.id)
    return {"reference": reference, "status": complaint.status, "met": stopped, "clocks": clocks}


async def refresh_overdue_gauges(session: AsyncSession) -> None:
    metrics.OVERDUE_OPEN.clear()
    for (department, clock), count in (await overdue_counts(session)).items():
        metrics.OVERDUE_OPEN.labels(department, clock).set(count)
