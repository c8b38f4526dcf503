"""Tables of the e-mail channel: which complaint a Message-ID belongs to (threading)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, TZDateTime


class MessageThread(Base):
    """A provider message id (an e-mail Message-ID) and the complaint it belongs to.

    Filled for every input stored as a complaint or follow-up, so a later reply whose
    `In-Reply-To`/`References` names one of these ids joins the same complaint.
    """

    __tablename__ = "message_thread"
    __table_args__ = (Index("ix_message_thread_reference", "reference"),)

    message_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    reference: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(TZDateTime())
