"""Outgoing mail through the configured SMTP relay (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from channels.base import AcknowledgeError
from gateway.secrets import SecretError, resolve_secret
from gateway.settings import SmtpRelaySettings

PERMANENT_SMTP_CODES = range(500, 600)


async def send_via_relay(relay: SmtpRelaySettings | None, message: EmailMessage) -> None:
    """Send `message`; 5xx answers are permanent failures, everything else is retryable."""
    if relay is None:
        raise AcknowledgeError("no smtp_relay is configured", retry=False)
    if "From" not in message:
        message["From"] = relay.sender
    try:
        password = resolve_secret(relay.password) if relay.password else None
    except SecretError as exc:
        raise AcknowledgeError(str(exc), retry=False) from exc
    try:
        await aiosmtplib.send(
            message,
            hostname=relay.host,
            port=relay.port,
            username=relay.username,
            password=password,
            use_tls=relay.security == "tls",
            start_tls=relay.security == "starttls",
            timeout=relay.timeout_seconds,
        )
    except aiosmtplib.SMTPResponseException as exc:
        raise AcknowledgeError(
            f"relay answered {exc.code}: {exc.message}", retry=exc.code not in PERMANENT_SMTP_CODES
        ) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise AcknowledgeError(f"{type(exc).__name__}: {exc}") from exc
