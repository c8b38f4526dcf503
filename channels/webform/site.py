"""The public pages of the web form channel: the form, its answer, and the status look-up.

`/` is the default account's form, `/forms/{account}` any other's; the
status look-up is `/status` (or `/forms/{account}/status`, in that form's
branding). Every submission is archived through the host before the
reference is shown, so what the person sees has been stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import ValidationError

from channels.base import AccountView, ChannelHost
from channels.webform.document import build_document
from channels.webform.form import ComplaintForm, FieldError, read_form
from channels.webform.i18n import CATALOGUES, LANGUAGE_COOKIE, Texts, choose_language
from channels.webform.images import Photo, PhotoError, reencode, sniff
from channels.webform.pages import (
    STYLESHEET,
    PageContext,
    html_response,
    message_page,
    render,
    render_html,
)
from channels.webform.security import CSRF_COOKIE, Csrf, RateLimiter, client_address, secure
from channels.webform.settings import WebformSettings
from channels.webform.upload import BadForm, Posted, TooLarge, read_posted

log = logging.getLogger(__name__)
KIND = "webform"
DEFAULT_ACCOUNT = "webform"
ACCOUNT_CACHE_SECONDS = 2.0
FORM_OVERHEAD_BYTES = 256 * 1024
LOOKUP_MAX_BYTES = 8 * 1024
TOKEN_SLOT = "__csrf_token_slot__"
LABEL_KEYS = {"consent": "consent_short", "anonymous": "anonymous"}


@dataclass(frozen=True)
class _Form:
    """A resolved request: the account, its checked settings and the page context."""

    account: AccountView
    settings: WebformSettings
    page: PageContext


class WebformSite:
    """Handlers for one application; holds its rate limiters and CSRF keys."""

    def __init__(self, host: ChannelHost) -> None:
        self.host = host
        self.limiter = RateLimiter()
        self._process_key = secrets.token_bytes(32)
        self._accounts: dict[str, tuple[float, AccountView | None, WebformSettings | None]] = {}
        self._blank_forms: dict[tuple[str, str], tuple[WebformSettings, str]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.show_form),
            web.post("/", self.submit),
            web.get("/status", self.show_status),
            web.post("/status", self.look_up),
            web.get("/forms/{account}", self.show_form),
            web.post("/forms/{account}", self.submit),
            web.get("/forms/{account}/status", self.show_status),
            web.post("/forms/{account}/status", self.look_up),
            web.get("/static/webform/form.css", self.stylesheet),
        ]

    # -- resolving the account and language ---------------------------------------------

    async def _lookup(self, name: str) -> tuple[AccountView | None, WebformSettings | None]:
        """The account, read at most every 2 s (the page must answer fast under load)."""
        now = time.monotonic()
        hit = self._accounts.get(name)
        if hit and now - hit[0] < ACCOUNT_CACHE_SECONDS:
            return hit[1], hit[2]
        account = await self.host.account(name)
        settings = None
        if account is not None and account.kind == KIND:
            try:
                settings = WebformSettings.model_validate(account.settings)
            except ValidationError:
                log.warning("web form account has invalid settings", extra={"account": name})
        if len(self._accounts) > 1000:
            self._accounts.clear()
        self._accounts[name] = (now, account, settings)
        return account, settings

    async def _resolve(
        self, request: web.Request, language: str | None = None
    ) -> _Form | web.Response:
        name = request.match_info.get("account", DEFAULT_ACCOUNT)
        account, settings = await self._lookup(name)
        base = "/" if "account" not in request.match_info else f"/forms/{name}"
        status_url = "/status" if base == "/" else f"{base}/status"
        chosen = settings or WebformSettings()
        page = PageContext(
            account=name,
            settings=chosen,
            language=choose_language(
                language or request.query.get("lang"),
                request.cookies.get(LANGUAGE_COOKIE),
                request.headers.get("Accept-Language"),
                chosen.languages,
            ),
            form_url=base,
            status_url=status_url,
        )
        if account is None or settings is None:
            return message_page(page, 404, "not_found", here=request.path, show_back=False)
        if not account.enabled:
            return message_page(page, 403, "closed", here=request.path, show_back=False)
        return _Form(account, settings, page)

    def _csrf(self, settings: WebformSettings) -> Csrf:
        if settings.csrf_secret:
            try:
                return Csrf(self.host.secret(settings.csrf_secret).encode())
            except ValueError:
                log.error("web form csrf_secret cannot be read; using a per-process key")
        return Csrf(self._process_key)

    def _token(self, request: web.Request, resolved: _Form) -> tuple[str, str]:
        """(cookie, token) for a page that holds a form."""
        cookie = request.cookies.get(CSRF_COOKIE) or Csrf.new_cookie()
        return cookie, self._csrf(resolved.settings).issue(resolved.account.name, cookie).value

    @staticmethod
    def _cookies(
        request: web.Request, response: web.Response, cookie: str, lang: str
    ) -> web.Response:
        if request.cookies.get(CSRF_COOKIE) != cookie:
            response.set_cookie(
                CSRF_COOKIE, cookie, httponly=True, samesite="Lax", secure=request.secure, path="/"
            )
        if request.query.get("lang") and request.cookies.get(LANGUAGE_COOKIE) != lang:
            response.set_cookie(
                LANGUAGE_COOKIE,
                lang,
                max_age=365 * 86400,
                samesite="Lax",
                secure=request.secure,
                path="/",
            )
        return response

    def _limited(self, request: web.Request, resolved: _Form, what: str) -> web.Response | None:
        settings = resolved.settings
        limit = settings.submit_limit if what == "submit" else settings.lookup_limit
        address = client_address(request, settings.trust_forwarded_for)
        wait = self.limiter.hit(
            f"{what}:{resolved.account.name}:{address}", limit.count, limit.seconds
        )
        if not wait:
            return None
        log.info("web form rate limit", extra={"account": resolved.account.name, "what": what})
        return self._too_many(request, resolved, wait)

    @staticmethod
    def _too_many(request: web.Request, resolved: _Form, wait: float) -> web.Response:
        response = message_page(
            resolved.page, 429, "rate", here=request.path, minutes=max(1, math.ceil(wait / 60))
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response

    # -- the form ---------------------------------------------------------------------

    async def show_form(self, request: web.Request) -> web.Response:
        resolved = await self._resolve(request)
        if isinstance(resolved, web.Response):
            return resolved
        return self._form_page(request, resolved, ComplaintForm(values={}), status=200)

    def _form_page(
        self, request: web.Request, resolved: _Form, form: ComplaintForm, *, status: int
    ) -> web.Response:
        cookie, token = self._token(request, resolved)
        if form.values or form.errors:
            html = self._form_html(resolved, form, token)
        else:
            html = self._blank_form_html(resolved).replace(TOKEN_SLOT, token)
        response = html_response(html, status)
        return self._cookies(request, response, cookie, resolved.page.language)

    def _blank_form_html(self, resolved: _Form) -> str:
        """The empty form, rendered once per account, language and settings (the page is
        the hot path: a render costs about a millisecond, a string replace microseconds)."""
        key = (resolved.account.name, resolved.page.language)
        hit = self._blank_forms.get(key)
        if hit is not None and hit[0] is resolved.settings:
            return hit[1]
        html = self._form_html(resolved, ComplaintForm(values={}), TOKEN_SLOT)
        if len(self._blank_forms) > 1000:
            self._blank_forms.clear()
        self._blank_forms[key] = (resolved.settings, html)
        return html

    def _form_html(self, resolved: _Form, form: ComplaintForm, token: str) -> str:
        page, settings = resolved.page, resolved.settings
        t = page.t
        return render_html(
            page,
            "form.html",
            here=page.form_url,
            title=t("form_title"),
            action=page.form_url,
            csrf=token,
            values=form.values,
            anonymous=form.anonymous,
            consent=form.consent,
            errors={name: t(error.key, **error.values) for name, error in form.errors.items()},
            labels=_labels(t, form),
            max_photos=settings.max_photos,
            max_photo_mb=round(settings.max_photo_bytes / 1024 / 1024, 1),
        )

    async def submit(self, request: web.Request) -> web.Response:
        resolved = await self._resolve(request)
        if isinstance(resolved, web.Response):
            return resolved
        if (limited := self._limited(request, resolved, "submit")) is not None:
            return limited
        settings, page = resolved.settings, resolved.page
        try:
            posted = await read_posted(
                request,
                max_photos=settings.max_photos,
                max_photo_bytes=settings.max_photo_bytes,
                max_total=settings.max_photos * settings.max_photo_bytes + FORM_OVERHEAD_BYTES,
            )
        except TooLarge:
            mb = round(settings.max_photo_bytes / 1024 / 1024, 1)
            return message_page(
                page, 413, "too_large", here=request.path, count=settings.max_photos, size=mb
            )
        except BadForm:
            return message_page(page, 400, "rejected", here=request.path)
        if posted.fields.get("lang") in settings.languages:
            resolved = _in_language(resolved, posted.fields["lang"])
            page = resolved.page
        nonce = self._csrf(settings).check(
            resolved.account.name, request.cookies.get(CSRF_COOKIE), posted.fields.get("_csrf")
        )
        if nonce is None:
            return message_page(page, 403, "csrf", here=request.path)
        if posted.fields.get("website", "").strip():
            log.info("web form honeypot filled", extra={"account": resolved.account.name})
            return message_page(page, 400, "rejected", here=request.path)
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        form = read_form(posted.fields, today)
        status = _photo_problems(form, posted, settings)
        photos: list[Photo] = []
        if form.valid and posted.photos:
            photos, status = await _reencode_all(form, posted.photos, settings.max_photo_side)
        if not form.valid:
            return self._form_page(request, resolved, form, status=status)
        return await self._accept(request, resolved, form, photos, nonce)

    async def _accept(
        self,
        request: web.Request,
        resolved: _Form,
        form: ComplaintForm,
        photos: list[Photo],
        nonce: str,
    ) -> web.Response:
        page, settings = resolved.page, resolved.settings
        document = build_document(
            language=page.language,
            timezone=settings.timezone,
            department_hints=settings.department_hints,
            fields=form.fields(),
            photos=photos,
        )
        digest = hashlib.sha256(document).hexdigest()[:24]
        try:
            accepted = await self.host.accept(
                resolved.account,
                provider_id=f"form:{nonce}:{digest}",
                data=document,
                media_type="application/json",
                meta={"form": "webform/1", "language": page.language, "photos": len(photos)},
                reserve_reference=True,
            )
        except Exception:
            log.exception("web form submission could not be archived")
            return message_page(page, 503, "unavailable", here=request.path)
        return render(
            page,
            "done.html",
            here=request.path,
            title=page.t("done_title"),
            reference=accepted.reference,
            email=form.email,
            phone=form.phone_e164,
            anonymous=form.anonymous,
        )

    # -- the status look-up -------------------------------------------------------------

    async def show_status(self, request: web.Request) -> web.Response:
        resolved = await self._resolve(request)
        if isinstance(resolved, web.Response):
            return resolved
        reference = request.query.get("reference", "")[:32]
        return self._status_page(request, resolved, reference=reference, status=200)

    def _status_page(
        self,
        request: web.Request,
        resolved: _Form,
        *,
        reference: str,
        status: int,
        result: dict[str, object] | None = None,
        not_found: bool = False,
    ) -> web.Response:
        page = resolved.page
        t = page.t
        cookie, token = self._token(request, resolved)
        shown = _public_view(page, result) if result else {}
        response = render(
            page,
            "status.html",
            status=status,
            here=request.path,
            title=t("status_title"),
            action=page.status_url,
            csrf=token,
            reference=reference,
            not_found=not_found,
            result=shown.get("result"),
            events=shown.get("events", []),
            status_text=shown.get("status_text", ""),
            outcome_text=shown.get("outcome_text", ""),
        )
        return self._cookies(request, response, cookie, page.language)

    async def look_up(self, request: web.Request) -> web.Response:
        resolved = await self._resolve(request)
        if isinstance(resolved, web.Response):
            return resolved
        if (limited := self._limited(request, resolved, "lookup")) is not None:
            return limited
        if (request.content_length or 0) > LOOKUP_MAX_BYTES:
            return message_page(resolved.page, 413, "rejected", here=request.path)
        try:
            posted = await read_posted(
                request, max_photos=0, max_photo_bytes=1, max_total=LOOKUP_MAX_BYTES
            )
        except (TooLarge, BadForm):
            return message_page(resolved.page, 400, "rejected", here=request.path)
        if posted.fields.get("lang") in resolved.settings.languages:
            resolved = _in_language(resolved, posted.fields["lang"])
        csrf = self._csrf(resolved.settings)
        if (
            csrf.check(
                resolved.account.name, request.cookies.get(CSRF_COOKIE), posted.fields.get("_csrf")
            )
            is None
        ):
            return message_page(resolved.page, 403, "csrf", here=request.path)
        reference = posted.fields.get("reference", "").strip().upper()[:32]
        contact = posted.fields.get("contact", "").strip()[:254]
        failures = resolved.settings.lookup_failures_per_reference
        key = f"lookup-miss:{reference}"
        wait = self.limiter.blocked_for(key, failures.count, failures.seconds)
        if wait:
            return self._too_many(request, resolved, wait)
        result = (
            await self.host.public_status(reference, contact) if reference and contact else None
        )
        if result is None:
            self.limiter.hit(key, failures.count, failures.seconds)
            return self._status_page(
                request, resolved, reference=reference, status=404, not_found=True
            )
        return self._status_page(request, resolved, reference=reference, status=200, result=result)

    async def stylesheet(self, request: web.Request) -> web.Response:
        response = web.Response(body=STYLESHEET, content_type="text/css", charset="utf-8")
        response.headers["Cache-Control"] = "public, max-age=86400"
        secure(response, cache=True)
        return response


def _in_language(resolved: _Form, language: str) -> _Form:
    """The language the page was shown in (a hidden field) wins for its answer."""
    page = resolved.page
    chosen = next(code for code in page.settings.languages if code == language)
    return _Form(
        resolved.account,
        resolved.settings,
        PageContext(page.account, page.settings, chosen, page.form_url, page.status_url),
    )


def _labels(t: Texts, form: ComplaintForm) -> dict[str, str]:
    return {name: t(LABEL_KEYS.get(name, name)) for name in form.errors}


def _photo_problems(form: ComplaintForm, posted: Posted, settings: WebformSettings) -> int:
    """Record photo errors on the form (cheap checks only); the HTTP status to answer with."""
    mb = round(settings.max_photo_bytes / 1024 / 1024, 1)
    if posted.photo_too_large:
        form.errors["photos"] = FieldError("err_photo_size", {"size": mb})
        return 413
    if posted.too_many_photos:
        key = "err_photo_count" if settings.max_photos else "err_photo_none"
        form.errors["photos"] = FieldError(key, {"count": settings.max_photos})
        return 413
    if any(sniff(data) is None for data in posted.photos):
        form.errors["photos"] = FieldError("err_photo_type")
        return 415
    return 422


async def _reencode_all(
    form: ComplaintForm, photos: list[bytes], max_side: int
) -> tuple[list[Photo], int]:
    """Re-encode in a worker thread (a 12 MP photo takes a few hundred ms of CPU)."""
    try:
        return await asyncio.to_thread(lambda: [reencode(data, max_side) for data in photos]), 422
    except PhotoError as exc:
        form.errors["photos"] = FieldError(exc.key)
        return [], 415 if exc.key == "err_photo_type" else 422


def _public_view(page: PageContext, result: dict[str, object]) -> dict[str, object]:
    """Texts for what `ChannelHost.public_status` returned (status, outcome, events)."""
    t = page.t
    status = str(result.get("status") or "received")
    outcome = result.get("outcome")
    due = result.get("due") if isinstance(result.get("due"), dict) else {}
    assert isinstance(due, dict)
    events = []
    for event in result.get("events") or []:  # type: ignore[attr-defined]
        name = str(event.get("event"))
        text = t(f"ev_{name}")
        events.append({"at": event["at"], "local": page.local_time(event["at"]), "text": text})
    received = result.get("received_at")
    return {
        "result": {
            "reference": result.get("reference"),
            "received_at_local": page.local_time(str(received)) if received else "",
            "due_first": page.local_time(due["first_response"])
            if due.get("first_response")
            else "",
            "due_final": page.local_time(due["final_reply"]) if due.get("final_reply") else "",
        },
        "events": events,
        "status_text": t(f"st_{status}") if f"st_{status}" in CATALOGUES[t.language] else status,
        "outcome_text": t(f"out_{outcome}") if outcome else "",
    }
