"""Tables of the routing feature: the live routing table, SLA clocks, batch incidents
and supervisors' corrections kept as training examples.

The configuration file seeds `routing_destination` and `routing_route`
(`origin = "config"`); an edit through the CLI or the admin API marks a row
`origin = "runtime"`, and from then on the database wins over the file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, BigId, Json, TZDateTime


class RoutingDestination(Base):
    """A named downstream destination: its kind and the kind's settings (secrets by reference)."""

    __tablename__ = "routing_destination"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    origin: Mapped[str] = mapped_column(String(16), default="runtime")
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())


class RoutingRoute(Base):
    """One line of the routing table: a selector and the destinations it sends to.

    Selectors: `department:<name>`, `default`, `escalation`, `review`.
    """

    __tablename__ = "routing_route"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    selector: Mapped[str] = mapped_column(String(128), unique=True)
    destinations: Mapped[list[str]] = mapped_column(Json, default=list)
    origin: Mapped[str] = mapped_column(String(16), default="runtime")
    updated_at: Mapped[datetime] = mapped_column(TZDateTime())


class ComplaintClock(Base):
    """One SLA clock of a complaint: when it is due, when it was met, when it went overdue."""

    __tablename__ = "complaint_clock"
    __table_args__ = (
        UniqueConstraint("complaint_id", "clock", name="uq_complaint_clock_complaint_clock"),
        Index("ix_complaint_clock_open_due", "overdue_at", "met_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"))
    clock: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due_at: Mapped[datetime] = mapped_column(TZDateTime())
    met_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    overdue_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)


class BatchIncident(Base):
    """Several complaints about the same model / batch / fault inside a window (SPEC §6).

    `open_key` equals `key` while the incident is open and is NULL once closed,
    so the unique index allows one open incident per key.
    """

    __tablename__ = "batch_incident"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(TZDateTime())
    last_at: Mapped[datetime] = mapped_column(TZDateTime())
    members: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintBatchKey(Base):
    """The batch keys a valid complaint carries, to count look-alikes inside a window."""

    __tablename__ = "complaint_batch_key"
    __table_args__ = (Index("ix_complaint_batch_key_key_received", "key", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"))
    key: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(TZDateTime())


class CorrectionExample(Base):
    """A supervisor's correction as a labelled example for the next retraining."""

    __tablename__ = "correction_example"
    __table_args__ = (Index("ix_correction_example_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"))
    reference: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    labels: Mapped[dict[str, Any]] = mapped_column(Json)
    previous: Mapped[dict[str, Any]] = mapped_column(Json)
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
