"""Read-only views over corrections for the dashboard, rule suggestions and retraining."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import Complaint
from storage.tables_routing import CorrectionExample


async def corrections(
    session: AsyncSession, since: datetime | None = None, limit: int = 100_000
) -> list[dict[str, Any]]:
    """Every correction with the labels before and after, the record's explanation, oldest
    first."""
    stmt = (
        select(CorrectionExample, Complaint.record)
        .join(Complaint, Complaint.id == CorrectionExample.complaint_id)
        .order_by(CorrectionExample.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(CorrectionExample.created_at >= since)
    out: list[dict[str, Any]] = []
    for row, record in (await session.execute(stmt)).all():
        out.append(
            {
                "text": row.text,
                "language": row.language,
                **row.labels,
                "previous": row.previous,
                "reference": row.reference,
                "actor": row.actor,
                "at": row.created_at,
                "explanation": ((record or {}).get("classification") or {}).get("explanation", []),
            }
        )
    return out


async def count_corrections(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CorrectionExample)) or 0)


async def routed_per_week(
    session: AsyncSession, since: datetime
) -> list[tuple[datetime, str, int]]:
    """(received_at, department, 1) rows of valid complaints since `since` (bucketed by the
    caller, so SQLite and PostgreSQL share one query)."""
    rows = await session.execute(
        select(Complaint.received_at, Complaint.department).where(
            Complaint.received_at >= since, Complaint.validity == "valid"
        )
    )
    return [(at, dept or "-", 1) for at, dept in rows]
