"""Model versions (retrain, compare, promote, roll back) and rule suggestions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import delete, select

from classifiers.corpus import DEFAULT_TRAIN_DIRS, load_examples
from classifiers.rule_overlay import RuleError, RuleStore
from classifiers.suggest import suggest
from classifiers.versions import VersionError
from gateway.admin_ui.permissions import Perm
from gateway.admin_ui.web import PREFIX, USER, render, require, svc_of
from gateway.retraining import RetrainBusy, model_store, start_in_background, start_run
from gateway.services import Services
from storage.db import utcnow
from storage.misroutes import corrections
from storage.tables_users import RetrainRun, RuleSuggestion


def _back(page: str, notice: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/{page}?notice={quote(notice[:500])}")


def rule_store(svc: Services) -> RuleStore:
    return svc.classify.rule_store or RuleStore(svc.settings.data_dir / "rules")


@require(Perm.MODELS_READ)
async def models_page(request: web.Request) -> web.Response:
    svc = svc_of(request)
    store = model_store(svc)
    async with svc.sessions() as session:
        runs = list(
            (
                await session.execute(select(RetrainRun).order_by(RetrainRun.id.desc()).limit(20))
            ).scalars()
        )
    return render(
        request,
        "models.html",
        versions=store.versions(),
        active=store.active() or "shipped",
        running=svc.classify.status.get("model_version", ""),
        runs=runs,
        history=list(reversed(store.history()))[:20],
        notice=request.query.get("notice", ""),
    )


@require(Perm.MODELS_WRITE)
async def retrain(request: web.Request) -> web.StreamResponse:
    svc = svc_of(request)
    try:
        run_id = await start_run(svc, request[USER].username)
    except RetrainBusy as error:
        raise _back("models", str(error)) from error
    start_in_background(svc, request[USER].username, run_id)
    raise _back("models", f"retrain run {run_id} started")


@require(Perm.MODELS_WRITE)
async def promote(request: web.Request) -> web.StreamResponse:
    svc = svc_of(request)
    version = request.match_info["version"]
    try:
        model_store(svc).promote(
            version, actor=request[USER].username, action="rollback", note="from the admin UI"
        )
    except VersionError as error:
        raise _back("models", str(error)) from error
    svc.classify.refresh(force=True)
    raise _back("models", f"{version} is active")


@require(Perm.MODELS_READ)
async def compare(request: web.Request) -> web.Response:
    store = model_store(svc_of(request))
    try:
        left, right = store.info(request.query["a"]), store.info(request.query["b"])
    except (KeyError, VersionError) as error:
        return render(request, "error.html", status=404, message=f"compare: {error}")
    a = left.evaluation.get("regression_f1", {})
    b = right.evaluation.get("regression_f1", {})
    labels = sorted(set(a) | set(b))
    return render(request, "compare.html", left=left, right=right, labels=labels, a=a, b=b)


@require(Perm.MODELS_READ)
async def rules_page(request: web.Request) -> web.Response:
    svc = svc_of(request)
    store = rule_store(svc)
    async with svc.sessions() as session:
        rows = list(
            (
                await session.execute(
                    select(RuleSuggestion).order_by(
                        RuleSuggestion.state, RuleSuggestion.group, RuleSuggestion.score.desc()
                    )
                )
            ).scalars()
        )
    return render(
        request,
        "rules.html",
        rows=rows,
        versions=store.versions(),
        active=store.active() or store.base_version(),
        notice=request.query.get("notice", ""),
    )


def _known_phrases(store: RuleStore) -> dict[str, set[str]]:
    base = store.base()
    known: dict[str, set[str]] = {}
    for section in ("departments", "flags"):
        for name, spec in (base.get(section) or {}).items():
            phrases = {
                str(p) for tier in (spec or {}).get("phrases") or [] for lang in ("zh", "en")
                for p in tier.get(lang) or []
            }  # fmt: skip
            known[f"{section}.{name}"] = phrases
    for item in store.additions():
        known.setdefault(item["group"], set()).update(item.get("zh", []) + item.get("en", []))
    return known


@require(Perm.RULES_WRITE)
async def make_suggestions(request: web.Request) -> web.StreamResponse:
    """Replace the open proposals with fresh ones; decided ones are never proposed again."""
    svc = svc_of(request)
    store = rule_store(svc)
    async with svc.sessions.begin() as session:
        rows = await corrections(session)
        decided = {
            (g, p)
            for g, p in await session.execute(
                select(RuleSuggestion.group, RuleSuggestion.phrase).where(
                    RuleSuggestion.state != "proposed"
                )
            )
        }
        known = _known_phrases(store)
        for group, phrase in decided:
            known.setdefault(group, set()).add(phrase)
        found = suggest(rows, load_examples(DEFAULT_TRAIN_DIRS), known)
        await session.execute(delete(RuleSuggestion).where(RuleSuggestion.state == "proposed"))
        now = utcnow()
        for item in found:
            session.add(
                RuleSuggestion(
                    group=item.group,
                    language=item.language,
                    phrase=item.phrase,
                    weight=0.5,
                    score=item.score,
                    support=item.support,
                    state="proposed",
                    evidence={"references": item.examples},
                    created_at=now,
                    updated_at=now,
                )
            )
    raise _back("rules", f"{len(found)} suggestions from {len(rows)} corrections")


@require(Perm.RULES_WRITE)
async def decide_suggestion(request: web.Request) -> web.StreamResponse:
    """Accept (possibly edited) or reject; accepting publishes a new rules version, and a
    phrase that does not compile leaves both the table and the live rules unchanged."""
    svc = svc_of(request)
    form = await request.post()
    action = str(form.get("action", ""))
    if action not in ("accept", "reject"):
        raise _back("rules", "action must be accept or reject")
    store = rule_store(svc)
    try:
        async with svc.sessions.begin() as session:
            row = await session.get(RuleSuggestion, int(request.match_info["id"]))
            if row is None:
                raise web.HTTPNotFound(text="no such suggestion")
            row.state, row.decided_by, row.updated_at = (
                "accepted" if action == "accept" else "rejected",
                request[USER].username,
                utcnow(),
            )
            if action == "accept":
                row.phrase = str(form.get("phrase") or row.phrase).strip()
                row.group = str(form.get("group") or row.group).strip()
                row.weight = float(str(form.get("weight") or row.weight))
                additions = await _accepted(session)
                row.rules_version = store.publish(
                    additions,
                    svc.classify.classifier.taxonomy,
                    actor=request[USER].username,
                    note=f"accepted {row.phrase!r} for {row.group}",
                )
    except (RuleError, ValueError) as error:
        raise _back("rules", f"not applied: {error}") from error
    svc.classify.refresh(force=True)
    raise _back("rules", f"{action}ed")


async def _accepted(session: Any) -> list[dict[str, Any]]:
    await session.flush()
    rows = (
        await session.execute(
            select(RuleSuggestion)
            .where(RuleSuggestion.state == "accepted")
            .order_by(RuleSuggestion.id)
        )
    ).scalars()
    return [
        {
            "group": r.group,
            "weight": r.weight,
            r.language if r.language in ("zh", "en") else "zh": [r.phrase],
        }
        for r in rows
    ]


@require(Perm.RULES_WRITE)
async def activate_rules(request: web.Request) -> web.StreamResponse:
    svc = svc_of(request)
    form = await request.post()
    version = str(form.get("version", ""))
    try:
        rule_store(svc).activate(version, actor=request[USER].username)
    except RuleError as error:
        raise _back("rules", str(error)) from error
    svc.classify.refresh(force=True)
    raise _back("rules", f"rules {version} active")
