"""Web form page benchmark: time to first byte of `/` under concurrent users, and page weight.

Starts `complaint-gateway serve` (embedded, SQLite in a scratch folder) on a
free loopback port, then N users each fetch the form page in a loop for a
fixed number of requests; prints p50/p95/p99 time to first byte (request
sent → status line and headers read) and the bytes of the page plus its
stylesheet. If `hey` is installed it runs it too, as a second opinion.

    python bench/webform.py -c 50 -n 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

CLI = str(Path(sys.executable).parent / "complaint-gateway")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url + "/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the service did not come up")


async def load(url: str, users: int, total: int) -> list[float]:
    """Each user fetches `/` repeatedly; returns time-to-first-byte samples in ms."""
    samples: list[float] = []
    remaining = [total]
    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def user() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                async with session.get(url + "/", headers={"Accept-Language": "zh-CN"}) as r:
                    samples.append((time.perf_counter() - started) * 1000)
                    await r.read()
                    assert r.status == 200

        await asyncio.gather(*(user() for _ in range(users)))
    return samples


async def weight(url: str) -> tuple[int, int]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/") as page:
            html = len(await page.read())
        async with session.get(url + "/static/webform/form.css") as css:
            return html, len(await css.read())


def percentile(samples: list[float], p: float) -> float:
    return statistics.quantiles(samples, n=1000)[int(p * 10) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--users", type=int, default=50)
    parser.add_argument("-n", "--requests", type=int, default=5000)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{scratch}/gateway.db",
            "GATEWAY_DATA_DIR": scratch,
            "GATEWAY_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            asyncio.run(wait_ready(url))
            asyncio.run(load(url, args.users, 500))  # warm up
            samples = asyncio.run(load(url, args.users, args.requests))
            html, css = asyncio.run(weight(url))
            print(f"users={args.users} requests={len(samples)}")
            print(
                "time to first byte ms: "
                f"p50={percentile(samples, 50):.1f} p95={percentile(samples, 95):.1f} "
                f"p99={percentile(samples, 99):.1f} max={max(samples):.1f}"
            )
            print(f"page weight: html={html} B css={css} B total={html + css} B")
            if shutil.which("hey"):
                result = subprocess.run(
                    ["hey", "-n", str(args.requests), "-c", str(args.users), url + "/"],
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                keep = ("Requests/sec", "50%", "95%", "99%", "resp wait", "[200]")
                print(
                    "hey:",
                    *[
                        ln.strip()
                        for ln in result.stdout.splitlines()
                        if any(k in ln for k in keep)
                    ],
                    sep="\n  ",
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
