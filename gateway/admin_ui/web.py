"""The admin UI's plumbing: templates, sessions, CSRF, role checks, sign-in and sign-out.

Every page under `/admin/` needs a live session (cookie: HttpOnly, SameSite=Strict, Secure
when the public URL is https); every POST needs the session's CSRF token. Sign-in is
rate-limited per client address and an account locks after repeated wrong passwords.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from gateway.admin_ui.i18n import language, translator
from gateway.admin_ui.permissions import GRANTS, Perm, allowed
from gateway.api import SERVICES
from gateway.services import Services
from storage.users import Principal, close_session, open_session, session_principal, verify_login

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFIX = "/admin"
COOKIE = "cg_admin"
LOGIN_CSRF_COOKIE = "cg_login"
USER: web.RequestKey[Principal] = web.RequestKey("admin_user", Principal)
CSRF: web.RequestKey[str] = web.RequestKey("admin_csrf", str)
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("admin_templates", jinja2.Environment)
LIMITER: web.AppKey[LoginLimiter] = web.AppKey("admin_login_limiter")
PUBLIC = frozenset({f"{PREFIX}/login"})
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginLimiter:
    """Sign-in attempts per client address within a sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self._seen.clear()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        window = self._seen.setdefault(client, deque())
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        if len(self._seen) > 10_000:
            self._seen.clear()
        return True


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["urlquote"] = lambda value: quote(str(value), safe="")
    return env


def svc_of(request: web.Request) -> Services:
    return request.app[SERVICES]


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    lang = language(request)
    user = request.get(USER)
    role = user.role if user else None
    page = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            _=translator(lang),
            lang=lang,
            user=user,
            csrf=request.get(CSRF, ""),
            can=lambda perm: allowed(role, Perm(perm)),
            path=request.path,
            **context,
        )
    )
    response = web.Response(text=page, status=status, content_type="text/html")
    if request.query.get("lang") in ("en", "zh"):
        response.set_cookie("lang", lang, max_age=365 * 86400, path=PREFIX, samesite="Strict")
    return response


def require(perm: Perm) -> Callable[[Handler], Handler]:
    """Refuse (403 page) a signed-in user whose role lacks `perm`."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if not allowed(request[USER].role, perm):
                message = f"the role {request[USER].role} may not do {perm.value}"
                return render(request, "error.html", status=403, message=message)
            return await handler(request)

        wrapped.permission = perm  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _secure(svc: Services) -> bool:
    return svc.settings.base_url.startswith("https://")


def _refused(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", status=status, message=message)


@web.middleware
async def admin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)
    response = await _guarded(request, handler)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC or request.path.startswith(f"{PREFIX}/static/"):
        return await handler(request)
    svc = svc_of(request)
    token = request.cookies.get(COOKIE)
    found = None
    if token:
        idle = timedelta(minutes=svc.settings.admin.session_idle_minutes)
        async with svc.sessions.begin() as session:
            found = await session_principal(session, token, idle)
    if found is None:
        if request.method == "GET":
            target = quote(request.path_qs, safe="")
            raise web.HTTPSeeOther(f"{PREFIX}/login?next={target}&expired={int(bool(token))}")
        return _refused(request, 401, "your session has ended; sign in again")
    request[USER], request[CSRF] = found
    if request.method not in ("GET", "HEAD"):
        form = (
            await request.post()
            if request.content_type.endswith("form-urlencoded")
            or (request.content_type.startswith("multipart/"))
            else {}
        )
        sent = request.headers.get("X-CSRF-Token") or str(form.get("csrf", ""))
        if not secrets.compare_digest(sent.encode(), request[CSRF].encode()):
            return _refused(request, 403, "the form's CSRF token is missing or wrong; reload it")
    return await handler(request)


def _safe_next(value: str | None) -> str:
    if value and value.startswith(PREFIX + "/") and not value.startswith("//"):
        return value
    return f"{PREFIX}/records"


async def login_page(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    if request.query.get("expired") == "1" and not message:
        message = "your session has ended; sign in again"
    response = render(
        request,
        "login.html",
        status=status,
        login_csrf=token,
        next=_safe_next(request.query.get("next")),
        message=message,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=_secure(svc_of(request)),
        path=f"{PREFIX}/login",
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    svc = svc_of(request)
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(
        str(form.get("csrf", "")).encode(), expected.encode()
    ):
        return await login_page(request, "the form expired; try again", 403)
    client = request.remote or "unknown"
    if not request.app[LIMITER].allow(client):
        return await login_page(request, "too many sign-in attempts; wait a minute", 429)
    limits = svc.settings.admin
    async with svc.sessions.begin() as session:
        outcome = await verify_login(
            session,
            str(form.get("username", "")).strip().lower(),
            str(form.get("password", "")),
            max_failures=limits.login_max_failures,
            lock=timedelta(minutes=limits.lock_minutes),
        )
        if outcome.principal is not None:
            token, _csrf = await open_session(
                session, outcome.principal, timedelta(hours=limits.session_hours)
            )
    if outcome.principal is None:
        messages = {
            "locked": "this account is locked after too many wrong passwords; try again later",
            "disabled": "this account is disabled",
        }
        text = messages.get(outcome.problem or "", "wrong username or password")
        return await login_page(request, text, 423 if outcome.problem == "locked" else 401)
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=_secure(svc),
        path=PREFIX,
        max_age=int(limits.session_hours * 3600),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path=f"{PREFIX}/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    svc = svc_of(request)
    async with svc.sessions.begin() as session:
        await close_session(session, request.cookies.get(COOKIE, ""))
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(COOKIE, path=PREFIX)
    raise response


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ("admin.css", "admin.js"):
        raise web.HTTPNotFound()
    folder = Path(__file__).parent / "static"
    return web.FileResponse(folder / name, headers={"Cache-Control": "max-age=3600"})


def roles_table() -> dict[str, list[str]]:
    return {role: sorted(p.value for p in perms) for role, perms in GRANTS.items()}
