"""Reading a posted form with bounds: text fields, photo bytes, and nothing written to disk.

Parts are read into memory chunk by chunk and counted; a part over its
limit is drained and marked, so the rest of the form can still be shown
back with a clear message. Uploaded file names are never used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

PHOTO_FIELD = "photos"
MAX_FIELD_BYTES = 32 * 1024
MAX_FIELDS = 40
CHUNK = 64 * 1024


class BadForm(ValueError):
    """The body is not a form this page sent (wrong type, nested parts, too many fields)."""


class TooLarge(ValueError):
    """The whole body is over the limit."""


@dataclass
class Posted:
    fields: dict[str, str] = field(default_factory=dict)
    photos: list[bytes] = field(default_factory=list)
    photo_too_large: bool = False
    too_many_photos: bool = False


async def read_posted(
    request: web.Request, *, max_photos: int, max_photo_bytes: int, max_total: int
) -> Posted:
    if request.content_length is not None and request.content_length > max_total:
        raise TooLarge
    if request.content_type == "multipart/form-data":
        return await _read_multipart(request, max_photos, max_photo_bytes, max_total)
    if request.content_type == "application/x-www-form-urlencoded":
        if (request.content_length or 0) > MAX_FIELD_BYTES * 4:
            raise TooLarge
        data = await request.post()
        return Posted(fields={k: v for k, v in data.items() if isinstance(v, str)})
    raise BadForm(f"unsupported content type {request.content_type!r}")


async def _read_multipart(
    request: web.Request, max_photos: int, max_photo_bytes: int, max_total: int
) -> Posted:
    posted = Posted()
    budget = [max_total]
    reader = await request.multipart()
    parts = 0
    while (part := await reader.next()) is not None:
        parts += 1
        if not isinstance(part, BodyPartReader) or parts > MAX_FIELDS + max_photos + 5:
            raise BadForm("unexpected part structure")
        if part.filename is None:
            value = await _read(part, MAX_FIELD_BYTES, budget)
            if value is None:
                raise BadForm(f"field {part.name!r} is too long")
            if part.name and part.name not in posted.fields:
                posted.fields[part.name] = value.decode("utf-8", errors="replace")
            continue
        data = await _read(part, max_photo_bytes, budget)
        if part.name != PHOTO_FIELD:
            continue
        if data is None:
            posted.photo_too_large = True
        elif not data:
            continue  # an empty file input
        elif len(posted.photos) >= max_photos:
            posted.too_many_photos = True
        else:
            posted.photos.append(data)
    return posted


async def _read(part: BodyPartReader, limit: int, budget: list[int]) -> bytes | None:
    """The part's bytes, or None (after draining it) when it is longer than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        budget[0] -= len(chunk)
        if budget[0] < 0:
            raise TooLarge
        if size <= limit:
            chunks.append(chunk)
    return b"".join(chunks) if size <= limit else None
