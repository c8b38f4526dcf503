"""Chat conversations: many short messages of one person become one complaint.

Each chat message is archived and joined to its sender's open conversation in
one transaction, so a message is never archived without being joined, and a
re-delivered one (same provider id) is never joined twice. Closing archives the
whole conversation as one raw input (provider id `conversation:<id>`) in one
transaction with the state change, so a conversation becomes exactly one input
for the pipeline even when two processes try to close it at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.archive import archive_raw, store_blob
from storage.db import utcnow
from storage.history import record_event
from storage.records import RawState
from storage.tables import ChannelAccount, Complaint, RawMessage, table_of
from storage.tables_social import ChatConversation, ChatConversationMessage
from storage.upsert import insert_for

OPEN = "open"
CLOSED = "closed"
_PENDING_RAW = (RawState.RECEIVED.value, RawState.PROCESSING.value)


@dataclass(frozen=True)
class ChatMessage:
    """One message as its conversation keeps it; `content` is the channel's own JSON."""

    person: str
    at: datetime
    content: dict[str, Any]
    closes: str | None = None  # why this message ends the conversation now ("phrase", "form")


@dataclass(frozen=True)
class ChatWindow:
    """When a conversation closes, and how long a closed one takes follow-ups."""

    quiet_seconds: float = 180.0
    follow_up_seconds: float = 7 * 24 * 3600.0


@dataclass(frozen=True)
class ChatAccepted:
    raw_id: int
    duplicate: bool
    conversation_id: int | None


@dataclass(frozen=True)
class StoredMessage:
    raw_id: int
    provider_id: str
    at: datetime
    content: dict[str, Any]


@dataclass(frozen=True)
class DueConversation:
    """An open conversation whose window has passed, with its messages in order."""

    id: int
    account: str
    kind: str
    person: str
    follow_up_of: str | None
    opened_at: datetime
    message_count: int
    close_reason: str | None
    messages: list[StoredMessage] = field(default_factory=list)


@dataclass(frozen=True)
class ClosedConversation:
    raw_id: int
    reference: str | None
    duplicate: bool


def open_key(account_id: int, person: str) -> str:
    """The unique key of a sender's open conversation on one account."""
    return f"{account_id}/{person}"[:300]


_open_key = open_key


async def accept_chat_message(
    session: AsyncSession,
    *,
    account_id: int,
    account_name: str,
    provider_id: str,
    data: bytes,
    media_type: str,
    message: ChatMessage | None,
    window: ChatWindow,
    meta: dict[str, Any] | None = None,
    received_at: datetime | None = None,
) -> ChatAccepted:
    """Archive one chat delivery and join it to its conversation (`message` None: archive only)."""
    archived = await archive_raw(
        session,
        channel_account_id=account_id,
        provider_id=provider_id,
        data=data,
        media_type=media_type,
        received_at=received_at,
        meta=meta,
        state=RawState.GROUPED if message else RawState.IGNORED,
    )
    if archived.duplicate:
        return ChatAccepted(archived.raw_id, True, None)
    detail: dict[str, Any] = {"channel_account": account_name, "bytes": len(data)}
    conversation_id = None
    if message is not None:
        conversation_id = await _join(
            session, account_id, archived.raw_id, provider_id, message, window
        )
        detail["conversation_id"] = conversation_id
    await record_event(session, "received", raw_id=archived.raw_id, detail=detail)
    return ChatAccepted(archived.raw_id, False, conversation_id)


async def _join(
    session: AsyncSession,
    account_id: int,
    raw_id: int,
    provider_id: str,
    message: ChatMessage,
    window: ChatWindow,
) -> int:
    now = utcnow()
    key = _open_key(account_id, message.person)
    conversation_id = await _open_conversation(session, key)
    if conversation_id is None:
        follow_up_of = await _follow_up_target(
            session, account_id, message.person, now - timedelta(seconds=window.follow_up_seconds)
        )
        stmt = (
            insert_for(session, table_of(ChatConversation))
            .values(
                channel_account_id=account_id,
                person=message.person,
                open_key=key,
                state=OPEN,
                follow_up_of=follow_up_of,
                message_count=0,
                opened_at=now,
                last_message_at=now,
                due_at=now,
            )
            .on_conflict_do_nothing(index_elements=["open_key"])
            .returning(table_of(ChatConversation).c.id)
        )
        conversation_id = (await session.execute(stmt)).scalar_one_or_none()
        if conversation_id is None:  # another delivery of this person opened it first
            conversation_id = await _open_conversation(session, key)
            assert conversation_id is not None, "open conversation vanished"
    due = now if message.closes else now + timedelta(seconds=window.quiet_seconds)
    values: dict[str, Any] = {
        "message_count": ChatConversation.message_count + 1,
        "last_message_at": now,
        "due_at": due,
    }
    if message.closes:
        values["close_reason"] = message.closes
    await session.execute(
        update(ChatConversation).where(ChatConversation.id == conversation_id).values(**values)
    )
    session.add(
        ChatConversationMessage(
            conversation_id=conversation_id,
            raw_id=raw_id,
            provider_id=provider_id,
            at=message.at,
            content=message.content,
        )
    )
    await session.flush()
    return conversation_id


