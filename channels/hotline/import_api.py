"""`POST /api/v1/hotline/transcripts?account=NAME`: the import, over HTTP.

Behind the API-key check every `/api/` path has. The body is an import file
(JSON, or CSV with `Content-Type: text/csv`); each call is archived as its own
input, so posting the same file again adds nothing. The calls are archived in bulk
(a few statements per chunk of 2,000) and queued for the pipeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from channels.base import ChannelHost
from channels.hotline import batch

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_IMPORT_BYTES = 50 * 1024 * 1024
DEFAULT_ACCOUNT = "hotline.twilio"
ACCEPT_CHUNK = 2_000


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def import_handler(host: ChannelHost) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        name = request.query.get("account", DEFAULT_ACCOUNT)
        account = await host.account(name)
        if account is None or account.kind != "hotline.twilio":
            return _error(404, "unknown_channel_account", f"no hotline account {name!r}")
        if not account.enabled:
            return _error(403, "channel_disabled", f"{name} is disabled")
        data = await request.content.read(MAX_IMPORT_BYTES + 1)
        if len(data) > MAX_IMPORT_BYTES:
            return _error(413, "body_too_large", f"the body exceeds {MAX_IMPORT_BYTES} bytes")
        filename = "upload.csv" if request.content_type == "text/csv" else "upload.json"
        accepted = duplicates = 0
        rejected = []
        items = batch.split(data, filename)
        results = []
        for start in range(0, len(items), ACCEPT_CHUNK):  # one transaction per chunk
            results += await host.accept_many(account, items[start : start + ACCEPT_CHUNK])
        for item, result in zip(items, results, strict=True):
            if item.error:
                rejected.append({"where": item.where, "error": item.error, "raw_id": result.raw_id})
            elif result.duplicate:
                duplicates += 1
            else:
                accepted += 1
        body = {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}
        return web.json_response(body, status=202)

    return handle


def import_routes(host: ChannelHost) -> list[web.AbstractRouteDef]:
    return [web.post("/api/v1/hotline/transcripts", import_handler(host))]
