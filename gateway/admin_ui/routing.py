"""Routing table, destinations and dead letters, through the routing admin functions."""

from __future__ import annotations

import json
from urllib.parse import quote

from aiohttp import web

from gateway.admin_ui.permissions import Perm
from gateway.admin_ui.web import PREFIX, render, require, svc_of
from gateway.routing_admin import put_destination, replay, routing_document
from routing.destinations import DestinationError
from storage import routes as table
from storage.deliveries import list_deliveries


def _back(page: str, notice: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/{page}?notice={quote(notice[:500])}")


def _invalidate(request: web.Request) -> None:
    live = svc_of(request).live
    if live is not None:
        live.invalidate()


@require(Perm.ROUTING_READ)
async def routing_page(request: web.Request) -> web.Response:
    async with svc_of(request).sessions() as session:
        document = await routing_document(session)
    return render(request, "routing.html", doc=document, notice=request.query.get("notice", ""))


@require(Perm.ROUTING_WRITE)
async def save_route(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    selector = str(form.get("selector", "")).strip()
    names = [n.strip() for n in str(form.get("destinations", "")).split(",") if n.strip()]
    try:
        async with svc_of(request).sessions.begin() as session:
            await table.set_route(session, selector, names)
    except table.RouteError as error:
        raise _back("routing", str(error)) from error
    _invalidate(request)
    raise _back("routing", f"route {selector} saved")


@require(Perm.ROUTING_WRITE)
async def save_destination(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", "")).strip()
    svc = svc_of(request)
    try:
        document = json.loads(str(form.get("settings", "") or "{}"))
        if not isinstance(document, dict):
            raise ValueError("settings must be a JSON object")
        document["kind"] = str(form.get("kind", "webhook"))
        assert svc.live is not None
        async with svc.sessions.begin() as session:
            await put_destination(session, svc.live.tools, name, document)
    except (ValueError, DestinationError) as error:
        raise _back("routing", f"{name}: {error}") from error
    _invalidate(request)
    raise _back("routing", f"destination {name} saved")


@require(Perm.ROUTING_WRITE)
async def remove_destination(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        async with svc_of(request).sessions.begin() as session:
            await table.remove_destination(session, name)
    except table.RouteError as error:
        raise _back("routing", str(error)) from error
    _invalidate(request)
    raise _back("routing", f"destination {name} removed")


@require(Perm.ROUTING_READ)
async def dead_letters(request: web.Request) -> web.Response:
    destination = request.query.get("destination") or None
    async with svc_of(request).sessions() as session:
        rows = await list_deliveries(session, state="dead", destination=destination, limit=200)
    return render(request, "deadletters.html", rows=rows, notice=request.query.get("notice", ""))


@require(Perm.REPLAY)
async def replay_dead(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    ids = [int(str(i)) for i in form.getall("id", []) if str(i).isdigit()]
    replayed = await replay(
        svc_of(request), ids or None, str(form.get("destination") or "") or None
    )
    raise _back("deadletters", f"replayed {len(replayed)}")
