"""Complaint rows and their outbox rows: written together, read back as records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.batch_context import batch_context
from storage.db import utcnow
from storage.records import ComplaintRecord, Delivery, DeliveryState
from storage.tables import Complaint, Outbox, table_of


@dataclass(frozen=True)
class OutboxItem:
    purpose: str
    destination: str
    idempotency_key: str
    payload: dict[str, Any]


_INSERT_COMPLAINT = table_of(Complaint).insert().returning(table_of(Complaint).c.id)
_INSERT_OUTBOX = table_of(Outbox).insert().returning(table_of(Outbox).c.id)


async def complaint_exists_for_raw(session: AsyncSession, raw_id: int) -> bool:
    return (
        await session.scalar(select(Complaint.id).where(Complaint.raw_id == raw_id))
    ) is not None


async def insert_complaint(
    session: AsyncSession, record: ComplaintRecord, contact_key: str | None
) -> int:
    now = utcnow()
    decision = record.classification
    values = {
        "reference": record.reference,
        "raw_id": record.raw_id,
        "channel": record.channel.value,
        "channel_account": record.channel_account,
        "status": record.status,
        "validity": decision.validity,
        "severity": decision.severity,
        "department": decision.department,
        "needs_review": decision.needs_review,
        "contact_key": contact_key,
        "received_at": record.received_at,
        "record": record.model_dump(mode="json", exclude={"history", "routing"}),
        "created_at": now,
        "updated_at": now,
    }
    complaint_id = int((await session.execute(_INSERT_COMPLAINT, values)).scalar_one())
    context = batch_context(session)
    if context is not None:
        context.note_complaint(Complaint(id=complaint_id, **values))
    return complaint_id


async def insert_outbox(
    session: AsyncSession, complaint_id: int, items: list[OutboxItem]
) -> list[int]:
    if not items:
        return []
    now = utcnow()
    rows = [
        {
            "complaint_id": complaint_id,
            "purpose": item.purpose,
            "destination": item.destination,
            "idempotency_key": item.idempotency_key,
            "payload": item.payload,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for item in items
    ]
    ids = []
    for row in rows:  # one statement each: RETURNING with executemany is not portable
        ids.append(int((await session.execute(_INSERT_OUTBOX, row)).scalar_one()))
    return ids


async def find_complaint(session: AsyncSession, reference: str) -> Complaint | None:
    return (
        await session.execute(select(Complaint).where(Complaint.reference == reference))
    ).scalar_one_or_none()


async def deliveries_of(session: AsyncSession, complaint_id: int) -> list[Delivery]:
    rows = (
        await session.execute(
            select(Outbox).where(Outbox.complaint_id == complaint_id).order_by(Outbox.id)
        )
    ).scalars()
    return [
        Delivery(
            destination=row.destination,
            state=DeliveryState(row.state),
            attempts=row.attempts,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
        )
        for row in rows
    ]


async def earlier_by_contact(
    session: AsyncSession, contact_key: str, since: datetime, limit: int = 20
) -> list[Complaint]:
    """Earlier complaints from the same complainant, newest first."""
    context = batch_context(session)
    if context is not None and (known := context.earlier(contact_key, since, limit)) is not None:
        return known
    stmt = (
        select(Complaint)
        .where(Complaint.contact_key == contact_key, Complaint.received_at >= since)
        .order_by(Complaint.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def references_present(session: AsyncSession, references: list[str]) -> list[Complaint]:
    if not references:
        return []
    stmt = select(Complaint).where(Complaint.reference.in_(references))
    return list((await session.execute(stmt)).scalars())


def window_start(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)
