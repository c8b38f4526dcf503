"""What the classifier is given: text and the structural facts a channel knows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Structural hints a channel may pass (see docs/classification.md).
AUTO_REPLY = "auto_reply"
CALLER_WITHHELD = "caller_withheld"
ANONYMOUS = "anonymous"

_CONTACT_KEYS = ("phone", "phones", "email", "handle", "address")


@dataclass(frozen=True, slots=True)
class ClassifierInput:
    """One complaint as the classifier sees it.

    `complainant` uses the LABELS.md keys (name, phone or phones, email, handle, address);
    `hints` carries channel facts such as an RFC 3834 auto-reply header.
    """

    text: str = ""
    subject: str | None = None
    channel: str | None = None
    complainant: Mapping[str, Any] = field(default_factory=dict)
    received_at: datetime | None = None
    hints: Sequence[str] = ()
    id: str | None = None

    def complainant_has_contact(self) -> bool:
        """A phone, e-mail, handle or address the channel itself knows."""
        for key in _CONTACT_KEYS:
            value = self.complainant.get(key) if self.complainant else None
            if isinstance(value, str) and value.strip():
                return True
            if isinstance(value, list | tuple) and any(str(v).strip() for v in value):
                return True
        return False

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ClassifierInput:
        """Build from one JSON line in the LABELS.md format (unknown keys are ignored)."""
        received = record.get("received_at")
        when: datetime | None = None
        if isinstance(received, datetime):
            when = received
        elif isinstance(received, str) and received.strip():
            try:
                when = datetime.fromisoformat(received.strip().replace("Z", "+00:00"))
            except ValueError:
                when = None
        complainant = record.get("complainant")
        hints = record.get("hints") or ()
        return cls(
            text=str(record.get("text") or record.get("body") or ""),
            subject=str(record["subject"]) if record.get("subject") else None,
            channel=str(record["channel"]) if record.get("channel") else None,
            complainant=complainant if isinstance(complainant, Mapping) else {},
            received_at=when,
            hints=tuple(str(h) for h in hints) if isinstance(hints, list | tuple) else (),
            id=str(record["id"]) if record.get("id") is not None else None,
        )
