"""Database tables (SQLAlchemy 2 Core/ORM metadata) shared by SQLite and PostgreSQL.

The database is the source of truth for every state: queues only ever say
"look at row N", so every table that a job works on carries its own state
and a `claimed_at` stamp that lets a sweeper find work a dead process left.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TZDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class ChannelAccount(Base):
    """One mailbox, number, page, folder or API client intake point."""

    __tablename__ = "channel_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())


class Blob(Base):
    """Content-addressed bytes: raw inputs and attachments.

    Kept in the database so the archive row and its bytes commit in one
    transaction and every worker machine sees them without a shared disk.
    """

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())


class RawMessage(Base):
    """An archived input, unique per (channel account, provider id)."""

    __tablename__ = "raw_message"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "provider_id", name="uq_raw_account_provider"),
        Index("ix_raw_state_claimed", "state", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel_account_id: Mapped[int] = mapped_column(ForeignKey("channel_account.id"))
    provider_id: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    media_type: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(TZDateTime())
    meta: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())


class Complaint(Base):
    """One stored complaint record (SPEC §2); nested parts kept as JSON."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_contact_key", "contact_key"),
        Index("ix_complaint_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    raw_id: Mapped[int] = mapped_column(ForeignKey("raw_message.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_account: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="open")
    validity: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[datetime] = mapped_column(TZDateTime())
    record: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())


class Outbox(Base):
    """One message owed to one destination (route, acknowledgement or withdrawal)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TZDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())


class History(Base):
    """Audit trail: every state change of a raw message or complaint."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_complaint", "complaint_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), nullable=True)
    raw_id: Mapped[int | None] = mapped_column(ForeignKey("raw_message.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(TZDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class ReferenceCounter(Base):
    """Running number per month for `QC-YYYYMM-NNNNNN` references."""

    __tablename__ = "reference_counter"

    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class ApiKey(Base):
    """An API client's key; only the SHA-256 of the key is stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())


def table_of(model: type[Base]) -> Table:
    """A mapped class's Core table, typed as such (for ON CONFLICT and RETURNING)."""
    return cast(Table, model.__table__)
