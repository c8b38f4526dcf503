"""Hotline webhook benchmark: whole calls at a given concurrency against the real service.

Starts `complaint-gateway serve` (embedded: SQLite, in-process workers) on a
free port with one hotline number, then runs C concurrent callers, each
walking N calls step by step (incoming call, language, menu, problem,
product, order number, status callback) with form bodies signed like
Twilio's. Prints per-step p50/p95/p99 webhook latency on loopback; the
target is p99 < 100 ms at 50 concurrent calls.

    python bench/hotline.py -c 50 -n 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
    session: aiohttp.ClientSession, base: str, timings: dict[str, list[float]]
) -> None:
    sid = "CA" + uuid.uuid4().hex
    caller = f"+86138{uuid.uuid4().int % 10**8:08d}"
    validator = RequestValidator(TOKEN)

    async def post(step: str, url: str, **extra: str) -> str:
        params = {"CallSid": sid, "From": caller, "To": NUMBER, "CallStatus": "in-progress"}
        params.update(extra)
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


async def run(base: str, concurrency: int, calls_each: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    async with aiohttp.ClientSession() as session:

        async def caller() -> None:
            for _ in range(calls_each):
                await one_call(session, base, timings)

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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
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
        server = subprocess.Popen([CLI, "serve"], env=env, cwd=folder, stderr=subprocess.DEVNULL)
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
            timings = asyncio.run(run(base, args.concurrency, args.calls_each))
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
