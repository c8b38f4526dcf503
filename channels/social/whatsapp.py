"""`social.whatsapp`: WhatsApp messages through a Twilio number.

Wire format: Twilio's messaging webhook, an `application/x-www-form-urlencoded`
POST with `MessageSid`, `From` (`whatsapp:+E164`), `To`, `Body`, `ProfileName`,
`NumMedia` and `MediaUrl{N}` / `MediaContentType{N}` (twilio.com/docs/messaging/guides/
webhook-request), signed in `X-Twilio-Signature` as described in
twilio.com/docs/usage/security#validating-requests (checked with the twilio
library's `RequestValidator`). Media URLs are fetched with the account SID and
auth token (HTTP basic auth); replies go through the twilio client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from pydantic import Field
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.base import AccountView, AcknowledgeError, ChannelHost
from channels.registry import register
from channels.social.conversation import Downloader
from channels.social.kind import Malformed, Refused, SocialKind
from channels.social.media import Fetched, fetch
from channels.social.message import Inbound, MediaRef, Sender, SocialMessage
from channels.social.settings import SecretRef, SocialSettings

SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_MEDIA_ITEMS = 10  # Twilio sends at most 10 media per message


class WhatsAppSettings(SocialSettings):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretRef = Field(description="reference to the Twilio auth token")
    from_number: str = Field(
        pattern=r"^whatsapp:\+\d{6,15}$", description="the sender, e.g. whatsapp:+14155238886"
    )
    api_base_url: str = "https://api.twilio.com"


def _media_kind(media_type: str) -> str:
    major = media_type.split("/")[0]
    return {"image": "image", "audio": "voice", "video": "video"}.get(major, "document")


class WhatsAppChannel(SocialKind[WhatsAppSettings]):
    kind = "social.whatsapp"
    network = "whatsapp"
    settings_model = WhatsAppSettings
    body_media_type = "application/x-www-form-urlencoded"
    description = "WhatsApp through Twilio (signed form webhooks, replies via the Twilio API)"

    def verify(
        self, request: web.Request, body: bytes, settings: WhatsAppSettings, host: ChannelHost
    ) -> bytes:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise Refused(403, "bad_signature", f"{SIGNATURE_HEADER} is missing")
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise Refused(403, "bad_signature", "the body cannot be signed form data") from None
        url = f"{host.public_base_url}{request.path_qs}"
        validator = RequestValidator(host.secret(settings.auth_token))
        if not validator.validate(url, params, signature):
            raise Refused(403, "bad_signature", "the Twilio signature does not match")
        return body

    def parse(self, request: web.Request, body: bytes, settings: WhatsAppSettings) -> list[Inbound]:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        sid = params.get("MessageSid") or params.get("SmsMessageSid")
        if not sid:
            raise Malformed("the form has no MessageSid")
        now = datetime.now(UTC)
        sender = params.get("From", "")
        if "MessageStatus" in params and "Body" not in params:  # a status callback
            return [Inbound(f"status:{sid}:{params['MessageStatus']}", "", now, None)]
        if not sender.startswith("whatsapp:+"):
            raise Malformed(f"From is not a WhatsApp number: {sender!r}")
        try:
            count = min(int(params.get("NumMedia") or 0), MAX_MEDIA_ITEMS)
        except ValueError as exc:
            raise Malformed("NumMedia is not a number") from exc
        media = []
        for index in range(count):
            url = params.get(f"MediaUrl{index}")
            declared = params.get(f"MediaContentType{index}") or "application/octet-stream"
            if url:
                media.append(MediaRef(kind=_media_kind(declared), ref=url, media_type=declared))
        text = params.get("Body", "")
        message = SocialMessage(
            kind=media[0].kind if media else "text",
            text=text,
            media=media,
            sender=Sender(name=params.get("ProfileName") or None, phone=sender[len("whatsapp:") :]),
        )
        return [Inbound(sid, sender, now, message)]

    def answer(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    def downloader(
        self,
        account: AccountView,
        settings: WhatsAppSettings,
        host: ChannelHost,
        http: aiohttp.ClientSession,
    ) -> Downloader:
        auth = aiohttp.encode_basic_auth(settings.account_sid, host.secret(settings.auth_token))
        timeout = aiohttp.ClientTimeout(total=settings.media_timeout_seconds)

        async def download(ref: MediaRef) -> Fetched:
            return await fetch(
                http,
                ref.ref,
                limit=settings.max_media_bytes,
                declared=ref.media_type,
                headers={"Authorization": auth},
                timeout=timeout,
            )

        return download

    def handle_prefix(self, acknowledgement: dict[str, object]) -> str:
        return "whatsapp"

    async def send_text(
        self,
        account: AccountView,
        settings: WhatsAppSettings,
        recipient: str,
        text: str,
        host: ChannelHost,
    ) -> str:
        http_client = AsyncTwilioHttpClient(timeout=30)
        client = Client(
            settings.account_sid, host.secret(settings.auth_token), http_client=http_client
        )
        client.api.base_url = settings.api_base_url.rstrip("/")
        try:
            message = await client.messages.create_async(
                from_=settings.from_number, to=f"whatsapp:{recipient}", body=text
            )
        except TwilioRestException as exc:
            retry = exc.status >= 500 or exc.status == 429
            raise AcknowledgeError(
                f"twilio refused ({exc.status}): {exc.msg}", retry=retry
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AcknowledgeError(f"twilio unreachable: {type(exc).__name__}") from exc
        finally:
            await http_client.close()
        return f"whatsapp message {message.sid} sent"

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        settings = self.settings_of(account)
        host.secret(settings.auth_token)
        return [
            f"{self.kind}: settings valid, auth token readable",
            f"set the WhatsApp sender's incoming-message webhook (POST) to "
            f"{self.webhook_url(account, host)}",
        ]


register(WhatsAppChannel())
