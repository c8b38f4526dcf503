"""Accepting an input whose reference was taken before it was archived.

A voicemail's caller hears the reference before the call is archived: the call
waits (bounded) for Twilio's transcription so that it is classified with the
words in it. The reference was kept with the call's steps; here the input is
archived under it, in one transaction with its history row, and queued, as
`gateway.intake.accept` does for every other input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update

from gateway import metrics
from gateway.intake import Accepted
from gateway.services import Services
from storage.archive import archive_raw
from storage.history import record_event
from storage.tables import RawMessage


async def accept_with_reference(
    svc: Services,
    account_id: int,
    account_name: str,
    family: str,
    *,
    reference: str,
    provider_id: str,
    data: bytes,
    media_type: str,
    meta: dict[str, Any] | None = None,
    received_at: datetime | None = None,
) -> Accepted:
    """Archive and queue one input under `reference` (idempotent per provider id)."""
    async with svc.sessions.begin() as session:
        archived = await archive_raw(
            session,
            channel_account_id=account_id,
            provider_id=provider_id,
            data=data,
            media_type=media_type,
            received_at=received_at,
            meta=meta,
        )
        if not archived.duplicate:
            await session.execute(
                update(RawMessage)
                .where(RawMessage.id == archived.raw_id)
                .values(reference=reference)
            )
            await record_event(
                session,
                "received",
                raw_id=archived.raw_id,
                detail={"channel_account": account_name, "bytes": len(data)},
            )
    if archived.duplicate:
        metrics.DUPLICATES.labels(family).inc()
        return Accepted(archived.raw_id, archived.sha256, archived.reference, True, archived.meta)
    metrics.RECEIVED.labels(family).inc()
    await svc.enqueue("process", archived.raw_id)
    return Accepted(archived.raw_id, archived.sha256, reference, False, archived.meta)
