"""Audit trail rows: every state change, who made it and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.records import HistoryEntry
from storage.tables import History, table_of

_INSERT = table_of(History).insert()


async def record_event(
    session: AsyncSession,
    action: str,
    *,
    actor: str = "system",
    complaint_id: int | None = None,
    raw_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        _INSERT,
        {
            "complaint_id": complaint_id,
            "raw_id": raw_id,
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "detail": detail or {},
        },
    )


async def record_events(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """Several history rows in one executemany; each dict holds `record_event`'s arguments
    (`action` and any of `actor`, `complaint_id`, `raw_id`, `detail`)."""
    if not events:
        return
    at = utcnow()
    await session.execute(
        _INSERT,
        [
            {
                "complaint_id": event.get("complaint_id"),
                "raw_id": event.get("raw_id"),
                "at": at,
                "actor": event.get("actor", "system"),
                "action": event["action"],
                "detail": event.get("detail") or {},
            }
            for event in events
        ],
    )


async def history_of(
    session: AsyncSession, *, complaint_id: int, raw_id: int | None = None
) -> list[HistoryEntry]:
    """A complaint's trail, including what happened to its raw input before it existed."""
    condition = History.complaint_id == complaint_id
    if raw_id is not None:
        condition = condition | ((History.raw_id == raw_id) & History.complaint_id.is_(None))
    rows = (await session.execute(select(History).where(condition).order_by(History.id))).scalars()
    return [
        HistoryEntry(at=row.at, actor=row.actor, action=row.action, detail=row.detail)
        for row in rows
    ]
