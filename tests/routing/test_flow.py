"""Routing inside the running gateway: the live table, corrections, SLA clocks, links."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from gateway.sla_clock import mark_overdue
from routing.signing import verify
from storage.db import utcnow
from storage.tables import Outbox
from storage.tables_routing import CorrectionExample
from tests.conftest import make_settings
from tests.gateway.harness import Gateway, running_gateway

FRIDGE = {
    "body": "冰箱BCD-520W买了两周就不制冷了，订单号HT20261015-0042，请尽快处理。",
    "complainant": {"phone": "13812345678"},
}
SHOCK = {
    "body": "热水器JSQ24-HT3漏电，洗澡时被电了一下，太危险了！",
    "complainant": {"phone": "13900001111"},
}


def settings_with(url: str, db: str, **overrides: Any):
    hook = {"url": url, "secret": "env:TEST_HOOK_SECRET"}
    return make_settings(
        db,
        destinations={"qa": hook, "logi": hook, "duty": hook, "extra": hook},
        routing={
            "departments": {"quality": ["qa"], "logistics": ["logi"]},
            "default": ["qa"],
            "escalation": ["duty"],
        },
        **overrides,
    )


def by_destination(sink) -> dict[str, list[dict[str, Any]]]:
    seen: dict[str, list[dict[str, Any]]] = {}
    for item in sink.received:
        destination = item["headers"]["Idempotency-Key"].split("/")[1]
        seen.setdefault(destination, []).append(item)
    return seen


async def settled(gw: Gateway, timeout: float = 20.0) -> list[Outbox]:
    """Outbox rows once none is pending or sending."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with gw.svc.sessions() as session:
            rows = list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())
        if rows and all(row.state not in ("pending", "sending") for row in rows):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError([(r.destination, r.state) for r in rows])
        await asyncio.sleep(0.05)


async def test_correction_withdraws_from_the_old_destination_and_routes_to_the_new(
    any_db_url, sink, hook_secret, classify_step
):
    async with running_gateway(settings_with(sink.url, any_db_url), classify_step) as gw:
        _, body = await gw.post(FRIDGE)
        reference = body["reference"]
        record = await gw.record(reference)
        assert record["classification"]["department"] == "quality"
        await sink.wait_for(1)
        response = await gw.client.post(
            f"/api/v1/admin/complaints/{reference}/corrections",
            json={"department": "logistics", "note": "transport damage"},
            headers=gw.auth,
        )
        result = await response.json()
        await sink.wait_for(3)
        await settled(gw)
        record = await gw.record(reference)
        async with gw.svc.sessions() as session:
            examples = list((await session.execute(select(CorrectionExample))).scalars())
    assert response.status == 200, result
    assert result["withdrawn"] == ["qa"] and result["routed"] == ["logi"]
    received = by_destination(sink)
    withdrawal = received["qa"][-1]
    envelope = json.loads(withdrawal["body"])
    headers = withdrawal["headers"]
    assert envelope["event"] == "complaint.withdrawn"
    assert envelope["withdraws"] == f"{reference}/qa/route/1"
    assert headers["Idempotency-Key"] == f"{reference}/qa/withdraw-route/2"
    assert verify(
        "hook-secret-value", headers["X-Timestamp"], withdrawal["body"], headers["X-Signature"]
    )
    corrected = json.loads(received["logi"][0]["body"])
    assert corrected["event"] == "complaint.corrected"
    assert corrected["complaint"]["classification"]["department"] == "logistics"
    history = [h for h in record["history"] if h["action"] == "corrected"]
    assert history[0]["actor"] == "tests"  # the API key's owner, not a name in the body
    assert history[0]["detail"]["reason"] == "transport damage"
    assert history[0]["detail"]["before"]["department"] == "quality"
    assert record["classification"]["department"] == "logistics"
    assert [(e.labels["department"], e.previous["department"]) for e in examples] == [
        ("logistics", "quality")
    ]


async def test_bad_corrections_are_refused(sqlite_url, sink, hook_secret, classify_step):
    async with running_gateway(settings_with(sink.url, sqlite_url), classify_step) as gw:
        _, body = await gw.post(FRIDGE)
        await gw.record(body["reference"])
        url = f"/api/v1/admin/complaints/{body['reference']}/corrections"
        unknown = await gw.client.post(
            url, json={"department": "astrology", "note": "x"}, headers=gw.auth
        )
        flagless = await gw.client.post(
            url, json={"severity": "major", "note": "x"}, headers=gw.auth
        )
        missing = await gw.client.post(
            "/api/v1/admin/complaints/QC-209901-000001/corrections",
            json={"department": "sales", "note": "x"},
            headers=gw.auth,
        )
        texts = [await r.text() for r in (unknown, flagless)]
    assert unknown.status == 422 and "unknown department" in texts[0]
    assert flagless.status == 422 and "needs at least one flag" in texts[1]
    assert missing.status == 404


