"""Batch keys of complaints and the batch incidents they open (SPEC §6)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import Complaint
from storage.tables_routing import BatchIncident, ComplaintBatchKey


def incident_reference(incident_id: int) -> str:
    return f"BI-{incident_id:06d}"


async def add_batch_keys(
    session: AsyncSession, complaint_id: int, keys: Iterable[str], received_at: datetime
) -> None:
    rows = [{"complaint_id": complaint_id, "key": key, "received_at": received_at} for key in keys]
    if rows:
        await session.execute(insert(ComplaintBatchKey), rows)


async def lookalikes(session: AsyncSession, key: str, since: datetime) -> list[str]:
    """References of complaints carrying `key` received since `since` (oldest first)."""
    stmt = (
        select(Complaint.reference)
        .join(ComplaintBatchKey, ComplaintBatchKey.complaint_id == Complaint.id)
        .where(ComplaintBatchKey.key == key, ComplaintBatchKey.received_at >= since)
        .order_by(ComplaintBatchKey.received_at)
    )
    return list((await session.execute(stmt)).scalars())


async def open_incident(session: AsyncSession, key: str) -> BatchIncident | None:
    return await session.scalar(select(BatchIncident).where(BatchIncident.open_key == key))


async def open_or_join_incident(
    session: AsyncSession, key: str, at: datetime, members: int
) -> tuple[BatchIncident, bool]:
    """The open incident for `key`, created when there is none; True when created here.

    A concurrent creator hits the unique `open_key`; the savepoint keeps the
    caller's transaction alive and the other's incident is joined instead.
    """
    existing = await open_incident(session, key)
    if existing is not None:
        existing.last_at, existing.members = at, existing.members + 1
        return existing, False
    try:
        async with session.begin_nested():
            incident = BatchIncident(
                key=key, open_key=key, opened_at=at, last_at=at, members=members
            )
            session.add(incident)
            await session.flush()
        return incident, True
    except IntegrityError:
        joined = await open_incident(session, key)
        assert joined is not None
        joined.last_at, joined.members = at, joined.members + 1
        return joined, False


async def close_stale_incidents(session: AsyncSession, before: datetime) -> int:
    """Close incidents with no new member since `before` (the window has passed)."""
    rows = (
        await session.execute(
            select(BatchIncident).where(
                BatchIncident.open_key.is_not(None), BatchIncident.last_at < before
            )
        )
    ).scalars()
    count = 0
    for row in rows:
        row.open_key = None
        count += 1
    return count


async def incident_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(BatchIncident)) or 0)
