"""The hotline's call state: one row per webhook step of a call, keyed by CallSid.

Twilio calls a new URL for every step of a call and any front-end copy may
answer it, so what the caller said so far must live in the database. A step
is written once: a retried callback hits the unique key and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, BigId, Json, TZDateTime


class HotlineCallStep(Base):
    """The parameters one webhook step of a call was called with."""

    __tablename__ = "hotline_call_step"
    __table_args__ = (
        UniqueConstraint(
            "channel_account_id", "call_sid", "step", name="uq_hotline_call_step_account_call_step"
        ),
        Index("ix_hotline_call_step_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel_account_id: Mapped[int] = mapped_column(ForeignKey("channel_account.id"))
    call_sid: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
