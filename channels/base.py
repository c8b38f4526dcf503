"""What every channel kind provides (DESIGN.md "Extension points").

A kind is a small object: its settings model, the channel family it feeds
(`storage.records.ChannelKind`), a pure normaliser from an archived raw
input to a `ComplaintDraft`, and optionally
- HTTP routes (webhooks, forms) built against a `ChannelHost`,
- a long-running listener per account (IMAP poll, SMTP server, folder watch),
- an acknowledgement sender (the reference back on the channel used).

Channels never import `gateway` or `routing`: everything they need from the
service comes through the `ChannelHost` the gateway hands them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, ClassVar, Protocol

from aiohttp import web
from pydantic import BaseModel

from storage.chat_intake import ChatIntake
from storage.conversations import (
    ChatAccepted,
    ClosedConversation,
    DueConversation,
)
from storage.records import ChannelKind, ComplaintDraft


class NormaliseError(ValueError):
    """The raw input cannot be turned into a draft; the message says why."""


@dataclass(frozen=True)
class RawInput:
    """An archived input as a normaliser sees it."""

    data: bytes
    media_type: str
    account: str
    provider_id: str
    received_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)
    # The account's settings when the input is processed (e.g. a letter's OCR threshold).
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountView:
    """A channel account as channels see it (settings hold secret references only)."""

    id: int
    name: str
    kind: str
    settings: dict[str, Any]
    enabled: bool


@dataclass(frozen=True)
class AcceptResult:
    """What the host did with an input: archived as `raw_id`, or found to be a re-delivery."""

    raw_id: int
    sha256: str
    reference: str | None
    duplicate: bool


@dataclass(frozen=True)
class BatchItem:
    """One input split out of an ingested file (`ChannelType.split_batch`).

    `error` marks a part that cannot be read: it is archived all the same (its
    normaliser refuses it, so it lands in the `failed` state for replay) and
    reported with `where` (a line number or index).
    """

    provider_id: str
    data: bytes
    media_type: str
    where: str
    received_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class AcknowledgeError(Exception):
    """An acknowledgement could not be sent; `retry` says whether trying again can help."""

    def __init__(self, detail: str, *, retry: bool = True) -> None:
        super().__init__(detail)
        self.retry = retry


class ChannelHost(Protocol):
    """The service as a channel sees it; implemented by `gateway.channel_host`."""

    async def accept(
        self,
        account: AccountView,
        *,
        provider_id: str,
        data: bytes,
        media_type: str,
        meta: dict[str, Any] | None = None,
        received_at: datetime | None = None,
        reserve_reference: bool = False,
        reference: str | None = None,
    ) -> AcceptResult:
        """Archive one input (idempotent per account + provider id) and queue it.
        `reserve_reference` takes a reference now; `reference` is one taken before
        (told to a caller before the input was complete)."""
        ...

    async def accept_many(
        self, account: AccountView, items: list[BatchItem], *, enqueue: bool = True
    ) -> list[AcceptResult]:
        """`accept` for many inputs of one account in one transaction (an imported file):
        one answer per item, in order; new ones are queued unless `enqueue` is False."""
        ...

    async def account(self, name: str) -> AccountView | None:
        """The named account, read fresh (accounts change while the service runs)."""
        ...

    async def accounts(self, kind: str) -> list[AccountView]:
        """All accounts of a kind, enabled or not."""
        ...

    def secret(self, reference: str) -> str:
        """Resolve an `env:NAME` / `file:/path` reference; raises ValueError if unreadable."""
        ...

    async def send_mail(self, message: EmailMessage) -> None:
        """Send through the configured SMTP relay; raises AcknowledgeError on failure."""
        ...

    async def keep_call_step(
        self, account: AccountView, call_sid: str, step: str, params: dict[str, Any]
    ) -> bool:
        """Keep one step of a phone call (hotline); False when it was kept before."""
        ...

    async def call_steps(
        self, account: AccountView, call_sid: str
    ) -> list[tuple[str, dict[str, Any], str]]:
        """The kept steps of a call as (step, parameters, ISO time), oldest first."""
        ...

    async def keep_call_step_with_reference(
        self,
        account: AccountView,
        call_sid: str,
        step: str,
        params: dict[str, Any],
        answered: tuple[str, dict[str, Any]] | None = None,
    ) -> str | None:
        """Keep a call step with a newly taken reference (`_reference`), and the step
        `answered` (step, params) if given, in one transaction; a retry gets the first
        reference back. None: kept before without one."""
        ...

    async def calls_waiting(
        self, account: AccountView, step: str, until: str, older_than_seconds: float
    ) -> list[str]:
        """CallSids with `step` kept longer ago than `older_than_seconds` and no `until` step."""
        ...

    async def purge_call_steps(self, account: AccountView, older_than_seconds: float) -> int:
        """Forget the account's call steps older than `older_than_seconds` (retention)."""
        ...

    async def complaint_status(self, reference: str, phone: str) -> str | None:
        """The status of complaint `reference` when `phone` (E.164) is one of its
        complainant's numbers; None otherwise, so a reference alone reveals nothing."""
        ...

    async def due_conversations(self, kind: str, limit: int = 100) -> list[DueConversation]:
        """Open conversations on `kind`'s accounts whose quiet window has passed."""
        ...

    async def accept_chat_batch(self, items: list[ChatIntake]) -> list[ChatAccepted]:
        """Archive many chat deliveries in one transaction (idempotent per account + provider
        id) and queue their messages for grouping; one answer per item, in order."""
        ...

    async def group_chat_messages(self, limit: int = 500) -> int:
        """Join up to `limit` queued chat messages to their conversations; how many were."""
        ...

    async def close_conversations(
        self, closing: list[tuple[DueConversation, bytes, list[bytes]]], *, media_type: str
    ) -> list[ClosedConversation | None]:
        """Archive each (conversation, document, media) as one input (its media kept as
        blobs), close it and queue it, in one transaction; None for a conversation that
        changed meanwhile (a new message came, another process closed it)."""
        ...

    async def public_status(self, reference: str, contact: str) -> dict[str, Any] | None:
        """Status and public history of `reference` when `contact` (a phone or e-mail) is one
        its complainant gave; None otherwise. Holds no personal data (web form look-up)."""
        ...

    @property
    def public_base_url(self) -> str:
        """The URL the outside world reaches this service at (for webhook URLs, signatures)."""
        ...


