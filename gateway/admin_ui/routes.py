"""Mounting the admin UI and its JSON endpoints on the service's application."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.admin_ui import api_auth, api_models, channels, dashboard, models, records, review
from gateway.admin_ui import routing as routing_pages
from gateway.admin_ui.web import (
    LIMITER,
    PREFIX,
    TEMPLATES,
    LoginLimiter,
    admin_middleware,
    environment,
    login,
    login_page,
    logout,
    static,
)
from gateway.api import SERVICES
from gateway.retraining import schedule


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"{PREFIX}/records")


async def _login_get(request: web.Request) -> web.Response:
    return await login_page(request)


ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/records", records.records_list),
    ("GET", "/records/{reference}", records.record_page),
    ("GET", "/records/{reference}/original", records.original),
    ("GET", "/records/{reference}/attachments/{sha}", records.attachment),
    ("POST", "/records/{reference}/correct", records.correct),
    ("GET", "/review", review.review_page),
    ("POST", "/review/{reference}/confirm", review.confirm),
    ("GET", "/channels", channels.channel_list),
    ("GET", "/channels/new", channels.channel_new),
    ("POST", "/channels", channels.channel_save),
    ("GET", "/channels/{name}", channels.channel_edit),
    ("POST", "/channels/{name}", channels.channel_save),
    ("POST", "/channels/{name}/{action}", channels.channel_action),
    ("GET", "/routing", routing_pages.routing_page),
    ("POST", "/routing/routes", routing_pages.save_route),
    ("POST", "/routing/destinations", routing_pages.save_destination),
    ("POST", "/routing/destinations/{name}/remove", routing_pages.remove_destination),
    ("GET", "/deadletters", routing_pages.dead_letters),
    ("POST", "/deadletters/replay", routing_pages.replay_dead),
    ("GET", "/models", models.models_page),
    ("POST", "/models/retrain", models.retrain),
    ("GET", "/models/compare", models.compare),
    ("POST", "/models/{version}/promote", models.promote),
    ("GET", "/rules", models.rules_page),
    ("POST", "/rules/suggest", models.make_suggestions),
    ("POST", "/rules/suggestions/{id:\\d+}", models.decide_suggestion),
    ("POST", "/rules/activate", models.activate_rules),
    ("GET", "/dashboard", dashboard.dashboard),
]


def setup(app: web.Application) -> None:
    """Add `/admin/…`, its middleware, the models API and the retrain schedule to `app`."""
    svc = app[SERVICES]
    app[TEMPLATES] = environment()
    app[LIMITER] = LoginLimiter(svc.settings.admin.login_attempts_per_minute)
    api_auth.setup(app)
    app.middlewares.append(admin_middleware)
    app.router.add_get(PREFIX, _home)
    app.router.add_get(f"{PREFIX}/", _home)
    app.router.add_get(f"{PREFIX}/login", _login_get)
    app.router.add_post(f"{PREFIX}/login", login)
    app.router.add_post(f"{PREFIX}/logout", logout)
    app.router.add_get(f"{PREFIX}/static/{{name}}", static)
    for method, path, handler in ROUTES:
        app.router.add_route(method, PREFIX + path, handler)  # type: ignore[arg-type]
    api_models.add_routes(app)
    if svc.settings.admin.retrain.schedule_hours > 0:

        async def scheduled(_app: web.Application) -> AsyncIterator[None]:
            async for _ in schedule(svc):
                yield

        app.cleanup_ctx.append(scheduled)
