"""Machine-readable JSON errors for every 4xx/5xx the HTTP API returns."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway import metrics


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    metrics.REJECTED.labels(code).inc()
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    return web.json_response(body, status=status)
