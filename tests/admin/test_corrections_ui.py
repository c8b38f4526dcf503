"""Correcting from the UI: history, a withdrawal to the old destination, the record to the
new one, a training example; a label that does not exist changes nothing."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update

from storage.tables import Complaint
from storage.tables_routing import CorrectionExample
from tests.admin.conftest import AdminGateway
from tests.conftest import Sink

BODY = {"body": "冰箱BCD-520W门封条老化漏冷，制冷效果很差", "complainant": {"phone": "13812345678"}}


async def _route_logistics_elsewhere(admin: AdminGateway, sink: Sink) -> None:
    browser = admin.browsers["admin"]
    settings = {"url": sink.url + "?desk=logistics", "secret": "env:TEST_HOOK_SECRET"}
    status, _ = await browser.post(
        "/admin/routing/destinations",
        {"name": "logistics-desk", "kind": "webhook", "settings": json.dumps(settings)},
    )
    assert status == 303
    status, _ = await browser.post(
        "/admin/routing/routes",
        {"selector": "department:logistics", "destinations": "logistics-desk"},
    )
    assert status == 303
    _, page = await browser.get("/admin/routing")
    assert "logistics-desk" in page


async def test_correction_reroutes_and_withdraws(admin_gateway: AdminGateway, sink: Sink) -> None:
    await _route_logistics_elsewhere(admin_gateway, sink)
    status, body = await admin_gateway.gw.post(BODY)
    reference = body["reference"]
    record = await admin_gateway.gw.record(reference)
    assert record["classification"]["department"] != "logistics"
    await sink.wait_for(1)
    supervisor = admin_gateway.browsers["supervisor"]
    status, _ = await supervisor.post(
        f"/admin/records/{reference}/correct",
        {"validity": "valid", "department": "logistics", "severity": "general",
         "flags_present": "1", "note": "damaged in transport"},
    )  # fmt: skip
    assert status == 303
    await sink.wait_for(3)
    events = [json.loads(item["body"])["event"] for item in sink.received]
    assert "complaint.withdrawn" in events
    status, page = await supervisor.get(f"/admin/records/{reference}")
    assert "logistics-desk" in page and "corrected" in page and "damaged in transport" in page
    async with admin_gateway.svc.sessions() as session:
        examples = await session.scalar(select(func.count()).select_from(CorrectionExample))
    assert examples == 1


async def test_unknown_label_changes_nothing(admin_gateway: AdminGateway) -> None:
    status, body = await admin_gateway.gw.post(BODY)
    reference = body["reference"]
    before = await admin_gateway.gw.record(reference)
    status, page = await admin_gateway.browsers["admin"].post(
        f"/admin/records/{reference}/correct", {"department": "astrology", "note": "typo"}
    )
    assert status == 422 and "unknown department" in page
    after = await admin_gateway.gw.record(reference)
    assert after["classification"] == before["classification"]


async def test_review_queue_confirm(admin_gateway: AdminGateway) -> None:
    status, body = await admin_gateway.gw.post(BODY)
    reference = body["reference"]
    await admin_gateway.gw.record(reference)
    async with admin_gateway.svc.sessions.begin() as session:  # held as a low-confidence one
        await session.execute(
            update(Complaint).where(Complaint.reference == reference).values(needs_review=True)
        )
    supervisor = admin_gateway.browsers["supervisor"]
    status, page = await supervisor.get("/admin/review")
    assert status == 200 and reference in page
    status, _ = await supervisor.post(f"/admin/review/{reference}/confirm")
    assert status == 303
    after = await admin_gateway.gw.record(reference)
    assert after["classification"]["needs_review"] is False


async def test_search_zh_and_en(admin_gateway: AdminGateway) -> None:
    await admin_gateway.gw.record((await admin_gateway.gw.post(BODY))[1]["reference"])
    english = {
        "body": "The washing machine leaks water everywhere",
        "complainant": {"phone": "13812345678"},
    }
    await admin_gateway.gw.record((await admin_gateway.gw.post(english))[1]["reference"])
    viewer = admin_gateway.browsers["viewer"]
    _, page = await viewer.get("/admin/records?q=门封条")
    assert "门封条" in page and "washing" not in page
    _, page = await viewer.get("/admin/records?q=LEAKS water")
    assert "washing" in page and "门封条" not in page
    _, page = await viewer.get("/admin/records?q=冰箱")  # two characters: the LIKE fallback
    assert "门封条" in page
    _, page = await viewer.get("/admin/records?q=nothing-like-this")
    assert "No records" in page
