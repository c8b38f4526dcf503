"""What the four social kinds share: the webhook flow, closing conversations, normalising.

A webhook delivery goes: account (404 unknown, 403 disabled) → size (413) →
signature (403, nothing kept) → parse (400, the body kept as a failed input
with the reason) → every item archived and queued for its conversation (a
re-delivery is recognised by the network's id) → the network's answer.
Nothing heavier happens while the network waits.

Concurrent deliveries share one transaction (`intake.GroupCommit`); a
grouping pass joins the kept messages to conversations shortly after.
`periodic` runs that pass too, then closes conversations whose quiet window
has passed: it fetches their media, then archives each conversation as one
input for the pipeline, a batch of conversations per transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar

import aiohttp
from aiohttp import web

from channels.base import AccountView, AcknowledgeError, ChannelHost, ChannelType, RawInput
from channels.social.closing import close_reason
from channels.social.conversation import (
    CONVERSATION_MEDIA_TYPE,
    Downloader,
    Postpone,
    build_document,
    normalise_conversation,
)
from channels.social.intake import intake_of
from channels.social.message import Inbound
from channels.social.replies import acknowledgement_text, handle_of
from channels.social.settings import SocialSettings
from storage.chat_intake import ChatIntake
from storage.conversations import ChatMessage, DueConversation
from storage.db import utcnow
from storage.records import ChannelKind, ComplaintDraft
from storage.ttl_cache import TtlCache

log = logging.getLogger(__name__)
S = TypeVar("S", bound=SocialSettings)
ACCOUNT_CACHE_SECONDS = 2.0  # an account older than this is refreshed behind the answer
ACCOUNT_MAX_AGE_SECONDS = 30.0  # an older one is not answered: the webhook waits for a lookup
ACCOUNT_CACHE_SIZE = 1000
CLOSE_ATTEMPTS = 3  # a conversation waits this many ticks for media that failed to download
CLOSE_CONCURRENCY = 8  # media downloads at once
CLOSE_FETCH = 100  # due conversations one round reads
CLOSE_BATCH = 10  # conversations closed per transaction (short, so webhooks are not held)
CLOSE_ROUNDS = 20  # rounds one periodic run makes at most


class Refused(Exception):
    """The request is refused before anything is kept (bad signature, unknown account…)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Malformed(Exception):
    """An authenticated body that cannot be read; it is kept as a failed input."""


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class _Accounts:
    """Accounts (and their validated settings) remembered for a moment, so webhooks seldom
    wait on the database for them (`storage.ttl_cache`): an entry older than
    ACCOUNT_CACHE_SECONDS is still answered while one refresh runs behind it, concurrent
    misses share one lookup, and none older than ACCOUNT_MAX_AGE_SECONDS is answered. So a
    disabled account is refused within ACCOUNT_MAX_AGE_SECONDS plus one lookup, and one
    receiving deliveries within about ACCOUNT_CACHE_SECONDS plus one lookup."""

    def __init__(self, host: ChannelHost) -> None:
        self.host = host
        self._seen: TtlCache[str, AccountView | None] = TtlCache(
            ACCOUNT_MAX_AGE_SECONDS, ACCOUNT_CACHE_SIZE, refresh_after=ACCOUNT_CACHE_SECONDS
        )
        self._settings: dict[str, tuple[AccountView, Any]] = {}

    async def get(self, name: str) -> AccountView | None:
        return await self._seen.get(name, self.host.account)

    def settings(self, account: AccountView, kind: SocialKind[Any]) -> Any:
        known = self._settings.get(account.name)
        if known is not None and known[0] is account:
            return known[1]
        settings = kind.settings_of(account)
        self._settings[account.name] = (account, settings)
        return settings


