"""Chat messages in bulk: keep many webhook items in one transaction, join them later.

A webhook must only make a message durable before it answers: its raw row (unique
per account + provider id, so the networks' retries are recognised) and an inbox
row saying "join me to my conversation". `accept_chat_batch` writes those for the
items of many concurrent requests at once. `group_chat_messages` then joins waiting
messages to their senders' conversations in arrival order, a few hundred per
transaction, under one lock so two passes never split one person's messages.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk_statements import INSERT_BLOBS, INSERT_RAWS_WITH_ACCOUNT
from storage.conversations import OPEN, ChatAccepted, ChatMessage, ChatWindow, open_key
from storage.db import utcnow
from storage.history import record_events
from storage.records import RawState
from storage.tables import RawMessage, table_of
from storage.tables_social import ChatConversation, ChatConversationMessage, ChatInbox

_RAW = table_of(RawMessage)
_INBOX = table_of(ChatInbox)
_MESSAGE = table_of(ChatConversationMessage)
_FIND_RAWS = select(_RAW.c.id, _RAW.c.provider_id).where(
    _RAW.c.channel_account_id == bindparam("account_id"),
    _RAW.c.provider_id.in_(bindparam("provider_ids", expanding=True)),
)
# Any constant shared by every process: PostgreSQL serialises grouping passes on it.
_GROUPING_LOCK = text("SELECT pg_advisory_xact_lock(7305120431)")

Key = tuple[int, str]  # (channel account id, provider id)


@dataclass(frozen=True)
class ChatIntake:
    """One item of a webhook delivery; `message` None keeps the delivery only."""

    account_id: int
    account_name: str
    provider_id: str
    data: bytes
    media_type: str
    message: ChatMessage | None
    window: ChatWindow
    meta: dict[str, Any] | None = None


async def _stored_ids(session: AsyncSession, keys: set[Key]) -> dict[Key, int]:
    """The raw ids of those (account, provider id) already stored: one prebuilt (so compiled
    once) query per account, most batches holding one or two accounts."""
    by_account: dict[int, list[str]] = defaultdict(list)
    for account_id, provider_id in keys:
        by_account[account_id].append(provider_id)
    found: dict[Key, int] = {}
    for account_id, provider_ids in by_account.items():
        rows = await session.execute(
            _FIND_RAWS, {"account_id": account_id, "provider_ids": provider_ids}
        )
        found.update({(account_id, provider_id): raw_id for raw_id, provider_id in rows})
    return found


async def accept_chat_batch(
    session: AsyncSession, items: list[ChatIntake], received_at: datetime | None = None
) -> list[ChatAccepted]:
    """Archive every item and queue its message for grouping; one answer per item, in order.

    An item whose (account, provider id) is already stored, or repeats an earlier item of
    the batch, is a duplicate: nothing is written for it.
    """
    now = received_at or utcnow()
    keys = [(item.account_id, item.provider_id) for item in items]
    known = await _stored_ids(session, set(keys))
    fresh: dict[Key, ChatIntake] = {}
    for key, item in zip(keys, items, strict=True):
        if key not in known and key not in fresh:
            fresh[key] = item
    created: dict[Key, int] = {}
    if fresh:
        digests = {key: hashlib.sha256(item.data).hexdigest() for key, item in fresh.items()}
        blobs = {digests[key]: item.data for key, item in fresh.items()}
        await session.execute(
            INSERT_BLOBS(session),
            [
                {"sha256": digest, "size": len(data), "data": data, "created_at": now}
                for digest, data in blobs.items()
            ],
        )
        rows = await session.execute(
            INSERT_RAWS_WITH_ACCOUNT(session),
            [_raw_values(item, digests[key], now) for key, item in fresh.items()],
        )
        created = {(account_id, provider_id): raw_id for raw_id, account_id, provider_id in rows}
        raced = set(fresh) - set(created)  # another process stored them in the meantime
        if raced:
            known.update(await _stored_ids(session, raced))
        await _keep_new(session, {key: fresh[key] for key in created}, created, now)
    answers = []
    for key in keys:
        if key in created:  # its first item is new, any repeat in this batch a duplicate
            answers.append(ChatAccepted(created[key], False, None))
            known[key] = created.pop(key)
        else:
            answers.append(ChatAccepted(known[key], True, None))
    return answers


def _raw_values(item: ChatIntake, digest: str, now: datetime) -> dict[str, Any]:
    state = RawState.GROUPED if item.message else RawState.IGNORED
    return {
        "channel_account_id": item.account_id,
        "provider_id": item.provider_id,
        "sha256": digest,
        "media_type": item.media_type,
        "received_at": now,
        "meta": item.meta or {},
        "reference": None,
        "state": state.value,
        "attempts": 0,
        "error": None,
        "claimed_at": None,
        "updated_at": now,
    }


async def _keep_new(
    session: AsyncSession, items: dict[Key, ChatIntake], raw_ids: dict[Key, int], now: datetime
) -> None:
    """The history rows of newly kept items, and the inbox rows of their messages."""
    await record_events(
        session,
        [
            {
                "action": "received",
                "raw_id": raw_ids[key],
                "detail": {"channel_account": item.account_name, "bytes": len(item.data)},
            }
            for key, item in items.items()
        ],
    )
    waiting = [
        {
            "raw_id": raw_ids[key],
            "channel_account_id": item.account_id,
            "provider_id": item.provider_id,
            "person": item.message.person,
            "at": item.message.at,
            "received_at": now,
            "content": item.message.content,
            "closes": item.message.closes,
            "quiet_seconds": item.window.quiet_seconds,
            "follow_up_seconds": item.window.follow_up_seconds,
        }
        for key, item in items.items()
        if item.message is not None
    ]
    if waiting:
        await session.execute(_INBOX.insert(), waiting)


async def waiting_messages(session: AsyncSession) -> int:
    """How many kept messages still wait for their conversation."""
    return int(await session.scalar(select(func.count()).select_from(_INBOX)) or 0)


async def group_chat_messages(session: AsyncSession, limit: int = 500) -> int:
    """Join up to `limit` waiting messages to their conversations, oldest first.

    A sender without an open conversation gets a new one, continuing their last
    closed one when it closed within the follow-up window. A window counts from
    when the webhook kept the message, so a pass that runs late (after a restart)
    closes nothing later than it should. Returns how many messages were joined.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_GROUPING_LOCK)
    waiting = list(
        (await session.execute(select(ChatInbox).order_by(ChatInbox.id).limit(limit))).scalars()
    )
    if not waiting:
        return 0
    keys = {open_key(row.channel_account_id, row.person) for row in waiting}
    current = {
        conversation.open_key: conversation
        for conversation in (
            await session.execute(
                select(ChatConversation)
                .where(ChatConversation.open_key.in_(keys))
                .order_by(ChatConversation.id)  # the order closing locks them in
                .with_for_update()
            )
        ).scalars()
    }
    starting = [r for r in waiting if open_key(r.channel_account_id, r.person) not in current]
    targets = await _follow_up_targets(session, starting)
    joined: list[tuple[ChatConversation, ChatInbox]] = []
    for row in waiting:
        key = open_key(row.channel_account_id, row.person)
        conversation = current.get(key)
        if conversation is None:
            conversation = current[key] = ChatConversation(
                channel_account_id=row.channel_account_id,
                person=row.person,
                open_key=key,
                state=OPEN,
                follow_up_of=targets.get((row.channel_account_id, row.person)),
                message_count=0,
                opened_at=row.received_at,
                last_message_at=row.received_at,
                due_at=row.received_at,
            )
            session.add(conversation)
        conversation.message_count += 1
        conversation.last_message_at = row.received_at
        quiet = timedelta(seconds=0 if row.closes else row.quiet_seconds)
        conversation.due_at = row.received_at + quiet
        if row.closes:
            conversation.close_reason = row.closes
        joined.append((conversation, row))
    await session.flush()  # the new conversations' ids
    await session.execute(
        _MESSAGE.insert(),
        [
            {
                "conversation_id": conversation.id,
                "raw_id": row.raw_id,
                "provider_id": row.provider_id,
                "at": row.at,
                "content": row.content,
            }
            for conversation, row in joined
        ],
    )
    await session.execute(delete(ChatInbox).where(ChatInbox.id.in_([row.id for row in waiting])))
    return len(waiting)


async def _follow_up_targets(
    session: AsyncSession, starting: list[ChatInbox]
) -> dict[tuple[int, str], str]:
    """(account id, person) → the reference a new conversation continues, where recent."""
    if not starting:
        return {}
    since = {
        (row.channel_account_id, row.person): row.received_at
        - timedelta(seconds=row.follow_up_seconds)
        for row in reversed(starting)  # the first message of each sender decides
    }
    rows = await session.execute(
        select(
            ChatConversation.channel_account_id,
            ChatConversation.person,
            ChatConversation.reference,
            ChatConversation.closed_at,
        )
        .where(
            ChatConversation.person.in_({person for _, person in since}),
            ChatConversation.state == "closed",
            ChatConversation.reference.is_not(None),
            ChatConversation.closed_at >= min(since.values()),
        )
        .order_by(ChatConversation.closed_at)
    )
    targets: dict[tuple[int, str], str] = {}
    for account_id, person, reference, closed_at in rows:
        limit = since.get((account_id, person))
        if limit is not None and closed_at is not None and reference and closed_at >= limit:
            targets[(account_id, person)] = reference  # the latest wins (ascending order)
    return targets
