"""What destination senders get from the service: secrets, the SMTP relay, the archive, Redis."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import AcknowledgeError
from gateway.mailer import send_via_relay
from gateway.secrets import resolve_secret
from gateway.settings import Settings
from routing.destinations import DeliveryError, DestinationTools
from storage.archive import load_blob


def destination_tools(
    settings: Settings, sessions: async_sessionmaker[AsyncSession] | None = None
) -> DestinationTools:
    relay = settings.smtp_relay

    async def send_mail(message: EmailMessage) -> None:
        try:
            await send_via_relay(relay, message)
        except AcknowledgeError as exc:
            raise DeliveryError(str(exc), retry=exc.retry) from exc

    async def read_blob(storage_key: str) -> bytes | None:
        if sessions is None or not storage_key.startswith("blob:"):
            return None
        async with sessions() as session:
            try:
                return await load_blob(session, storage_key.removeprefix("blob:"))
            except LookupError:
                return None

    return DestinationTools(
        resolve_secret=resolve_secret,
        send_mail=send_mail if relay is not None else None,
        load_blob=read_blob,
        redis_url=settings.redis_url,
    )
