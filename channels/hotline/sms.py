"""The acknowledgement by SMS: the reference, in the caller's language, via Twilio Messaging.

The sending itself (retries, error mapping) is shared: `channels.twilio_sms`.
"""

from __future__ import annotations

from typing import Any

from channels.hotline.settings import HotlineSettings
from channels.hotline.texts import say
from channels.twilio_sms import send_sms as send_twilio_sms


def sms_text(settings: HotlineSettings, acknowledgement: dict[str, Any]) -> str:
    language = acknowledgement.get("language")
    if language not in settings.languages:
        language = settings.languages[0]
    return say(settings, language, "sms", reference=str(acknowledgement["reference"]))


async def send_sms(settings: HotlineSettings, auth_token: str, to: str, body: str) -> str:
    """Send one SMS from this number's Twilio account; returns the message SID."""
    assert settings.account_sid and settings.number
    return await send_twilio_sms(
        account_sid=settings.account_sid,
        auth_token=auth_token,
        from_number=settings.sms_from or settings.number,
        to=to,
        body=body,
        api_base_url=settings.rest_base_url,
    )
