"""A local stand-in for Twilio's Messages API, for tests of the real twilio client's SMS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from tests.local_server import serve_locally


@dataclass
class FakeTwilioApi:
    """Stands in for api.twilio.com: records what the real client sends it."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered first, then 201

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.requests) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"Twilio got {len(self.requests)} of {count} requests")
            await asyncio.sleep(0.02)


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilioApi]:
    fake = FakeTwilioApi()

    async def messages(request: web.Request) -> web.Response:
        body = parse_qs((await request.read()).decode())
        fake.requests.append(
            {
                "path": request.path,
                "auth": request.headers.get("Authorization", ""),
                "form": {key: values[0] for key, values in body.items()},
            }
        )
        if fake.statuses:
            status = fake.statuses.pop(0)
            error = {"code": 20500 if status >= 500 else 21211, "message": "no", "status": status}
            return web.json_response(error, status=status)
        account = request.match_info["sid"]
        return web.json_response(
            {"sid": "SM" + "2" * 32, "status": "queued", "account_sid": account}, status=201
        )

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", messages)
    runner, base_url = await serve_locally(app)
    fake.url = base_url
    yield fake
    await runner.cleanup()
