"""The `retrain` job: corrections from the database, a new model version, the promotion gate.

Callers: the admin UI button, `complaint-gateway retrain` and the schedule
(`admin.retrain.schedule_hours`). A run is a `retrain_run` row; only one runs at a time.
Training runs in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from classifiers.corpus import DEFAULT_TRAIN_DIRS
from classifiers.retrain import Retrainer, RetrainError, RetrainOptions
from classifiers.versions import ModelStore
from gateway.services import Services
from storage.db import utcnow
from storage.misroutes import corrections
from storage.tables_users import RetrainRun

log = logging.getLogger(__name__)
STALE_RUN = timedelta(hours=2)


class RetrainBusy(RuntimeError):
    """Another retrain is running."""


def model_store(svc: Services) -> ModelStore:
    return svc.classify.models or ModelStore(svc.settings.data_dir / "models")


# Settings passed on by name (the others say when to run and on what corpus); their
# defaults match `RetrainOptions` (a test checks), so a run without the service agrees.
OPTION_FIELDS = {option.name for option in fields(RetrainOptions)}


def retrainer(svc: Services) -> Retrainer:
    options = svc.settings.admin.retrain
    return Retrainer(
        store=model_store(svc),
        taxonomy=svc.classify.classifier.taxonomy,
        train_dirs=[Path(p) for p in options.train_dirs or DEFAULT_TRAIN_DIRS],
        classifier_for=svc.classify.build,
        options=RetrainOptions(**options.model_dump(include=OPTION_FIELDS)),
    )


async def start_run(svc: Services, actor: str) -> int:
    """Claim the single retrain slot; RetrainBusy when a live run holds it."""
    now = utcnow()
    async with svc.sessions.begin() as session:
        await session.execute(
            update(RetrainRun)
            .where(RetrainRun.state == "running", RetrainRun.started_at < now - STALE_RUN)
            .values(state="failed", message="abandoned (the process stopped)", finished_at=now)
        )
        busy = await session.scalar(
            select(RetrainRun.id).where(RetrainRun.state == "running").limit(1)
        )
        if busy is not None:
            raise RetrainBusy(f"retrain run {busy} is still running")
        run = RetrainRun(state="running", actor=actor, started_at=now, message="", report={})
        session.add(run)
        await session.flush()
        return run.id


async def finish_run(
    svc: Services, run_id: int, state: str, message: str, report: dict[str, Any] | None = None
) -> None:
    values: dict[str, Any] = {"state": state, "message": message, "finished_at": utcnow()}
    if report:
        values.update(report=report, version=report.get("version"), seconds=report.get("seconds"))
    async with svc.sessions.begin() as session:
        await session.execute(update(RetrainRun).where(RetrainRun.id == run_id).values(**values))


async def run_retrain(svc: Services, actor: str, run_id: int | None = None) -> dict[str, Any]:
    """One complete retrain; the outcome as a dict. RetrainError for too little data."""
    run_id = run_id or await start_run(svc, actor)
    try:
        async with svc.sessions() as session:
            rows = await corrections(session)
        job = retrainer(svc)
        outcome = await asyncio.to_thread(job.run, rows, actor=actor)
    except RetrainError as error:
        await finish_run(svc, run_id, "failed", str(error))
        raise
    except Exception as error:
        log.exception("retrain failed")
        await finish_run(svc, run_id, "failed", f"{type(error).__name__}: {error}")
        raise
    report = outcome.as_dict()
    # Load the promoted version before the run reads as finished, off the event loop:
    # whoever sees "promoted" must find this process already classifying with it.
    await asyncio.to_thread(svc.classify.refresh, force=True)
    await finish_run(
        svc, run_id, "promoted" if outcome.promoted else "kept", outcome.message, report
    )
    return {"run": run_id, **report}


def start_in_background(svc: Services, actor: str, run_id: int) -> asyncio.Task[Any]:
    """The UI button: answer at once, train behind it (errors land in the run row)."""

    async def runner() -> None:
        with contextlib.suppress(Exception):
            await run_retrain(svc, actor, run_id)

    task = asyncio.create_task(runner(), name=f"retrain-{run_id}")
    svc.extras.setdefault("retrain_tasks", set()).add(task)
    task.add_done_callback(svc.extras["retrain_tasks"].discard)
    return task


async def due_for_schedule(svc: Services) -> bool:
    """True when the schedule is on, its period has passed and corrections came in since."""
    hours = svc.settings.admin.retrain.schedule_hours
    if hours <= 0:
        return False
    async with svc.sessions() as session:
        last = await session.scalar(select(RetrainRun.started_at).order_by(RetrainRun.id.desc()))
        rows = await corrections(session, since=last)
    if last is not None and utcnow() - last < timedelta(hours=hours):
        return False
    return len(rows) > 0


async def schedule(svc: Services, check_seconds: float = 60.0) -> AsyncIterator[None]:
    """A cleanup-context body: retrain on the schedule while the app runs."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(check_seconds)
            try:
                if await due_for_schedule(svc):
                    await run_retrain(svc, "schedule")
            except (RetrainBusy, RetrainError) as error:
                log.info("scheduled retrain skipped: %s", error)
            except Exception:
                log.exception("scheduled retrain failed")

    task = asyncio.create_task(loop(), name="retrain-schedule")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
