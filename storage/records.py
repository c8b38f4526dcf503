"""The complaint record of SPEC §2 as typed values.

These types are the contract between the packages: channels produce a
`ComplaintDraft`, classifiers turn text and fields into a `Classification`,
the gateway stores a `ComplaintRecord`. They carry no persistence logic.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChannelKind(StrEnum):
    """The channel families of SPEC §2 (`channel` field)."""

    HOTLINE = "hotline"
    EMAIL = "email"
    WEBFORM = "webform"
    SOCIAL = "social"
    LETTER = "letter"
    API = "api"


class RawState(StrEnum):
    """Where an archived input stands in the pipeline."""

    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"  # e.g. an auto-reply that never becomes a complaint
    GROUPED = "grouped"  # a chat message: it becomes a record through its conversation


class DeliveryState(StrEnum):
    """Outbox row states; `delivered`, `dead` and `cancelled` are final."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"
    CANCELLED = "cancelled"  # superseded by a correction before it was sent


class Complainant(BaseModel):
    """Who complained; every field may be missing (anonymous is allowed in)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    phones: list[str] = Field(default_factory=list)
    email: str | None = None
    handle: str | None = None
    address: str | None = None
    language: str | None = None

    def has_contact(self) -> bool:
        """True when the complainant can be reached at all."""
        return bool(self.phones or self.email or self.handle or self.address)


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    specification: str | None = None
    serial: str | None = None
    quantity: int | None = None


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    media_type: str
    size: int
    sha256: str
    storage_key: str


class Classification(BaseModel):
    """What the classifiers decided, with why and by which versions (SPEC §4)."""

    validity: str = "valid"
    reason: str | None = None
    severity: str = "general"
    flags: list[str] = Field(default_factory=list)
    department: str | None = None
    confidence: dict[str, float] = Field(default_factory=dict)
    needs_review: bool = False
    explanation: list[str] = Field(default_factory=list)
    entities: dict[str, Any] = Field(default_factory=dict)
    rules_version: str = ""
    model_version: str = ""


class ComplaintDraft(BaseModel):
    """What a channel normaliser makes of one raw input, before classification."""

    channel: ChannelKind
    channel_account: str
    provider_ids: list[str] = Field(default_factory=list)
    received_at: datetime
    received_tz: str | None = None
    occurred_at: datetime | None = None
    location: str | None = None
    complainant: Complainant = Field(default_factory=Complainant)
    subject: str | None = None
    body: str = ""
    language: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    product: Product = Field(default_factory=Product)
    order_number: str | None = None
    amount: str | None = None
    # Structural hints from the channel (e.g. "auto_reply", "caller_withheld", "incomplete").
    hints: list[str] = Field(default_factory=list)
    # Set when this input continues an existing complaint (a reply carrying its reference,
    # a late message in a chat): the pipeline attaches it there instead of making a record.
    follow_up_of: str | None = None
    # Provider message ids this input answers (e-mail In-Reply-To / References): when no
    # reference names the complaint, the pipeline joins the one such a message belongs to.
    replies_to: list[str] = Field(default_factory=list)
    # What a channel knows beyond the common fields, for people and replays (a letter's
    # salutation, closing, date line, OCR confidence per page and transcript).
    channel_detail: dict[str, Any] = Field(default_factory=dict)
    # Attachment bytes by SHA-256, kept by the pipeline as blobs; never serialised.
    attachment_data: dict[str, bytes] = Field(default_factory=dict, exclude=True, repr=False)

    def add_attachment(self, name: str, media_type: str, data: bytes) -> Attachment:
        """Attach `data`; the pipeline stores it under `blob:<sha256>`."""
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(
            name=name,
            media_type=media_type,
            size=len(data),
            sha256=digest,
            storage_key=f"blob:{digest}",
        )
        self.attachment_data[digest] = data
        self.attachments.append(attachment)
        return attachment


class Link(BaseModel):
    kind: str  # "repeat", "reply", "batch"
    reference: str


class Delivery(BaseModel):
    destination: str
    state: DeliveryState
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any] = Field(default_factory=dict)


class FollowUp(BaseModel):
    """A later input that continues a complaint instead of opening a new one."""

    at: datetime
    raw_id: int
    channel_account: str
    body: str
    attachments: list[Attachment] = Field(default_factory=list)


class ComplaintRecord(ComplaintDraft):
    """A stored complaint: the draft plus its identity, decision, links and trail."""

    reference: str
    raw_id: int
    original: str  # archive key of the raw input
    classification: Classification = Field(default_factory=Classification)
    links: list[Link] = Field(default_factory=list)
    routing: list[Delivery] = Field(default_factory=list)
    due: dict[str, datetime] = Field(default_factory=dict)
    history: list[HistoryEntry] = Field(default_factory=list)
    follow_ups: list[FollowUp] = Field(default_factory=list)
    status: str = "open"
