"""Supervisors' corrections kept as labelled training examples (table `correction_example`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.tables_routing import CorrectionExample


async def add_example(
    session: AsyncSession,
    *,
    complaint_id: int,
    reference: str,
    text: str,
    language: str | None,
    labels: dict[str, Any],
    previous: dict[str, Any],
    actor: str,
    reason: str,
) -> None:
    await session.execute(
        insert(CorrectionExample).values(
            complaint_id=complaint_id,
            reference=reference,
            text=text,
            language=language,
            labels=labels,
            previous=previous,
            actor=actor,
            reason=reason,
            created_at=utcnow(),
        )
    )


async def examples_since(
    session: AsyncSession, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Examples in the classifier's training format (text + labels), oldest first."""
    stmt = select(CorrectionExample).order_by(CorrectionExample.id)
    if since is not None:
        stmt = stmt.where(CorrectionExample.created_at >= since)
    return [
        {
            "text": row.text,
            "language": row.language,
            **row.labels,
            "reference": row.reference,
            "corrected_by": row.actor,
            "corrected_at": row.created_at.isoformat(),
        }
        for row in (await session.execute(stmt)).scalars()
    ]
