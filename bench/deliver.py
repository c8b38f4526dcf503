"""Delivery benchmark: one worker process draining a backlog of webhook deliveries.

Seeds N pending outbox rows (default 10,000) in PostgreSQL, starts a local
webhook sink (in this process) and ONE `complaint-gateway worker` process
(arq on Redis), enqueues a `deliver` job per row and waits until the sink
has every idempotency key. Prints deliveries/s and the worker's resident
memory: after start, sampled through the run, at the end, and its peak
(VmHWM), so growth with the backlog shows.

    python bench/deliver.py -n 10000 --max-jobs 64

Targets (issue "Routing"): >= 500 deliveries/s; no memory growth while draining.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/mail.py would hide
# the standard library's `email` (which redis and aiohttp import).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime

import asyncpg
import redis
import yaml
from aiohttp import web
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix

CLI = str(Path(sys.executable).parent / "complaint-gateway")
PG_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
QUEUE = "complaint-gateway"
PER_COMPLAINT = 50  # outbox rows per seeded complaint


async def start_sink(keys: set[str], done: asyncio.Event, expected: int) -> web.AppRunner:
    async def receive(request: web.Request) -> web.Response:
        await request.read()
        keys.add(request.headers["Idempotency-Key"])
        if len(keys) >= expected:
            done.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    return runner


async def seed(n: int) -> list[int]:
    """Minimal valid rows: one blob, raw messages and complaints, and N pending outbox rows."""
    conn = await asyncpg.connect(PG_DSN)
    now = datetime.now(UTC)
    try:
        account = await conn.fetchval("SELECT id FROM channel_account WHERE name = 'api'")
        blob = b'{"body": "bench"}'
        sha = hashlib.sha256(blob).hexdigest()
        await conn.execute(
            "INSERT INTO blob (sha256, size, data, created_at) VALUES ($1, $2, $3, $4)",
            sha,
            len(blob),
            blob,
            now,
        )
        complaints = []
        for c in range((n + PER_COMPLAINT - 1) // PER_COMPLAINT):
            raw_id = await conn.fetchval(
                "INSERT INTO raw_message (channel_account_id, provider_id, sha256, media_type,"
                " received_at, meta, state, attempts, updated_at)"
                " VALUES ($1, $2, $3, 'application/json', $4, '{}', 'processed', 1, $4)"
                " RETURNING id",
                account,
                f"bench-{c}",
                sha,
                now,
            )
            reference = f"QC-209901-{c:06d}"
            record = json.dumps({"reference": reference, "body": "热水器漏电 " * 20})
            complaints.append(
                await conn.fetchval(
                    "INSERT INTO complaint (reference, raw_id, channel, channel_account, status,"
                    " validity, severity, department, needs_review, received_at, record,"
                    " created_at, updated_at) VALUES ($1, $2, 'api', 'api', 'open', 'valid',"
                    " 'general', 'quality', false, $3, $4::jsonb, $3, $3) RETURNING id",
                    reference,
                    raw_id,
                    now,
                    record,
                )
            )
        payload = json.dumps(
            {
                "event": "complaint.routed",
                "purpose": "route",
                "complaint": {"reference": "QC", "body": "热水器漏电 " * 40},
            }
        )
        rows = [
            (complaints[i // PER_COMPLAINT], f"bench/sink/route/{i}", payload, now)
            for i in range(n)
        ]
        await conn.executemany(
            "INSERT INTO outbox (complaint_id, purpose, destination, idempotency_key, payload,"
            " state, attempts, next_attempt_at, created_at, updated_at)"
            " VALUES ($1, 'route', 'sink', $2, $3::jsonb, 'pending', 0, $4, $4, $4)",
            rows,
        )
        return [r["id"] for r in await conn.fetch("SELECT id FROM outbox ORDER BY id")]
    finally:
        await conn.close()


async def undelivered() -> int:
    conn = await asyncpg.connect(PG_DSN)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE state <> 'delivered'"))
    finally:
        await conn.close()


async def delivered_history() -> int:
    conn = await asyncpg.connect(PG_DSN)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM history WHERE action = 'delivered'"))
    finally:
        await conn.close()


async def in_progress(pool: ArqRedis) -> int:
    """arq jobs taken by the worker and not finished yet (the sweep's cron keys aside)."""
    keys = await pool.keys(in_progress_key_prefix + "*")
    return sum(1 for key in keys if not key.decode().startswith(in_progress_key_prefix + "cron:"))


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="pending deliveries")
    parser.add_argument("--max-jobs", type=int, default=64, help="worker concurrency")
    args = parser.parse_args()

    keys: set[str] = set()
    done = asyncio.Event()
    runner = await start_sink(keys, done, args.n)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    conn = await asyncpg.connect(PG_DSN)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    redis.Redis.from_url(REDIS_URL).flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="bench-deliver-"))
    config = workdir / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database_url": PG_DSN.replace("postgresql://", "postgresql+asyncpg://"),
                "redis_url": REDIS_URL,
                "log_level": "WARNING",
                "stale_after_seconds": 600,
                "destinations": {
                    "sink": {
                        "url": f"http://127.0.0.1:{port}/hook",
                        "secret": "env:BENCH_HOOK_SECRET",
                    }
                },
                "routing": {"default": ["sink"]},
            }
        )
    )
    env = {**os.environ, "BENCH_HOOK_SECRET": "bench"}
    subprocess.run(
        [CLI, "--config", str(config), "migrate"], check=True, env=env, capture_output=True
    )
    ids = await seed(args.n)
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [CLI, "--config", str(config), "worker", "--max-jobs", str(args.max_jobs)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
        await asyncio.sleep(4)  # the worker loads the classifier and connects
        idle_rss = rss_kb(worker.pid)
        samples: list[int] = []
        started = time.perf_counter()
        for outbox_id in ids:
            await pool.enqueue_job("deliver_job", outbox_id, _queue_name=QUEUE)
        enqueued = time.perf_counter() - started
        while not done.is_set():
            samples.append(rss_kb(worker.pid))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.5)
            if time.perf_counter() - started > 600:
                raise SystemExit(f"timed out with {len(keys)} of {args.n} delivered")
        elapsed = time.perf_counter() - started
        # A batch delivers rows whose own jobs are still queued; those jobs must still
        # run (as no-ops), and every row must be recorded as delivered: both are timed.
        while await pool.zcard(QUEUE) or await undelivered() or await in_progress(pool):
            samples.append(rss_kb(worker.pid))
            await asyncio.sleep(0.1)
            if time.perf_counter() - started > 600:
                raise SystemExit("timed out waiting for the queue and the outbox to settle")
        settled = time.perf_counter() - started
        end_rss, peak_rss = rss_kb(worker.pid), rss_kb(worker.pid, "VmHWM")
        await pool.aclose()
        history = await delivered_history()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        await runner.cleanup()
    quarter = max(len(samples) // 4, 1)
    print(f"deliveries: {len(keys)} of {args.n}, one worker process, max_jobs={args.max_jobs}")
    print(f"drain time: {elapsed:.2f} s (enqueueing took {enqueued:.2f} s of it)")
    print(f"throughput: {len(keys) / elapsed:.0f} deliveries/s (target >= 500)")
    print(
        f"settled: {settled:.2f} s until the job queue was empty and every row delivered"
        f" ({args.n / settled:.0f} rows/s); {history} `delivered` history rows"
    )
    first, last = max(samples[:quarter] or [0]), max(samples[-quarter:] or [0])
    print(
        f"worker RSS MiB: idle {idle_rss / 1024:.0f}, first quarter max {first / 1024:.0f}, "
        f"last quarter max {last / 1024:.0f}, end {end_rss / 1024:.0f}, "
        f"peak (VmHWM) {peak_rss / 1024:.0f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
