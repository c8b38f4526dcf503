"""Channel accounts from the UI: list, add, edit, test, enable, disable, remove.

The same storage functions as `complaint-gateway channels`; the service reads accounts on
use, so every change takes effect without a restart.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from channels.registry import UnknownChannelKind, all_kinds, get_kind
from gateway.admin_ui.forms import FormError, form_fields, read_form
from gateway.admin_ui.permissions import Perm
from gateway.admin_ui.web import PREFIX, render, require, svc_of
from gateway.channel_host import GatewayHost, account_view
from storage import accounts
from storage.db import utcnow

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def _errors(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'settings'}: {item['msg']}"
        for item in error.errors()
    )


@require(Perm.CHANNELS_READ)
async def channel_list(request: web.Request) -> web.Response:
    async with svc_of(request).sessions() as session:
        rows = await accounts.list_accounts(session)
    return render(
        request,
        "channels.html",
        rows=rows,
        kinds=all_kinds(),
        notice=request.query.get("notice", ""),
    )


def _kind(name: str) -> Any:
    try:
        return get_kind(name)
    except UnknownChannelKind as error:
        raise web.HTTPNotFound(text=str(error)) from error


@require(Perm.CHANNELS_WRITE)
async def channel_new(request: web.Request) -> web.Response:
    kind = _kind(request.query.get("kind", ""))
    return render(
        request,
        "channel_form.html",
        kind=kind,
        name="",
        fields=form_fields(kind.settings_model),
        problem="",
        enabled=True,
        editing=False,
    )


@require(Perm.CHANNELS_READ)
async def channel_edit(request: web.Request) -> web.Response:
    async with svc_of(request).sessions() as session:
        account = await _account(session, request.match_info["name"])
    kind = _kind(account.kind)
    return render(
        request,
        "channel_form.html",
        kind=kind,
        name=account.name,
        fields=form_fields(kind.settings_model, account.settings),
        problem="",
        enabled=account.enabled,
        editing=True,
    )


async def _account(session: Any, name: str) -> Any:
    try:
        return await accounts.get_account(session, name)
    except accounts.AccountError as error:
        raise web.HTTPNotFound(text=str(error)) from error


@require(Perm.CHANNELS_WRITE)
async def channel_save(request: web.Request) -> web.StreamResponse:
    """Add (no name in the path) or update an account; a bad field saves nothing."""
    form = await request.post()
    existing = request.match_info.get("name")
    name = existing or str(form.get("name", "")).strip()
    kind = _kind(str(form.get("kind", "")))
    problem = ""
    settings: dict[str, Any] = {}
    if not name or not set(name) <= NAME_CHARS:
        problem = "a name is lower-case letters, digits, '-', '_' or '.'"
    else:
        try:
            settings = kind.validate_settings(read_form(kind.settings_model, form))
        except ValidationError as error:
            problem = _errors(error)
        except FormError as error:
            problem = str(error)
    if not problem:
        try:
            async with svc_of(request).sessions.begin() as session:
                if existing:
                    account = await _account(session, existing)
                    account.settings, account.updated_at = settings, utcnow()
                else:
                    enabled = form.get("enabled") == "on"
                    await accounts.add_account(session, kind.kind, name, settings, enabled)
        except accounts.AccountError as error:
            problem = str(error)
    if problem:
        return render(
            request,
            "channel_form.html",
            status=422,
            kind=kind,
            name=name,
            fields=form_fields(kind.settings_model, dict(read_form_safe(kind, form))),
            problem=problem,
            enabled=form.get("enabled") == "on",
            editing=bool(existing),
        )
    raise web.HTTPSeeOther(f"{PREFIX}/channels?notice=saved+{name}")


def read_form_safe(kind: Any, form: Any) -> dict[str, Any]:
    try:
        return read_form(kind.settings_model, form)
    except FormError:
        return {}


@require(Perm.CHANNELS_WRITE)
async def channel_action(request: web.Request) -> web.StreamResponse:
    name, action = request.match_info["name"], request.match_info["action"]
    svc = svc_of(request)
    notice = ""
    try:
        async with svc.sessions.begin() as session:
            if action in ("enable", "disable"):
                await accounts.set_enabled(session, name, action == "enable")
                notice = f"{name} {action}d"
            elif action == "remove":
                await accounts.remove_account(session, name)
                notice = f"{name} removed"
            elif action == "test":
                account = await _account(session, name)
            else:
                raise web.HTTPNotFound()
    except accounts.AccountError as error:
        notice = str(error)
    if action == "test" and not notice:
        notice = await _test(svc, account)
    raise web.HTTPSeeOther(f"{PREFIX}/channels?notice={_q(notice)}")


async def _test(svc: Any, account: Any) -> str:
    kind = get_kind(account.kind)
    try:
        kind.validate_settings(account.settings)
        lines = await kind.test(account_view(account), GatewayHost(svc))
    except ValidationError as error:
        return f"{account.name}: {_errors(error)}"
    except Exception as error:  # a failed login or unreachable server is the answer here
        return f"{account.name}: {type(error).__name__}: {error}"
    return f"{account.name}: " + (" | ".join(lines) or "ok")


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:500])
