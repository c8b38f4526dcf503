"""Hotline webhook benchmark: whole calls at a given concurrency against the real service.

Starts `complaint-gateway serve` (embedded: SQLite, in-process workers) on a
free port with one hotline number, then runs C concurrent callers, each
walking N calls step by step (incoming call, language, menu, problem,
product, order number, status callback) with form bodies signed like
Twilio's. Prints per-step p50/p95/p99 webhook latency on loopback; the
target is p99 < 100 ms at 50 concurrent calls.

    python bench/hotline.py -c 50 -n 4 --think 2
    python bench/hotline.py --import 10000     # transcript import instead (target < 60 s)

`--think` is the time a caller takes between steps (listening to the prompt,
speaking); 0 sends the next step at once, which measures a closed loop of 50
requests in flight rather than 50 calls.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

CLI = str(Path(sys.executable).parent / "complaint-gateway")
TOKEN = "bench-twilio-token"
NUMBER = "+8657188880000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def action_of(twiml: str) -> str:
    for element in ET.fromstring(twiml).iter():
        if element.tag in ("Gather", "Record") and element.get("action"):
            return element.get("action", "")
    raise RuntimeError(f"no action in {twiml}")


async def one_call(
    session: aiohttp.ClientSession, base: str, timings: dict[str, list[float]], think: float = 0.0
) -> None:
    sid = "CA" + uuid.uuid4().hex
    caller = f"+86138{uuid.uuid4().int % 10**8:08d}"
    validator = RequestValidator(TOKEN)

    async def post(step: str, url: str, **extra: str) -> str:
        params = {"CallSid": sid, "From": caller, "To": NUMBER, "CallStatus": "in-progress"}
        params.update(extra)
        if think and step not in ("voice", "status"):
            await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))
        headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
        started = time.perf_counter()
        async with session.post(url, data=params, headers=headers) as response:
            text = await response.text()
            if response.status != 200:
                raise RuntimeError(f"{step}: {response.status} {text}")
        timings.setdefault(step, []).append((time.perf_counter() - started) * 1000)
        return text

    twiml = await post("voice", f"{base}/voice")
    twiml = await post("language", action_of(twiml), Digits="1")
    twiml = await post("menu", action_of(twiml), Digits="1")
    twiml = await post("problem", action_of(twiml), SpeechResult="空调外机漏水，上周装的")
    twiml = await post("product", action_of(twiml), SpeechResult="空调 KFR-35GW/HT1")
    await post("order", action_of(twiml), SpeechResult="H T 二零二六零三一五 杠 零零四二")
    await post("status", f"{base}/status", CallStatus="completed", CallDuration="60")


async def run(base: str, concurrency: int, calls_each: int, think: float) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    async with aiohttp.ClientSession() as session:

        async def caller() -> None:
            await asyncio.sleep(random.uniform(0, think))  # calls do not all start at once
            for _ in range(calls_each):
                await one_call(session, base, timings, think)

        await one_call(session, base, {})  # warm-up
        await asyncio.gather(*(caller() for _ in range(concurrency)))
    return timings


def reset_postgres(url: str) -> None:
    """Start from an empty schema (the bench database is its own)."""
    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await connection.close()

    asyncio.run(drop())


PROBLEMS = [
    "热水器{model}打不着火，打了三次电话没人管",
    "空调{model}外机漏水，滴到楼下邻居家",
    "洗衣机{model}脱水时响声很大，还漏电，手被电了一下",
    "冰箱{model}不制冷，里面的菜都坏了",
    "The {model} dishwasher leaks water onto the floor every cycle",
    "My {model} microwave sparks when it runs, I am afraid of a fire",
    "快递送来的{model}包装破损，机身有划痕",
    "安装师傅把{model}装歪了，还多收了两百块钱",
]


def transcripts_csv(count: int) -> bytes:
    """`count` calls in the documented CSV import format, each different."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["call_id", "number", "started_at", "agent", "language", "transcript"])
    rng = random.Random(8)
    for index in range(count):
        problem = PROBLEMS[index % len(PROBLEMS)]
        model = f"{rng.choice('ABCDEFGH')}{rng.choice('JKLMN')}-{rng.randint(10, 99)}{index}"
        english = problem[0].isascii()
        transcript = (
            f"agent: {'Hello, how can I help?' if english else '您好，恒泰电器'}\n"
            f"caller: {problem.format(model=model)}\n"
            f"caller: {'order' if english else '订单号'} HT{20260000 + index}-{index % 9999:04d}"
        )
        writer.writerow([
            f"BENCH-{index:06d}", f"+86138{rng.randint(0, 10**8 - 1):08d}",
            f"2026-03-{1 + index % 28:02d}T{8 + index % 10:02d}:{index % 60:02d}:00+08:00",
            f"agent{index % 17}", "en" if english else "zh", transcript,
        ])  # fmt: skip
    return out.getvalue().encode()


