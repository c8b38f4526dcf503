"""`social.telegram`: a Telegram bot's direct messages.

Wire format: the Bot API's `Update` object (core.telegram.org/bots/api#update)
POSTed as JSON to the URL given to `setWebhook`, with the header
`X-Telegram-Bot-Api-Secret-Token` carrying the `secret_token` set there
(#setwebhook). Telegram re-sends an update until it gets a 2xx; `update_id`
is its id. Photos arrive as `PhotoSize` lists, files as `Document` (#message);
both are fetched with `getFile` and `/file/bot<token>/<file_path>` (#getfile).
"""

from __future__ import annotations

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
from channels.social.kind import Malformed, Refused, SocialKind
from channels.social.media import Fetched, MediaError, fetch
from channels.social.message import Inbound, MediaRef, Sender, SocialMessage
from channels.social.settings import SecretRef, SocialSettings

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramSettings(SocialSettings):
    bot_token: SecretRef = Field(description="reference to the bot token from @BotFather")
    secret_token: SecretRef = Field(description="reference to the webhook secret token")
    api_base_url: str = "https://api.telegram.org"


def _message_of(update: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("message", "edited_message"):
        if isinstance(update.get(key), dict):
            return dict(update[key])
    return None


def _content(message: dict[str, Any]) -> SocialMessage | None:
    """The content of a private message; None for what is not someone writing to us."""
    who = message.get("from") or {}
    name = " ".join(p for p in (who.get("first_name"), who.get("last_name")) if p) or None
    sender = Sender(name=name, language=who.get("language_code"))
    text = str(message.get("text") or message.get("caption") or "")
    if message.get("photo"):
        largest = max(message["photo"], key=lambda p: p.get("file_size") or 0)
        ref = MediaRef(
            kind="image",
            ref=str(largest["file_id"]),
            media_type="image/jpeg",
            size=largest.get("file_size"),
        )
        return SocialMessage(kind="image", text=text, media=[ref], sender=sender)
    for key, kind in (("document", "document"), ("voice", "voice"), ("video", "video")):
        item = message.get(key)
        if isinstance(item, dict) and item.get("file_id"):
            ref = MediaRef(
                kind=kind,
                ref=str(item["file_id"]),
                media_type=item.get("mime_type"),
                name=item.get("file_name"),
                size=item.get("file_size"),
            )
            return SocialMessage(kind=kind, text=text, media=[ref], sender=sender)
    if text.startswith("/") and " " not in text.strip():
        return None  # a bot command such as /start: kept, not part of a complaint
    if text:
        return SocialMessage(kind="text", text=text, sender=sender)
    return None


class TelegramChannel(SocialKind[TelegramSettings]):
    kind = "social.telegram"
    network = "telegram"
    settings_model = TelegramSettings
    description = "Telegram bot direct messages (webhook with secret token)"

    def verify(
        self, request: web.Request, body: bytes, settings: TelegramSettings, host: ChannelHost
    ) -> bytes:
        presented = request.headers.get(SECRET_HEADER, "")
        expected = host.secret(settings.secret_token)
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Refused(403, "bad_signature", "the secret token is missing or wrong")
        return body

    def parse(self, request: web.Request, body: bytes, settings: TelegramSettings) -> list[Inbound]:
        try:
            update = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Malformed(f"body is not JSON: {exc}") from exc
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise Malformed("an update needs an integer update_id")
        provider_id = f"update:{update['update_id']}"
        message = _message_of(update)
        if message is None or (message.get("chat") or {}).get("type", "private") != "private":
            return [Inbound(provider_id, "", datetime.now(UTC), None)]
        chat_id = (message.get("chat") or {}).get("id")
        if chat_id is None:
            raise Malformed("the message has no chat id")
        at = datetime.fromtimestamp(int(message.get("date") or 0), UTC)
        return [Inbound(provider_id, f"telegram:{chat_id}", at, _content(message))]

    def _api(self, settings: TelegramSettings, host: ChannelHost, method: str) -> str:
        token = host.secret(settings.bot_token)
        return f"{settings.api_base_url.rstrip('/')}/bot{token}/{method}"

    def downloader(
        self,
        account: AccountView,
        settings: TelegramSettings,
        host: ChannelHost,
        http: aiohttp.ClientSession,
    ) -> Downloader:
        timeout = aiohttp.ClientTimeout(total=settings.media_timeout_seconds)

        async def download(ref: MediaRef) -> Fetched:
            if ref.size is not None and ref.size > settings.max_media_bytes:
                raise MediaError(
                    f"media is larger than {settings.max_media_bytes} bytes", retry=False
                )
            try:
                async with http.post(
                    self._api(settings, host, "getFile"), json={"file_id": ref.ref}, timeout=timeout
                ) as response:
                    answer = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise MediaError(f"getFile failed: {type(exc).__name__}", retry=True) from exc
            if not answer.get("ok"):
                raise MediaError(f"getFile refused: {answer.get('description')}", retry=False)
            path = answer["result"]["file_path"]
            token = host.secret(settings.bot_token)
            url = f"{settings.api_base_url.rstrip('/')}/file/bot{token}/{path}"
            return await fetch(
                http, url, limit=settings.max_media_bytes, declared=ref.media_type, timeout=timeout
            )

        return download

    async def send_text(
        self,
        account: AccountView,
        settings: TelegramSettings,
        recipient: str,
        text: str,
        host: ChannelHost,
    ) -> str:
        answer = await self._call(
            settings, host, "sendMessage", {"chat_id": recipient, "text": text}
        )
        return f"telegram message {answer.get('message_id')} sent"

    async def _call(
        self, settings: TelegramSettings, host: ChannelHost, method: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
                http.post(self._api(settings, host, method), json=payload) as response,
            ):
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AcknowledgeError(f"telegram {method} failed: {type(exc).__name__}") from exc
        if not answer.get("ok"):
            retry = status >= 500 or status == 429
            raise AcknowledgeError(
                f"telegram {method} refused ({status}): {answer.get('description')}", retry=retry
            )
        result = answer.get("result")
        return result if isinstance(result, dict) else {"result": result}

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        """Register the webhook with its secret token (`setWebhook`) and report the bot."""
        settings = self.settings_of(account)
        url = self.webhook_url(account, host)
        me = await self._call(settings, host, "getMe", {})
        await self._call(
            settings,
            host,
            "setWebhook",
            {
                "url": url,
                "secret_token": host.secret(settings.secret_token),
                "allowed_updates": ["message", "edited_message"],
            },
        )
        return [f"{self.kind}: bot @{me.get('username')} answers", f"webhook set to {url}"]


register(TelegramChannel())
