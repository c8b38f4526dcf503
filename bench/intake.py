"""Intake benchmark: HTTP submission to webhook delivery, and the database floor beneath it.

Starts the service (embedded: SQLite + in-process workers; scale-out:
PostgreSQL + Redis + N arq workers), posts N complaints at concurrency C,
and waits until a local webhook sink has received each one. Prints
throughput and p50/p95/p99 latency from request to delivery, the CPU time the
service's processes spent per complaint (a figure other load on the host does
not distort the way it distorts the rate), then the latency of open-loop runs at
half the target rate (the issue's 300/s scale-out, 150/s embedded) and at half the
measured rate.

The floor is the rate at which the same database commits the bare minimum per
complaint - a raw row, a record row and one outbox row, with the state changes
our pipeline makes (processing, processed, sending, delivered) - from the same
number of connections and in the same number of transactions as our run:

- connections: the most our processes held open at once during the measured run
  (PostgreSQL: sampled from pg_stat_activity; SQLite: one, as the service has);
- transactions: the commits our run made per complaint (PostgreSQL: the
  xact_commit delta of the database over the measured run, which includes the
  few read-only ones such as sweeps). Each complaint's raw row gets a
  transaction of its own (an intake answers one request); the other steps are
  grouped over several complaints per transaction, as our workers' batches do,
  so that the total matches. SQLite: the transactions the service began over
  the measured run (its `gateway_sqlite_transactions` metric; on SQLite every
  transaction, reads included, takes the write lock), grouped the same way.

Statements are bare asyncpg / sqlite3 with nothing around them, so the floor is
what the database alone allows for the pipeline's shape; the ratio is the share
of it that the whole service (HTTP, JSON, classification, queues) achieves.

    python bench/intake.py --mode both -n 2000 -c 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import redis
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).parent / "complaint-gateway")
# The throughput targets; p99 is judged at half of them (and printed at half of
# the measured rate, a stricter load, too).
TARGET_RATE = {"embedded": 150.0, "scaleout": 300.0}
PG_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
FLOOR_PHASES = 5  # intake, claim, store, claim delivery, finish delivery

TEXTS = [
    "空调KFR-35GW/HT1外机噪音很大，晚上睡不着，订单号HT20261015-{n:04d}，请尽快派人处理。",
    "The fridge BCD-520W stopped cooling after two weeks, order HT20261002-{n:04d}. Please help.",
    "洗衣机XQG100-HT8 运到的时候外箱破了，门也撞凹了，快递员不管。编号{n}",
    "Refund for order HT20260920-{n:04d} still not paid after 20 days, I was told 7 days.",
    "热水器JSQ24-HT3 洗澡的时候有点漏电，手麻了一下，太危险了！第{n}次联系",
]


@dataclass
class SinkState:
    delivered: dict[str, float] = field(default_factory=dict)
    event: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0


async def start_sink(state: SinkState) -> tuple[web.AppRunner, str]:
    async def receive(request: web.Request) -> web.Response:
        payload = await request.json()
        reference = payload["complaint"]["reference"]
        state.delivered.setdefault(reference, time.perf_counter())
        if len(state.delivered) >= state.expected:
            state.event.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


def run_cli(config: Path, *args: str) -> str:
    env = {**os.environ, "BENCH_HOOK_SECRET": "bench"}
    result = subprocess.run(
        [CLI, "--config", str(config), *args], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


class Service:
    """The service under test as real processes: `serve`, plus `worker`s in scale-out."""

    def __init__(self, mode: str, workdir: Path, sink_url: str, workers: int, port: int) -> None:
        self.mode, self.workdir, self.port = mode, workdir, port
        self.config = workdir / "gateway.yaml"
        settings: dict[str, object] = {
            "port": port,
            "log_level": "WARNING",
            "destinations": {"sink": {"url": sink_url, "secret": "env:BENCH_HOOK_SECRET"}},
            "routing": {"default": ["sink"], "escalation": ["sink"], "review": ["sink"]},
        }
        if mode == "embedded":
            settings["database_url"] = f"sqlite+aiosqlite:///{workdir}/bench.db"
        else:
            settings["database_url"] = PG_DSN.replace("postgresql://", "postgresql+asyncpg://")
            settings["redis_url"] = REDIS_URL
        self.config.write_text(yaml.safe_dump(settings))
        self.workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []

    async def start(self) -> str:
        if self.mode == "scaleout":
            await reset_postgres()
            redis.Redis.from_url(REDIS_URL).flushdb()
        run_cli(self.config, "migrate")
        key = run_cli(self.config, "apikeys", "add", "bench")
        env = {**os.environ, "BENCH_HOOK_SECRET": "bench"}
        log = open(self.workdir / "serve.log", "wb")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [CLI, "--config", str(self.config), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        )
        if self.mode == "scaleout":
            for n in range(self.workers):
                wlog = open(self.workdir / f"worker{n}.log", "wb")  # noqa: SIM115
                self.procs.append(
                    subprocess.Popen(
                        [CLI, "--config", str(self.config), "worker", "--max-jobs", "50"],
                        stdout=wlog,
                        stderr=subprocess.STDOUT,
                        env=env,
                    )
                )
        await self._wait_ready()
        return key

    async def _wait_ready(self) -> None:
        async with aiohttp.ClientSession() as client:
            for _ in range(600):
                try:
                    async with client.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"service did not become ready; see {self.workdir}/serve.log")

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU time of the service's processes so far (Linux /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        totals: dict[str, float] = {}
        for n, proc in enumerate(self.procs):
            name = "serve" if n == 0 else "workers"
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
        return totals

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def reset_postgres() -> None:
    connection = await asyncpg.connect(PG_DSN)
    await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await connection.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


async def submit(
    client: aiohttp.ClientSession, url: str, key: str, n: int, sent: dict[str, float]
) -> None:
    body = {
        "body": TEXTS[n % len(TEXTS)].format(n=n),
        "complainant": {"phone": f"138{n % 100_000_000:08d}"},
    }
    started = time.perf_counter()
    async with client.post(url, json=body, headers={"Authorization": f"Bearer {key}"}) as resp:
        answer = await resp.json()
        if resp.status != 202:
            raise RuntimeError(f"submission failed: {resp.status} {answer}")
    sent[answer["reference"]] = started


async def closed_loop(
    url: str, key: str, state: SinkState, count: int, concurrency: int, offset: int
) -> tuple[float, list[float]]:
    state.expected, state.event = len(state.delivered) + count, asyncio.Event()
    sent: dict[str, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(offset, offset + count):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            while not queue.empty():
                await submit(client, url, key, queue.get_nowait(), sent)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await asyncio.wait_for(state.event.wait(), timeout=600)
        elapsed = time.perf_counter() - started
    latencies = [state.delivered[ref] - t for ref, t in sent.items()]
    return count / elapsed, latencies


async def open_loop(
    url: str, key: str, state: SinkState, count: int, rate: float, offset: int
) -> list[float]:
    """Submissions at a fixed rate, independent of answers: latency under steady load."""
    state.expected, state.event = len(state.delivered) + count, asyncio.Event()
    sent: dict[str, float] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as client:
        tasks = []
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(submit(client, url, key, offset + i, sent)))
        await asyncio.gather(*tasks)
        await asyncio.wait_for(state.event.wait(), timeout=600)
    return [state.delivered[ref] - t for ref, t in sent.items()]


# ---------------------------------------------------------------- the floor


FLOOR_SCHEMA = [
    "CREATE TABLE floor_raw (id INTEGER PRIMARY KEY, provider_id TEXT UNIQUE, body TEXT, "
    "state TEXT)",
    "CREATE TABLE floor_record (id INTEGER PRIMARY KEY, raw_id INTEGER UNIQUE, reference TEXT)",
    "CREATE TABLE floor_outbox (id INTEGER PRIMARY KEY, record_id INTEGER, state TEXT)",
]


Step = list[tuple[str, tuple[object, ...]]]


def intake_step(n: int) -> Step:
    body = TEXTS[n % len(TEXTS)].format(n=n)
    return [
        (
            "INSERT INTO floor_raw (id, provider_id, body, state) VALUES ($1, $2, $3, 'received')",
            (n, f"p{n}", body),
        )
    ]


def later_steps(group: list[int]) -> list[Step]:
    """The steps after intake for a group of complaints: claim, store, claim delivery,
    finish delivery; a group of one is the per-complaint pipeline."""
    return [
        [("UPDATE floor_raw SET state = 'processing' WHERE id = $1", (n,)) for n in group],
        [
            step
            for n in group
            for step in (
                (
                    "INSERT INTO floor_record (id, raw_id, reference) VALUES ($1, $1, $2)",
                    (n, f"R{n}"),
                ),
                (
                    "INSERT INTO floor_outbox (id, record_id, state) VALUES ($1, $1, 'pending')",
                    (n,),
                ),
                ("UPDATE floor_raw SET state = 'processed' WHERE id = $1", (n,)),
            )
        ],
        [("UPDATE floor_outbox SET state = 'sending' WHERE id = $1", (n,)) for n in group],
        [("UPDATE floor_outbox SET state = 'delivered' WHERE id = $1", (n,)) for n in group],
    ]


def group_size(transactions_per_complaint: float) -> int:
    """Complaints per later-step transaction so that the floor commits as many
    transactions per complaint as our run did (one intake each, the rest grouped)."""
    later = max(transactions_per_complaint - 1.0, 1e-9)
    return max(1, round((FLOOR_PHASES - 1) / later))


def floor_work(count: int, group: int) -> list[list[Step]]:
    """Units of work for the floor's tasks: each group's intakes, then its later steps
    (a unit's transactions run in order, units run concurrently)."""
    units: list[list[Step]] = []
    for start in range(0, count, group):
        members = list(range(start, min(start + group, count)))
        units.append([intake_step(n) for n in members] + later_steps(members))
    return units


async def floor_postgres(count: int, connections: int, group: int) -> float:
    await reset_postgres()
    pool = await asyncpg.create_pool(PG_DSN, min_size=connections, max_size=connections)
    async with pool.acquire() as connection:
        for statement in FLOOR_SCHEMA:
            await connection.execute(statement)
    units = floor_work(count, group)

    async def one(unit: int) -> None:
        for transaction in units[unit]:
            async with pool.acquire() as connection, connection.transaction():
                for sql, args in transaction:
                    await connection.execute(sql, *args)

    return await _rate(count, len(units), connections * 4, one, pool.close)


class PostgresWatch:
    """Commits and the most connections of the bench database while our run goes on."""

    def __init__(self) -> None:
        self.peak = 0
        self._commits = 0
        self._task: asyncio.Task[None] | None = None

    async def _stats(self) -> tuple[int, int]:
        await self._connection.execute("SELECT pg_stat_clear_snapshot()")
        row = await self._connection.fetchrow(
            "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),"
            " (SELECT count(*) FROM pg_stat_activity"
            "  WHERE datname = current_database() AND pid <> pg_backend_pid())"
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def start(self) -> None:
        self._connection = await asyncpg.connect(PG_DSN)
        self._commits, self.peak = await self._stats()
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self.peak = max(self.peak, (await self._stats())[1])

    async def stop(self) -> int:
        """Commits since `start` (statistics are reported with a delay: wait for them)."""
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.sleep(1.0)
        commits = (await self._stats())[0] - self._commits
        await self._connection.close()
        return commits


async def sqlite_transactions(port: int) -> int:
    """The embedded service's `gateway_sqlite_transactions` metric."""
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"http://127.0.0.1:{port}/metrics")
        text = await response.text()
    for line in text.splitlines():
        if line.startswith("gateway_sqlite_transactions "):
            return int(float(line.split()[1]))
    raise RuntimeError("the service reports no gateway_sqlite_transactions")


async def floor_sqlite(count: int, path: Path, group: int) -> float:
    import aiosqlite

    database = await aiosqlite.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
        await database.execute(f"PRAGMA {pragma}")
    for statement in FLOOR_SCHEMA:
        await database.execute(statement)
    lock = asyncio.Lock()  # one connection, as the service has
    units = floor_work(count, group)

    async def one(unit: int) -> None:
        for transaction in units[unit]:
            async with lock:
                await database.execute("BEGIN IMMEDIATE")
                for sql, args in transaction:
                    await database.execute(
                        sql.replace("$1", "?1").replace("$2", "?2").replace("$3", "?3"), args
                    )
                await database.execute("COMMIT")

    return await _rate(count, len(units), 64, one, database.close)


async def _rate(
    count: int,
    units: int,
    concurrency: int,
    one: Callable[[int], Awaitable[None]],
    close: Callable[[], Awaitable[None]],
) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(units):
        queue.put_nowait(n)

    async def worker() -> None:
        while not queue.empty():
            await one(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await close()
    return count / elapsed


# ---------------------------------------------------------------- main


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
    }


async def bench_mode(mode: str, args: argparse.Namespace) -> dict[str, object]:
    state = SinkState()
    runner, sink_url = await start_sink(state)
    with tempfile.TemporaryDirectory(prefix=f"bench-{mode}-") as tmp:
        service = Service(mode, Path(tmp), sink_url, args.workers, args.port)
        try:
            key = await service.start()
            url = f"http://127.0.0.1:{args.port}/api/v1/complaints"
            await closed_loop(url, key, state, min(200, args.n), args.c, offset=0)  # warm-up
            watch = PostgresWatch() if mode == "scaleout" else None
            if watch is not None:
                await watch.start()
            begun = await sqlite_transactions(args.port) if watch is None else 0
            cpu_before = service.cpu_seconds()
            rate, latencies = await closed_loop(url, key, state, args.n, args.c, offset=10_000)
            cpu_after = service.cpu_seconds()
            if watch is not None:
                commits = await watch.stop()
            else:
                commits = await sqlite_transactions(args.port) - begun
            half = await open_loop(url, key, state, args.n // 2, rate / 2, offset=100_000)
            target_half = TARGET_RATE[mode] / 2
            at_target = await open_loop(url, key, state, args.n // 2, target_half, offset=200_000)
        finally:
            service.stop()
            await runner.cleanup()
        per_complaint = commits / args.n
        if watch is None:
            connections = 1
            floor = await floor_sqlite(args.n, Path(tmp) / "floor.db", group_size(per_complaint))
        else:
            connections = args.floor_connections or max(watch.peak, 1)
            floor = await floor_postgres(args.n, connections, group_size(per_complaint))
    cpu_ms = {
        name: round((cpu_after.get(name, 0.0) - seconds) * 1000 / args.n, 2)
        for name, seconds in cpu_before.items()
    }
    return {
        "mode": mode,
        "complaints": args.n,
        "concurrency": args.c,
        "throughput_per_s": round(rate, 1),
        "latency_request_to_delivery": summary(latencies),
        "half_rate_per_s": round(rate / 2, 1),
        "latency_at_half_rate": summary(half),
        "half_target_rate_per_s": target_half,
        "latency_at_half_target_rate": summary(at_target),
        "cpu_ms_per_complaint": cpu_ms,
        "floor_connections": connections,
        "floor_transactions_per_complaint": round(per_complaint, 2),
        "floor_per_s": round(floor, 1),
        "ratio_to_floor": round(rate / floor, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["embedded", "scaleout", "both"], default="both")
    parser.add_argument("-n", type=int, default=2000, help="complaints per run")
    parser.add_argument("-c", type=int, default=64, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="arq workers (scale-out)")
    parser.add_argument(
        "--floor-connections",
        type=int,
        default=0,
        help="PostgreSQL connections for the floor (default: the most our run held)",
    )
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    modes = ["embedded", "scaleout"] if args.mode == "both" else [args.mode]
    for mode in modes:
        print(json.dumps(asyncio.run(bench_mode(mode, args)), ensure_ascii=False))


if __name__ == "__main__":
    main()
