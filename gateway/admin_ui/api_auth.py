"""Roles on the JSON admin API: user tokens act with their owner's role.

Client keys (`apikeys add`) keep working on `/api/v1/admin/` as the admin role while
`admin.client_keys_are_admin` is on (the default, so existing integrations go on);
user tokens (`users token`) are limited to what their owner's role allows and are
refused outside the admin API.
"""

from __future__ import annotations

from aiohttp import web

from gateway.admin_ui.permissions import admin_api_permission, allowed
from gateway.errors import error_response
from gateway.services import Services
from storage.ttl_cache import TtlCache
from storage.users import TOKEN_PREFIX, Principal, token_principal

CLIENT_ROLE = "client"  # an API client key, not a person
ADMIN_API = "/api/v1/admin/"
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
TOKENS: web.AppKey[TtlCache[str, Principal | None]] = web.AppKey("user_tokens", TtlCache)


def setup(app: web.Application) -> None:
    app[TOKENS] = TtlCache(5.0)


async def user_token_principal(request: web.Request, svc: Services, key: str) -> Principal | None:
    if not key.startswith(TOKEN_PREFIX) or TOKENS not in request.app:
        return None

    async def load(token: str) -> Principal | None:
        async with svc.sessions.begin() as session:
            return await token_principal(session, token)

    principal = await request.app[TOKENS].get(key, load)
    if principal is not None:
        request[PRINCIPAL] = principal
    return principal


def admin_api_denied(request: web.Request, svc: Services, role: str) -> web.Response | None:
    """A 403 when `role` may not make this request, else None."""
    if not request.path.startswith(ADMIN_API):
        if role == CLIENT_ROLE:
            return None
        return error_response(403, "forbidden", "user tokens are for the admin API only")
    if role == CLIENT_ROLE:
        if svc.settings.admin.client_keys_are_admin:
            return None
        return error_response(403, "forbidden", "client keys may not use the admin API")
    needed = admin_api_permission(request.method, request.path)
    if allowed(role, needed):
        return None
    return error_response(403, "forbidden", f"the role {role} may not do {needed.value}")
