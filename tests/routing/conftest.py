"""Real servers for the routing tests: an aiosmtpd process, Redis, a sink that can hang."""

from __future__ import annotations

import asyncio
import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp import web

from tests.conftest import REDIS_URL
from tests.local_server import serve_locally


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    port: int
    maildir: Path

    def messages(self) -> list[mailbox.MaildirMessage]:
        return list(mailbox.Maildir(self.maildir, create=False))

    def wait_for(self, count: int, timeout: float = 20.0) -> list[mailbox.MaildirMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"SMTP server got {len(self.messages())} of {count} messages")


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd in its own process, storing every message in a Maildir."""
    port, maildir = free_port(), tmp_path / "maildir"
    mailbox.Maildir(maildir, create=True)
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*command, "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"aiosmtpd did not start: {proc.stderr.read()!r}") from None
            time.sleep(0.05)
    yield SmtpServer(port, maildir)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def clean_redis() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.flushdb()  # fails loudly when Redis is not running
    client.close()
    return REDIS_URL


@dataclass
class HangingSink:
    """Answers 200, except that the first request is held until `release` is set."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    first_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def keys(self) -> list[str]:
        return [item["headers"]["Idempotency-Key"] for item in self.received]


@pytest.fixture
async def hanging_sink() -> AsyncIterator[HangingSink]:
    state = HangingSink()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        state.received.append({"headers": dict(request.headers), "body": body})
        if len(state.received) == 1:
            state.first_arrived.set()
            await state.release.wait()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner, base_url = await serve_locally(app)
    state.url = base_url + "/hook"
    yield state
    state.release.set()
    await runner.cleanup()
