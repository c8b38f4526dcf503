"""Closing many conversations in one transaction with a handful of statements.

Each conversation still becomes exactly one raw input (`conversation:<id>`, unique
per account) in the same transaction as its state change, as closing them one by one
does one at a time; here the rows are locked together (in id order, as the
grouping pass locks them), and the blobs, references, raw rows, history rows and
state changes are written a statement each for the whole batch.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk_statements import INSERT_BLOBS, INSERT_RAWS
from storage.conversations import CLOSED, OPEN, ClosedConversation, DueConversation
from storage.db import utcnow
from storage.history import record_events
from storage.records import RawState
from storage.references import allocate_references
from storage.tables import RawMessage, TZDateTime, table_of
from storage.tables_social import ChatConversation

_RAW = table_of(RawMessage)
_CONVERSATION = table_of(ChatConversation)
_MARK_CLOSED = (
    update(_CONVERSATION)
    .where(_CONVERSATION.c.id == bindparam("conversation_id"))
    .values(
        state=CLOSED,
        open_key=None,
        closed_at=bindparam("closed_at", type_=TZDateTime()),
        raw_id=bindparam("closed_raw_id"),
        reference=bindparam("closed_reference"),
        close_reason=bindparam("closed_reason"),
        follow_up_of=bindparam("closed_follow_up_of"),
    )
)

Closing = tuple[DueConversation, bytes, list[bytes]]


async def close_conversation_batch(
    session: AsyncSession, closing: list[Closing], media_type: str
) -> list[ClosedConversation | None]:
    """Archive each conversation as one input and close it; None for one that changed since
    it was read (a message joined, or another process closed it)."""
    if not closing:
        return []
    rows = {
        row.id: row
        for row in await session.execute(
            select(
                _CONVERSATION.c.id,
                _CONVERSATION.c.state,
                _CONVERSATION.c.message_count,
                _CONVERSATION.c.channel_account_id,
                _CONVERSATION.c.opened_at,
                _CONVERSATION.c.close_reason,
            )
            .where(_CONVERSATION.c.id.in_(sorted(c.id for c, _, _ in closing)))
            .order_by(_CONVERSATION.c.id)
            .with_for_update()
        )
    }
    ready = [
        (conversation, data, media)
        for conversation, data, media in closing
        if (row := rows.get(conversation.id)) is not None
        and row.state == OPEN
        and row.message_count == conversation.message_count
    ]
    if not ready:
        return [None] * len(closing)
    now = utcnow()
    await _store_blobs(session, [blob for _, data, media in ready for blob in (*media, data)], now)
    references = await _references(session, [c for c, _, _ in ready], rows)
    values = []
    for conversation, data, _ in ready:
        row = rows[conversation.id]
        values.append(
            {
                "channel_account_id": row.channel_account_id,
                "provider_id": f"conversation:{conversation.id}",
                "sha256": hashlib.sha256(data).hexdigest(),
                "media_type": media_type,
                "received_at": now,
                "meta": {
                    "conversation_id": conversation.id,
                    "messages": row.message_count,
                    "follow_up_of": conversation.follow_up_of,
                },
                "reference": references.get(conversation.id),
                "state": RawState.RECEIVED.value,
                "attempts": 0,
                "error": None,
                "claimed_at": None,
                "updated_at": now,
            }
        )
    created = {
        provider_id: raw_id
        for raw_id, provider_id in await session.execute(INSERT_RAWS(session), values)
    }
    existing = await _archived_before(session, values, created)
    outcome: dict[int, ClosedConversation] = {}
    events, changes = [], []
    for conversation, _, _ in ready:
        row = rows[conversation.id]
        provider_id = f"conversation:{conversation.id}"
        if provider_id in created:
            closed = ClosedConversation(
                created[provider_id], references.get(conversation.id), False
            )
            events.append(
                {
                    "action": "received",
                    "raw_id": closed.raw_id,
                    "detail": {"conversation_id": conversation.id, "messages": row.message_count},
                }
            )
        else:
            closed = ClosedConversation(*existing[provider_id], True)
        outcome[conversation.id] = closed
        changes.append(
            {
                "conversation_id": conversation.id,
                "closed_at": now,
                "closed_raw_id": closed.raw_id,
                "closed_reference": closed.reference or conversation.follow_up_of,
                "closed_reason": row.close_reason or "quiet",
                "closed_follow_up_of": conversation.follow_up_of,
            }
        )
    await record_events(session, events)
    await session.execute(_MARK_CLOSED, changes)
    return [outcome.get(conversation.id) for conversation, _, _ in closing]


async def _store_blobs(session: AsyncSession, blobs: list[bytes], now: datetime) -> None:
    unique = {hashlib.sha256(data).hexdigest(): data for data in blobs}
    await session.execute(
        INSERT_BLOBS(session),
        [
            {"sha256": digest, "size": len(data), "data": data, "created_at": now}
            for digest, data in unique.items()
        ],
    )


async def _references(
    session: AsyncSession, conversations: list[DueConversation], rows: dict[int, Any]
) -> dict[int, str]:
    """A new reference for each conversation that is not a follow-up, by its opening month."""
    by_month: dict[str, list[DueConversation]] = defaultdict(list)
    for conversation in conversations:
        if not conversation.follow_up_of:
            by_month[rows[conversation.id].opened_at.strftime("%Y%m")].append(conversation)
    references: dict[int, str] = {}
    for month in by_month.values():
        opened = rows[month[0].id].opened_at
        taken = await allocate_references(session, opened, len(month))
        references.update(zip((c.id for c in month), taken, strict=True))
    return references


async def _archived_before(
    session: AsyncSession, values: list[dict[str, Any]], created: dict[str, int]
) -> dict[str, tuple[int, str | None]]:
    """Raw id and reference of conversation inputs that were archived already."""
    missing = [v for v in values if v["provider_id"] not in created]
    if not missing:
        return {}
    rows = await session.execute(
        select(_RAW.c.id, _RAW.c.provider_id, _RAW.c.reference).where(
            _RAW.c.channel_account_id.in_({v["channel_account_id"] for v in missing}),
            _RAW.c.provider_id.in_([v["provider_id"] for v in missing]),
        )
    )
    return {provider_id: (raw_id, reference) for raw_id, provider_id, reference in rows}
