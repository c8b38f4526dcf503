"""Claiming and finishing work rows, and finding work a dead process left behind.

A job only says "look at row N"; whether there is anything to do is decided
here by a conditional UPDATE, so two workers given the same row never both
act on it, and a row claimed by a killed worker becomes claimable again once
its claim is older than the stale limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import CTE, ColumnElement

from storage.db import utcnow
from storage.records import DeliveryState, RawState
from storage.tables import History, Outbox, RawMessage, TZDateTime, table_of


@dataclass(frozen=True)
class ClaimedRaw:
    id: int
    channel_account_id: int
    provider_id: str
    sha256: str
    media_type: str
    received_at: datetime
    meta: dict[str, Any]
    reference: str | None
    attempts: int


_RAW = table_of(RawMessage)
_RAW_CLAIMED_COLUMNS = (  # in ClaimedRaw's field order
    _RAW.c.id,
    _RAW.c.channel_account_id,
    _RAW.c.provider_id,
    _RAW.c.sha256,
    _RAW.c.media_type,
    _RAW.c.received_at,
    _RAW.c.meta,
    _RAW.c.reference,
    _RAW.c.attempts,
)


def _claim_raws_where(which: Any) -> Any:
    """Claim the raw rows `which` selects that are received, or processing but stale
    (their claimer died): one UPDATE … RETURNING, so two workers never share a row."""
    return (
        update(_RAW)
        .where(
            which,
            or_(
                _RAW.c.state == RawState.RECEIVED.value,
                and_(
                    _RAW.c.state == RawState.PROCESSING.value,
                    _RAW.c.claimed_at < bindparam("stale", type_=TZDateTime()),
                ),
            ),
        )
        .values(
            state=RawState.PROCESSING.value,
            claimed_at=bindparam("now", type_=TZDateTime()),
            attempts=_RAW.c.attempts + 1,
            updated_at=bindparam("now", type_=TZDateTime()),
        )
        .returning(*_RAW_CLAIMED_COLUMNS)
    )


_CLAIM_RAW = _claim_raws_where(_RAW.c.id == bindparam("raw_id"))
_SET_RAW_STATE = (
    update(_RAW)
    .where(_RAW.c.id == bindparam("raw_id"))
    .values(
        state=bindparam("new_state"),
        error=bindparam("new_error"),
        claimed_at=None,
        updated_at=bindparam("now", type_=TZDateTime()),
    )
)


async def claim_raw(session: AsyncSession, raw_id: int, stale_after: float) -> ClaimedRaw | None:
    now = utcnow()
    params = {"raw_id": raw_id, "stale": now - timedelta(seconds=stale_after), "now": now}
    row = (await session.execute(_CLAIM_RAW, params)).first()
    return ClaimedRaw(*row) if row else None


def _locked_pick(
    name: str, id_column: ColumnElement[Any], where: ColumnElement[bool], order: ColumnElement[Any]
) -> CTE:
    """Up to `limit` ids for a batch claim, as a CTE the claiming UPDATE selects from.

    On PostgreSQL the SELECT locks what it picks and skips rows another claimer holds, so
    concurrent batch claimers never take the same row (the lock re-checks the row, so a
    row claimed and committed meanwhile no longer matches); SQLite ignores FOR UPDATE, its
    single writer serialises claimers just the same. MATERIALIZED: evaluated once; as a
    plain `IN (SELECT … LIMIT n)` PostgreSQL may rescan the locking subquery per outer row
    and claim past the limit.
    """
    return (
        select(id_column)
        .where(where)
        .order_by(order)
        .limit(bindparam("limit", type_=Integer()))
        .with_for_update(skip_locked=True)
        .cte(name)
        .prefix_with("MATERIALIZED")
    )


# Up to `limit` more received rows of one channel account, oldest first, claimed in one
# statement so one job can process a batch.
_RECEIVED_PICK = _locked_pick(
    "received_pick",
    _RAW.c.id,
    and_(
        _RAW.c.state == RawState.RECEIVED.value,
        _RAW.c.channel_account_id == bindparam("account_id"),
    ),
    _RAW.c.id,
)
_CLAIM_RECEIVED = (
    update(_RAW)
    .where(_RAW.c.id.in_(select(_RECEIVED_PICK.c.id)), _RAW.c.state == RawState.RECEIVED.value)
    .values(
        state=RawState.PROCESSING.value,
        claimed_at=bindparam("now", type_=TZDateTime()),
        attempts=_RAW.c.attempts + 1,
        updated_at=bindparam("now", type_=TZDateTime()),
    )
    .returning(*_RAW_CLAIMED_COLUMNS)
)


async def claim_received_raw(
    session: AsyncSession, channel_account_id: int, limit: int
) -> list[ClaimedRaw]:
    """Claim up to `limit` received rows of one account at once (a processing batch);
    the jobs already queued for them then find nothing to claim."""
    if limit <= 0:
        return []
    params = {"account_id": channel_account_id, "limit": limit, "now": utcnow()}
    rows = await session.execute(_CLAIM_RECEIVED, params)
    return [ClaimedRaw(*row) for row in rows]


_CLAIM_RAW_IDS = _claim_raws_where(_RAW.c.id.in_(bindparam("ids", expanding=True)))


async def claim_raw_ids(
    session: AsyncSession, raw_ids: list[int], stale_after: float
) -> list[ClaimedRaw]:
    """`claim_raw` for several rows in one statement; rows another claimer holds (or
    already processed) are left out."""
    if not raw_ids:
        return []
    now = utcnow()
    params = {"ids": raw_ids, "stale": now - timedelta(seconds=stale_after), "now": now}
    rows = await session.execute(_CLAIM_RAW_IDS, params)
    return sorted((ClaimedRaw(*row) for row in rows), key=lambda item: item.id)


async def set_raw_state(
    session: AsyncSession, raw_id: int, state: RawState, error: str | None = None
) -> None:
    await session.execute(
        _SET_RAW_STATE,
        {"raw_id": raw_id, "new_state": state.value, "new_error": error, "now": utcnow()},
    )


async def set_raw_states(session: AsyncSession, raw_ids: list[int], state: RawState) -> None:
    """Several rows to one state in one executemany (a processing batch's outcome)."""
    if not raw_ids:
        return
    now = utcnow()
    await session.execute(
        _SET_RAW_STATE,
        [
            {"raw_id": raw_id, "new_state": state.value, "new_error": None, "now": now}
            for raw_id in raw_ids
        ],
    )


async def reset_raw_for_replay(session: AsyncSession, raw_ids: list[int]) -> list[int]:
    """Put failed raw messages back to `received`; returns those that were reset."""
    table = table_of(RawMessage)
    stmt = (
        update(table)
        .where(table.c.id.in_(raw_ids), table.c.state == RawState.FAILED.value)
        .values(state=RawState.RECEIVED.value, error=None, claimed_at=None, updated_at=utcnow())
        .returning(table.c.id)
    )
    return [row[0] for row in await session.execute(stmt)]


async def failed_raw_ids(session: AsyncSession) -> list[int]:
    return list(
        (
            await session.execute(
                select(RawMessage.id).where(RawMessage.state == RawState.FAILED.value)
            )
        ).scalars()
    )


async def raw_to_resume(session: AsyncSession, older_than: float) -> list[int]:
    """Received rows whose job may be lost, and processing rows whose worker died."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    stmt = select(RawMessage.id).where(
        or_(
            and_(RawMessage.state == RawState.RECEIVED.value, RawMessage.updated_at < cutoff),
            and_(RawMessage.state == RawState.PROCESSING.value, RawMessage.claimed_at < cutoff),
        )
    )
    return list((await session.execute(stmt.limit(1000))).scalars())


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    complaint_id: int
    purpose: str
    destination: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


_OUTBOX = table_of(Outbox)
_DUE = and_(
    _OUTBOX.c.state == DeliveryState.PENDING.value,
    _OUTBOX.c.next_attempt_at <= bindparam("now", type_=TZDateTime()),
)
_CLAIMED_VALUES = {
    "state": DeliveryState.SENDING.value,
    "claimed_at": bindparam("now", type_=TZDateTime()),
    "attempts": _OUTBOX.c.attempts + 1,
    "updated_at": bindparam("now", type_=TZDateTime()),
}
_CLAIMED_COLUMNS = (
    _OUTBOX.c.id,
    _OUTBOX.c.complaint_id,
    _OUTBOX.c.purpose,
    _OUTBOX.c.destination,
    _OUTBOX.c.idempotency_key,
    _OUTBOX.c.payload,
    _OUTBOX.c.attempts,
)
_CLAIM_OUTBOX = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("outbox_id"),
        or_(
            _DUE,
            and_(
                _OUTBOX.c.state == DeliveryState.SENDING.value,
                _OUTBOX.c.claimed_at < bindparam("stale", type_=TZDateTime()),
            ),
        ),
    )
    .values(_CLAIMED_VALUES)
    .returning(*_CLAIMED_COLUMNS)
)
# Up to `limit` due pending rows, oldest due first, in one statement (`_locked_pick`).
# Stale `sending` rows are left to the single-row claim: the sweeper enqueues a job for
# each of them.
_DUE_PICK = _locked_pick("due_pick", _OUTBOX.c.id, _DUE, _OUTBOX.c.next_attempt_at)
_CLAIM_DUE_OUTBOX = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(select(_DUE_PICK.c.id)), _DUE)
    .values(_CLAIMED_VALUES)
    .returning(*_CLAIMED_COLUMNS)
)


async def claim_outbox(
    session: AsyncSession, outbox_id: int, stale_after: float
) -> ClaimedDelivery | None:
    now = utcnow()
    params = {"outbox_id": outbox_id, "now": now, "stale": now - timedelta(seconds=stale_after)}
    row = (await session.execute(_CLAIM_OUTBOX, params)).first()
    return ClaimedDelivery(*row) if row else None


_CLAIM_OUTBOX_IDS = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _DUE)
    .values(_CLAIMED_VALUES)
    .returning(*_CLAIMED_COLUMNS)
)


async def claim_outbox_ids(session: AsyncSession, outbox_ids: list[int]) -> list[ClaimedDelivery]:
    """Claim the given rows that are still due, in one statement: a processing batch
    sends the rows it just wrote without a job each (a row another claimer holds, or
    already sent, is not due and is left alone)."""
    if not outbox_ids:
        return []
    rows = await session.execute(_CLAIM_OUTBOX_IDS, {"ids": outbox_ids, "now": utcnow()})
    return [ClaimedDelivery(*row) for row in rows]


async def claim_due_outbox(session: AsyncSession, limit: int) -> list[ClaimedDelivery]:
    """Claim up to `limit` due pending rows at once, so one job can send a batch and
    the per-row jobs already queued for them find nothing to do."""
    if limit <= 0:
        return []
    rows = await session.execute(_CLAIM_DUE_OUTBOX, {"now": utcnow(), "limit": limit})
    return [ClaimedDelivery(*row) for row in rows]


@dataclass(frozen=True)
class FinishedDelivery:
    """One claimed row's outcome: its new state and the history row that records it."""

    claimed: ClaimedDelivery
    state: DeliveryState
    error: str | None
    retry_in: float | None
    action: str
    detail: dict[str, Any]


# Only the claim that sent the row may finish it: a claim retaken as stale by another
# worker has a higher attempt number, and that worker's outcome is the one that counts.
_FINISH_CLAIMED = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("outbox_id"),
        _OUTBOX.c.state == DeliveryState.SENDING.value,
        _OUTBOX.c.attempts == bindparam("attempt"),
    )
    .values(
        state=bindparam("new_state"),
        claimed_at=None,
        updated_at=bindparam("now", type_=TZDateTime()),
        last_error=bindparam("new_error"),
        delivered_at=func.coalesce(
            bindparam("delivered", type_=TZDateTime()), _OUTBOX.c.delivered_at
        ),
        next_attempt_at=func.coalesce(
            bindparam("next_at", type_=TZDateTime()), _OUTBOX.c.next_attempt_at
        ),
    )
)
_INSERT_HISTORY = table_of(History).insert()


