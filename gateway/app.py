"""The aiohttp application: API, health and metrics, with the run mode's job machinery."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from channels.registry import all_kinds
from gateway import admin_api, api, health, letter_review
from gateway.admin_ui import routes as admin_ui_routes
from gateway.channel_host import GatewayHost
from gateway.listeners import ListenerSupervisor
from gateway.runtime import EmbeddedRuntime, ScaleOutFrontEnd
from gateway.services import Services

RUNTIME: web.AppKey[EmbeddedRuntime | ScaleOutFrontEnd] = web.AppKey("runtime")
LISTENERS: web.AppKey[ListenerSupervisor] = web.AppKey("listeners")


def create_app(svc: Services, *, run_jobs: bool = True) -> web.Application:
    """The service's web application; `run_jobs=False` leaves job handling to the caller."""
    app = web.Application(middlewares=[api.api_key_middleware])
    app[api.SERVICES] = svc
    app[api.LOOKUPS] = api.LookupCache(svc)
    api.add_routes(app)
    admin_api.add_routes(app)
    admin_ui_routes.setup(app)
    letter_review.add_routes(app)
    health.add_routes(app)
    host = GatewayHost(svc)
    for kind in all_kinds():
        app.router.add_routes(kind.routes(host))
    if run_jobs:
        app.cleanup_ctx.append(_runtime)
    if svc.settings.run_listeners:
        app[LISTENERS] = ListenerSupervisor(host, svc.settings.listener_sync_seconds)
        app.cleanup_ctx.append(_listeners)
    return app


async def _listeners(app: web.Application) -> AsyncIterator[None]:
    supervisor = app[LISTENERS]
    await supervisor.start()
    yield
    await supervisor.stop()


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    svc = app[api.SERVICES]
    runtime: EmbeddedRuntime | ScaleOutFrontEnd = (
        ScaleOutFrontEnd(svc) if svc.settings.scale_out else EmbeddedRuntime(svc)
    )
    await runtime.start()
    app[RUNTIME] = runtime
    yield
    await runtime.stop()
