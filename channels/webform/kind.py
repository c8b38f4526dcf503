"""The `webform` channel kind: a complaint page per account, archived as a JSON document."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from channels.base import AccountView, AcknowledgeError, ChannelHost, ChannelType, RawInput
from channels.registry import register
from channels.twilio_sms import send_sms
from channels.webform.acknowledge import ack_message, ack_sms
from channels.webform.normalise import normalise_form
from channels.webform.settings import WebformSettings
from channels.webform.site import DEFAULT_ACCOUNT, WebformSite
from storage.records import ChannelKind, ComplaintDraft


def form_path(account: str) -> str:
    return "/" if account == DEFAULT_ACCOUNT else f"/forms/{account}"


def status_path(account: str) -> str:
    return "/status" if account == DEFAULT_ACCOUNT else f"/forms/{account}/status"


def _why_not_sent(has_email: bool, has_phone: bool) -> str:
    """The dead-letter reason when neither an e-mail nor an SMS could be sent."""
    reasons = []
    if has_email:
        reasons.append("e-mail acknowledgements are off for this form")
    else:
        reasons.append("no e-mail given")
    if has_phone:
        reasons.append("no SMS sender is configured for this form (setting `sms`)")
    else:
        reasons.append("no phone given for an SMS")
    return "; ".join(reasons) + "; the reference was shown on the page"


class WebformChannel(ChannelType):
    kind = "webform"
    family = ChannelKind.WEBFORM
    settings_model = WebformSettings
    description = "complaint page in Chinese and English, with photos and a status look-up"
    acknowledges = True

    def routes(self, host: ChannelHost) -> list[web.AbstractRouteDef]:
        return list(WebformSite(host).routes())

    def normalise(self, raw: RawInput) -> ComplaintDraft:
        return normalise_form(raw)

    async def acknowledge(
        self, account: AccountView, acknowledgement: dict[str, Any], host: ChannelHost
    ) -> str:
        """E-mail when an address was given (and `acknowledge_by_email`), else SMS to the
        phone given when the account has an `sms` sender."""
        settings = WebformSettings.model_validate(account.settings)
        status_url = host.public_base_url + status_path(account.name)
        message = ack_message(acknowledgement, settings, status_url)
        if message is not None and settings.acknowledge_by_email:
            await host.send_mail(message)  # AcknowledgeError says whether to retry
            return f"e-mail acknowledgement sent ({message['Subject']})"
        sms = ack_sms(acknowledgement, settings, status_url)
        if sms is not None and settings.sms is not None:
            to, text = sms
            try:
                token = host.secret(settings.sms.auth_token)
            except ValueError as exc:  # retried: an operator may fix the reference meanwhile
                raise AcknowledgeError("the SMS auth token (sms.auth_token) is unreadable") from exc
            sid = await send_sms(
                account_sid=settings.sms.account_sid,
                auth_token=token,
                from_number=settings.sms.from_number,
                to=to,
                body=text,
                api_base_url=settings.sms.api_base_url,
            )  # AcknowledgeError says whether to retry
            return f"SMS acknowledgement sent ({sid})"
        # Nothing sent is a dead letter, not a delivery: the status page must not claim a
        # confirmation went out, and an operator can replay these once a sender is set up.
        raise AcknowledgeError(_why_not_sent(message is not None, sms is not None), retry=False)

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        settings = WebformSettings.model_validate(account.settings)
        base = host.public_base_url
        lines = [
            "webform: settings valid",
            f"form page: {base}{form_path(account.name)}",
            f"status look-up: {base}{status_path(account.name)}",
            f"languages: {', '.join(settings.languages)}; photos: up to {settings.max_photos}",
        ]
        if settings.sms is not None:
            host.secret(settings.sms.auth_token)  # raises when the token cannot be read
            lines.append(f"SMS acknowledgements from {settings.sms.from_number}")
        return lines


register(WebformChannel())
