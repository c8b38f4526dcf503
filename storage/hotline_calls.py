"""Reading and writing a call's steps (see `storage.tables_hotline`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import utcnow
from storage.references import allocate_reference
from storage.tables import Complaint, table_of
from storage.tables_hotline import HotlineCallStep
from storage.upsert import PerDialect

_STEP = table_of(HotlineCallStep)
# Built once per dialect: building the construct per webhook cost more than running it.
_KEEP = PerDialect(
    lambda dialect: (
        dialect.insert(_STEP)
        .on_conflict_do_nothing(index_elements=["channel_account_id", "call_sid", "step"])
        .returning(_STEP.c.id)
    )
)
_LOAD = (
    select(_STEP.c.step, _STEP.c.params, _STEP.c.created_at)
    .where(
        _STEP.c.channel_account_id == bindparam("account_id"),
        _STEP.c.call_sid == bindparam("call_sid"),
    )
    .order_by(_STEP.c.id)
)


async def keep_step(
    session: AsyncSession, account_id: int, call_sid: str, step: str, params: dict[str, Any]
) -> bool:
    """Store a step once; False when it was stored before (a retried callback)."""
    values = {
        "channel_account_id": account_id,
        "call_sid": call_sid,
        "step": step,
        "params": params,
        "created_at": utcnow(),
    }
    return (await session.execute(_KEEP(session), values)).scalar_one_or_none() is not None


async def load_steps(
    session: AsyncSession, account_id: int, call_sid: str
) -> list[tuple[str, dict[str, Any], str]]:
    """(step, params, ISO time) of every stored step of a call, in arrival order."""
    rows = await session.execute(_LOAD, {"account_id": account_id, "call_sid": call_sid})
    return [(step, dict(params), _aware(at).isoformat()) for step, params, at in rows]


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every time stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


async def keep_step_with_reference(
    session: AsyncSession,
    account_id: int,
    call_sid: str,
    step: str,
    params: dict[str, Any],
    when: datetime,
    answered: tuple[str, dict[str, Any]] | None = None,
) -> str | None:
    """Keep a step together with a newly taken reference (under `_reference`), once;
    with `answered`, that (step, params) too, in the same transaction.

    A retried callback gets the reference kept the first time and takes no new
    one; None when the step was kept before without a reference.
    """
    if answered is not None:
        await keep_step(session, account_id, call_sid, *answered)
    kept = await _step_params(session, account_id, call_sid, step)
    if kept is None:
        reference = await allocate_reference(session, when)
        if await keep_step(
            session, account_id, call_sid, step, {**params, "_reference": reference}
        ):
            return reference
        raise LookupError("the step was kept concurrently")  # rolls the reference back
    value = kept.get("_reference")
    return str(value) if value else None


async def _step_params(
    session: AsyncSession, account_id: int, call_sid: str, step: str
) -> dict[str, Any] | None:
    params = await session.scalar(
        select(HotlineCallStep.params).where(
            HotlineCallStep.channel_account_id == account_id,
            HotlineCallStep.call_sid == call_sid,
            HotlineCallStep.step == step,
        )
    )
    return None if params is None else dict(params)


async def calls_waiting(
    session: AsyncSession, account_id: int, step: str, until: str, older_than: timedelta
) -> list[str]:
    """CallSids whose `step` was kept before `older_than` ago and that have no `until` step
    (voicemails whose wait for a transcription is over and that are not archived)."""
    done = aliased(HotlineCallStep)
    rows = await session.execute(
        select(HotlineCallStep.call_sid)
        .where(
            HotlineCallStep.channel_account_id == account_id,
            HotlineCallStep.step == step,
            HotlineCallStep.created_at < utcnow() - older_than,
            ~exists().where(
                done.channel_account_id == HotlineCallStep.channel_account_id,
                done.call_sid == HotlineCallStep.call_sid,
                done.step == until,
            ),
        )
        .order_by(HotlineCallStep.id)
        .limit(100)
    )
    return [row[0] for row in rows]


async def purge_account_steps(session: AsyncSession, account_id: int, older_than: timedelta) -> int:
    """Forget one account's call steps older than `older_than` (retention)."""
    result = await session.execute(
        delete(HotlineCallStep).where(
            HotlineCallStep.channel_account_id == account_id,
            HotlineCallStep.created_at < utcnow() - older_than,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
