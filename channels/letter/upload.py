"""`POST /api/v1/letters`: a scanned letter uploaded as multipart form data.

Fields: `file` (one JPEG, PNG, TIFF or PDF) and optionally `account` (default
`letter`; also `?account=`). The upload is archived before the answer and gets its
reference at once (202); the same file again is a duplicate (200). A file that cannot
be read as a letter is archived too and answered 422 with the reason; OCR happens later
in the pipeline. API-key protected like all of `/api/`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from channels.base import ChannelHost
from channels.letter.folder import media_type_of, probe, safe_name
from channels.letter.settings import LetterSettings

DEFAULT_ACCOUNT = "letter"
FORM_FIELD_LIMIT = 1024


def _error(status: int, code: str, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


async def _read_part(part: BodyPartReader, limit: int) -> bytes | None:
    """The part's bytes, or None as soon as it exceeds `limit`."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def upload_routes(host: ChannelHost) -> list[web.AbstractRouteDef]:
    async def post_letter(request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/"):
            return _error(
                415, "unsupported_media_type", "send multipart/form-data with a 'file' field"
            )
        account_name = request.query.get("account") or DEFAULT_ACCOUNT
        filename: str | None = None
        data: bytes | None = None
        reader = await request.multipart()
        hard_limit = LetterSettings().max_file_bytes
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "account":
                account_name = (await part.text())[:FORM_FIELD_LIMIT].strip() or account_name
            elif part.name == "file" and data is None:
                filename = safe_name(unquote(part.filename or "letter"))  # clients %-encode
                data = await _read_part(part, hard_limit)
                if data is None:
                    return _error(413, "file_too_large", f"the file exceeds {hard_limit:,} bytes")
        if data is None:
            return _error(400, "missing_file", "the form has no 'file' field")
        account = await host.account(account_name)
        if account is None or account.kind != "letter":
            return _error(404, "unknown_channel_account", f"no letter account {account_name!r}")
        if not account.enabled:
            return _error(403, "channel_disabled", f"channel account {account.name} is disabled")
        settings = LetterSettings.model_validate(account.settings)
        if len(data) > settings.max_file_bytes:
            return _error(
                413, "file_too_large", f"the file exceeds {settings.max_file_bytes:,} bytes"
            )
        result = await host.accept(
            account,
            provider_id=f"file:{hashlib.sha256(data).hexdigest()}",
            data=data,
            media_type=media_type_of(data),
            meta={"filename": filename, "source": "upload", "bytes": len(data)},
            reserve_reference=True,
        )
        problem = await asyncio.to_thread(probe, data, settings)
        if problem is not None:
            return _error(422, "unreadable_letter", problem, raw_id=result.raw_id)
        body = {
            "reference": result.reference,
            "raw_id": result.raw_id,
            "status": "received",
            "duplicate": result.duplicate,
            "url": f"/api/v1/complaints/{result.reference}",
        }
        return web.json_response(body, status=200 if result.duplicate else 202, dumps=json.dumps)

    return [web.post("/api/v1/letters", post_letter)]
