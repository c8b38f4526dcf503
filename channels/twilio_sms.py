"""Sending one SMS through Twilio Messaging, shared by the channel kinds that acknowledge by SMS.

It runs from the outbox (at-least-once, retried with back-off); Twilio's
Messaging API takes no idempotency key, so a send whose answer was lost may
be repeated once — the outbox makes sure nothing else is. Failures become
`AcknowledgeError`: 429, 5xx and network errors are retried, other refusals
(a bad number, bad credentials) are not.
"""

from __future__ import annotations

import aiohttp
import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from channels.base import AcknowledgeError

SMS_TIMEOUT_SECONDS = 15.0


def e164(value: str) -> str:
    """`value` as E.164; raises ValueError when it is not an international number."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not an E.164 number (+country…): {exc}") from exc
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class TwilioSmsSettings(BaseModel):
    """A Twilio account to send SMS from; `auth_token` is a reference, never the token."""

    # A token pasted where its reference belongs must not be echoed in the error.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="Twilio account SID")
    auth_token: str = Field(description="reference: env:NAME or file:/path")
    from_number: str = Field(description="the sending Twilio number, E.164")
    api_base_url: str | None = Field(
        default=None, description="Twilio REST base URL (default Twilio's own; for proxies)"
    )

    @field_validator("auth_token")
    @classmethod
    def _token_is_reference(cls, value: str) -> str:
        scheme, _, target = value.partition(":")
        if scheme not in ("env", "file") or not target:
            raise ValueError("auth_token must be a reference: env:NAME or file:/path")
        return value

    @field_validator("from_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return e164(value)


async def send_sms(
    *,
    account_sid: str,
    auth_token: str,
    from_number: str,
    to: str,
    body: str,
    api_base_url: str | None = None,
) -> str:
    """Send one SMS with the real Twilio client; returns the message SID."""
    http = AsyncTwilioHttpClient(timeout=SMS_TIMEOUT_SECONDS)
    client = Client(account_sid, auth_token, http_client=http)
    if api_base_url:
        client.api.base_url = api_base_url.rstrip("/")
    try:
        message = await client.messages.create_async(to=to, from_=from_number, body=body)
    except TwilioRestException as exc:
        retry = exc.status == 429 or exc.status >= 500
        detail = f"Twilio refused the SMS: {exc.status} {exc.code}"
        raise AcknowledgeError(detail, retry=retry) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AcknowledgeError(f"Twilio unreachable: {type(exc).__name__}") from exc
    finally:
        await http.close()
    return str(message.sid)
