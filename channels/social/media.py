"""Fetching a photo, voice note or file: size-limited, its type sniffed from the bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import filetype
from yarl import URL

OCTET_STREAM = "application/octet-stream"
MAX_REDIRECTS = 3


class MediaError(Exception):
    """The media could not be kept; `retry` says whether a later attempt can help."""

    def __init__(self, detail: str, *, retry: bool) -> None:
        super().__init__(detail)
        self.retry = retry


@dataclass(frozen=True)
class Fetched:
    data: bytes
    media_type: str


def sniff(data: bytes, declared: str | None) -> str:
    """The type the bytes say they are; the declared one only when the bytes say nothing."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return str(kind.mime)
    return declared or OCTET_STREAM


async def fetch(
    http: aiohttp.ClientSession,
    url: str,
    *,
    limit: int,
    declared: str | None = None,
    headers: dict[str, str] | None = None,
    **request: Any,
) -> Fetched:
    """GET `url`, refusing more than `limit` bytes (by header and while reading).

    Redirects are followed without `headers`: credentials go to the API that asked
    for them, never to the storage host it redirects to (Twilio media → S3).
    """
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            async with http.get(url, headers=headers, allow_redirects=False, **request) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url, headers = str(response.url.join(URL(response.headers["Location"]))), None
                    continue
                if response.status >= 400:
                    retry = response.status >= 500 or response.status in (408, 429)
                    raise MediaError(f"media download answered {response.status}", retry=retry)
                if response.content_length is not None and response.content_length > limit:
                    raise MediaError(f"media is larger than {limit} bytes", retry=False)
                data = await response.content.read(limit + 1)
                content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaError(f"media download failed: {type(exc).__name__}", retry=True) from exc
        if len(data) > limit:
            raise MediaError(f"media is larger than {limit} bytes", retry=False)
        if not data:
            raise MediaError("media is empty", retry=False)
        return Fetched(data, sniff(data, declared or content_type))
    raise MediaError("too many redirects", retry=False)
