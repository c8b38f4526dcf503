"""A running embedded gateway for tests: migrated database, API key, aiohttp test client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.bootstrap import migrate
from gateway.classification import ClassifyStep
from gateway.services import Services, build_services
from gateway.settings import Settings
from storage.accounts import create_api_key


@dataclass
class Gateway:
    client: TestClient  # type: ignore[type-arg]
    svc: Services
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def post(self, body: object, **headers: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        response = await self.client.post(
            "/api/v1/complaints", json=body, headers={**self.auth, **headers}
        )
        return response.status, await response.json()

    async def record(self, reference: str, timeout: float = 20.0) -> dict:  # type: ignore[type-arg]
        """The stored record, waiting until processing has made it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            response = await self.client.get(f"/api/v1/complaints/{reference}", headers=self.auth)
            if response.status == 200:
                return await response.json()
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{reference} not processed: {await response.text()}")
            await asyncio.sleep(0.05)


async def prepare(settings: Settings) -> None:
    await asyncio.to_thread(migrate, settings)


@asynccontextmanager
async def running_gateway(
    settings: Settings, classify: ClassifyStep, *, run_jobs: bool = True
) -> AsyncIterator[Gateway]:
    await prepare(settings)
    svc = build_services(settings, classify)
    async with svc.sessions.begin() as session:
        key = await create_api_key(session, "tests")
    client = TestClient(TestServer(create_app(svc, run_jobs=run_jobs)))
    await client.start_server()
    try:
        yield Gateway(client, svc, key)
    finally:
        await client.close()
        await svc.close()