async def finish_outbox_batch(session: AsyncSession, finished: list[FinishedDelivery]) -> None:
    """Every outcome of a batch in two statements (executemany): the row updates, then
    one history row per delivery outcome, so a batch costs one transaction, not N."""
    if not finished:
        return
    now = utcnow()
    await session.execute(
        _FINISH_CLAIMED,
        [
            {
                "outbox_id": item.claimed.id,
                "attempt": item.claimed.attempts,
                "new_state": item.state.value,
                "new_error": item.error,
                "now": now,
                "delivered": now if item.state is DeliveryState.DELIVERED else None,
                "next_at": now + timedelta(seconds=item.retry_in)
                if item.retry_in is not None
                else None,
            }
            for item in finished
        ],
    )
    await session.execute(
        _INSERT_HISTORY,
        [
            {
                "complaint_id": item.claimed.complaint_id,
                "raw_id": None,
                "at": now,
                "actor": "system",
                "action": item.action,
                "detail": item.detail,
            }
            for item in finished
        ],
    )


async def outbox_to_resume(session: AsyncSession, older_than: float) -> list[int]:
    """Retries that are due, first attempts whose job may be lost, and dead workers' claims."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than)
    stmt = select(Outbox.id).where(
        or_(
            and_(
                Outbox.state == DeliveryState.PENDING.value,
                Outbox.attempts > 0,
                Outbox.next_attempt_at <= now,
            ),
            and_(
                Outbox.state == DeliveryState.PENDING.value,
                Outbox.attempts == 0,
                Outbox.created_at < cutoff,
            ),
            and_(Outbox.state == DeliveryState.SENDING.value, Outbox.claimed_at < cutoff),
        )
    )
    return list((await session.execute(stmt.limit(1000))).scalars())


async def replay_dead(session: AsyncSession, outbox_ids: list[int] | None = None) -> list[int]:
    """Dead deliveries back to pending with the same idempotency key."""
    table = table_of(Outbox)
    condition = table.c.state == DeliveryState.DEAD.value
    if outbox_ids is not None:
        condition = and_(condition, table.c.id.in_(outbox_ids))
    now = utcnow()
    stmt = (
        update(table)
        .where(condition)
        .values(state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now, updated_at=now)
        .returning(table.c.id)
    )
    return [row[0] for row in await session.execute(stmt)]


async def release_all_claims(session: AsyncSession) -> int:
    """At start of the only process (embedded mode) every claim is a dead one: release them."""
    now = utcnow()
    raws = await session.execute(
        update(RawMessage)
        .where(RawMessage.state == RawState.PROCESSING.value)
        .values(state=RawState.RECEIVED.value, claimed_at=None, updated_at=now)
    )
    outs = await session.execute(
        update(Outbox)
        .where(Outbox.state == DeliveryState.SENDING.value)
        .values(state=DeliveryState.PENDING.value, claimed_at=None, updated_at=now)
    )
    return int(raws.rowcount + outs.rowcount)  # type: ignore[attr-defined]