def bench_import(count: int, postgres: str | None) -> None:
    """Time `complaint-gateway ingest` of `count` calls, then of the same file again."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
               "GATEWAY_LOG_LEVEL": "WARNING"}  # fmt: skip
        env.pop("GATEWAY_CONFIG", None)
        env.pop("GATEWAY_REDIS_URL", None)
        if postgres:
            reset_postgres(postgres)
            env["GATEWAY_DATABASE_URL"] = postgres
        subprocess.run([CLI, "migrate"], env=env, cwd=folder, check=True, capture_output=True)
        path = Path(folder) / "calls.csv"
        path.write_bytes(transcripts_csv(count))
        for label in ("import", "re-import"):
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(
                [CLI, "ingest", "--channel", "hotline.twilio", str(path)],
                env=env, cwd=folder, capture_output=True, check=False,
            )  # fmt: skip
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
            lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
            stored = sum(1 for line in lines if line.get("reference"))
            failed = sum(1 for line in lines if line.get("status") == "failed")
            print(f"{label}: {count} calls in {elapsed:.1f} s ({count / elapsed:.0f}/s; "
                  f"CPU {used:.1f} s, the figure on a busy machine), "
                  f"exit {done.returncode}, {len(lines)} outcomes, {stored} records, "
                  f"{failed} failed")  # fmt: skip
        rows = _count_rows(env["GATEWAY_DATABASE_URL"])
        print(f"raw inputs {rows[0]}, complaints {rows[1]} (both must equal {count})")


def _count_rows(url: str) -> tuple[int, int]:
    query = "select (select count(*) from raw_message), (select count(*) from complaint)"
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split(":///", 1)[1]) as connection:
            raws, done = connection.execute(query).fetchone()
        return int(raws), int(done)
    import asyncpg

    async def count() -> tuple[int, int]:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            row = await connection.fetchrow(query)
        finally:
            await connection.close()
        return int(row[0]), int(row[1])

    return asyncio.run(count())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--concurrency", type=int, default=50)
    parser.add_argument("-n", "--calls-each", type=int, default=4)
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="scale-out: this PostgreSQL (postgresql+asyncpg://…, emptied) with --redis",
    )
    parser.add_argument("--redis", default=None, metavar="URL", help="Redis for scale-out")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds a caller takes between steps"
    )
    parser.add_argument(
        "--import", dest="import_calls", type=int, default=0, metavar="N",
        help="bench the transcript import of N calls instead of the webhooks",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=0, help="service port (default: a free one)")
    parser.add_argument(
        "--profile", default=None, metavar="FILE", help="run the service under py-spy into FILE"
    )
    args = parser.parse_args()
    if args.import_calls:
        bench_import(args.import_calls, args.postgres)
        return
    with tempfile.TemporaryDirectory() as folder:
        port = args.port or free_port()
        env = {
            **os.environ,
            "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
            "GATEWAY_PORT": str(port),
            "GATEWAY_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "GATEWAY_LOG_LEVEL": "WARNING",
            "BENCH_TWILIO_TOKEN": TOKEN,
        }
        env.pop("GATEWAY_CONFIG", None)
        if args.postgres and args.redis:
            reset_postgres(args.postgres)
            env["GATEWAY_DATABASE_URL"] = args.postgres
            env["GATEWAY_REDIS_URL"] = args.redis
        subprocess.run([CLI, "migrate"], env=env, cwd=folder, check=True, capture_output=True)
        subprocess.run(
            [CLI, "channels", "add", "hotline.twilio", "bench-line", "--set", f"number={NUMBER}",
             "--set", "auth_token=env:BENCH_TWILIO_TOKEN"],
            env=env, cwd=folder, check=True, capture_output=True,
        )  # fmt: skip
        serve = [CLI, "serve"]
        if args.profile:
            spy = str(Path(sys.executable).parent / "py-spy")
            serve = [spy, "record", "-r", "200", "-f", "raw", "-o", args.profile, "--", *serve]
        server = subprocess.Popen(serve, env=env, cwd=folder, stderr=subprocess.DEVNULL)
        worker = (
            subprocess.Popen([CLI, "worker"], env=env, cwd=folder, stderr=subprocess.DEVNULL)
            if args.redis
            else None
        )
        try:
            base = f"http://127.0.0.1:{port}/hotline/twilio/bench-line"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            started = time.perf_counter()
            timings = asyncio.run(run(base, args.concurrency, args.calls_each, args.think))
            elapsed = time.perf_counter() - started
        finally:
            for process in (server, worker):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)
    every = [ms for values in timings.values() for ms in values]
    print(f"{args.concurrency} concurrent callers x {args.calls_each} calls, {len(every)} "
          f"webhooks in {elapsed:.1f} s")  # fmt: skip
    print(f"{'step':10} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for step, values in [*timings.items(), ("all", every)]:
        print(
            f"{step:10} {len(values):5d} {statistics.median(values):8.1f} "
            f"{percentile(values, 0.95):8.1f} {percentile(values, 0.99):8.1f}"
        )


if __name__ == "__main__":
    main()
