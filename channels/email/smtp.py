"""The SMTP listener: mail delivered straight to the gateway (aiosmtpd on the service's loop).

Accounts that listen on the same address share one server; each takes its own
recipient addresses or domains. Other recipients are refused at RCPT (550), mail over
an account's limit at DATA (552), and a message is answered 250 only after its raw
copy is archived for every account it was addressed to — otherwise 451, so the
sending server tries again and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from channels.base import AccountView, ChannelHost
from channels.email.identity import provider_id_for
from channels.email.settings import SmtpListenerSettings

log = logging.getLogger(__name__)
MEDIA_TYPE = "message/rfc822"


@dataclass
class _Member:
    account: AccountView
    settings: SmtpListenerSettings


def _server_options(settings: SmtpListenerSettings) -> tuple[Any, ...]:
    return (
        settings.tls_certificate,
        settings.tls_key,
        settings.require_tls,
        tuple(sorted(settings.auth_users.items())),
        settings.require_auth,
        settings.server_name,
    )


@dataclass
class SharedServer:
    """One listening socket and the accounts that take mail through it."""

    host: ChannelHost
    options: tuple[Any, ...]
    members: dict[str, _Member] = field(default_factory=dict)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def route(self, address: str) -> _Member | None:
        address = address.strip().strip("<>").lower()
        exact = [m for m in self.members.values() if address in m.settings.addresses]
        if exact:
            return exact[0]
        return next((m for m in self.members.values() if m.settings.takes(address)), None)

    async def start(self, settings: SmtpListenerSettings) -> None:
        handler = _Handler(self)
        tls = _tls_context(settings)
        authenticator = _Authenticator(settings.auth_users, self.host.secret)
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(
                handler,
                data_size_limit=max(m.settings.max_message_bytes for m in self.members.values()),
                enable_SMTPUTF8=True,
                hostname=settings.server_name,
                tls_context=tls,
                require_starttls=settings.require_tls,
                auth_required=settings.require_auth,
                auth_require_tls=tls is not None,
                authenticator=authenticator if settings.auth_users else None,
                loop=loop,
            )

        self.server = await loop.create_server(
            protocol, host=settings.listen_host, port=settings.listen_port
        )


def _tls_context(settings: SmtpListenerSettings) -> ssl.SSLContext | None:
    if not settings.tls_certificate:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_certificate, settings.tls_key)
    return context


class _Authenticator:
    """AUTH PLAIN/LOGIN against the configured users (passwords by reference)."""

    def __init__(self, users: dict[str, str], secret: Callable[[str], str]) -> None:
        self.users = users
        self.secret = secret

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        reference = self.users.get(user)
        try:
            expected = self.secret(reference) if reference else None
        except ValueError:
            expected = None
        ok = expected is not None and data.password.decode("utf-8", "replace") == expected
        return AuthResult(success=ok, handled=False)


class _Handler:
    def __init__(self, shared: SharedServer) -> None:
        self.shared = shared

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.shared.route(address) is None:
            return f"550 5.1.1 <{address}>: no such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        members: dict[str, tuple[_Member, list[str]]] = {}
        for address in envelope.rcpt_tos:
            member = self.shared.route(address)
            if member is None:  # the account went away since RCPT
                return "451 4.3.0 recipient no longer served; try again later"
            members.setdefault(member.account.name, (member, []))[1].append(address)
        for member, _ in members.values():
            if len(content) > member.settings.max_message_bytes:
                return "552 5.3.4 message too big for this recipient"
        sender = envelope.mail_from or ""
        data = f"Return-Path: <{sender}>\r\n".encode() + content
        provider_id = provider_id_for(data)
        accepted_ids = []
        try:
            for member, recipients in members.values():
                accepted = await self.shared.host.accept(
                    member.account,
                    provider_id=provider_id,
                    data=data,
                    media_type=MEDIA_TYPE,
                    meta={
                        "smtp": {
                            "mail_from": sender,
                            "rcpt_to": recipients,
                            "peer": str(session.peer[0]) if session.peer else None,
                        }
                    },
                )
                accepted_ids.append(str(accepted.raw_id))
        except Exception as exc:
            log.warning(
                "archiving mail failed; answered 451",
                extra={"error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return "451 4.3.0 temporary failure, please try again later"
        return f"250 2.0.0 OK queued as {','.join(accepted_ids)}"


class SmtpServers:
    """The listening servers of this process, by listen address."""

    def __init__(self) -> None:
        self._servers: dict[tuple[str, int], SharedServer] = {}
        self._lock = asyncio.Lock()

    def server_for(self, account_name: str) -> SharedServer | None:
        return next((s for s in self._servers.values() if account_name in s.members), None)

    async def serve(
        self, account: AccountView, host: ChannelHost, settings: SmtpListenerSettings
    ) -> None:
        """Take mail for `account` until cancelled."""
        key = (settings.listen_host, settings.listen_port)
        async with self._lock:
            shared = self._servers.get(key)
            if shared is not None and shared.options != _server_options(settings):
                raise ValueError(
                    f"{settings.listen_host}:{settings.listen_port} is served with other TLS/AUTH "
                    f"settings; accounts sharing a listen address must agree"
                )
            if shared is None:
                shared = SharedServer(host, _server_options(settings))
                shared.members[account.name] = _Member(account, settings)
                try:
                    await shared.start(settings)
                except Exception:
                    shared.members.clear()
                    raise
                if settings.listen_port == 0:
                    key = (settings.listen_host, shared.port)
                self._servers[key] = shared
                log.info("smtp listener up", extra={"account": account.name, "port": shared.port})
            else:
                shared.members[account.name] = _Member(account, settings)
        try:
            await asyncio.Event().wait()
        finally:
            shared.members.pop(account.name, None)
            if not shared.members and shared.server is not None:
                self._servers.pop(key, None)
                shared.server.close()
                with contextlib.suppress(Exception):
                    await shared.server.wait_closed()