class SocialKind(ChannelType, Generic[S]):
    """Base of `social.*` kinds; a network supplies parsing, checks, downloads and sending."""

    family = ChannelKind.SOCIAL
    acknowledges = True
    network: ClassVar[str]  # the path segment and the handle prefix
    body_media_type: ClassVar[str] = "application/json"
    settings_model: ClassVar[type[SocialSettings]]

    def __init__(self) -> None:
        self._close_attempts: dict[int, int] = {}

    # -- what a network supplies -------------------------------------------------------

    def settings_of(self, account: AccountView) -> S:
        return self.settings_model.model_validate(account.settings)  # type: ignore[return-value]

    def verify(self, request: web.Request, body: bytes, settings: S, host: ChannelHost) -> bytes:
        """Check the signature (raise Refused); return the body to parse (decrypted)."""
        raise NotImplementedError

    def parse(self, request: web.Request, body: bytes, settings: S) -> list[Inbound]:
        """The delivery's items; raise Malformed for a body that cannot be read."""
        raise NotImplementedError

    def answer(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    async def verification(
        self, request: web.Request, account: AccountView, settings: S, host: ChannelHost
    ) -> web.StreamResponse:
        """The GET a network sends to check the URL (Meta, WeChat)."""
        return error(405, "method_not_allowed", "this webhook takes POST only")

    def downloader(
        self, account: AccountView, settings: S, host: ChannelHost, http: aiohttp.ClientSession
    ) -> Downloader:
        raise NotImplementedError

    async def send_text(
        self, account: AccountView, settings: S, recipient: str, text: str, host: ChannelHost
    ) -> str:
        raise NotImplementedError

    # -- the shared flow ---------------------------------------------------------------

    def path(self) -> str:
        return f"/hooks/{self.network}/{{account}}"

    def routes(self, host: ChannelHost) -> list[web.AbstractRouteDef]:
        accounts = _Accounts(host)
        return [
            web.post(self.path(), partial(self._receive, host=host, accounts=accounts)),
            web.get(self.path(), partial(self._verify_url, host=host, accounts=accounts)),
        ]

    async def _account(self, request: web.Request, accounts: _Accounts) -> AccountView:
        account = await accounts.get(request.match_info["account"])
        if account is None or account.kind != self.kind:
            raise Refused(404, "unknown_channel_account", "no such channel account")
        if not account.enabled:
            raise Refused(403, "channel_disabled", f"channel account {account.name} is disabled")
        return account

    async def _verify_url(
        self, request: web.Request, *, host: ChannelHost, accounts: _Accounts
    ) -> web.StreamResponse:
        try:
            account = await self._account(request, accounts)
            return await self.verification(request, account, self.settings_of(account), host)
        except Refused as exc:
            return error(exc.status, exc.code, str(exc))

    async def _receive(
        self, request: web.Request, *, host: ChannelHost, accounts: _Accounts
    ) -> web.StreamResponse:
        try:
            account = await self._account(request, accounts)
            settings: S = accounts.settings(account, self)
            body = await _read_bounded(request, settings.max_body_bytes)
            try:
                readable = self.verify(request, body, settings, host)
            except ValueError as exc:  # a secret reference that cannot be resolved
                log.error("social account misconfigured", extra={"account": account.name})
                raise Refused(503, "channel_misconfigured", "the account cannot check") from exc
            try:
                items = self.parse(request, readable, settings)
            except Malformed as exc:
                raw_id = await self._keep_malformed(host, account, body, str(exc))
                return web.json_response(
                    {"error": {"code": "malformed", "message": str(exc), "raw_id": raw_id}},
                    status=400,
                )
        except Refused as exc:
            return error(exc.status, exc.code, str(exc))
        await self._accept_all(host, account, settings, body, items)
        return self.answer(request)

    async def _keep_malformed(
        self, host: ChannelHost, account: AccountView, body: bytes, reason: str
    ) -> int:
        """Keep the body; its normaliser refuses it with `reason`, so it waits in `failed`."""
        accepted = await host.accept(
            account,
            provider_id=f"malformed:{hashlib.sha256(body).hexdigest()}",
            data=body,
            media_type=self.body_media_type,
            meta={"error": f"malformed {self.network} webhook: {reason}"},
        )
        log.warning("malformed social webhook kept", extra={"raw_id": accepted.raw_id})
        return accepted.raw_id

    async def _accept_all(
        self,
        host: ChannelHost,
        account: AccountView,
        settings: S,
        body: bytes,
        items: list[Inbound],
    ) -> None:
        """Keep every item (raw row + inbox row, shared with concurrent requests' items in one
        transaction); the conversations are joined by a grouping pass behind the answer."""
        if not items:  # a delivery with nothing in it is still kept
            items = [Inbound(f"sha256:{hashlib.sha256(body).hexdigest()}", "", utcnow(), None)]
        window = settings.window
        batch = [
            ChatIntake(
                account_id=account.id,
                account_name=account.name,
                provider_id=item.provider_id,
                data=body,
                media_type=self.body_media_type,
                message=None
                if item.message is None
                else ChatMessage(
                    person=item.person,
                    at=item.at,
                    content=item.message.model_dump(mode="json", exclude_none=True),
                    closes=close_reason(item.message.text, settings),
                ),
                window=window,
                meta=item.meta,
            )
            for item in items
        ]
        intake = intake_of(host)
        accepted = await intake.commit.submit(batch)
        if any(not answer.duplicate for answer in accepted):
            intake.grouping.kick()

    async def periodic(self, host: ChannelHost) -> None:
        """Join waiting messages, then close the conversations whose window has passed (each
        becomes one input), a batch per transaction."""
        await intake_of(host).grouping.drain()
        async with aiohttp.ClientSession() as http:
            for _ in range(CLOSE_ROUNDS):
                due = await host.due_conversations(self.kind, limit=CLOSE_FETCH)
                closed = await self._close_due(host, http, due)
                if len(due) < CLOSE_FETCH or not closed:
                    return

    async def _close_due(
        self, host: ChannelHost, http: aiohttp.ClientSession, due: list[DueConversation]
    ) -> int:
        limit = asyncio.Semaphore(CLOSE_CONCURRENCY)
        accounts = {name: await host.account(name) for name in {c.account for c in due}}

        async def one(
            conversation: DueConversation,
        ) -> tuple[DueConversation, bytes, list[bytes]] | None:
            async with limit:
                return await self._document(
                    accounts[conversation.account], host, http, conversation
                )

        ready = [done for done in await asyncio.gather(*(one(c) for c in due)) if done]
        closed = 0
        for start in range(0, len(ready), CLOSE_BATCH):
            outcome = await host.close_conversations(
                ready[start : start + CLOSE_BATCH], media_type=CONVERSATION_MEDIA_TYPE
            )
            closed += sum(1 for done in outcome if done is not None)
            await asyncio.sleep(0)  # webhooks waiting run between transactions
        return closed

    async def _document(
        self,
        account: AccountView | None,
        host: ChannelHost,
        http: aiohttp.ClientSession,
        conversation: DueConversation,
    ) -> tuple[DueConversation, bytes, list[bytes]] | None:
        """The conversation's document and media; None while its media should be retried."""
        download = None
        if account is not None:
            download = self.downloader(account, self.settings_of(account), host, http)
        attempt = self._close_attempts.get(conversation.id, 0) + 1
        try:
            data, media = await build_document(
                self.network, conversation, download, final=attempt >= CLOSE_ATTEMPTS
            )
        except Postpone as exc:
            self._close_attempts[conversation.id] = attempt
            log.info(
                "conversation waits for its media",
                extra={"conversation_id": conversation.id, "error": str(exc)},
            )
            return None
        self._close_attempts.pop(conversation.id, None)
        return conversation, data, media

    def normalise(self, raw: RawInput) -> ComplaintDraft:
        return normalise_conversation(raw, self.family)

    async def acknowledge(
        self, account: AccountView, acknowledgement: dict[str, Any], host: ChannelHost
    ) -> str:
        settings = self.settings_of(account)
        recipient = handle_of(acknowledgement, self.handle_prefix(acknowledgement))
        if recipient is None:
            raise AcknowledgeError(f"no {self.network} handle to answer", retry=False)
        text = acknowledgement_text(acknowledgement, settings.language)
        return await self.send_text(account, settings, recipient, text, host)

    def handle_prefix(self, acknowledgement: dict[str, Any]) -> str:
        return self.network

    def webhook_url(self, account: AccountView, host: ChannelHost) -> str:
        return f"{host.public_base_url}/hooks/{self.network}/{account.name}"


async def _read_bounded(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, "body_too_large", f"the body exceeds {limit} bytes")
    data = await request.content.read(limit + 1)
    if len(data) > limit:
        raise Refused(413, "body_too_large", f"the body exceeds {limit} bytes")
    return data
