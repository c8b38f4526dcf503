"""The JSON intake API end to end in embedded mode: submit, process, deliver, look up."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from routing.signing import verify
from storage.tables import Complaint, RawMessage
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway

COMPLAINT = {
    "subject": "空调外机异响",
    "body": "我家的空调KFR-35GW/HT1外机一直有很大的异响，晚上根本睡不着，订单号HT20260315-0042。",
    "complainant": {"name": "王女士", "phone": "13812345678"},
    "order_number": "HT20260315-0042",
}


async def test_submitted_complaint_is_stored_classified_and_delivered_once(
    sqlite_url, sink, hook_secret, classify_step
):
    settings = make_settings(sqlite_url, sink.url)
    async with running_gateway(settings, classify_step) as gw:
        status, body = await gw.post(COMPLAINT)
        assert status == 202
        assert body["reference"].startswith("QC-")
        record = await gw.record(body["reference"])
        await sink.wait_for(1)
    assert record["body"] == COMPLAINT["body"]
    assert record["complainant"]["phones"] == ["13812345678"]
    assert record["classification"]["validity"] == "valid"
    assert record["classification"]["department"]
    assert [h["action"] for h in record["history"]][:2] == ["received", "created"]
    delivered = sink.received[0]
    assert delivered["headers"]["Idempotency-Key"].startswith(body["reference"])
    assert verify(
        hook_secret,
        delivered["headers"]["X-Timestamp"],
        delivered["body"],
        delivered["headers"]["X-Signature"],
    )
    payload = json.loads(delivered["body"])
    assert payload["complaint"]["reference"] == body["reference"]


async def test_same_body_twice_is_one_record(sqlite_url, classify_step):
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        first = await gw.post(COMPLAINT)
        second = await gw.post(COMPLAINT)
        await gw.record(first[1]["reference"])
        async with gw.svc.sessions() as session:
            complaints = await session.scalar(select(func.count()).select_from(Complaint))
    assert first[0] == 202 and second[0] == 200
    assert second[1]["duplicate"] is True
    assert second[1]["reference"] == first[1]["reference"]
    assert complaints == 1


async def test_idempotency_key_reused_with_another_body_is_a_conflict(sqlite_url, classify_step):
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        first = await gw.post(COMPLAINT, **{"Idempotency-Key": "k-1"})
        again = await gw.post(COMPLAINT, **{"Idempotency-Key": "k-1"})
        other = await gw.post({**COMPLAINT, "body": "另一件事"}, **{"Idempotency-Key": "k-1"})
    assert first[0] == 202
    assert again[0] == 200 and again[1]["reference"] == first[1]["reference"]
    assert other[0] == 409
    assert other[1]["error"]["code"] == "idempotency_conflict"


async def test_bad_bodies_get_clear_errors_and_are_archived(sqlite_url, classify_step):
    settings = make_settings(sqlite_url, max_body_bytes=2000)
    async with running_gateway(settings, classify_step) as gw:
        bad_json = await gw.client.post(
            "/api/v1/complaints",
            data=b'{"body": "unterminated',
            headers={**gw.auth, "Content-Type": "application/json"},
        )
        bad_json_error = (await bad_json.json())["error"]
        wrong_types = await gw.post({"body": 42, "complainant": {"email": "not-an-email"}})
        unknown_field = await gw.post({"body": "x", "favourite_colour": "blue"})
        too_big = await gw.post({"body": "很" * 3000})
        unknown_account = await gw.post({"body": "x", "channel_account": "nope"})
        async with gw.svc.sessions() as session:
            failed = (
                await session.execute(
                    select(RawMessage.state, RawMessage.error).where(RawMessage.state == "failed")
                )
            ).all()
    assert bad_json.status == 400
    assert bad_json_error["code"] == "invalid_json" and "raw_id" in bad_json_error
    assert wrong_types[0] == 422
    fields = {d["field"] for d in wrong_types[1]["error"]["details"]}
    assert {"body", "complainant.email"} <= fields
    assert unknown_field[0] == 422
    assert too_big[0] == 413 and too_big[1]["error"]["code"] == "body_too_large"
    assert unknown_account[0] == 404
    assert unknown_account[1]["error"]["code"] == "unknown_channel_account"
    assert len(failed) == 3  # bad JSON, wrong types, unknown field: archived with the reason
    assert all(error for _, error in failed)


async def test_api_key_is_required_and_checked(sqlite_url, classify_step):
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        missing = await gw.client.post("/api/v1/complaints", json=COMPLAINT)
        missing_error = (await missing.json())["error"]["code"]
        wrong = await gw.client.post(
            "/api/v1/complaints", json=COMPLAINT, headers={"X-API-Key": "cgk_wrong"}
        )
        wrong_error = (await wrong.json())["error"]["code"]
        via_header = await gw.client.post(
            "/api/v1/complaints", json=COMPLAINT, headers={"X-API-Key": gw.key}
        )
    assert missing.status == 401 and missing_error == "missing_api_key"
    assert wrong.status == 401 and wrong_error == "invalid_api_key"
    assert via_header.status == 202


async def test_disabled_channel_account_refuses_input(sqlite_url, classify_step):
    from storage.accounts import set_enabled

    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        async with gw.svc.sessions.begin() as session:
            await set_enabled(session, "api", False)
        status, body = await gw.post(COMPLAINT)
    assert status == 403 and body["error"]["code"] == "channel_disabled"


async def test_unknown_reference_is_404_and_openapi_is_served(sqlite_url, classify_step):
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        missing = await gw.client.get("/api/v1/complaints/QC-209901-000001", headers=gw.auth)
        spec = await (await gw.client.get("/api/v1/openapi.json")).json()
    assert missing.status == 404
    assert "/api/v1/complaints" in spec["paths"]
    assert "ApiComplaint" in spec["components"]["schemas"]


async def test_health_readiness_and_metrics(sqlite_url, classify_step):
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        before = _sqlite_transactions(await (await gw.client.get("/metrics")).text())
        _, body = await gw.post(COMPLAINT)
        await gw.record(body["reference"])
        health = await gw.client.get("/healthz")
        ready = await gw.client.get("/readyz")
        readiness = await ready.json()
        metrics = await (await gw.client.get("/metrics")).text()
    assert health.status == 200
    assert ready.status == 200 and readiness["checks"]["database"] == "ok"
    assert readiness["checks"]["classifier"]["rules_version"]
    assert 'gateway_received_total{channel="api"}' in metrics
    assert 'gateway_processed_total{channel="api"}' in metrics
    assert "gateway_pipeline_latency_seconds_bucket" in metrics
    assert 'gateway_raw_messages{state="processed"}' in metrics
    # intake, processing and the record read at least: what the intake bench's floor uses
    assert _sqlite_transactions(metrics) >= before + 3


def _sqlite_transactions(metrics: str) -> float:
    lines = [line for line in metrics.splitlines() if line.startswith("gateway_sqlite_tr")]
    assert len(lines) == 1, lines
    return float(lines[0].split()[1])
