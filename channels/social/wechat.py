"""`social.wechat`: a WeChat Official Account's messages.

Wire format (WeChat Official Account docs, "接入指南" and "接收普通消息"):
the server check is a GET with `signature`, `timestamp`, `nonce`, `echostr`,
answered with `echostr`; messages are XML POSTs (`MsgType` text / image with
`PicUrl` and `MediaId` / voice with `MediaId`, `Format` and, when speech
recognition is on, `Recognition` / video / location / link / event), with the
same query signature. In safe mode ("消息加解密说明") the body carries
`Encrypt` and the query `encrypt_type=aes` and `msg_signature`. WeChat waits
5 s and retries three times; the answer is the passive reply `success`
(nothing sent back there), so the acknowledgement goes through the
customer-service API (`/cgi-bin/message/custom/send`) with an access token
from `/cgi-bin/token`. Retries are recognised by `MsgId`, events by
`FromUserName` + `CreateTime`, as the docs advise.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

import aiohttp
from aiohttp import web
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import Field

from channels.base import AccountView, AcknowledgeError, ChannelHost
from channels.registry import register
from channels.social import wechat_crypto
from channels.social.conversation import Downloader
from channels.social.kind import Malformed, Refused, SocialKind, error
from channels.social.media import Fetched, MediaError, fetch
from channels.social.message import Inbound, MediaRef, SocialMessage
from channels.social.settings import SecretRef, SocialSettings

TOKEN_MARGIN_SECONDS = 300
INVALID_TOKEN_CODES = {40001, 40014, 42001}
_tokens: dict[tuple[str, str], tuple[float, str]] = {}


class WeChatSettings(SocialSettings):
    app_id: str = Field(pattern=r"^wx[0-9a-zA-Z]{14,18}$")
    app_secret: SecretRef = Field(description="reference to the AppSecret")
    token: SecretRef = Field(description="reference to the server-configuration Token")
    encoding_aes_key: SecretRef | None = Field(
        default=None, description="reference to the EncodingAESKey; set: safe mode required"
    )
    max_clock_skew_seconds: int = Field(default=300, ge=10)
    api_base_url: str = "https://api.weixin.qq.com"


def _text(root: Element, tag: str) -> str:
    node = root.find(tag)
    return (node.text or "").strip() if node is not None else ""


def parse_xml(body: bytes) -> Element:
    """Hardened parse: DTDs, entities and external references are refused."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise Malformed(f"XML refused: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise Malformed(f"body is not XML: {exc}") from exc
    if root.tag != "xml":
        raise Malformed(f"unexpected root element <{root.tag}>")
    return root


def _content(root: Element) -> SocialMessage | None:
    kind = _text(root, "MsgType")
    if kind == "text":
        return SocialMessage(kind="text", text=_text(root, "Content"))
    if kind == "image":
        ref = _text(root, "PicUrl") or f"media:{_text(root, 'MediaId')}"
        return SocialMessage(kind="image", media=[MediaRef(kind="image", ref=ref)])
    if kind == "voice":
        fmt = _text(root, "Format").lower()
        media = MediaRef(
            kind="voice",
            ref=f"media:{_text(root, 'MediaId')}",
            name=f"voice.{fmt}" if fmt else None,
        )
        return SocialMessage(kind="voice", text=_text(root, "Recognition"), media=[media])
    if kind in ("video", "shortvideo"):
        video = MediaRef(kind="video", ref=f"media:{_text(root, 'MediaId')}")
        return SocialMessage(kind="video", media=[video])
    if kind == "location":
        place = _text(root, "Label")
        where = f"{_text(root, 'Location_X')},{_text(root, 'Location_Y')}"
        return SocialMessage(kind="location", text=f"{place} ({where})".strip())
    if kind == "link":
        text = " ".join(p for p in (_text(root, "Title"), _text(root, "Url")) if p)
        return SocialMessage(kind="link", text=text)
    return None  # events and anything new: kept, not part of a complaint


