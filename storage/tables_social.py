"""Tables of the social DM channels: chat conversations and the messages that make them.

A person's consecutive messages on one account form one conversation; it is
kept here (not in memory) so an open quiet window survives a restart and any
front-end process can close it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, BigId, Json, TZDateTime


class ChatConversation(Base):
    """One person's conversation on one account; `open_key` is set only while it is open,
    so the unique key allows one open conversation per (account, person)."""

    __tablename__ = "chat_conversation"
    __table_args__ = (
        Index("ix_chat_conversation_state_due", "state", "due_at"),
        Index("ix_chat_conversation_person", "channel_account_id", "person", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel_account_id: Mapped[int] = mapped_column(ForeignKey("channel_account.id"))
    person: Mapped[str] = mapped_column(String(256))
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)
    state: Mapped[str] = mapped_column(String(16))  # open, closed
    follow_up_of: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    close_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(TZDateTime())
    last_message_at: Mapped[datetime] = mapped_column(TZDateTime())
    due_at: Mapped[datetime] = mapped_column(TZDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    raw_id: Mapped[int | None] = mapped_column(ForeignKey("raw_message.id"), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ChatConversationMessage(Base):
    """One archived chat message in its conversation; a raw message joins at most once."""

    __tablename__ = "chat_message"
    __table_args__ = (Index("ix_chat_message_conversation", "conversation_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversation.id"))
    raw_id: Mapped[int] = mapped_column(ForeignKey("raw_message.id"), unique=True)
    provider_id: Mapped[str] = mapped_column(String(512))
    at: Mapped[datetime] = mapped_column(TZDateTime())
    content: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class ChatInbox(Base):
    """A chat message kept by its webhook but not yet joined to a conversation.

    The webhook writes this row with the raw message (one transaction) and answers;
    the grouping pass joins rows in id order, many at a time, and deletes them. A
    row left here by a stopped process is joined by the next pass.
    """

    __tablename__ = "chat_inbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    raw_id: Mapped[int] = mapped_column(ForeignKey("raw_message.id"), unique=True)
    channel_account_id: Mapped[int] = mapped_column(ForeignKey("channel_account.id"))
    provider_id: Mapped[str] = mapped_column(String(512))
    person: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(TZDateTime())  # as the network dates the message
    received_at: Mapped[datetime] = mapped_column(TZDateTime())  # windows count from here
    content: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    closes: Mapped[str | None] = mapped_column(String(16), nullable=True)
    quiet_seconds: Mapped[float] = mapped_column(Float)
    follow_up_seconds: Mapped[float] = mapped_column(Float)
