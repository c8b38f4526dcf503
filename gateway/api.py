"""The JSON intake API: `POST /api/v1/complaints` and `GET /api/v1/complaints/{reference}`.

Authenticated by API key (`Authorization: Bearer …` or `X-API-Key`). A body
that is accepted is archived before the answer; one that is refused for its
content (bad JSON, wrong fields) is archived too, in the `failed` state, so
nothing a client sent is lost.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select

from channels.api import ApiComplaint
from channels.registry import get_kind
from gateway.admin_ui.api_auth import CLIENT_ROLE, admin_api_denied, user_token_principal
from gateway.errors import error_response
from gateway.intake import accept, archive_rejected
from gateway.record_view import record_document
from gateway.services import Services
from storage.accounts import api_key_owner, find_account
from storage.archive import content_hash
from storage.complaints import find_complaint
from storage.tables import ChannelAccount, RawMessage
from storage.ttl_cache import TtlCache

DEFAULT_API_ACCOUNT = "api"
SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
KEY_CACHE_SECONDS = 5.0
ACCOUNT_CACHE_SECONDS = 2.0
DISCARD_CAP_FACTOR = 16
CLIENT: web.RequestKey[str] = web.RequestKey("client", str)


class LookupCache:
    """Briefly remembered API keys and channel accounts (see `storage.ttl_cache`): a disabled
    key or account stops working within its cache's seconds plus one lookup."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.keys: TtlCache[str, str | None] = TtlCache(KEY_CACHE_SECONDS)
        self.accounts: TtlCache[str, ChannelAccount | None] = TtlCache(ACCOUNT_CACHE_SECONDS)

    async def owner(self, key: str) -> str | None:
        return await self.keys.get(key, self._load_owner)

    async def account(self, name: str) -> ChannelAccount | None:
        return await self.accounts.get(name, self._load_account)

    async def _load_owner(self, key: str) -> str | None:
        async with self.svc.sessions() as session:
            return await api_key_owner(session, key)

    async def _load_account(self, name: str) -> ChannelAccount | None:
        async with self.svc.sessions() as session:
            return await find_account(session, name)


LOOKUPS: web.AppKey[LookupCache] = web.AppKey("lookups", LookupCache)


def _presented_key(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


@web.middleware
async def api_key_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/api/") or request.path == "/api/v1/openapi.json":
        return await handler(request)
    key = _presented_key(request)
    if key is None:
        return error_response(401, "missing_api_key", "send the key as 'Authorization: Bearer KEY'")
    owner, role = await request.app[LOOKUPS].owner(key), CLIENT_ROLE
    if owner is None and (
        person := await user_token_principal(request, request.app[SERVICES], key)
    ):
        owner, role = person.username, person.role
    if owner is None:
        return error_response(401, "invalid_api_key", "the API key is unknown or disabled")
    if (denied := admin_api_denied(request, request.app[SERVICES], role)) is not None:
        return denied
    request[CLIENT] = owner
    return await handler(request)


async def read_bounded(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` bytes.

    An oversize body is read on and dropped (up to a hard cap) so the client,
    still sending, can read the 413 instead of seeing the connection reset.
    """
    data = await request.content.read(limit + 1)
    if len(data) <= limit:
        return data
    discarded = len(data)
    while discarded < DISCARD_CAP_FACTOR * limit:
        chunk = await request.content.read(65536)
        if not chunk:
            break
        discarded += len(chunk)
    return None


def _account_name(request: web.Request, parsed: dict[str, Any] | None) -> str:
    if parsed and isinstance(parsed.get("channel_account"), str):
        return str(parsed["channel_account"])
    return (
        request.headers.get("X-Channel-Account")
        or request.query.get("account")
        or DEFAULT_API_ACCOUNT
    )


async def post_complaint(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    data = await read_bounded(request, svc.settings.max_body_bytes)
    if data is None:
        return error_response(
            413, "body_too_large", f"the body exceeds {svc.settings.max_body_bytes} bytes"
        )
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        return error_response(415, "unsupported_media_type", "send application/json")
    parsed, problem = _parse(data)
    account = await request.app[LOOKUPS].account(_account_name(request, parsed))
    if account is None:
        return error_response(404, "unknown_channel_account", "no such channel account")
    if not account.enabled:
        return error_response(
            403, "channel_disabled", f"channel account {account.name} is disabled"
        )
    if account.kind != "api":
        return error_response(400, "wrong_channel_kind", f"{account.name} is not an api account")
    if problem is not None:
        status, code, message, details = problem
        raw_id = await archive_rejected(
            svc, account, data=data, media_type="application/json", error=message
        )
        return error_response(status, code, message, details=details, raw_id=raw_id)
    key = request.headers.get("Idempotency-Key")
    provider_id = f"key:{request[CLIENT]}:{key}" if key else f"sha256:{content_hash(data)}"
    accepted = await accept(
        svc,
        account,
        get_kind("api").family.value,
        provider_id=provider_id,
        data=data,
        media_type="application/json",
        meta={"client": request[CLIENT]},
        reserve_reference=True,
    )
    if accepted.duplicate and accepted.sha256 != content_hash(data):
        return error_response(
            409,
            "idempotency_conflict",
            "this Idempotency-Key was used before with a different body",
            reference=accepted.reference,
        )
    body = {
        "reference": accepted.reference,
        "raw_id": accepted.raw_id,
        "status": "received",
        "duplicate": accepted.duplicate,
        "url": f"/api/v1/complaints/{accepted.reference}",
    }
    return web.json_response(body, status=200 if accepted.duplicate else 202)


def _parse(data: bytes) -> tuple[dict[str, Any] | None, tuple[int, str, str, Any] | None]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, (400, "invalid_json", f"the body is not valid JSON: {exc}", None)
    if not isinstance(document, dict):
        return None, (422, "validation_error", "the body must be a JSON object", None)
    try:
        ApiComplaint.model_validate(document)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        return document, (422, "validation_error", "the body has invalid fields", details)
    return document, None


async def get_complaint(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    reference = request.match_info["reference"]
    async with svc.sessions() as session:
        row = await find_complaint(session, reference)
        if row is not None:
            return web.json_response(await record_document(session, row))
        raw = (
            await session.execute(select(RawMessage).where(RawMessage.reference == reference))
        ).scalar_one_or_none()
    if raw is None:
        return error_response(404, "not_found", f"no complaint {reference}")
    body = {"reference": reference, "status": raw.state, "error": raw.error}
    return web.json_response(body, status=202)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/complaints", post_complaint)
    app.router.add_get("/api/v1/complaints/{reference}", get_complaint)
