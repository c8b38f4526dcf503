"""Fixtures of the social channel tests: a local stand-in for the networks' APIs, a gateway
with one account per network, and helpers to read conversations and records back."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from channels.registry import get_kind
from gateway.app import create_app
from gateway.channel_host import GatewayHost
from gateway.services import build_services
from storage.accounts import add_account, create_api_key, find_account
from storage.tables import RawMessage
from storage.tables_social import ChatConversation
from tests.conftest import make_settings
from tests.gateway.harness import Gateway, prepare
from tests.local_server import serve_locally

PUBLIC_BASE = "https://gateway.example.com"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-value"
META_SECRET = "meta-app-secret"
META_VERIFY = "meta-verify-token"
META_PAGE_TOKEN = "page-access-token"
WECHAT_APP_ID = "wx5823bf96d3bd56c7"
WECHAT_TOKEN = "QDG6eK"
WECHAT_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
TELEGRAM_BOT = "123456:test-bot-token"
TELEGRAM_SECRET = "telegram-secret_token-1"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"0" * 200
AMR = b"#!AMR\n" + b"\x00" * 200


@dataclass
class FakeApis:
    """One local server answering for Twilio, the Graph API, WeChat and the Bot API."""

    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def of(self, path_part: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if path_part in call["path"]]


async def _start_fake(state: FakeApis) -> web.AppRunner:
    async def record(request: web.Request) -> dict[str, Any]:
        body = await request.read()
        call = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": dict(request.headers),
            "body": body,
        }
        state.calls.append(call)
        return call

    async def twilio_send(request: web.Request) -> web.Response:
        await record(request)
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if auth != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        return web.json_response({"sid": "SM" + "1" * 32, "status": "queued"}, status=201)

    async def media(request: web.Request) -> web.Response:
        call = await record(request)
        name = request.match_info["name"]
        if name.startswith("private-"):
            expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
            if call["headers"].get("Authorization") != expected:
                return web.Response(status=401)
            if f"s3-{name}" in state.files:  # Twilio answers media with a redirect to storage
                raise web.HTTPFound(f"/media/s3-{name}")
        if name not in state.files:
            return web.Response(status=404)
        data, media_type = state.files[name]
        return web.Response(body=data, content_type=media_type)

    async def graph_send(request: web.Request) -> web.Response:
        call = await record(request)
        if call["query"].get("access_token") != META_PAGE_TOKEN:
            return web.json_response({"error": {"message": "bad token"}}, status=401)
        return web.json_response({"recipient_id": "1", "message_id": "m_ack"})

    async def wechat_token(request: web.Request) -> web.Response:
        await record(request)
        if request.query.get("secret") != "wechat-app-secret":
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        return web.json_response({"access_token": "wx-access-token", "expires_in": 7200})

    async def wechat_send(request: web.Request) -> web.Response:
        await record(request)
        if request.query.get("access_token") != "wx-access-token":
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wechat_media(request: web.Request) -> web.Response:
        await record(request)
        name = request.query.get("media_id", "")
        if name not in state.files:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        data, media_type = state.files[name]
        return web.Response(body=data, content_type=media_type)

    async def telegram(request: web.Request) -> web.Response:
        call = await record(request)
        if request.match_info["token"] != TELEGRAM_BOT:
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        payload = json.loads(call["body"] or b"{}")
        if method == "getFile":
            return web.json_response(
                {
                    "ok": True,
                    "result": {"file_id": payload["file_id"], "file_path": payload["file_id"]},
                }
            )
        if method == "getMe":
            return web.json_response({"ok": True, "result": {"id": 1, "username": "hengtai_bot"}})
        if method == "sendMessage":
            return web.json_response({"ok": True, "result": {"message_id": 77}})
        return web.json_response({"ok": True, "result": True})

    async def telegram_file(request: web.Request) -> web.Response:
        await record(request)
        if request.match_info["token"] != TELEGRAM_BOT:
            return web.Response(status=401)
        data, media_type = state.files[request.match_info["path"]]
        return web.Response(body=data, content_type=media_type)

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", twilio_send)
    app.router.add_get("/media/{name}", media)
    app.router.add_post("/{version}/me/messages", graph_send)
    app.router.add_get("/cgi-bin/token", wechat_token)
    app.router.add_post("/cgi-bin/message/custom/send", wechat_send)
    app.router.add_get("/cgi-bin/media/get", wechat_media)
    app.router.add_post("/bot{token}/{method}", telegram)
    app.router.add_get("/file/bot{token}/{path}", telegram_file)
    runner, base_url = await serve_locally(app)
    state.url = base_url
    return runner


@pytest.fixture
async def fake_apis() -> AsyncIterator[FakeApis]:
    state = FakeApis()
    runner = await _start_fake(state)
    yield state
    await runner.cleanup()


@pytest.fixture
def social_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "TWILIO_TOKEN": TWILIO_TOKEN,
        "META_SECRET": META_SECRET,
        "META_VERIFY": META_VERIFY,
        "META_PAGE_TOKEN": META_PAGE_TOKEN,
        "WECHAT_SECRET": "wechat-app-secret",
        "WECHAT_TOKEN": WECHAT_TOKEN,
        "WECHAT_AES_KEY": WECHAT_AES_KEY,
        "TELEGRAM_BOT": TELEGRAM_BOT,
        "TELEGRAM_SECRET": TELEGRAM_SECRET,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def account_settings(fake_url: str, **overrides: Any) -> dict[str, dict[str, Any]]:
    """Settings of one account per network, every API pointed at the local fake."""
    common = {"quiet_seconds": 60, **overrides}
    return {
        "social.whatsapp": {
            **common,
            "account_sid": TWILIO_SID,
            "auth_token": "env:TWILIO_TOKEN",
            "from_number": "whatsapp:+14155238886",
            "api_base_url": fake_url,
        },
        "social.meta": {
            **common,
            "app_secret": "env:META_SECRET",
            "verify_token": "env:META_VERIFY",
            "page_access_token": "env:META_PAGE_TOKEN",
            "graph_api_version": "v21.0",
            "graph_base_url": fake_url,
        },
        "social.wechat": {
            **common,
            "app_id": WECHAT_APP_ID,
            "app_secret": "env:WECHAT_SECRET",
            "token": "env:WECHAT_TOKEN",
            "api_base_url": fake_url,
        },
        "social.telegram": {
            **common,
            "bot_token": "env:TELEGRAM_BOT",
            "secret_token": "env:TELEGRAM_SECRET",
            "api_base_url": fake_url,
        },
    }


ACCOUNT_NAMES = {
    "social.whatsapp": "wa-main",
    "social.meta": "meta-page",
    "social.wechat": "wx-oa",
    "social.telegram": "tg-bot",
}


@asynccontextmanager
async def social_gateway(
    database_url: str,
    classify: Any,
    fake_url: str,
    *,
    run_listeners: bool = False,
    per_kind: dict[str, dict[str, Any]] | None = None,
    **overrides: Any,
) -> AsyncIterator[Gateway]:
    """A running gateway with one account per network (created once per database, so a
    second gateway on the same database is a restart); `overrides` go to every account,
    `per_kind` to one kind's."""
    settings = make_settings(
        database_url,
        public_base_url=PUBLIC_BASE,
        run_listeners=run_listeners,
        listener_sync_seconds=0.2,
    )
    await prepare(settings)
    svc = build_services(settings, classify)
    async with svc.sessions.begin() as session:
        key = await create_api_key(session, f"tests-{uuid.uuid4().hex[:8]}")
    client = TestClient(TestServer(create_app(svc)))
    await client.start_server()
    gw = Gateway(client, svc, key)
    try:
        async with gw.svc.sessions.begin() as session:
            for kind, values in account_settings(fake_url, **overrides).items():
                name = ACCOUNT_NAMES[kind]
                values = {**values, **(per_kind or {}).get(kind, {})}
                if await find_account(session, name) is None:
                    await add_account(session, kind, name, get_kind(kind).validate_settings(values))
        yield gw
    finally:
        await client.close()
        await svc.close()


