"""Reading and writing a call's steps (see `storage.tables_hotline`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.tables import Complaint, table_of
from storage.tables_hotline import HotlineCallStep
from storage.upsert import insert_for


async def keep_step(
    session: AsyncSession, account_id: int, call_sid: str, step: str, params: dict[str, Any]
) -> bool:
    """Store a step once; False when it was stored before (a retried callback)."""
    stmt = (
        insert_for(session, table_of(HotlineCallStep))
        .values(
            channel_account_id=account_id,
            call_sid=call_sid,
            step=step,
            params=params,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["channel_account_id", "call_sid", "step"])
        .returning(table_of(HotlineCallStep).c.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def load_steps(
    session: AsyncSession, account_id: int, call_sid: str
) -> list[tuple[str, dict[str, Any], str]]:
    """(step, params, ISO time) of every stored step of a call, in arrival order."""
    rows = await session.execute(
        select(HotlineCallStep.step, HotlineCallStep.params, HotlineCallStep.created_at)
        .where(
            HotlineCallStep.channel_account_id == account_id,
            HotlineCallStep.call_sid == call_sid,
        )
        .order_by(HotlineCallStep.id)
    )
    return [(step, dict(params), at.isoformat()) for step, params, at in rows]


async def purge_steps(session: AsyncSession, older_than: timedelta) -> int:
    """Forget call steps older than `older_than` (they are archived with the call by then)."""
    result = await session.execute(
        delete(HotlineCallStep).where(HotlineCallStep.created_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def status_for_caller(session: AsyncSession, reference: str, phone: str) -> str | None:
    """A complaint's status, only when `phone` is one of its complainant's numbers."""
    row = (
        await session.execute(
            select(Complaint.status, Complaint.record).where(Complaint.reference == reference)
        )
    ).one_or_none()
    if row is None:
        return None
    status, record = row
    phones = (record.get("complainant") or {}).get("phones") or []
    return status if any(_same_number(phone, str(known)) for known in phones) else None


def _same_number(caller: str, known: str) -> bool:
    """E.164 caller vs a stored number that may be national (`13812345678`)."""
    a = "".join(c for c in caller if c.isdigit())
    b = "".join(c for c in known if c.isdigit()).lstrip("0")
    return len(b) >= 7 and (a == b or a.endswith(b))
