"""SLA clocks of complaints: started when a record is stored, stopped by events,
marked overdue by the periodic job (one claim per clock, by conditional UPDATE)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.batch_context import batch_context
from storage.tables import table_of
from storage.tables_routing import ComplaintClock


@dataclass(frozen=True)
class OverdueClock:
    id: int
    complaint_id: int
    clock: str
    department: str | None
    due_at: datetime


async def start_clocks(
    session: AsyncSession, complaint_id: int, due: Mapping[str, datetime], department: str | None
) -> None:
    if not due:
        return
    rows = [
        {"complaint_id": complaint_id, "clock": name, "due_at": at, "department": department}
        for name, at in due.items()
    ]
    context = batch_context(session)
    if context is not None:
        context.clock_rows += rows  # written by the batch's flush, before its commit
        return
    await session.execute(insert(ComplaintClock), rows)


async def restart_clocks(
    session: AsyncSession, complaint_id: int, due: Mapping[str, datetime], department: str | None
) -> None:
    """After a correction: clocks not yet met are replaced by the new due times."""
    met = set(
        (
            await session.execute(
                select(ComplaintClock.clock).where(
                    ComplaintClock.complaint_id == complaint_id, ComplaintClock.met_at.is_not(None)
                )
            )
        ).scalars()
    )
    await session.execute(
        delete(ComplaintClock).where(
            ComplaintClock.complaint_id == complaint_id, ComplaintClock.met_at.is_(None)
        )
    )
    await start_clocks(
        session, complaint_id, {k: v for k, v in due.items() if k not in met}, department
    )


async def stop_clocks(
    session: AsyncSession, complaint_id: int, clocks: Iterable[str], at: datetime
) -> list[str]:
    """Mark the named clocks met at `at`; returns those that were still running."""
    table = table_of(ComplaintClock)
    result = await session.execute(
        update(table)
        .where(
            table.c.complaint_id == complaint_id,
            table.c.clock.in_(list(clocks)),
            table.c.met_at.is_(None),
        )
        .values(met_at=at)
        .returning(table.c.clock)
    )
    return sorted(row[0] for row in result)


async def claim_overdue(
    session: AsyncSession, now: datetime, limit: int = 500
) -> list[OverdueClock]:
    """Running clocks past their due time, each handed out once (marked overdue here)."""
    ids = list(
        (
            await session.execute(
                select(ComplaintClock.id)
                .where(
                    ComplaintClock.overdue_at.is_(None),
                    ComplaintClock.met_at.is_(None),
                    ComplaintClock.due_at <= now,
                )
                .limit(limit)
            )
        ).scalars()
    )
    if not ids:
        return []
    table = table_of(ComplaintClock)
    result = await session.execute(
        update(table)
        .where(table.c.id.in_(ids), table.c.overdue_at.is_(None), table.c.met_at.is_(None))
        .values(overdue_at=now)
        .returning(
            table.c.id, table.c.complaint_id, table.c.clock, table.c.department, table.c.due_at
        )
    )
    return [OverdueClock(*row) for row in result]


async def clocks_of(session: AsyncSession, complaint_id: int) -> list[dict[str, object]]:
    rows = (
        await session.execute(
            select(ComplaintClock)
            .where(ComplaintClock.complaint_id == complaint_id)
            .order_by(ComplaintClock.due_at)
        )
    ).scalars()
    return [
        {
            "clock": row.clock,
            "due_at": row.due_at.isoformat(),
            "met_at": row.met_at.isoformat() if row.met_at else None,
            "overdue": row.overdue_at is not None,
        }
        for row in rows
    ]


async def overdue_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Overdue clocks not yet met, by (department, clock), for `/metrics`."""
    rows = await session.execute(
        select(ComplaintClock.department, ComplaintClock.clock, func.count())
        .where(ComplaintClock.overdue_at.is_not(None), ComplaintClock.met_at.is_(None))
        .group_by(ComplaintClock.department, ComplaintClock.clock)
    )
    return {(dept or "none", clock): int(count) for dept, clock, count in rows}
