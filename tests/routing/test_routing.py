"""Route planning, field allow-lists, back-off and the webhook sender against a real server."""

from __future__ import annotations

import random

import pytest

from routing.destinations import Delivery, build_sender
from routing.outcome import Outcome, Verdict, backoff_seconds, next_delay
from routing.router import RoutingTable, Target, filter_fields, plan_routes
from routing.signing import sign, verify
from routing.webhook import verdict_for_status
from storage.records import Classification

TABLE = RoutingTable(
    departments={"quality": ["qa-hook"], "finance": ["fin-hook", "fin-mail"]},
    default=["inbox"],
    escalation=["duty-manager"],
    review=["review-queue"],
)


def test_valid_complaint_goes_to_its_department():
    decision = Classification(validity="valid", severity="general", department="finance")
    assert plan_routes(decision, TABLE) == [
        Target("fin-hook", "route"),
        Target("fin-mail", "route"),
    ]


def test_major_complaint_is_also_escalated_and_unknown_department_uses_default():
    decision = Classification(
        validity="valid", severity="major", department="logistics", flags=["safety"]
    )
    assert plan_routes(decision, TABLE) == [
        Target("inbox", "route"),
        Target("duty-manager", "escalation"),
    ]


def test_invalid_goes_nowhere_unless_it_needs_review():
    invalid = Classification(validity="invalid", reason="spam", severity="minor")
    assert plan_routes(invalid, TABLE) == []
    unsure = invalid.model_copy(update={"needs_review": True})
    assert plan_routes(unsure, TABLE) == [Target("review-queue", "review")]


def test_allow_list_keeps_only_named_fields_and_the_reference():
    record = {"reference": "QC-202611-000001", "body": "x", "complainant": {"phones": ["1"]}}
    assert filter_fields(record, ["body"]) == {"reference": "QC-202611-000001", "body": "x"}
    assert filter_fields(record, None) == record


def test_backoff_grows_is_capped_and_honours_retry_after():
    rng = random.Random(7)
    delays = [backoff_seconds(n, base=1.0, cap=30.0, rng=rng) for n in range(1, 8)]
    assert 0.5 <= delays[0] <= 1.0
    assert all(d <= 30.0 for d in delays) and delays[5] >= 15.0
    asked = Outcome(Verdict.RETRY, "HTTP 429", retry_after=20.0)
    assert next_delay(asked, 1, base=1.0, cap=60.0) >= 20.0


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (400, Verdict.DEAD),
        (404, Verdict.DEAD),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
    ],
)
def test_status_codes_map_to_verdicts(status, verdict):
    assert verdict_for_status(status) is verdict


def test_signature_round_trip_and_tamper_detection():
    signature = sign("k", "1700000000", b'{"a":1}')
    assert verify("k", "1700000000", b'{"a":1}', signature)
    assert not verify("k", "1700000000", b'{"a":2}', signature)
    assert not verify("other", "1700000000", b'{"a":1}', signature)


async def test_webhook_sender_signs_and_reports_network_errors(sink):
    sender = build_sender("sink", "webhook", {"url": sink.url, "secret": "env:X"}, lambda _: "s")
    delivery = Delivery("sink", "route", "QC-1/sink/route/1", {"hello": "世界"}, attempt=1)
    delivered = await sender.send(delivery)
    await sender.close()
    headers = sink.received[0]["headers"]
    assert delivered.verdict is Verdict.DELIVERED
    assert verify("s", headers["X-Timestamp"], sink.received[0]["body"], headers["X-Signature"])
    unreachable = build_sender(
        "gone", "webhook", {"url": "http://127.0.0.1:9/x", "timeout_seconds": 2}, lambda _: ""
    )
    outcome = await unreachable.send(delivery)
    await unreachable.close()
    assert outcome.verdict is Verdict.RETRY and "Error" in outcome.detail
