"""Reading outbox rows for operators: the dead-letter list and one delivery in full."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import Complaint, Outbox


@dataclass(frozen=True)
class DeliveryView:
    id: int
    reference: str
    destination: str
    purpose: str
    state: str
    attempts: int
    idempotency_key: str
    last_error: str | None
    updated_at: datetime
    payload: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        document = {
            "id": self.id,
            "reference": self.reference,
            "destination": self.destination,
            "purpose": self.purpose,
            "state": self.state,
            "attempts": self.attempts,
            "idempotency_key": self.idempotency_key,
            "last_error": self.last_error,
            "updated_at": self.updated_at.isoformat(),
        }
        if self.payload is not None:
            document["payload"] = self.payload
        return document


def _view(row: Outbox, reference: str, *, with_payload: bool) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        reference=reference,
        destination=row.destination,
        purpose=row.purpose,
        state=row.state,
        attempts=row.attempts,
        idempotency_key=row.idempotency_key,
        last_error=row.last_error,
        updated_at=row.updated_at,
        payload=dict(row.payload) if with_payload else None,
    )


async def list_deliveries(
    session: AsyncSession,
    *,
    state: str | None = "dead",
    destination: str | None = None,
    reference: str | None = None,
    limit: int = 100,
) -> list[DeliveryView]:
    stmt = select(Outbox, Complaint.reference).join(Complaint, Complaint.id == Outbox.complaint_id)
    if state:
        stmt = stmt.where(Outbox.state == state)
    if destination:
        stmt = stmt.where(Outbox.destination == destination)
    if reference:
        stmt = stmt.where(Complaint.reference == reference)
    rows = await session.execute(stmt.order_by(Outbox.id.desc()).limit(limit))
    return [_view(row, ref, with_payload=False) for row, ref in rows]


async def get_delivery(session: AsyncSession, outbox_id: int) -> DeliveryView | None:
    row = (
        await session.execute(
            select(Outbox, Complaint.reference)
            .join(Complaint, Complaint.id == Outbox.complaint_id)
            .where(Outbox.id == outbox_id)
        )
    ).first()
    return _view(row[0], row[1], with_payload=True) if row else None


async def dead_ids(session: AsyncSession, destination: str | None = None) -> list[int]:
    stmt = select(Outbox.id).where(Outbox.state == "dead")
    if destination:
        stmt = stmt.where(Outbox.destination == destination)
    return list((await session.execute(stmt.order_by(Outbox.id))).scalars())


async def outbox_of(session: AsyncSession, complaint_id: int) -> list[Outbox]:
    return list(
        (
            await session.execute(
                select(Outbox).where(Outbox.complaint_id == complaint_id).order_by(Outbox.id)
            )
        ).scalars()
    )
