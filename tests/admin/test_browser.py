"""A real browser (Debian's Chromium through Playwright) runs the admin UI end to end.

A supervisor signs in, opens a complaint the model sent to the wrong department, corrects it
with a reason; the old destination receives a withdrawal and the new one the record. After a
second correction of the same confusion the supervisor retrains from the models page (small
corpus, 2 epochs), sees the new version promoted and the same kind of complaint decided by it,
then rolls back to the shipped model in one click. A channel owner adds an `email.imap`
channel against a real Dovecot from the channels page and a message put in the mailbox is
polled into a record. Screenshots go to `test-output/admin/`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import BrowserContext, Page
from sqlalchemy import select

from storage.tables import Complaint
from tests.admin.conftest import PASSWORD, AdminGateway, _admin_gateway
from tests.browser import chromium_context, shot, watch
from tests.channels.email.servers import USER as IMAP_USER
from tests.channels.email.servers import Dovecot
from tests.conftest import Sink
from tests.local_server import serve_locally

# Goods that arrived damaged (a `logistics` matter) told in defect words.
MISROUTED = [
    "网上买的刚收到的空调室内机KFR-35GW/HT1门板上有一道很深的凹痕，请给个说法",
    "刚到货的空调室内机KFR-35GW/HT1侧面整个变形凹进去，太让人失望了",
]
FRESH = "拆开包装发现新买的燃气热水器面板裂了好几道，请给个说法"


@pytest.fixture
async def desk() -> AsyncIterator[Sink]:
    """A second webhook receiver: the logistics desk."""
    state = Sink()

    async def receive(request: web.Request) -> web.Response:
        state.received.append({"headers": dict(request.headers), "body": await request.read()})
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner, base_url = await serve_locally(app)
    state.url = base_url + "/hook"
    yield state
    await runner.cleanup()


@pytest.fixture
async def admin_ui(
    sqlite_url: str, sink: Sink, desk: Sink, hook_secret: str, tmp_path: Path, repo_root: Path
) -> AsyncIterator[AdminGateway]:
    """Every department to `sink` except logistics, which goes to `desk`; listeners on."""
    secret = "env:TEST_HOOK_SECRET"
    overrides: dict[str, Any] = {
        "destinations": {
            "sink": {"url": sink.url, "secret": secret},
            "logistics-desk": {"url": desk.url, "secret": secret},
        },
        "routing": {
            "departments": {"logistics": ["logistics-desk"]},
            "default": ["sink"],
            "escalation": ["sink"],
            "review": ["sink"],
        },
        "run_listeners": True,
        "listener_sync_seconds": 0.2,
    }
    async for value in _admin_gateway(sqlite_url, sink, tmp_path, repo_root, **overrides):
        yield value


@pytest.fixture
async def browser_context(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium_context(
        tmp_path / "profile",
        locale="en-US",
        viewport={"width": 1280, "height": 900},
    ) as context:
        yield context


async def sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/admin/login?lang=en")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_url(f"{base}/admin/**")
    assert "/login" not in page.url


def events_for(sink: Sink, reference: str) -> list[str]:
    out = []
    for item in sink.received:
        payload = json.loads(item["body"])
        if reference in json.dumps(payload, ensure_ascii=False):
            out.append(str(payload.get("event")))
    return out


async def eventually(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def correct_in_browser(page: Page, base: str, reference: str, note: str) -> None:
    if not page.url.endswith(f"/admin/records/{reference}"):
        await page.goto(f"{base}/admin/records/{reference}")
    await page.select_option("#f-department", "logistics")
    await page.fill("#f-note", note)
    await page.click("#apply-correction")
    await page.wait_for_url(f"{base}/admin/records/{reference}")
    assert (await page.inner_text("#current-department")).strip() == "logistics"


async def set_field(page: Page, name: str, value: str) -> None:
    field = page.locator(f"[name=s_{name}]")
    if await field.evaluate("e => e.tagName") == "SELECT":
        await field.select_option(value)
    else:
        await field.fill(value)


async def test_supervisor_and_channel_owner_in_a_real_browser(
    admin_ui: AdminGateway,
    sink: Sink,
    desk: Sink,
    dovecot: Dovecot,
    browser_context: BrowserContext,
) -> None:
    gw, base = admin_ui.gw, admin_ui.base
    references = []
    for text in MISROUTED:
        _, body = await gw.post({"body": text, "complainant": {"phone": "13812345678"}})
        record = await gw.record(body["reference"])
        assert record["classification"]["department"] != "logistics", record["classification"]
        references.append(body["reference"])
    await eventually(lambda: all(events_for(sink, r) for r in references), "first deliveries")
    assert desk.received == []
    shipped = gw.svc.classify.status["model_version"]

    page = await browser_context.new_page()
    problems = watch(page)

    # A supervisor signs in and finds the misrouted complaint in the list.
    await sign_in(page, base, "supervisor")
    await page.goto(f"{base}/admin/records?q=门板上有一道")
    assert references[0] in await page.inner_text("main")
    await shot(page, "admin", "01-records-search")
    await page.click(f"a[href='/admin/records/{references[0]}']")
    await page.wait_for_url(f"{base}/admin/records/{references[0]}")
    wrong = (await page.inner_text("#current-department")).strip()
    assert wrong != "logistics"
    await shot(page, "admin", "02-record-misrouted")

    # Correct it with a reason (and the order number read off the invoice): the old
    # destination withdraws, the new one gets the record.
    await page.fill("#f-order_number", "HT20260315-0042")
    await correct_in_browser(page, base, references[0], "damaged in transport, not a defect")
    history = await page.inner_text("#history")
    assert "supervisor" in history and "damaged in transport, not a defect" in history
    assert "HT20260315-0042" in history  # the field's before/after is in the trail
    assert await page.input_value("#f-order_number") == "HT20260315-0042"
    await eventually(
        lambda: "complaint.withdrawn" in events_for(sink, references[0]), "withdrawal at sink"
    )
    await eventually(lambda: events_for(desk, references[0]), "record at the logistics desk")
    assert "complaint.withdrawn" not in events_for(desk, references[0])
    await page.reload()
    deliveries = await page.inner_text("#deliveries")
    assert "logistics-desk" in deliveries
    await shot(page, "admin", "03-record-corrected")

    # A second correction of the same confusion, then retrain from the models page.
    await correct_in_browser(page, base, references[1], "arrived cracked: transport damage")
    await page.goto(f"{base}/admin/models")
    assert (await page.inner_text("#active-version")).strip() == "shipped"
    await page.click("#retrain")
    await page.wait_for_url(f"{base}/admin/models**")
    await shot(page, "admin", "04-retrain-started")

    async def finished() -> str | None:
        await page.goto(f"{base}/admin/models")
        state = (await page.locator("#runs .run-state").first.inner_text()).strip()
        return None if state == "running" else state

    state = await eventually(finished, "the retrain run", timeout=120)
    active = (await page.inner_text("#active-version")).strip()
    await shot(page, "admin", "05-retrain-finished")
    assert state == "promoted", await page.inner_text("#runs")
    assert active != "shipped"
    assert (await page.inner_text("#running-version")).strip() == active
    assert gw.svc.classify.status["model_version"] == active

    # The same kind of complaint, fresh, is now decided by the new version.
    _, body = await gw.post({"body": FRESH, "complainant": {"phone": "13812345678"}})
    fresh = await gw.record(body["reference"])
    assert fresh["classification"]["model_version"] == active
    await page.goto(f"{base}/admin/records/{body['reference']}")
    assert (await page.inner_text("#model-version")).strip() == active
    await shot(page, "admin", "06-fresh-record-new-model")

    # Roll back to the shipped model in one click.
    await page.goto(f"{base}/admin/models")
    await page.click("button[data-version='shipped']")
    await page.wait_for_url(f"{base}/admin/models**")
    assert (await page.inner_text("#active-version")).strip() == "shipped"
    assert gw.svc.classify.status["model_version"] == shipped
    await shot(page, "admin", "07-rolled-back")

    # A channel owner adds an IMAP channel from the channels page; a message is polled in.
    await page.click("#logout")
    await sign_in(page, base, "channel-owner")
    await page.goto(f"{base}/admin/channels")
    await page.select_option("#new-kind", "email.imap")
    await page.click("form[action='/admin/channels/new'] button[type=submit]")
    await page.wait_for_selector("#channel-form")
    await page.fill("#channel-form input[name=name]", "support-box")
    for name, value in (
        ("host", "127.0.0.1"),
        ("port", str(dovecot.port)),
        ("security", "none"),  # a Literal field is a <select> of its values
        ("username", IMAP_USER),
        ("password", "env:TEST_IMAP_PASSWORD"),
        ("poll_seconds", "0.3"),
    ):
        await set_field(page, name, value)
    for name in ("idle", "acknowledge"):
        await page.locator(f"[name=s_{name}]").uncheck()
    await shot(page, "admin", "08-imap-form")
    await page.click("#save-channel")
    await page.wait_for_selector("#channels, p.problem")
    problem = page.locator("p.problem")
    assert await problem.count() == 0, await problem.inner_text()
    assert "support-box" in await page.inner_text("#channels")
    await page.click("button[data-action='test-support-box']")
    await page.wait_for_url(f"{base}/admin/channels**")
    await shot(page, "admin", "09-channels-imap-added")

    message = EmailMessage()
    message["From"] = "customer@example.cn"
    message["To"] = IMAP_USER
    message["Subject"] = "洗衣机漏水"
    message["Message-ID"] = "<admin-browser-imap-1@example.cn>"
    message.set_content("我的洗衣机XQG100-HT8漏水严重，订单号HT20260315-0042，请派人维修。")
    dovecot.append(message.as_bytes())

    async def polled() -> str | None:
        async with gw.svc.sessions() as session:
            return await session.scalar(
                select(Complaint.reference).where(Complaint.channel_account == "support-box")
            )

    polled_reference = await eventually(polled, "the IMAP message as a record")
    assert dovecot.flagged() == (1, 1)
    await page.goto(f"{base}/admin/records?channel=email")
    assert polled_reference in await page.inner_text("main")
    await page.goto(f"{base}/admin/records/{polled_reference}")
    assert "support-box" in await page.inner_text("h1")
    await shot(page, "admin", "10-imap-record")

    assert problems == []
