"""Chat conversations: many short messages of one person become one complaint.

Each chat message is archived and joined to its sender's open conversation in
one transaction, so a message is never archived without being joined, and a
re-delivered one (same provider id) is never joined twice. Closing archives the
whole conversation as one raw input (provider id `conversation:<id>`) in one
transaction with the state change, so a conversation becomes exactly one input
for the pipeline even when two processes try to close it at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import utcnow
from storage.records import RawState
from storage.tables import ChannelAccount, Complaint, RawMessage
from storage.tables_social import ChatConversation, ChatConversationMessage

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
