"""Batch keys of complaints and the batch incidents they open (SPEC §6)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.batch_context import batch_context
from storage.tables import Complaint, TZDateTime, table_of
from storage.tables_routing import BatchIncident, ComplaintBatchKey


def incident_reference(incident_id: int) -> str:
    return f"BI-{incident_id:06d}"


async def add_batch_keys(
    session: AsyncSession, complaint_id: int, keys: Iterable[str], received_at: datetime
) -> None:
    context = batch_context(session)
    if context is not None:
        context.hold_batch_keys(complaint_id, keys, received_at)
        return
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


async def lookalikes_by_key(
    session: AsyncSession, keys: list[str], since: datetime
) -> dict[str, list[str]]:
    """`lookalikes` for several keys in one query: key -> references, oldest first."""
    context = batch_context(session)
    if context is not None and (known := context.lookalikes_for(keys, since)) is not None:
        return known
    found: dict[str, list[str]] = {key: [] for key in keys}
    if not keys:
        return found
    stmt = (
        select(ComplaintBatchKey.key, Complaint.reference)
        .join(ComplaintBatchKey, ComplaintBatchKey.complaint_id == Complaint.id)
        .where(ComplaintBatchKey.key.in_(keys), ComplaintBatchKey.received_at >= since)
        .order_by(ComplaintBatchKey.received_at, ComplaintBatchKey.id)
    )
    for key, reference in await session.execute(stmt):
        found[key].append(reference)
    return context.merge_held(found, since) if context is not None else found


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
        if not _defer_join(session, existing, at):
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


DEFERRED_JOINS = "deferred_incident_joins"  # key in `session.info`


def defer_incident_joins(session: AsyncSession) -> None:
    """Within this session's transaction, joins to existing incidents are collected and
    written by `apply_incident_joins`, in incident-id order, just before the commit.

    A processing batch stores many complaints in one transaction; updating an incident
    row as each joins would hold its lock for the whole batch and, with batches joining
    several incidents in different orders, deadlock. Applied last and in one order, the
    locks are short and never crossed.
    """
    session.info[DEFERRED_JOINS] = {}


def _defer_join(session: AsyncSession, incident: BatchIncident, at: datetime) -> bool:
    joins = session.info.get(DEFERRED_JOINS)
    if joins is None:
        return False
    count, last = joins.get(incident.id, (0, at))
    joins[incident.id] = (count + 1, max(last, at))
    return True


_TABLE = table_of(BatchIncident)
_APPLY_JOIN = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("incident_id"))
    .values(
        members=_TABLE.c.members + bindparam("joined", type_=Integer()),
        last_at=case(
            (_TABLE.c.last_at < bindparam("at", type_=TZDateTime()), bindparam("at")),
            else_=_TABLE.c.last_at,
        ),
    )
)


async def apply_incident_joins(session: AsyncSession) -> None:
    """Write the joins `defer_incident_joins` collected (atomic increments, id order)."""
    joins = session.info.pop(DEFERRED_JOINS, None)
    if not joins:
        return
    await session.execute(
        _APPLY_JOIN,
        [
            {"incident_id": incident_id, "joined": count, "at": at}
            for incident_id, (count, at) in sorted(joins.items())
        ],
    )


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
