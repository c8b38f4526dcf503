"""Archiving many inputs of one channel account at once (an imported call-centre export).

One input at a time costs a transaction and a few round trips each; an export
of ten thousand calls needs the same guarantees in a few statements per chunk.
Idempotent like `storage.archive.archive_raw`: the (channel account, provider
id) unique key decides, so an input already archived (an earlier import of the
same file, or a concurrent one) comes back as a duplicate of its first row and
its bytes are not written again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.archive import Archived, content_hash
from storage.bulk_statements import INSERT_BLOBS, INSERT_RAWS
from storage.db import utcnow
from storage.history import record_events
from storage.records import RawState
from storage.tables import RawMessage, table_of

CHUNK = 500  # rows per statement: well under SQLite's bound-parameter limit

_RAW = table_of(RawMessage)
_FIND_RAWS = select(
    _RAW.c.id, _RAW.c.provider_id, _RAW.c.sha256, _RAW.c.reference, _RAW.c.meta
).where(
    _RAW.c.channel_account_id == bindparam("account_id"),
    _RAW.c.provider_id.in_(bindparam("provider_ids", expanding=True)),
)


@dataclass(frozen=True)
class NewInput:
    """One input to archive (the fields `archive_raw` takes)."""

    provider_id: str
    data: bytes
    media_type: str
    received_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)


async def archive_many(
    session: AsyncSession, channel_account_id: int, account_name: str, inputs: list[NewInput]
) -> list[Archived]:
    """Archive `inputs` in the caller's transaction; one answer per input, in order.

    A provider id given twice in `inputs` is archived once (the later ones are
    duplicates). New rows get a `received` history row, as `gateway.intake.accept` writes.
    """
    answers: dict[str, Archived] = {}
    for start in range(0, len(inputs), CHUNK):
        chunk = [i for i in inputs[start : start + CHUNK] if i.provider_id not in answers]
        answers.update(await _archive_chunk(session, channel_account_id, account_name, chunk))
    first: set[str] = set()
    out: list[Archived] = []
    for item in inputs:
        archived = answers[item.provider_id]
        repeat = item.provider_id in first
        first.add(item.provider_id)
        if repeat and not archived.duplicate:
            archived = Archived(archived.raw_id, archived.sha256, True, None, archived.meta)
        out.append(archived)
    return out


async def _find(
    session: AsyncSession, channel_account_id: int, provider_ids: list[str]
) -> dict[str, Any]:
    if not provider_ids:
        return {}
    rows = await session.execute(
        _FIND_RAWS, {"account_id": channel_account_id, "provider_ids": provider_ids}
    )
    return {row.provider_id: row for row in rows}


async def _archive_chunk(
    session: AsyncSession, channel_account_id: int, account_name: str, chunk: list[NewInput]
) -> dict[str, Archived]:
    unique: dict[str, NewInput] = {}
    for item in chunk:
        unique.setdefault(item.provider_id, item)
    before = await _find(session, channel_account_id, list(unique))
    fresh = [item for pid, item in unique.items() if pid not in before]
    now = utcnow()
    hashes = {item.provider_id: content_hash(item.data) for item in fresh}
    inserted: dict[str, int] = {}
    if fresh:
        blobs = {hashes[i.provider_id]: i.data for i in fresh}
        await session.execute(
            INSERT_BLOBS(session),
            [{"sha256": h, "size": len(d), "data": d, "created_at": now} for h, d in blobs.items()],
        )
        rows = await session.execute(
            INSERT_RAWS(session),
            [
                {
                    "channel_account_id": channel_account_id,
                    "provider_id": item.provider_id,
                    "sha256": hashes[item.provider_id],
                    "media_type": item.media_type,
                    "received_at": item.received_at or now,
                    "meta": item.meta,
                    "reference": None,
                    "state": RawState.RECEIVED.value,
                    "attempts": 0,
                    "updated_at": now,
                }
                for item in fresh
            ],
        )
        inserted = {provider_id: raw_id for raw_id, provider_id in rows}
    # A concurrent import may have won a row between the look-up and the insert.
    raced = await _find(session, channel_account_id, [p for p in hashes if p not in inserted])
    answers: dict[str, Archived] = {}
    events: list[dict[str, Any]] = []
    for pid, item in unique.items():
        row = before.get(pid) or raced.get(pid)
        if row is not None:
            answers[pid] = Archived(row.id, row.sha256, True, row.reference, dict(row.meta or {}))
            continue
        raw_id = inserted[pid]
        answers[pid] = Archived(raw_id, hashes[pid], False, None, item.meta)
        events.append(
            {
                "action": "received",
                "raw_id": raw_id,
                "detail": {"channel_account": account_name, "bytes": len(item.data)},
            }
        )
    await record_events(session, events)
    return answers
