"""A running gateway with the admin UI, one signed-in browser-like client per role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.classification import ClassifyStep
from gateway.services import Services
from storage.users import add_user
from tests.channels.email.servers import dovecot  # noqa: F401  (a fixture for the browser test)
from tests.conftest import Sink, make_settings
from tests.gateway.harness import Gateway, running_gateway

ROLES = ("admin", "supervisor", "channel_owner", "viewer")
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """A cookie-keeping HTTP client that signs in like a person would."""

    base: str
    session: aiohttp.ClientSession
    csrf: str = ""
    last: str = field(default="", repr=False)

    async def login(self, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        page = await self.session.get(f"{self.base}/admin/login")
        token = CSRF.search(await page.text())
        assert token, "the login page has no CSRF field"
        response = await self.session.post(
            f"{self.base}/admin/login",
            data={"username": username, "password": password, "csrf": token.group(1)},
            allow_redirects=False,
        )
        if response.status == 303:
            await self.refresh_csrf()
        return response

    async def refresh_csrf(self) -> None:
        page = await self.session.get(f"{self.base}/admin/dashboard")
        found = CSRF.search(await page.text())
        self.csrf = found.group(1) if found else ""

    async def get(self, path: str) -> tuple[int, str]:
        response = await self.session.get(f"{self.base}{path}", allow_redirects=False)
        self.last = await response.text()
        return response.status, self.last

    async def post(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
        body = {"csrf": self.csrf, **(data or {})}
        response = await self.session.post(f"{self.base}{path}", data=body, allow_redirects=False)
        self.last = await response.text()
        return response.status, self.last


@dataclass
class AdminGateway:
    gw: Gateway
    base: str
    browsers: dict[str, Browser]

    @property
    def svc(self) -> Services:
        return self.gw.svc


def small_corpus(folder: Path, repo_root: Path, per_file: int = 70) -> Path:
    """A few examples of each shipped file, so a retrain in a test takes seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted((repo_root / "classifiers" / "data" / "train").glob("*.jsonl")):
        lines = source.read_text(encoding="utf-8").splitlines()[:per_file]
        (folder / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
async def admin_gateway(
    sqlite_url: str, sink: Sink, hook_secret: str, tmp_path: Path, repo_root: Path
) -> AsyncIterator[AdminGateway]:
    async for value in _admin_gateway(sqlite_url, sink, tmp_path, repo_root):
        yield value


async def _admin_gateway(
    url: str, sink: Sink, tmp_path: Path, repo_root: Path, **overrides: Any
) -> AsyncIterator[AdminGateway]:
    data_dir = tmp_path / "data"
    corpus = small_corpus(tmp_path / "corpus", repo_root)
    settings = make_settings(
        url,
        sink.url,
        data_dir=data_dir,
        admin={
            "login_max_failures": 3,
            "login_attempts_per_minute": 50,
            "retrain": {
                "min_corrections": 2,
                "train_dirs": [str(corpus)],
                "epochs": 2,
                "margin": 1.0,
                "holdout_every": 1000,
            },
        },
        **{"run_listeners": False, **overrides},
    )
    step = ClassifyStep(data_dir=data_dir, poll_seconds=0)
    async with running_gateway(settings, step) as gw:
        async with gw.svc.sessions.begin() as session:
            for role in ROLES:
                await add_user(session, role.replace("_", "-"), role, PASSWORD)
        base = str(gw.client.make_url("")).rstrip("/")
        browsers: dict[str, Browser] = {}
        sessions = []
        try:
            for role in ROLES:
                http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
                sessions.append(http)
                browser = Browser(base, http)
                response = await browser.login(role.replace("_", "-"))
                assert response.status == 303, await response.text()
                browsers[role] = browser
            yield AdminGateway(gw, base, browsers)
        finally:
            for http in sessions:
                await http.close()


@pytest.fixture
async def new_browser() -> AsyncIterator[Any]:
    opened: list[aiohttp.ClientSession] = []

    def make(base: str) -> Browser:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        opened.append(http)
        return Browser(base, http)

    yield make
    for http in opened:
        await http.close()
