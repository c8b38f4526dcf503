"""Accepting input from any channel: archive first, then hand the row to the pipeline.

Every channel adapter calls `accept` with the provider's id for the input.
The blob, the `raw_message` row, its history row and (for channels that show
a reference at once) the reference are committed in one transaction; a
re-delivery comes back as a duplicate of the first row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update

from gateway import metrics
from gateway.services import Services
from storage.archive import archive_raw
from storage.archive_pg import archive_received
from storage.db import utcnow
from storage.history import record_event
from storage.records import RawState
from storage.tables import ChannelAccount, RawMessage


@dataclass(frozen=True)
class Accepted:
    raw_id: int
    sha256: str
    reference: str | None
    duplicate: bool
    meta: dict[str, Any]


async def accept(
    svc: Services,
    account: ChannelAccount,
    family: str,
    *,
    provider_id: str,
    data: bytes,
    media_type: str,
    meta: dict[str, Any] | None = None,
    received_at: datetime | None = None,
    reserve_reference: bool = False,
    reference: str | None = None,
    enqueue: bool = True,
) -> Accepted:
    detail = {"channel_account": account.name, "bytes": len(data)}
    archived = None
    if svc.engine.dialect.name == "postgresql" and reference is None:  # one statement
        now = utcnow()
        archived = await archive_received(
            svc.engine,
            channel_account_id=account.id,
            provider_id=provider_id,
            data=data,
            media_type=media_type,
            received_at=received_at or now,
            meta=meta or {},
            reference_for=(received_at or now) if reserve_reference else None,
            history_detail=detail,
            now=now,
        )
    if archived is None:
        async with svc.sessions.begin() as session:
            archived = await archive_raw(
                session,
                channel_account_id=account.id,
                provider_id=provider_id,
                data=data,
                media_type=media_type,
                received_at=received_at,
                meta=meta,
                reference_for=(received_at or utcnow()) if reserve_reference else None,
                reference=reference,
            )
            if not archived.duplicate:
                await record_event(session, "received", raw_id=archived.raw_id, detail=detail)
    if archived.duplicate:
        metrics.DUPLICATES.labels(family).inc()
    else:
        metrics.RECEIVED.labels(family).inc()
        if enqueue:
            await svc.enqueue("process", archived.raw_id)
    return Accepted(
        archived.raw_id, archived.sha256, archived.reference, archived.duplicate, archived.meta
    )


async def archive_rejected(
    svc: Services, account: ChannelAccount, *, data: bytes, media_type: str, error: str
) -> int:
    """Keep a copy of input we refused, in the `failed` state with the reason, for replay."""
    async with svc.sessions.begin() as session:
        archived = await archive_raw(
            session,
            channel_account_id=account.id,
            provider_id=f"rejected:{uuid.uuid4()}",
            data=data,
            media_type=media_type,
            state=RawState.FAILED,
        )
        await session.execute(
            update(RawMessage).where(RawMessage.id == archived.raw_id).values(error=error[:4000])
        )
        await record_event(
            session, "rejected", raw_id=archived.raw_id, detail={"error": error[:500]}
        )
    return archived.raw_id
