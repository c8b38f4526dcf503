"""Intake on PostgreSQL in one statement: blob, reference, raw row and history row.

`archive_raw` plus `record_event` cost a transaction of five statements (look up,
blob, counter, raw row, history row) and its BEGIN and COMMIT; on PostgreSQL the same
writes fit in one statement of data-modifying CTEs, which is its own transaction.
The meaning is `archive_raw`'s: a re-delivery (same channel account and provider id)
is answered from the first row and writes nothing; two deliveries racing each other
meet at the unique key, the loser writes nothing but a gap in the reference counter
(a rolled-back caller of `allocate_reference` leaves one too) and reads the winner's
row. Foreign keys are checked at the end of the statement, so the raw row may refer
to the blob inserted beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, LargeBinary, String, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.archive import Archived, content_hash
from storage.records import RawState
from storage.references import PREFIX
from storage.tables import TZDateTime

_INTAKE = text(
    f"""
WITH found AS (
    SELECT id, sha256, reference, meta FROM raw_message
    WHERE channel_account_id = :account_id AND provider_id = :provider_id
), new_blob AS (
    INSERT INTO blob (sha256, size, data, created_at)
    SELECT :sha256, :size, :data, :now WHERE NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT (sha256) DO NOTHING
), counter AS (
    INSERT INTO reference_counter (period, last)
    SELECT :period, 1 WHERE :reserve AND NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT (period) DO UPDATE SET last = reference_counter.last + 1
    RETURNING last
), new_raw AS (
    INSERT INTO raw_message (channel_account_id, provider_id, sha256, media_type,
                             received_at, meta, reference, state, attempts, updated_at)
    SELECT :account_id, :provider_id, :sha256, :media_type, :received_at, :meta,
           (SELECT '{PREFIX}-' || :period || '-' ||
                   CASE WHEN last < 1000000 THEN lpad(last::text, 6, '0') ELSE last::text END
            FROM counter),
           :state, 0, :now
    WHERE NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT (channel_account_id, provider_id) DO NOTHING
    RETURNING id, sha256, reference, meta
), new_history AS (
    INSERT INTO history (complaint_id, raw_id, at, actor, action, detail)
    SELECT NULL, id, :now, 'system', 'received', :detail FROM new_raw
)
SELECT id, sha256, reference, meta, false AS duplicate FROM new_raw
UNION ALL
SELECT id, sha256, reference, meta, true AS duplicate FROM found
"""
).bindparams(
    bindparam("account_id", type_=Integer()),
    bindparam("provider_id", type_=String()),
    bindparam("sha256", type_=String()),
    bindparam("size", type_=Integer()),
    bindparam("data", type_=LargeBinary()),
    bindparam("now", type_=TZDateTime()),
    bindparam("period", type_=String()),
    bindparam("reserve", type_=Boolean()),
    bindparam("media_type", type_=String()),
    bindparam("received_at", type_=TZDateTime()),
    bindparam("meta", type_=JSONB()),
    bindparam("state", type_=String()),
    bindparam("detail", type_=JSONB()),
)


async def archive_received(
    engine: AsyncEngine,
    *,
    channel_account_id: int,
    provider_id: str,
    data: bytes,
    media_type: str,
    received_at: datetime,
    meta: dict[str, Any],
    reference_for: datetime | None,
    history_detail: dict[str, Any],
    now: datetime,
) -> Archived | None:
    """Archive one input with its `received` history row, committed on return.

    None when a concurrent delivery of the same input won the unique key but has not
    been seen yet (the caller reads it with `archive_raw`, which then finds it).
    """
    digest = content_hash(data)
    params = {
        "account_id": channel_account_id,
        "provider_id": provider_id,
        "sha256": digest,
        "size": len(data),
        "data": data,
        "now": now,
        "period": reference_for.strftime("%Y%m") if reference_for else "",
        "reserve": reference_for is not None,
        "media_type": media_type,
        "received_at": received_at,
        "meta": meta,
        "state": RawState.RECEIVED.value,
        "detail": history_detail,
    }
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        row = (await autocommit.execute(_INTAKE, params)).first()
    if row is None:
        return None
    return Archived(row.id, row.sha256, bool(row.duplicate), row.reference, dict(row.meta or {}))
