"""The `hotline.twilio` channel kind: one account per Twilio voice number."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from channels.base import (
    AccountView,
    BatchItem,
    ChannelHost,
    ChannelType,
    RawInput,
)
from channels.hotline import batch
from channels.hotline.archive import archive_waiting
from channels.hotline.callflow import base_url
from channels.hotline.import_api import import_routes
from channels.hotline.normalise import normalise_call
from channels.hotline.settings import HotlineSettings
from channels.hotline.sms import send_sms, sms_text
from channels.hotline.webhooks import KIND, voice_routes
from channels.registry import register
from storage.records import ChannelKind, ComplaintDraft

log = logging.getLogger(__name__)


class HotlineChannel(ChannelType):
    kind = KIND
    family = ChannelKind.HOTLINE
    settings_model = HotlineSettings
    description = "Twilio voice number (IVR, speech, recordings) and imported call transcripts"
    acknowledges = True

    def routes(self, host: ChannelHost) -> list[web.AbstractRouteDef]:
        return [*voice_routes(host), *import_routes(host)]

    async def periodic(self, host: ChannelHost) -> None:
        """Archive voicemails whose wait for a transcription is over; forget call steps
        past the account's retention (they are in the archived calls by then)."""
        for account in await host.accounts(KIND):
            try:
                settings = HotlineSettings.model_validate(account.settings)
            except ValueError:
                continue  # reported where the account is used
            try:
                archived = await archive_waiting(host, account)
                purged = await host.purge_call_steps(
                    account, settings.call_step_retention_days * 86_400
                )
            except Exception:  # one account's trouble must not stop the others
                log.exception("hotline housekeeping failed", extra={"account": account.name})
                continue
            if archived or purged:
                log.info(
                    "hotline housekeeping",
                    extra={"account": account.name, "archived": archived, "purged": purged},
                )

    def normalise(self, raw: RawInput) -> ComplaintDraft:
        return normalise_call(raw)

    def split_batch(self, data: bytes, filename: str) -> list[BatchItem] | None:
        return batch.split(data, filename)

    def would_acknowledge(self, draft: ComplaintDraft) -> bool:
        """An imported call is long over: its caller gets no SMS, so none is queued."""
        return super().would_acknowledge(draft) and not _imported(draft.provider_ids)

    async def acknowledge(
        self, account: AccountView, acknowledgement: dict[str, Any], host: ChannelHost
    ) -> str:
        settings = HotlineSettings.model_validate(account.settings)
        if _imported(acknowledgement.get("provider_ids") or []):  # queued before the check
            return "imported call: no SMS"
        phones = (acknowledgement.get("complainant") or {}).get("phones") or []
        if not settings.sms_acknowledgement or not phones:
            return "SMS acknowledgement is off for this number"
        assert settings.auth_token is not None
        token = host.secret(settings.auth_token)
        sid = await send_sms(settings, token, phones[0], sms_text(settings, acknowledgement))
        return f"SMS {sid}"

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        settings = HotlineSettings.model_validate(account.settings)
        if not settings.number or not settings.auth_token:
            return [f"{account.name}: no number; this account only takes imported transcripts"]
        host.secret(settings.auth_token)  # raises when the token cannot be read
        url = base_url(host.public_base_url, account.name)
        lines = [
            f"{account.name}: settings valid, auth token readable, number {settings.number}",
            f"A call comes in (Voice webhook, HTTP POST): {url}/voice",
            f"Call status changes (status callback, HTTP POST): {url}/status",
            f"languages {', '.join(settings.languages)}; menu "
            + ", ".join(f"{o.digit}={o.action}" for o in settings.menu),
        ]
        if settings.sms_acknowledgement:
            lines.append(f"SMS acknowledgements from {settings.sms_from or settings.number}")
        return lines


def _imported(provider_ids: list[str]) -> bool:
    """Calls from a transcript import carry `import:<call id>` (`batch.split`)."""
    return bool(provider_ids) and str(provider_ids[0]).startswith("import:")


register(HotlineChannel())
