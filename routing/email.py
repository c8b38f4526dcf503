"""The `email` destination: a formatted message to a department mailbox through the relay.

The reference is in the subject (so replies thread and can be matched), the
record's fields are listed in the body, and the defect photos travel as
attachments when the destination may see `attachments`.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from pydantic import Field, field_validator

from routing.destinations import (
    Delivery,
    DeliveryError,
    DestinationError,
    DestinationTools,
    register_kind,
)
from routing.kind_settings import KindSettings
from routing.outcome import Outcome, Verdict

SUBJECTS = {
    "route": "New complaint",
    "escalation": "ESCALATION: major complaint",
    "review": "Complaint to review",
    "withdraw": "Withdrawn complaint",
    "overdue": "OVERDUE complaint",
    "repeat": "Repeat complaint",
    "batch": "BATCH incident",
}
BODY_FIELDS = (
    "reference",
    "received_at",
    "channel",
    "subject",
    "body",
    "classification",
    "product",
    "order_number",
    "amount",
    "complainant",
    "location",
    "occurred_at",
    "links",
    "due",
)


class EmailSettings(KindSettings):
    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)
    subject_prefix: str = "[Complaint]"
    attach_photos: bool = True
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, gt=0)

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        for value in values:
            local, at, domain = value.rpartition("<")[2].rstrip(">").partition("@")
            if not (local and at and "." in domain):
                raise ValueError(f"not an e-mail address: {value!r}")
        return values


def _text(payload: dict[str, Any]) -> str:
    complaint = payload.get("complaint") or {}
    lines = [f"Event: {payload.get('event')}", ""]
    for key in ("reason", "clock", "due_at", "withdraws", "incident", "members", "repeat_of"):
        if key in payload:
            lines.append(f"{key}: {json.dumps(payload[key], ensure_ascii=False)}")
    for key in BODY_FIELDS:
        value = complaint.get(key)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, indent=2)
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


class EmailSender:
    def __init__(self, name: str, settings: dict[str, Any], tools: DestinationTools):
        self.config = EmailSettings.model_validate(settings)
        if tools.send_mail is None:
            raise DestinationError(f"email destination {name!r} needs smtp_relay to be configured")
        self.name = name
        self._send_mail = tools.send_mail
        self._load_blob = tools.load_blob

    async def message(self, delivery: Delivery) -> EmailMessage:
        payload = delivery.payload
        complaint = payload.get("complaint") or {}
        reference = complaint.get("reference") or payload.get("reference", "")
        title = SUBJECTS.get(delivery.purpose, delivery.purpose)
        message = EmailMessage()
        message["To"] = ", ".join(self.config.to)
        if self.config.cc:
            message["Cc"] = ", ".join(self.config.cc)
        message["Subject"] = f"{self.config.subject_prefix} {reference} {title}".strip()
        message["Message-ID"] = make_msgid(domain="complaints.invalid")
        message["X-Idempotency-Key"] = delivery.idempotency_key
        message["X-Complaint-Reference"] = reference
        message.set_content(_text(payload))
        if self.config.attach_photos and delivery.purpose != "withdraw":
            await self._attach(message, complaint.get("attachments") or [])
        return message

    async def _attach(self, message: EmailMessage, attachments: list[dict[str, Any]]) -> None:
        if self._load_blob is None:
            return
        budget = self.config.max_attachment_bytes
        for item in attachments:
            media_type = str(item.get("media_type", ""))
            size = int(item.get("size", 0))
            if not media_type.startswith("image/") or size > budget:
                continue
            data = await self._load_blob(str(item.get("storage_key", "")))
            if data is None:
                continue
            maintype, _, subtype = media_type.partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=item["name"])
            budget -= size

    async def send(self, delivery: Delivery) -> Outcome:
        message = await self.message(delivery)
        try:
            await self._send_mail(message)
        except DeliveryError as exc:
            return Outcome(Verdict.RETRY if exc.retry else Verdict.DEAD, str(exc))
        return Outcome(Verdict.DELIVERED, f"mailed to {len(self.config.to)} recipient(s)")

    async def close(self) -> None:
        return None


register_kind("email", EmailSender)
