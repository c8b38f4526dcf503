"""Liveness, readiness and Prometheus metrics endpoints (SPEC §8)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from gateway import metrics
from gateway.api import SERVICES
from gateway.openapi import openapi_document
from gateway.sla_clock import refresh_overdue_gauges
from storage.tables import Outbox, RawMessage


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    checks: dict[str, Any] = {}
    ready = True
    try:
        async with svc.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        ready = False
    redis = svc.extras.get("redis")
    if svc.settings.scale_out:
        try:
            await redis.ping()  # type: ignore[union-attr]
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
            ready = False
    checks["classifier"] = svc.classify.status
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return web.json_response(body, status=200 if ready else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    async with svc.sessions() as session:
        for state, count in await session.execute(
            select(Outbox.state, func.count()).group_by(Outbox.state)
        ):
            metrics.OUTBOX_STATE.labels(state).set(count)
        for state, count in await session.execute(
            select(RawMessage.state, func.count()).group_by(RawMessage.state)
        ):
            metrics.RAW_STATE.labels(state).set(count)
        await refresh_overdue_gauges(session)
    if svc.queue is not None:
        metrics.QUEUE_DEPTH.set(await svc.queue.depth())
    return web.Response(
        body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/api/v1/openapi.json", openapi)
