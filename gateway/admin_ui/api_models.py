"""JSON admin API for model versions: list, retrain, promote / roll back (`/api/v1/admin/`)."""

from __future__ import annotations

from aiohttp import web

from classifiers.retrain import RetrainError
from classifiers.versions import VersionError
from gateway.api import CLIENT, SERVICES
from gateway.errors import error_response
from gateway.retraining import RetrainBusy, model_store, run_retrain


async def list_models(request: web.Request) -> web.Response:
    store = model_store(request.app[SERVICES])
    return web.json_response(
        {
            "active": store.active() or "shipped",
            "versions": [
                {"version": v.version, "created_at": v.created_at, "evaluation": v.evaluation}
                for v in store.versions()
            ],
            "history": store.history(),
        }
    )


async def post_retrain(request: web.Request) -> web.Response:
    """Runs to the end (minutes on a full corpus) and answers with the outcome."""
    try:
        outcome = await run_retrain(request.app[SERVICES], request[CLIENT])
    except RetrainBusy as error:
        return error_response(409, "retrain_running", str(error))
    except RetrainError as error:
        return error_response(422, "retrain_refused", str(error))
    return web.json_response(outcome)


async def post_promote(request: web.Request) -> web.Response:
    svc = request.app[SERVICES]
    version = request.match_info["version"]
    try:
        model_store(svc).promote(version, actor=request[CLIENT], action="promote")
    except VersionError as error:
        return error_response(404, "unknown_version", str(error))
    svc.classify.refresh(force=True)
    return web.json_response({"active": version})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/models", list_models)
    app.router.add_post("/api/v1/admin/retrain", post_retrain)
    app.router.add_post("/api/v1/admin/models/{version}/promote", post_promote)
