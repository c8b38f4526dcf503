"""The service as channels see it: `channels.base.ChannelHost` over the gateway's services."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from channels.base import AcceptResult, AccountView, BatchItem
from channels.registry import get_kind
from gateway import metrics
from gateway.intake import accept
from gateway.mailer import send_via_relay
from gateway.public_status import public_status
from gateway.secrets import SecretError, resolve_secret
from gateway.services import Services
from storage.accounts import find_account
from storage.bulk_archive import NewInput, archive_many
from storage.chat_close import close_conversation_batch
from storage.chat_intake import ChatIntake, accept_chat_batch, group_chat_messages
from storage.conversations import (
    ChatAccepted,
    ClosedConversation,
    DueConversation,
    due_conversations,
)
from storage.db import utcnow
from storage.hotline_calls import (
    calls_waiting,
    keep_step,
    keep_step_with_reference,
    load_steps,
    purge_account_steps,
    status_for_caller,
)
from storage.tables import ChannelAccount


def account_view(account: ChannelAccount) -> AccountView:
    return AccountView(
        id=account.id,
        name=account.name,
        kind=account.kind,
        settings=dict(account.settings),
        enabled=account.enabled,
    )


class GatewayHost:
    """Implements `ChannelHost`; one per process, shared by routes and listeners."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

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
        async with self.svc.sessions() as session:
            row = await session.get(ChannelAccount, account.id)
        if row is None:
            raise LookupError(f"channel account {account.name} no longer exists")
        accepted = await accept(
            self.svc,
            row,
            get_kind(row.kind).family.value,
            provider_id=provider_id,
            data=data,
            media_type=media_type,
            meta=meta,
            received_at=received_at,
            reserve_reference=reserve_reference,
            reference=reference,
        )
        return AcceptResult(
            accepted.raw_id, accepted.sha256, accepted.reference, accepted.duplicate
        )

    async def accept_many(
        self, account: AccountView, items: list[BatchItem], *, enqueue: bool = True
    ) -> list[AcceptResult]:
        inputs = [
            NewInput(i.provider_id, i.data, i.media_type, i.received_at, i.meta) for i in items
        ]
        async with self.svc.sessions.begin() as session:
            archived = await archive_many(session, account.id, account.name, inputs)
        family = get_kind(account.kind).family.value
        for done in archived:
            (metrics.DUPLICATES if done.duplicate else metrics.RECEIVED).labels(family).inc()
            if enqueue and not done.duplicate:
                await self.svc.enqueue("process", done.raw_id)
        return [AcceptResult(a.raw_id, a.sha256, a.reference, a.duplicate) for a in archived]

    async def account(self, name: str) -> AccountView | None:
        async with self.svc.sessions() as session:
            row = await find_account(session, name)
        return account_view(row) if row else None

    async def accounts(self, kind: str) -> list[AccountView]:
        async with self.svc.sessions() as session:
            rows = (
                await session.execute(
                    select(ChannelAccount)
                    .where(ChannelAccount.kind == kind)
                    .order_by(ChannelAccount.name)
                )
            ).scalars()
            return [account_view(row) for row in rows]

    def secret(self, reference: str) -> str:
        try:
            return resolve_secret(reference)
        except SecretError as exc:
            raise ValueError(str(exc)) from exc

    async def send_mail(self, message: EmailMessage) -> None:
        await send_via_relay(self.svc.settings.smtp_relay, message)

    async def keep_call_step(
        self, account: AccountView, call_sid: str, step: str, params: dict[str, Any]
    ) -> bool:
        async with self.svc.sessions.begin() as session:
            return await keep_step(session, account.id, call_sid, step, params)

    async def call_steps(
        self, account: AccountView, call_sid: str
    ) -> list[tuple[str, dict[str, Any], str]]:
        async with self.svc.sessions() as session:
            return await load_steps(session, account.id, call_sid)

    async def keep_call_step_with_reference(
        self,
        account: AccountView,
        call_sid: str,
        step: str,
        params: dict[str, Any],
        answered: tuple[str, dict[str, Any]] | None = None,
    ) -> str | None:
        for _ in range(2):  # the second round reads what a concurrent retry kept
            try:
                async with self.svc.sessions.begin() as session:
                    return await keep_step_with_reference(
                        session, account.id, call_sid, step, params, utcnow(), answered
                    )
            except LookupError:
                continue
        raise LookupError(f"call step {step} of {call_sid} could not be kept")

    async def calls_waiting(
        self, account: AccountView, step: str, until: str, older_than_seconds: float
    ) -> list[str]:
        async with self.svc.sessions() as session:
            return await calls_waiting(
                session, account.id, step, until, timedelta(seconds=older_than_seconds)
            )

    async def purge_call_steps(self, account: AccountView, older_than_seconds: float) -> int:
        async with self.svc.sessions.begin() as session:
            return await purge_account_steps(
                session, account.id, timedelta(seconds=older_than_seconds)
            )

    async def complaint_status(self, reference: str, phone: str) -> str | None:
        async with self.svc.sessions() as session:
            return await status_for_caller(session, reference, phone)

    async def due_conversations(self, kind: str, limit: int = 100) -> list[DueConversation]:
        async with self.svc.sessions() as session:
            return await due_conversations(session, kind, limit)

    async def public_status(self, reference: str, contact: str) -> dict[str, Any] | None:
        return await public_status(self.svc, reference, contact)

    async def accept_chat_batch(self, items: list[ChatIntake]) -> list[ChatAccepted]:
        async with self.svc.sessions.begin() as session:
            accepted = await accept_chat_batch(session, items)
        for answer in accepted:
            (metrics.DUPLICATES if answer.duplicate else metrics.RECEIVED).labels("social").inc()
        return accepted

    async def group_chat_messages(self, limit: int = 500) -> int:
        async with self.svc.sessions.begin() as session:
            return await group_chat_messages(session, limit)

    async def close_conversations(
        self, closing: list[tuple[DueConversation, bytes, list[bytes]]], *, media_type: str
    ) -> list[ClosedConversation | None]:
        async with self.svc.sessions.begin() as session:
            closed = await close_conversation_batch(session, closing, media_type)
        for done in closed:
            if done is not None and not done.duplicate:
                await self.svc.enqueue("process", done.raw_id)
        return closed

    @property
    def public_base_url(self) -> str:
        return self.svc.settings.base_url
