"""The e-mail channel kinds: `email` (files, back-fill), `email.imap`, `email.smtp`."""

from __future__ import annotations

import mailbox
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from channels.base import AccountView, ChannelHost, ChannelType, RawInput
from channels.email.ack import AckRateLimiter, ack_address, build_ack
from channels.email.imap import MailboxPoller, describe_mailbox
from channels.email.normalise import normalise_mail
from channels.email.settings import EmailSettings, ImapSettings, SmtpListenerSettings
from channels.email.smtp import SmtpServers
from channels.registry import register
from storage.records import ChannelKind, ComplaintDraft


class EmailChannel(ChannelType):
    """Mail from files (`ingest --channel email FILE.eml|FILE.mbox`); the base of the others."""

    kind = "email"
    family = ChannelKind.EMAIL
    settings_model: ClassVar[type[EmailSettings]] = EmailSettings
    description = "e-mail from .eml / .mbox files (back-fill)"
    acknowledges = True
    limiter: ClassVar[AckRateLimiter] = AckRateLimiter()

    def normalise(self, raw: RawInput) -> ComplaintDraft:
        return normalise_mail(raw)

    def split_file(self, name: str, data: bytes) -> list[bytes]:
        """An mbox file holds many messages; anything else is one."""
        if not (name.lower().endswith(".mbox") or data.startswith(b"From ")):
            return [data]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "in.mbox"
            path.write_bytes(data)
            box = mailbox.mbox(str(path), create=False)
            try:
                return [box.get_bytes(key) for key in box.iterkeys()]
            finally:
                box.close()

    async def acknowledge(
        self, account: AccountView, acknowledgement: dict[str, Any], host: ChannelHost
    ) -> str:
        settings = self.settings_model.model_validate(account.settings)
        if not settings.acknowledge:
            return "not sent: acknowledgements are off for this account"
        address = ack_address(acknowledgement)
        if address is None:
            return "not sent: no address that takes replies"
        if not self.limiter.allow(address, settings.acks_per_address_per_hour):
            return "not sent: acknowledgement limit for this address reached"
        await host.send_mail(build_ack(acknowledgement, settings, address))
        return f"acknowledgement {acknowledgement['reference']} sent by e-mail"


class ImapChannel(EmailChannel):
    kind = "email.imap"
    settings_model = ImapSettings
    description = "IMAP mailboxes, polled (IDLE where offered)"
    has_listener = True

    async def listen(self, account: AccountView, host: ChannelHost) -> None:
        settings = ImapSettings.model_validate(account.settings)
        await MailboxPoller(account, host, settings).run()

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        settings = ImapSettings.model_validate(account.settings)
        return await describe_mailbox(settings, host.secret)


class SmtpChannel(EmailChannel):
    kind = "email.smtp"
    settings_model = SmtpListenerSettings
    description = "mail delivered to the gateway's SMTP listener, per address or domain"
    has_listener = True
    servers: ClassVar[SmtpServers] = SmtpServers()

    async def listen(self, account: AccountView, host: ChannelHost) -> None:
        settings = SmtpListenerSettings.model_validate(account.settings)
        await self.servers.serve(account, host, settings)

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        settings = SmtpListenerSettings.model_validate(account.settings)
        taken = [*settings.addresses, *(f"*@{domain}" for domain in settings.domains)]
        lines = [
            f"listens on {settings.listen_host}:{settings.listen_port} for {', '.join(taken)}",
            f"size limit {settings.max_message_bytes} bytes; "
            f"STARTTLS {'on' if settings.tls_certificate else 'off'}; "
            f"AUTH {'on' if settings.auth_users else 'off'}",
        ]
        for reference in settings.auth_users.values():
            host.secret(reference)  # raises when a password reference cannot be read
        return lines


register(EmailChannel())
register(ImapChannel())
register(SmtpChannel())
