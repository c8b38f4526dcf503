"""Every admin route, for every role: allowed ones answer, the others are refused (403);
without a session a page sends to the sign-in form and a POST is refused (401)."""

from __future__ import annotations

import pytest

from gateway.admin_ui.permissions import GRANTS, Perm
from tests.admin.conftest import ROLES, AdminGateway

BODY = {"body": "冰箱BCD-520W漏水，地板都湿了", "complainant": {"phone": "13812345678"}}

ROUTE_TABLE: list[tuple[str, str, Perm, dict[str, str]]] = [
    ("GET", "/admin/records", Perm.RECORDS_READ, {}),
    ("GET", "/admin/records?q=漏水&department=quality", Perm.RECORDS_READ, {}),
    ("GET", "/admin/records/{ref}", Perm.RECORDS_READ, {}),
    ("GET", "/admin/records/{ref}/original", Perm.PERSONAL_DATA, {}),
    ("GET", "/admin/records/{ref}/attachments/none", Perm.PERSONAL_DATA, {}),
    (
        "POST",
        "/admin/records/{ref}/correct",
        Perm.CORRECT,
        {"department": "quality", "note": "same"},
    ),
    ("GET", "/admin/review", Perm.REVIEW, {}),
    ("POST", "/admin/review/{ref}/confirm", Perm.REVIEW, {}),
    ("GET", "/admin/channels", Perm.CHANNELS_READ, {}),
    ("GET", "/admin/channels/new?kind=email.imap", Perm.CHANNELS_WRITE, {}),
    ("POST", "/admin/channels", Perm.CHANNELS_WRITE, {"kind": "api", "name": "x-{role}"}),
    ("GET", "/admin/channels/webform", Perm.CHANNELS_READ, {}),
    ("POST", "/admin/channels/nope", Perm.CHANNELS_WRITE, {"kind": "api"}),
    ("POST", "/admin/channels/nope/test", Perm.CHANNELS_WRITE, {}),
    ("POST", "/admin/channels/nope/enable", Perm.CHANNELS_WRITE, {}),
    ("POST", "/admin/channels/nope/disable", Perm.CHANNELS_WRITE, {}),
    ("POST", "/admin/channels/nope/remove", Perm.CHANNELS_WRITE, {}),
    ("GET", "/admin/routing", Perm.ROUTING_READ, {}),
    (
        "POST",
        "/admin/routing/routes",
        Perm.ROUTING_WRITE,
        {"selector": "default", "destinations": "sink"},
    ),
    ("POST", "/admin/routing/destinations", Perm.ROUTING_WRITE, {"name": "bad", "settings": "[]"}),
    ("POST", "/admin/routing/destinations/nope/remove", Perm.ROUTING_WRITE, {}),
    ("GET", "/admin/deadletters", Perm.ROUTING_READ, {}),
    ("POST", "/admin/deadletters/replay", Perm.REPLAY, {"id": "999999"}),
    ("GET", "/admin/models", Perm.MODELS_READ, {}),
    ("GET", "/admin/models/compare?a=x&b=y", Perm.MODELS_READ, {}),
    ("POST", "/admin/models/nope/promote", Perm.MODELS_WRITE, {}),
    ("GET", "/admin/rules", Perm.MODELS_READ, {}),
    ("POST", "/admin/rules/suggest", Perm.RULES_WRITE, {}),
    ("POST", "/admin/rules/suggestions/999", Perm.RULES_WRITE, {"action": "reject"}),
    ("POST", "/admin/rules/activate", Perm.RULES_WRITE, {"version": "nope"}),
    ("GET", "/admin/dashboard", Perm.DASHBOARD, {}),
]


async def _reference(admin: AdminGateway) -> str:
    status, body = await admin.gw.post(BODY)
    assert status == 202, body
    await admin.gw.record(body["reference"])
    return str(body["reference"])


async def test_every_route_for_every_role(admin_gateway: AdminGateway) -> None:
    ref = await _reference(admin_gateway)
    checked = 0
    for method, template, perm, data in ROUTE_TABLE:
        path = template.format(ref=ref)
        for role in ROLES:
            browser = admin_gateway.browsers[role]
            if method == "GET":
                status, text = await browser.get(path)
            else:
                filled = {k: v.format(role=role.replace("_", "-")) for k, v in data.items()}
                status, text = await browser.post(path, filled)
            where = f"{method} {path} as {role}: {status}"
            if perm in GRANTS[role]:
                assert status not in (401, 403) and status < 500, where + text[:300]
            else:
                assert status == 403, where
                assert "may not do" in text, where
            checked += 1
    assert checked == len(ROUTE_TABLE) * len(ROLES)


async def test_without_a_session(admin_gateway: AdminGateway, new_browser) -> None:  # type: ignore[no-untyped-def]
    anonymous = new_browser(admin_gateway.base)
    for method, template, _perm, data in ROUTE_TABLE:
        path = template.format(ref="QC-202601-000001")
        if method == "GET":
            status, _ = await anonymous.get(path)
            assert status == 303, path
        else:
            status, _ = await anonymous.post(path, data)
            assert status == 401, path


@pytest.mark.parametrize("role", ROLES)
async def test_personal_data_only_for_roles_that_need_it(
    admin_gateway: AdminGateway, role: str
) -> None:
    ref = await _reference(admin_gateway)
    status, page = await admin_gateway.browsers[role].get(f"/admin/records/{ref}")
    assert status == 200
    shows = "13812345678" in page
    assert shows == (Perm.PERSONAL_DATA in GRANTS[role]), role
