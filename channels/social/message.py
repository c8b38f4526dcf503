"""One chat message as the networks' parsers produce it and conversations keep it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class MediaRef(BaseModel):
    """Where a network keeps a photo, voice note or file (fetched when the conversation closes)."""

    kind: str  # image, voice, video, document
    ref: str  # a URL, file id or media id, as the network's API needs it
    media_type: str | None = None  # as declared; the bytes are sniffed when fetched
    name: str | None = None
    size: int | None = None


class Sender(BaseModel):
    name: str | None = None
    phone: str | None = None
    language: str | None = None


class SocialMessage(BaseModel):
    """The content of one message; `text` holds a voice note's transcript where given."""

    kind: str  # text, image, voice, video, document, location, link
    text: str = ""
    media: list[MediaRef] = Field(default_factory=list)
    sender: Sender = Field(default_factory=Sender)


@dataclass(frozen=True)
class Inbound:
    """One item of a webhook delivery: `message` None for receipts and events (kept only)."""

    provider_id: str
    person: str  # the network-prefixed handle: "telegram:42", "wechat:<openid>", …
    at: datetime
    message: SocialMessage | None
    meta: dict[str, Any] | None = None
