"""`social.meta`: Facebook Messenger and Instagram direct messages of one Page.

Wire format (developers.facebook.com/docs/graph-api/webhooks/getting-started):
the verification GET with `hub.mode=subscribe`, `hub.verify_token` and
`hub.challenge` (answered with the challenge); event POSTs signed in
`X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, raw body)>`; the batched
body `{"object": "page"|"instagram", "entry": [{"messaging": [...]}]}` of the
Messenger Platform (docs/messenger-platform/webhooks), where a user's message
is `{"sender": {"id"}, "timestamp", "message": {"mid", "text", "attachments"}}`
and the page's own sends come back with `is_echo`. Replies use the Send API,
`POST /{version}/me/messages` (docs/messenger-platform/reference/send-api).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import Field

from channels.base import AccountView, AcknowledgeError, ChannelHost
from channels.registry import register
from channels.social.conversation import Downloader
from channels.social.kind import Malformed, Refused, SocialKind, error
from channels.social.media import Fetched, fetch
from channels.social.message import Inbound, MediaRef, SocialMessage
from channels.social.settings import SecretRef, SocialSettings

SIGNATURE_HEADER = "X-Hub-Signature-256"
PLATFORMS = {"page": "messenger", "instagram": "instagram"}
_MEDIA_KINDS = {"image": "image", "audio": "voice", "video": "video", "file": "document"}


class MetaSettings(SocialSettings):
    app_secret: SecretRef = Field(description="reference to the Meta app secret")
    verify_token: SecretRef = Field(description="reference to the webhook verify token")
    page_access_token: SecretRef = Field(description="reference to the Page access token")
    graph_api_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    graph_base_url: str = "https://graph.facebook.com"


def _attachments(message: dict[str, Any]) -> list[MediaRef]:
    refs = []
    for item in message.get("attachments") or []:
        kind = _MEDIA_KINDS.get(str(item.get("type")))
        url = (item.get("payload") or {}).get("url")
        if kind and url:
            refs.append(MediaRef(kind=kind, ref=str(url)))
    return refs


def _inbound(platform: str, event: dict[str, Any]) -> Inbound | None:
    """A user's message; None for receipts, reads, echoes, reactions and postbacks."""
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo") or not message.get("mid"):
        return None
    sender = (event.get("sender") or {}).get("id")
    if not sender:
        raise Malformed("a message has no sender id")
    media = _attachments(message)
    text = str(message.get("text") or "")
    at = datetime.fromtimestamp(int(event.get("timestamp") or 0) / 1000, UTC)
    content = SocialMessage(kind=media[0].kind if media else "text", text=text, media=media)
    return Inbound(str(message["mid"]), f"{platform}:{sender}", at, content)


class MetaChannel(SocialKind[MetaSettings]):
    kind = "social.meta"
    network = "meta"
    settings_model = MetaSettings
    description = "Facebook Messenger and Instagram DMs (Meta webhooks, Send API replies)"

    async def verification(
        self, request: web.Request, account: AccountView, settings: MetaSettings, host: ChannelHost
    ) -> web.StreamResponse:
        query = request.query
        expected = host.secret(settings.verify_token)
        presented = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            presented.encode(), expected.encode()
        ):
            return error(403, "bad_verify_token", "hub.mode or hub.verify_token is wrong")
        return web.Response(text=query.get("hub.challenge", ""))

    def verify(
        self, request: web.Request, body: bytes, settings: MetaSettings, host: ChannelHost
    ) -> bytes:
        presented = request.headers.get(SIGNATURE_HEADER, "")
        secret = host.secret(settings.app_secret).encode()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Refused(403, "bad_signature", f"{SIGNATURE_HEADER} is missing or wrong")
        return body

    def parse(self, request: web.Request, body: bytes, settings: MetaSettings) -> list[Inbound]:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Malformed(f"body is not JSON: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("entry"), list):
            raise Malformed("the body has no entry list")
        platform = PLATFORMS.get(str(document.get("object")))
        if platform is None:
            raise Malformed(f"unknown object {document.get('object')!r}")
        items = []
        for entry in document["entry"]:
            for event in (entry or {}).get("messaging") or []:
                item = _inbound(platform, event)
                if item is not None:
                    items.append(item)
        return items

    def answer(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="EVENT_RECEIVED")

    def downloader(
        self,
        account: AccountView,
        settings: MetaSettings,
        host: ChannelHost,
        http: aiohttp.ClientSession,
    ) -> Downloader:
        timeout = aiohttp.ClientTimeout(total=settings.media_timeout_seconds)

        async def download(ref: MediaRef) -> Fetched:
            return await fetch(http, ref.ref, limit=settings.max_media_bytes, timeout=timeout)

        return download

    def handle_prefix(self, acknowledgement: dict[str, Any]) -> str:
        handle = str((acknowledgement.get("complainant") or {}).get("handle") or "")
        return handle.partition(":")[0] if handle.startswith("instagram:") else "messenger"

    async def send_text(
        self,
        account: AccountView,
        settings: MetaSettings,
        recipient: str,
        text: str,
        host: ChannelHost,
    ) -> str:
        url = f"{settings.graph_base_url.rstrip('/')}/{settings.graph_api_version}/me/messages"
        payload = {
            "recipient": {"id": recipient},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
        params = {"access_token": host.secret(settings.page_access_token)}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
                http.post(url, json=payload, params=params) as response,
            ):
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AcknowledgeError(f"send API unreachable: {type(exc).__name__}") from exc
        if status >= 400:
            detail = (answer.get("error") or {}).get("message") if isinstance(answer, dict) else ""
            retry = status >= 500 or status == 429
            raise AcknowledgeError(f"send API refused ({status}): {detail}", retry=retry)
        return f"meta message {answer.get('message_id')} sent"

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        settings = self.settings_of(account)
        for reference in (settings.app_secret, settings.verify_token, settings.page_access_token):
            host.secret(reference)
        return [
            f"{self.kind}: settings valid, secrets readable",
            f"callback URL for the app's webhooks (page / instagram, 'messages'): "
            f"{self.webhook_url(account, host)}",
        ]


register(MetaChannel())