class WeChatChannel(SocialKind[WeChatSettings]):
    kind = "social.wechat"
    network = "wechat"
    settings_model = WeChatSettings
    body_media_type = "text/xml"
    description = "WeChat Official Account messages (plain or safe mode, 5 s passive answer)"

    def _check_url_signature(
        self, request: web.Request, settings: WeChatSettings, host: ChannelHost
    ) -> None:
        query = request.query
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not wechat_crypto.signature_matches(
            query.get("signature", ""), host.secret(settings.token), timestamp, nonce
        ):
            raise Refused(403, "bad_signature", "the WeChat signature does not match")
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            raise Refused(403, "bad_timestamp", "timestamp is not a number") from None
        if skew > settings.max_clock_skew_seconds:
            raise Refused(403, "stale_timestamp", "the timestamp is too old or in the future")

    async def verification(
        self,
        request: web.Request,
        account: AccountView,
        settings: WeChatSettings,
        host: ChannelHost,
    ) -> web.StreamResponse:
        try:
            self._check_url_signature(request, settings, host)
        except Refused as exc:
            return error(exc.status, exc.code, str(exc))
        return web.Response(text=request.query.get("echostr", ""))

    def verify(
        self, request: web.Request, body: bytes, settings: WeChatSettings, host: ChannelHost
    ) -> bytes:
        self._check_url_signature(request, settings, host)
        if settings.encoding_aes_key is None:
            return body
        if request.query.get("encrypt_type") != "aes":
            raise Refused(403, "encryption_required", "this account takes safe-mode bodies only")
        try:
            encrypted = _text(parse_xml(body), "Encrypt")
        except Malformed as exc:
            raise Refused(400, "malformed", str(exc)) from exc
        query = request.query
        if not encrypted or not wechat_crypto.signature_matches(
            query.get("msg_signature", ""),
            host.secret(settings.token),
            query.get("timestamp", ""),
            query.get("nonce", ""),
            encrypted,
        ):
            raise Refused(403, "bad_signature", "msg_signature does not match")
        try:
            return wechat_crypto.decrypt(
                encrypted, host.secret(settings.encoding_aes_key), settings.app_id
            )
        except wechat_crypto.WeChatCryptoError as exc:
            raise Refused(403, "bad_encryption", str(exc)) from exc

    def parse(self, request: web.Request, body: bytes, settings: WeChatSettings) -> list[Inbound]:
        root = parse_xml(body)
        sender, created = _text(root, "FromUserName"), _text(root, "CreateTime")
        if not sender or not created.isdigit():
            raise Malformed("FromUserName or CreateTime is missing")
        at = datetime.fromtimestamp(int(created), UTC)
        msg_id = _text(root, "MsgId")
        provider_id = msg_id or f"{sender}:{created}"
        # a safe-mode body is archived as received; its decrypted XML is kept beside it
        meta = {"decrypted": body.decode("utf-8", "replace")} if settings.encoding_aes_key else None
        return [Inbound(provider_id, f"wechat:{sender}", at, _content(root), meta)]

    def answer(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="success", content_type="text/plain")

    async def access_token(
        self,
        settings: WeChatSettings,
        host: ChannelHost,
        http: aiohttp.ClientSession,
        *,
        fresh: bool = False,
    ) -> str:
        """A cached access token (valid 2 h); `fresh` drops the cached one first."""
        key = (settings.api_base_url, settings.app_id)
        cached = _tokens.get(key)
        if cached and not fresh and cached[0] > time.monotonic():
            return cached[1]
        params = {
            "grant_type": "client_credential",
            "appid": settings.app_id,
            "secret": host.secret(settings.app_secret),
        }
        async with http.get(
            f"{settings.api_base_url.rstrip('/')}/cgi-bin/token", params=params
        ) as response:
            answer = await response.json(content_type=None)
        if "access_token" not in answer:
            raise WeChatApiError(int(answer.get("errcode") or -1), str(answer.get("errmsg")))
        expires = float(answer.get("expires_in") or 7200) - TOKEN_MARGIN_SECONDS
        _tokens[key] = (time.monotonic() + max(expires, 60), str(answer["access_token"]))
        return str(answer["access_token"])

    def downloader(
        self,
        account: AccountView,
        settings: WeChatSettings,
        host: ChannelHost,
        http: aiohttp.ClientSession,
    ) -> Downloader:
        timeout = aiohttp.ClientTimeout(total=settings.media_timeout_seconds)
        limit = settings.max_media_bytes

        async def download(ref: MediaRef) -> Fetched:
            if not ref.ref.startswith("media:"):
                return await fetch(http, ref.ref, limit=limit, timeout=timeout)
            try:
                token = await self.access_token(settings, host, http)
            except (aiohttp.ClientError, TimeoutError, ValueError, WeChatApiError) as exc:
                raise MediaError(f"no access token: {exc}", retry=True) from exc
            url = f"{settings.api_base_url.rstrip('/')}/cgi-bin/media/get"
            params = {"access_token": token, "media_id": ref.ref.removeprefix("media:")}
            fetched = await fetch(http, url, limit=limit, timeout=timeout, params=params)
            if fetched.media_type in ("application/json", "text/plain"):
                raise MediaError(f"media/get refused: {fetched.data[:200]!r}", retry=False)
            return fetched

        return download

    async def send_text(
        self,
        account: AccountView,
        settings: WeChatSettings,
        recipient: str,
        text: str,
        host: ChannelHost,
    ) -> str:
        payload = {"touser": recipient, "msgtype": "text", "text": {"content": text}}
        url = f"{settings.api_base_url.rstrip('/')}/cgi-bin/message/custom/send"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                for attempt in range(2):
                    token = await self.access_token(settings, host, http, fresh=attempt > 0)
                    async with http.post(
                        url, params={"access_token": token}, json=payload
                    ) as response:
                        answer = await response.json(content_type=None)
                    code = int(answer.get("errcode") or 0)
                    if code not in INVALID_TOKEN_CODES:
                        break
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AcknowledgeError(f"WeChat API unreachable: {type(exc).__name__}") from exc
        except WeChatApiError as exc:
            raise AcknowledgeError(
                f"no access token: {exc}", retry=exc.code in (-1, 45009)
            ) from exc
        if code != 0:
            # -1: system busy; 45009: call limit. 45015 (no reply window) cannot be helped.
            raise AcknowledgeError(
                f"WeChat refused ({code}): {answer.get('errmsg')}", retry=code in (-1, 45009)
            )
        return "wechat customer-service message sent"

    async def test(self, account: AccountView, host: ChannelHost) -> list[str]:
        settings = self.settings_of(account)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            await self.access_token(settings, host, http, fresh=True)
        mode = "safe (AES)" if settings.encoding_aes_key else "plain"
        return [
            f"{self.kind}: access token obtained; message mode {mode}",
            f"server URL for the Official Account: {self.webhook_url(account, host)}",
        ]


class WeChatApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


register(WeChatChannel())