class ChannelType:
    """Base of channel kinds; subclasses set the class attributes and `normalise`."""

    kind: ClassVar[str]
    family: ClassVar[ChannelKind]
    settings_model: ClassVar[type[BaseModel]]
    description: ClassVar[str] = ""
    has_listener: ClassVar[bool] = False
    acknowledges: ClassVar[bool] = False
    # True when `normalise` is CPU-heavy (OCR): the pipeline then runs it off the event loop.
    cpu_bound: ClassVar[bool] = False

    def routes(self, host: ChannelHost) -> list[web.AbstractRouteDef]:
        """HTTP routes of this kind; paths carry the account name, so new accounts need
        no restart. Registered once when the app is built."""
        return []

    async def listen(self, account: AccountView, host: ChannelHost) -> None:
        """Run until cancelled, taking input for `account` (only if `has_listener`).

        The gateway starts one per enabled account, cancels it when the account
        is disabled, removed or changed, and restarts it with back-off if it
        raises; one broken account never stops the others.
        """
        raise NotImplementedError

    async def periodic(self, host: ChannelHost) -> None:
        """Housekeeping run every listener sync (e.g. close quiet chat windows); keep it short."""
        return None

    async def acknowledge(
        self, account: AccountView, acknowledgement: dict[str, Any], host: ChannelHost
    ) -> str:
        """Send the complainant their reference on this channel (only if `acknowledges`).

        `acknowledgement` holds `reference`, `language`, `complainant`, `subject`,
        `provider_ids`, `validity` and `reason`. Returns a short note of what was
        sent; raises AcknowledgeError on failure.
        """
        raise NotImplementedError

    def would_acknowledge(self, draft: ComplaintDraft) -> bool:
        """False when `acknowledge` would send nothing for this complaint whatever the
        account's settings (an imported call), so no acknowledgement is queued for it."""
        return self.acknowledges

    def validate_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Checked, defaulted settings as stored on the channel account."""
        return self.settings_model.model_validate(settings).model_dump(mode="json")

    def normalise(self, raw: RawInput) -> ComplaintDraft:
        raise NotImplementedError

    def split_file(self, name: str, data: bytes) -> list[bytes]:
        """The inputs in one back-fill file (`ingest`); an mbox holds many mails."""
        return [data]

    def split_batch(self, data: bytes, filename: str) -> list[BatchItem] | None:
        """Split one ingested file into several inputs (an export holding many calls),
        each with its own provider id so re-ingesting the file adds nothing; None (the
        default) keeps the file as one input."""
        return None

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        """What `channels test` reports: log in, list what is there, print webhook URLs."""
        return [f"{self.kind}: settings valid"]


SecretResolver = Callable[[str], str]