async def _open_conversation(session: AsyncSession, key: str) -> int | None:
    return (
        await session.execute(
            select(ChatConversation.id).where(ChatConversation.open_key == key).with_for_update()
        )
    ).scalar_one_or_none()


async def _follow_up_target(
    session: AsyncSession, account_id: int, person: str, since: datetime
) -> str | None:
    """The reference a new conversation continues: the person's last one, if recent."""
    return (
        await session.execute(
            select(ChatConversation.reference)
            .where(
                ChatConversation.channel_account_id == account_id,
                ChatConversation.person == person,
                ChatConversation.state == CLOSED,
                ChatConversation.closed_at >= since,
                ChatConversation.reference.is_not(None),
            )
            .order_by(ChatConversation.closed_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def _ordered_after_earlier() -> Any:
    """A follow-up waits while an earlier conversation of the same sender is still on its
    way to becoming a record (its input received or processing), so the follow-up is
    never processed before the record it continues exists (ordering per contact)."""
    earlier = aliased(ChatConversation)
    pending = (
        select(earlier.id)
        .join(RawMessage, RawMessage.id == earlier.raw_id)
        .where(
            earlier.channel_account_id == ChatConversation.channel_account_id,
            earlier.person == ChatConversation.person,
            earlier.state == CLOSED,
            RawMessage.state.in_(_PENDING_RAW),
        )
        .exists()
    )
    return or_(ChatConversation.follow_up_of.is_(None), ~pending)


async def due_conversations(
    session: AsyncSession, kind: str, limit: int = 100, now: datetime | None = None
) -> list[DueConversation]:
    """Open conversations of `kind`'s accounts whose quiet window has passed.

    A follow-up whose earlier conversations are not all stored yet is left for a later
    run; one whose parent never became a record (its input failed) is returned as a
    conversation of its own (`follow_up_of` None).
    """
    rows = (
        await session.execute(
            select(ChatConversation, ChannelAccount.name, ChannelAccount.kind)
            .join(ChannelAccount, ChannelAccount.id == ChatConversation.channel_account_id)
            .where(
                ChannelAccount.kind == kind,
                ChatConversation.state == OPEN,
                ChatConversation.due_at <= (now or utcnow()),
                _ordered_after_earlier(),
            )
            .order_by(ChatConversation.due_at)
            .limit(limit)
        )
    ).all()
    if not rows:
        return []
    ids = [row[0].id for row in rows]
    parents = {row[0].follow_up_of for row in rows if row[0].follow_up_of}
    stored = set()
    if parents:
        stored = set(
            (
                await session.execute(
                    select(Complaint.reference).where(Complaint.reference.in_(parents))
                )
            ).scalars()
        )
    messages: dict[int, list[StoredMessage]] = {conversation_id: [] for conversation_id in ids}
    for item in (
        await session.execute(
            select(ChatConversationMessage)
            .where(ChatConversationMessage.conversation_id.in_(ids))
            .order_by(ChatConversationMessage.at, ChatConversationMessage.id)
        )
    ).scalars():
        messages[item.conversation_id].append(
            StoredMessage(item.raw_id, item.provider_id, item.at, dict(item.content))
        )
    return [
        DueConversation(
            id=conversation.id,
            account=name,
            kind=kind_name,
            person=conversation.person,
            follow_up_of=(
                conversation.follow_up_of if conversation.follow_up_of in stored else None
            ),
            opened_at=conversation.opened_at,
            message_count=conversation.message_count,
            close_reason=conversation.close_reason,
            messages=messages[conversation.id],
        )
        for conversation, name, kind_name in rows
    ]


async def close_conversation(
    session: AsyncSession,
    conversation: DueConversation,
    *,
    data: bytes,
    media_type: str,
    media: Iterable[bytes] = (),
) -> ClosedConversation | None:
    """Archive the conversation as one raw input and close it; None when it changed meanwhile
    (a new message arrived, or another process closed it)."""
    row = (
        await session.execute(
            select(ChatConversation).where(ChatConversation.id == conversation.id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.state != OPEN or row.message_count != conversation.message_count:
        return None
    row.follow_up_of = conversation.follow_up_of  # as resolved when it became due
    for blob in media:
        await store_blob(session, blob)
    now = utcnow()
    archived = await archive_raw(
        session,
        channel_account_id=row.channel_account_id,
        provider_id=f"conversation:{row.id}",
        data=data,
        media_type=media_type,
        received_at=now,
        meta={
            "conversation_id": row.id,
            "messages": row.message_count,
            "follow_up_of": row.follow_up_of,
        },
        # a follow-up joins an existing complaint and takes no reference of its own
        reference_for=None if row.follow_up_of else row.opened_at,
    )
    reference = archived.reference
    if not archived.duplicate:
        await record_event(
            session,
            "received",
            raw_id=archived.raw_id,
            detail={"conversation_id": row.id, "messages": row.message_count},
        )
    row.state = CLOSED
    row.open_key = None
    row.closed_at = now
    row.raw_id = archived.raw_id
    row.reference = reference or row.follow_up_of
    row.close_reason = row.close_reason or "quiet"
    await session.flush()
    return ClosedConversation(archived.raw_id, reference, archived.duplicate)
