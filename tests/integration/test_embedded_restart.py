"""Embedded mode as operators run it: a real `serve` process, killed and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import yaml

CLI = Path(sys.executable).parent / "complaint-gateway"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_ready(port: int) -> None:
    async with aiohttp.ClientSession() as client:
        for _ in range(300):
            try:
                async with client.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("service did not become ready")


async def test_sigkill_loses_nothing_and_sigterm_is_graceful(tmp_path, sink, hook_secret):
    port = _free_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database_url": f"sqlite+aiosqlite:///{tmp_path}/g.db",
                "port": port,
                "destinations": {"sink": {"url": sink.url, "secret": "env:TEST_HOOK_SECRET"}},
                "routing": {"default": ["sink"], "escalation": ["sink"], "review": ["sink"]},
            }
        )
    )
    base = [str(CLI), "--config", str(config)]
    env = os.environ.copy()
    subprocess.run([*base, "migrate"], check=True, env=env, capture_output=True)
    key = subprocess.run(
        [*base, "apikeys", "add", "t"], check=True, env=env, capture_output=True, text=True
    ).stdout.strip()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    first = subprocess.Popen([*base, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    await _wait_ready(port)
    url = f"http://127.0.0.1:{port}/api/v1/complaints"
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as client:

        async def post(n: int) -> str:
            body = {
                "body": f"微波炉第{n}台加热时有火花，订单HT20261101-{n:04d}",
                "complainant": {"phone": f"1380000{n:04d}"},
            }
            async with client.post(url, json=body, headers=headers) as response:
                assert response.status == 202
                return str((await response.json())["reference"])

        references = await asyncio.gather(*(post(n) for n in range(40)))
    first.send_signal(signal.SIGKILL)  # accepted, mostly not yet processed or delivered
    first.wait(timeout=10)
    second = subprocess.Popen([*base, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        await _wait_ready(port)
        await sink.wait_for(40, timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        exit_code = second.wait(timeout=30)
    with sqlite3.connect(tmp_path / "g.db") as db:
        stored = db.execute("SELECT count(*), count(DISTINCT raw_id) FROM complaint").fetchone()
        states = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    assert exit_code == 0
    delivered = set(sink.keys())  # at least once; the idempotency key makes it once downstream
    assert len(delivered) == 40
    assert {key.split("/")[0] for key in delivered} == set(references)
    assert stored == (40, 40)
    assert states == {"delivered": 40}