async def test_the_routing_table_is_edited_at_run_time_and_bad_destinations_are_refused(
    sqlite_url, sink, hook_secret, classify_step
):
    async with running_gateway(settings_with(sink.url, sqlite_url), classify_step) as gw:
        table = await (await gw.client.get("/api/v1/admin/routing", headers=gw.auth)).json()
        bad = await gw.client.put(
            "/api/v1/admin/destinations/broken",
            json={"kind": "webhook", "url": "nope"},
            headers=gw.auth,
        )
        secretless = await gw.client.put(
            "/api/v1/admin/destinations/broken",
            json={"url": "http://127.0.0.1:1/x", "secret": "env:NOT_SET_ANYWHERE"},
            headers=gw.auth,
        )
        gone = await gw.client.put(
            "/api/v1/admin/destinations/gone",
            json={"url": "http://127.0.0.1:9/down", "timeout_seconds": 1},
            headers=gw.auth,
        )
        routed = await gw.client.put(
            "/api/v1/admin/routes/department:quality",
            json={"destinations": ["gone", "extra"]},
            headers=gw.auth,
        )
        planned = await (
            await gw.client.post(
                "/api/v1/admin/routes/test",
                json={"validity": "valid", "department": "quality"},
                headers=gw.auth,
            )
        ).json()
        _, body = await gw.post(FRIDGE)
        await sink.wait_for(1)
        rows = {row.destination: row for row in await _rows_when(gw, "gone", "pending")}
        texts = [await r.text() for r in (bad, secretless)]
    assert table["routes"]["department:quality"] == ["qa"]
    assert {d["name"]: d["origin"] for d in table["destinations"]}["qa"] == "config"
    assert bad.status == 422 and "absolute http(s) URL" in texts[0]
    assert secretless.status == 422 and "NOT_SET_ANYWHERE" in texts[1]
    assert gone.status == 200 and routed.status == 200
    assert planned["targets"] == [
        {"destination": "gone", "purpose": "route"},
        {"destination": "extra", "purpose": "route"},
    ]
    # the unreachable destination is retrying while the other one got the complaint
    assert sink.keys() == [f"{body['reference']}/extra/route/1"]
    assert rows["extra"].state == "delivered" and rows["gone"].attempts >= 1


async def _rows_when(gw: Gateway, destination: str, state: str) -> list[Outbox]:
    for _ in range(200):
        async with gw.svc.sessions() as session:
            rows = list((await session.execute(select(Outbox))).scalars())
        if any(r.destination == destination and r.state == state and r.attempts for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("the destination never failed")


async def test_overdue_clocks_renotify_escalation_count_in_metrics_and_events_stop_clocks(
    sqlite_url, sink, hook_secret, classify_step
):
    async with running_gateway(settings_with(sink.url, sqlite_url), classify_step) as gw:
        _, body = await gw.post(SHOCK)
        reference = body["reference"]
        record = await gw.record(reference)
        await settled(gw)
        responded = await gw.client.post(
            f"/api/v1/complaints/{reference}/events",
            json={"event": "responded", "note": "called back"},
            headers=gw.auth,
        )
        overdue = await mark_overdue(gw.svc, now=utcnow() + timedelta(days=3))
        await settled(gw)
        metrics = await (await gw.client.get("/metrics")).text()
        resolved = await gw.client.post(
            f"/api/v1/complaints/{reference}/events", json={"event": "resolved"}, headers=gw.auth
        )
        bad = await gw.client.post(
            f"/api/v1/complaints/{reference}/events", json={"event": "cheered"}, headers=gw.auth
        )
        after = await gw.client.get(f"/api/v1/complaints/{reference}", headers=gw.auth)
        final = await after.json()
        met = (await responded.json())["met"]
        resolved_status = (await resolved.json())["status"]
    assert record["classification"]["severity"] == "major"
    assert {c["clock"] for c in record["sla"]} >= {"escalate", "first_response", "final_reply"}
    assert "first_response" in met
    assert overdue == 1  # only the investigation clock: escalation was delivered, response made
    notices = [json.loads(i["body"]) for i in by_destination(sink)["duty"]]
    assert [n["event"] for n in notices] == ["complaint.routed", "complaint.overdue"]
    assert notices[1]["clock"] == "investigation"
    assert 'gateway_overdue_open{clock="investigation",department="after_sales"}' in metrics or (
        'gateway_overdue_open{clock="investigation"' in metrics
    )
    assert resolved_status == "resolved" and bad.status == 422
    assert final["status"] == "resolved"
    assert all(clock["met_at"] for clock in final["sla"] if clock["clock"] != "investigation")


async def test_a_batch_incident_opens_at_the_threshold_and_goes_to_escalation(
    sqlite_url, sink, hook_secret, classify_step
):
    settings = settings_with(sink.url, sqlite_url, links={"batch_threshold": 3})
    async with running_gateway(settings, classify_step) as gw:
        records = []
        for n in range(3):
            _, body = await gw.post(
                {
                    "body": f"冰箱BCD-520W不制冷，里面的东西都坏了。第{n}台",
                    "complainant": {"email": f"owner{n}@example.com"},
                }
            )
            records.append(await gw.record(body["reference"]))
        await settled(gw)
    assert [r["classification"]["severity"] for r in records[:2]] == ["general", "general"]
    third = records[2]["classification"]
    assert third["severity"] == "major" and "batch" in third["flags"]
    [link] = [link for link in records[2]["links"] if link["kind"] == "batch"]
    notices = [json.loads(i["body"]) for i in by_destination(sink).get(link["reference"], [])]
    notices += [json.loads(i["body"]) for i in sink.received if b"incident.opened" in i["body"]]
    opened = notices[0]
    assert opened["incident"] == link["reference"]
    assert opened["members"] == [r["reference"] for r in records]


async def test_a_repeat_about_an_open_case_is_linked_and_raised_one_level(
    sqlite_url, sink, hook_secret, classify_step
):
    async with running_gateway(settings_with(sink.url, sqlite_url), classify_step) as gw:
        _, first = await gw.post(FRIDGE)
        earlier = await gw.record(first["reference"])
        _, second = await gw.post(
            {
                "body": "还是那台冰箱BCD-520W，还是不制冷，一周了没人理我。",
                "complainant": {"phone": "138-1234-5678"},
            }
        )
        repeat = await gw.record(second["reference"])
    assert earlier["classification"]["severity"] == "general"
    assert {"kind": "repeat", "reference": first["reference"]} in repeat["links"]
    assert repeat["classification"]["severity"] == "major"
    assert "repeat" in repeat["classification"]["flags"]
