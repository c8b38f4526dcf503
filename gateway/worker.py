"""arq worker settings for `complaint-gateway worker` (scale-out mode).

The job functions are the pipeline's own; the cron sweep runs on one worker
per tick (arq's unique cron jobs) and re-enqueues work that was lost. New input
arrives as raw ids on a Redis list that each worker's `ProcessFeed` takes in
batches (see `gateway.process_feed`); `process_job` stays for ids sent as arq jobs.
"""

from __future__ import annotations

from typing import Any

from arq import cron

from gateway.heap import freeze_startup_heap
from gateway.jobs import ArqQueue, process_list, redis_settings
from gateway.logs import configure_logging
from gateway.pipeline import deliver, sweep
from gateway.process_batch import process_batch
from gateway.process_feed import ProcessFeed
from gateway.runtime import ARQ_QUEUE
from gateway.services import build_services
from gateway.settings import Settings


async def process_job(ctx: dict[str, Any], raw_id: int) -> str | None:
    """`process` for `raw_id` plus a batch of other received rows (see gateway.process_batch)."""
    return await process_batch(ctx["svc"], raw_id)


async def deliver_job(ctx: dict[str, Any], outbox_id: int) -> str | None:
    state = await deliver(ctx["svc"], outbox_id)
    return state.value if state else None


async def sweep_job(ctx: dict[str, Any]) -> tuple[int, int]:
    return await sweep(ctx["svc"])


# arq reads a slice of the queue, starts those jobs, then sleeps out the rest of its poll
# delay before it looks again. New input no longer comes as arq jobs (the process list
# wakes its feed at once), so arq carries only retries, replays and the sweep: 0.2 s
# keeps them prompt for five cheap Redis reads a second per idle worker.
POLL_DELAY_SECONDS = 0.2


def worker_settings(settings: Settings, *, max_jobs: int = 20) -> type:
    """An arq WorkerSettings class bound to `settings`."""
    if not settings.redis_url:
        raise ValueError("the worker needs redis_url (GATEWAY_REDIS_URL) to be set")

    async def startup(ctx: dict[str, Any]) -> None:
        configure_logging(settings.log_level)
        svc = build_services(settings)
        svc.queue = ArqQueue(ctx["redis"], ARQ_QUEUE)
        svc.extras["redis"] = ctx["redis"]
        ctx["svc"] = svc
        ctx["feed"] = ProcessFeed(svc, ctx["redis"], process_list(ARQ_QUEUE))
        ctx["feed"].start()
        freeze_startup_heap()

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "feed" in ctx:
            await ctx["feed"].stop()
        if "svc" in ctx:
            await ctx["svc"].close()

    every = max(int(settings.sweep_interval_seconds), 1)
    return type(
        "WorkerSettings",
        (),
        {
            "functions": [process_job, deliver_job],
            "cron_jobs": [cron(sweep_job, second=set(range(0, 60, every)), run_at_startup=True)],
            "on_startup": startup,
            "on_shutdown": shutdown,
            "redis_settings": redis_settings(settings.redis_url),
            "queue_name": ARQ_QUEUE,
            "max_jobs": max_jobs,
            "poll_delay": POLL_DELAY_SECONDS,
            "keep_result": 0,
            "handle_signals": True,
        },
    )
