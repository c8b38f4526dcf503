"""Admin JSON API for routing (`/api/v1/admin/…`, API-key protected like all of /api/)
and the downstream progress endpoint `POST /api/v1/complaints/{reference}/events`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from gateway.admin_ui.api_auth import PRINCIPAL
from gateway.api import CLIENT, SERVICES
from gateway.corrections import Correction, CorrectionError, apply_correction
from gateway.errors import error_response
from gateway.routing_admin import put_destination, replay, routing_document, test_routes
from gateway.services import Services
from gateway.sla_clock import UnknownComplaint, record_progress
from routing.destinations import DestinationError
from storage import routes as table
from storage.deliveries import get_delivery, list_deliveries
from storage.records import Classification

ADMIN = "/api/v1/admin"


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        document = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(reason=f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise web.HTTPBadRequest(reason="the body must be a JSON object")
    return document


def _svc(request: web.Request) -> Services:
    return request.app[SERVICES]


def _invalidate(svc: Services) -> None:
    if svc.live is not None:
        svc.live.invalidate()


async def get_routing(request: web.Request) -> web.Response:
    async with _svc(request).sessions() as session:
        return web.json_response(await routing_document(session))


async def put_route(request: web.Request) -> web.Response:
    svc = _svc(request)
    body = await _json(request)
    names = body.get("destinations")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return error_response(422, "validation_error", "destinations must be a list of names")
    try:
        async with svc.sessions.begin() as session:
            await table.set_route(session, request.match_info["selector"], names)
    except table.RouteError as exc:
        return error_response(422, "invalid_route", str(exc))
    _invalidate(svc)
    return web.json_response({"selector": request.match_info["selector"], "destinations": names})


async def post_route_test(request: web.Request) -> web.Response:
    try:
        decision = Classification.model_validate(await _json(request))
    except ValidationError as exc:
        return error_response(422, "validation_error", str(exc))
    async with _svc(request).sessions() as session:
        return web.json_response({"targets": await test_routes(session, decision)})


async def put_destination_endpoint(request: web.Request) -> web.Response:
    svc = _svc(request)
    name = request.match_info["name"]
    assert svc.live is not None
    try:
        async with svc.sessions.begin() as session:
            await put_destination(session, svc.live.tools, name, await _json(request))
    except DestinationError as exc:
        return error_response(422, "invalid_destination", str(exc))
    _invalidate(svc)
    return web.json_response({"name": name, "saved": True})


async def delete_destination(request: web.Request) -> web.Response:
    svc = _svc(request)
    try:
        async with svc.sessions.begin() as session:
            await table.remove_destination(session, request.match_info["name"])
    except table.RouteError as exc:
        return error_response(409, "destination_in_use", str(exc))
    _invalidate(svc)
    return web.json_response({"name": request.match_info["name"], "removed": True})


async def get_deliveries(request: web.Request) -> web.Response:
    query = request.query
    async with _svc(request).sessions() as session:
        rows = await list_deliveries(
            session,
            state=query.get("state", "dead") or None,
            destination=query.get("destination"),
            reference=query.get("reference"),
            limit=min(int(query.get("limit", "100")), 1000),
        )
    return web.json_response({"deliveries": [row.summary() for row in rows]})


async def get_delivery_endpoint(request: web.Request) -> web.Response:
    async with _svc(request).sessions() as session:
        row = await get_delivery(session, int(request.match_info["id"]))
    if row is None:
        return error_response(404, "not_found", "no such delivery")
    return web.json_response(row.summary())


async def post_replay(request: web.Request) -> web.Response:
    body = await _json(request) if request.can_read_body else {}
    ids = body.get("ids")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
        return error_response(422, "validation_error", "ids must be a list of delivery ids")
    replayed = await replay(_svc(request), ids, body.get("destination"))
    return web.json_response({"replayed": replayed})


async def post_replay_one(request: web.Request) -> web.Response:
    replayed = await replay(_svc(request), [int(request.match_info["id"])])
    if not replayed:
        return error_response(409, "not_dead", "only dead deliveries can be replayed")
    return web.json_response({"replayed": replayed})


def acting_name(request: web.Request) -> str:
    """The authenticated principal: a user token's owner, else the client key's owner."""
    principal = request.get(PRINCIPAL)
    return principal.username if principal is not None else str(request[CLIENT])


def authenticated_actor(request: web.Request, claimed: object) -> str | web.Response:
    """Who acts is whoever authenticated, never a name the caller writes: the history
    must not be forgeable. A body naming someone else is refused (422), not ignored."""
    actor = acting_name(request)
    if claimed is not None and claimed != actor:
        return error_response(
            422,
            "invalid_actor",
            f"the actor comes from the credentials ({actor}); drop 'actor' from the body",
        )
    return actor


async def post_correction(request: web.Request) -> web.Response:
    body = await _json(request)
    fields = {
        k: body.get(k) for k in ("validity", "reason", "severity", "flags", "department", "fields")
    }
    actor = authenticated_actor(request, body.get("actor"))
    if isinstance(actor, web.Response):
        return actor
    try:
        result = await apply_correction(
            _svc(request),
            request.match_info["reference"],
            Correction(**fields),
            actor=actor,
            note=str(body.get("note") or ""),
        )
    except CorrectionError as exc:
        status = 404 if str(exc).startswith("no complaint") else 422
        return error_response(status, "invalid_correction", str(exc))
    return web.json_response(result.as_dict())


async def post_event(request: web.Request) -> web.Response:
    body = await _json(request)
    at = body.get("at")
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
        if when is not None and when.tzinfo is None:
            raise ValueError("'at' needs a timezone offset")
        result = await record_progress(
            _svc(request),
            request.match_info["reference"],
            str(body.get("event")),
            actor=request[CLIENT],
            at=when,
            note=body.get("note"),
        )
    except UnknownComplaint:
        return error_response(404, "not_found", f"no complaint {request.match_info['reference']}")
    except ValueError as exc:
        return error_response(422, "validation_error", str(exc))
    return web.json_response(result)


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{ADMIN}/routing", get_routing)
    app.router.add_put(f"{ADMIN}/routes/{{selector}}", put_route)
    app.router.add_post(f"{ADMIN}/routes/test", post_route_test)
    app.router.add_put(f"{ADMIN}/destinations/{{name}}", put_destination_endpoint)
    app.router.add_delete(f"{ADMIN}/destinations/{{name}}", delete_destination)
    app.router.add_get(f"{ADMIN}/deliveries", get_deliveries)
    app.router.add_get(f"{ADMIN}/deliveries/{{id:\\d+}}", get_delivery_endpoint)
    app.router.add_post(f"{ADMIN}/deliveries/replay", post_replay)
    app.router.add_post(f"{ADMIN}/deliveries/{{id:\\d+}}/replay", post_replay_one)
    app.router.add_post(f"{ADMIN}/complaints/{{reference}}/corrections", post_correction)
    app.router.add_post("/api/v1/complaints/{reference}/events", post_event)
