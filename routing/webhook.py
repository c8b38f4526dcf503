"""The `webhook` destination: a signed JSON POST with an idempotency key.

2xx is delivered; 408, 429, 5xx and network errors are retried (honouring
`Retry-After`); any other 4xx is dead at once, because sending the same
request again cannot succeed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
from pydantic import field_validator
from yarl import URL

from routing.destinations import Delivery, DestinationTools, register_kind
from routing.kind_settings import KindSettings
from routing.outcome import Outcome, Verdict
from routing.signing import sign

RETRYABLE_4XX = {408, 425, 429}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def verdict_for_status(status: int) -> Verdict:
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status in RETRYABLE_4XX or status >= 500:
        return Verdict.RETRY
    return Verdict.DEAD


class WebhookSettings(KindSettings):
    url: str
    secret: str | None = None  # reference: env:NAME or file:/path

    @field_validator("url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        url = URL(value)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value


class WebhookSender:
    def __init__(self, name: str, settings: dict[str, Any], tools: DestinationTools):
        config = WebhookSettings.model_validate(settings)
        self.name = name
        self.url = config.url
        self.secret = tools.resolve_secret(config.secret) if config.secret else None
        self.timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def _headers(self, delivery: Delivery, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": delivery.idempotency_key,
            "X-Delivery-Purpose": delivery.purpose,
            "X-Delivery-Attempt": str(delivery.attempt),
            "X-Timestamp": timestamp,
        }
        if self.secret is not None:
            headers["X-Signature"] = sign(self.secret, timestamp, body)
        return headers

    async def send(self, delivery: Delivery) -> Outcome:
        body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
        try:
            async with self._client().post(
                self.url, data=body, headers=self._headers(delivery, body)
            ) as response:
                await response.read()
                verdict = verdict_for_status(response.status)
                return Outcome(
                    verdict,
                    f"HTTP {response.status}",
                    _retry_after(response.headers.get("Retry-After")),
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Outcome(Verdict.RETRY, f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


register_kind("webhook", WebhookSender)