async def close_due(gw: Gateway, kind: str) -> None:
    """One run of the kind's periodic job (what the listener supervisor does every sync)."""
    await get_kind(kind).periodic(GatewayHost(gw.svc))


async def grouped(gw: Gateway) -> None:
    """Join the messages webhooks kept to their conversations now (the pass that otherwise
    follows intake within a moment)."""
    await GatewayHost(gw.svc).group_chat_messages(100_000)


async def force_due(gw: Gateway) -> None:
    """End every open quiet window now (instead of waiting minutes)."""
    from sqlalchemy import update

    from storage.db import utcnow

    await grouped(gw)
    async with gw.svc.sessions.begin() as session:
        await session.execute(
            update(ChatConversation).where(ChatConversation.state == "open").values(due_at=utcnow())
        )


async def conversations(gw: Gateway) -> list[ChatConversation]:
    await grouped(gw)
    async with gw.svc.sessions() as session:
        rows = await session.execute(select(ChatConversation).order_by(ChatConversation.id))
        return list(rows.scalars())


async def raw_count(gw: Gateway) -> int:
    async with gw.svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(RawMessage)) or 0)


async def raw_rows(gw: Gateway) -> list[RawMessage]:
    async with gw.svc.sessions() as session:
        return list((await session.execute(select(RawMessage).order_by(RawMessage.id))).scalars())


async def record_of(gw: Gateway, conversation_index: int = 0) -> dict[str, Any]:
    """The record a closed conversation made, once the pipeline has stored it."""
    rows = await conversations(gw)
    reference = rows[conversation_index].reference
    assert reference, f"conversation {rows[conversation_index].id} has no reference"
    return await gw.record(reference)


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
