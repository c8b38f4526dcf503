"""The raw archive: every input's bytes, kept before anything else happens (SPEC §2).

`archive_raw` writes the blob and the `raw_message` row in the caller's
transaction; a re-delivered input hits the (channel account, provider id)
unique key and is reported as a duplicate instead of creating a second row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.records import RawState
from storage.references import allocate_reference
from storage.tables import Blob, RawMessage, table_of
from storage.upsert import PerDialect


@dataclass(frozen=True)
class Archived:
    raw_id: int
    sha256: str
    duplicate: bool
    reference: str | None
    meta: dict[str, Any]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_RAW = table_of(RawMessage)
_INSERT_BLOB = PerDialect(
    lambda dialect: dialect.insert(table_of(Blob)).on_conflict_do_nothing(index_elements=["sha256"])
)
_INSERT_RAW = PerDialect(
    lambda dialect: (
        dialect.insert(_RAW)
        .on_conflict_do_nothing(index_elements=["channel_account_id", "provider_id"])
        .returning(_RAW.c.id)
    )
)
_FIND_RAW = select(_RAW.c.id, _RAW.c.sha256, _RAW.c.reference, _RAW.c.meta).where(
    _RAW.c.channel_account_id == bindparam("account_id"),
    _RAW.c.provider_id == bindparam("provider_id"),
)
_LOAD_BLOB = select(Blob.data).where(Blob.sha256 == bindparam("sha256"))


async def store_blob(session: AsyncSession, data: bytes) -> str:
    """Keep `data` once under its SHA-256 and return the hash."""
    digest = content_hash(data)
    await session.execute(
        _INSERT_BLOB(session),
        {"sha256": digest, "size": len(data), "data": data, "created_at": utcnow()},
    )
    return digest


async def load_blob(session: AsyncSession, sha256: str) -> bytes:
    data = await session.scalar(_LOAD_BLOB, {"sha256": sha256})
    if data is None:
        raise LookupError(f"blob {sha256} is not in the archive")
    return bytes(data)


_LOAD_BLOBS = select(Blob.sha256, Blob.data).where(
    Blob.sha256.in_(bindparam("hashes", expanding=True))
)


async def load_blobs(session: AsyncSession, hashes: list[str]) -> dict[str, bytes]:
    """Several blobs in one query (a processing batch); missing hashes are left out."""
    if not hashes:
        return {}
    rows = await session.execute(_LOAD_BLOBS, {"hashes": sorted(set(hashes))})
    return {sha256: bytes(data) for sha256, data in rows}


async def archive_raw(
    session: AsyncSession,
    *,
    channel_account_id: int,
    provider_id: str,
    data: bytes,
    media_type: str,
    received_at: datetime | None = None,
    meta: dict[str, Any] | None = None,
    reference_for: datetime | None = None,
    reference: str | None = None,
    state: RawState = RawState.RECEIVED,
) -> Archived:
    """Archive one input; idempotent on (channel account, provider id).

    With `reference_for`, a reference for that month is taken for a new input
    (channels that show the complainant a reference at once); with `reference`, the
    input is archived under one taken earlier (a caller heard it before the archive).

    A re-delivery is answered from the first row without writing its bytes
    again; two deliveries racing each other meet at the unique key.
    """
    existing = await _existing(session, channel_account_id, provider_id)
    if existing is not None:
        return existing
    digest = await store_blob(session, data)
    if reference is None and reference_for is not None:
        reference = await allocate_reference(session, reference_for)
    now = utcnow()
    values = {
        "channel_account_id": channel_account_id,
        "provider_id": provider_id,
        "sha256": digest,
        "media_type": media_type,
        "received_at": received_at or now,
        "meta": meta or {},
        "reference": reference,
        "state": state.value,
        "attempts": 0,
        "updated_at": now,
    }
    raw_id = (await session.execute(_INSERT_RAW(session), values)).scalar_one_or_none()
    if raw_id is not None:
        return Archived(raw_id, digest, False, reference, meta or {})
    raced = await _existing(session, channel_account_id, provider_id)
    assert raced is not None, "conflicting row vanished"
    return raced


async def _existing(
    session: AsyncSession, channel_account_id: int, provider_id: str
) -> Archived | None:
    row = (
        await session.execute(
            _FIND_RAW, {"account_id": channel_account_id, "provider_id": provider_id}
        )
    ).first()
    if row is None:
        return None
    return Archived(row.id, row.sha256, True, row.reference, dict(row.meta or {}))
