"""Sign-in: wrong passwords, lock-out, rate limit, expired sessions, CSRF, user tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from gateway.admin_ui.web import LIMITER
from storage.db import utcnow
from storage.tables_users import AdminSession
from storage.users import create_token
from tests.admin.conftest import AdminGateway


async def test_wrong_password_then_lock_out(admin_gateway: AdminGateway, new_browser) -> None:  # type: ignore[no-untyped-def]
    browser = new_browser(admin_gateway.base)
    first = await browser.login("viewer", "wrong password!")
    assert first.status == 401 and "wrong username or password" in await first.text()
    await browser.login("viewer", "wrong password!")
    third = await browser.login("viewer", "wrong password!")
    assert third.status == 423
    right = await browser.login("viewer")  # the right password no longer helps
    assert right.status == 423 and "locked" in await right.text()


async def test_rate_limit_per_address(admin_gateway: AdminGateway, new_browser) -> None:  # type: ignore[no-untyped-def]
    limiter = admin_gateway.gw.client.app[LIMITER]
    limiter.per_minute = 2
    limiter.reset()  # the fixture's own sign-ins came from this address too
    browser = new_browser(admin_gateway.base)
    statuses = [(await browser.login("nobody", "x" * 12)).status for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_expired_session_sends_to_sign_in(admin_gateway: AdminGateway) -> None:
    async with admin_gateway.svc.sessions.begin() as session:
        await session.execute(
            update(AdminSession).values(last_seen_at=utcnow() - timedelta(hours=5))
        )
    browser = admin_gateway.browsers["supervisor"]
    status, _ = await browser.get("/admin/records")
    assert status == 303
    status, text = await browser.post("/admin/models/retrain")
    assert status == 401 and "session has ended" in text


async def test_csrf_is_required(admin_gateway: AdminGateway) -> None:
    browser = admin_gateway.browsers["admin"]
    good = browser.csrf
    browser.csrf = "forged"
    status, text = await browser.post("/admin/channels/webform/disable")
    assert status == 403 and "CSRF" in text
    browser.csrf = good
    status, _ = await browser.post("/admin/channels/webform/disable")
    assert status == 303


async def test_login_form_needs_its_token(admin_gateway: AdminGateway, new_browser) -> None:  # type: ignore[no-untyped-def]
    browser = new_browser(admin_gateway.base)
    response = await browser.session.post(
        f"{admin_gateway.base}/admin/login",
        data={"username": "admin", "password": "correct horse battery"},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_cookie_flags(admin_gateway: AdminGateway, new_browser) -> None:  # type: ignore[no-untyped-def]
    browser = new_browser(admin_gateway.base)
    response = await browser.login("admin")
    cookie = response.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("cg_admin="))
    assert "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie


async def test_user_tokens_carry_the_role(admin_gateway: AdminGateway) -> None:
    async with admin_gateway.svc.sessions.begin() as session:
        viewer = await create_token(session, "viewer", "t")
        owner = await create_token(session, "channel-owner", "t")
    client = admin_gateway.gw.client
    headers = {"Authorization": f"Bearer {viewer}"}
    assert (await client.get("/api/v1/admin/models", headers=headers)).status == 200
    assert (await client.get("/api/v1/admin/routing", headers=headers)).status == 403
    assert (await client.post("/api/v1/admin/retrain", headers=headers)).status == 403
    refused = await client.post("/api/v1/complaints", json={"body": "x"}, headers=headers)
    assert refused.status == 403  # user tokens are for the admin API only
    owner_headers = {"Authorization": f"Bearer {owner}"}
    assert (await client.get("/api/v1/admin/routing", headers=owner_headers)).status == 200
    assert (await client.put(
        "/api/v1/admin/routes/default", json={"destinations": ["sink"]}, headers=owner_headers
    )).status == 403  # fmt: skip
    # Client keys keep the admin role by default (existing integrations go on working).
    assert (await client.get("/api/v1/admin/models", headers=admin_gateway.gw.auth)).status == 200
