"""A processing batch (the scale-out worker's way) stores exactly what processing the
same rows one by one stores: links, repeats, batch incidents, clocks, outbox rows and
history; and it sends the outbox rows without a job each."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from gateway.pipeline import process
from gateway.process_batch import drain_sends, process_ids
from storage.tables import Complaint, History, Outbox, RawMessage
from storage.tables_routing import BatchIncident, ComplaintBatchKey, ComplaintClock
from tests.conftest import make_settings, reset_postgres
from tests.gateway.harness import running_gateway

FRIDGE = "The fridge BCD-520W is not cooling after two weeks, order HT2026100{n}."
INPUTS: list[dict[str, Any]] = [
    {"body": FRIDGE.format(n=n), "complainant": {"phone": f"1380000{n:04d}"}} for n in range(6)
] + [
    # the first complainant again, about the same fridge: repeats of an open case
    {"body": FRIDGE.format(n=0) + " Still broken.", "complainant": {"phone": "13800000000"}},
    {"body": FRIDGE.format(n=0) + " Third time!", "complainant": {"phone": "13800000000"}},
    {"body": "Hello, what are your opening hours?", "complainant": {"email": "x@example.com"}},
]


async def _stored(gw: Any) -> dict[str, Any]:
    async with gw.svc.sessions() as session:
        complaints = (await session.execute(select(Complaint).order_by(Complaint.raw_id))).scalars()
        records = [
            (
                row.reference,
                row.severity,
                row.validity,
                row.record["classification"]["flags"],
                [(link["kind"], link["reference"]) for link in row.record["links"]],
            )
            for row in complaints
        ]
        outbox = sorted(
            (row.purpose, row.destination, row.idempotency_key)
            for row in (await session.execute(select(Outbox))).scalars()
        )
        clocks = sorted(
            (row.complaint_id, row.clock, row.department or "")
            for row in (await session.execute(select(ComplaintClock))).scalars()
        )
        keys = sorted(
            (row.complaint_id, row.key)
            for row in (await session.execute(select(ComplaintBatchKey))).scalars()
        )
        incidents = sorted(
            (row.key, row.members, row.open_key)
            for row in (await session.execute(select(BatchIncident))).scalars()
        )
        history = sorted(
            (row.complaint_id or 0, row.raw_id or 0, row.action)
            for row in (await session.execute(select(History))).scalars()
            if not row.action.startswith("deliver")
        )
        states = [row.state for row in (await session.execute(select(RawMessage))).scalars()]
    return {
        "records": records,
        "outbox": outbox,
        "clocks": clocks,
        "keys": keys,
        "incidents": incidents,
        "history": history,
        "states": states,
    }


async def _run(url: str, sink: Any, classify_step: Any, *, batched: bool) -> dict[str, Any]:
    settings = make_settings(url, sink.url)
    async with running_gateway(settings, classify_step, run_jobs=False) as gw:
        raw_ids = []
        for body in INPUTS:
            status, answer = await gw.post(body)
            assert status == 202
            raw_ids.append(answer["raw_id"])
        if batched:
            references = await process_ids(gw.svc, raw_ids)
            assert sorted(references) == sorted(raw_ids)
            await drain_sends(gw.svc)
        else:
            for raw_id in raw_ids:
                assert await process(gw.svc, raw_id) is not None
        result = await _stored(gw)
        async with gw.svc.sessions() as session:
            result["delivered"] = sorted(
                row.state for row in (await session.execute(select(Outbox))).scalars()
            )
    return result


async def test_a_batch_stores_what_one_by_one_stores(any_db_url, sink, hook_secret, classify_step):
    one_by_one = await _run(any_db_url, sink, classify_step, batched=False)
    sink.received.clear()
    if "sqlite" in any_db_url:  # a fresh database, so ids and references are the same
        second = any_db_url.replace("gateway.db", "second.db")
    else:
        await asyncio.to_thread(reset_postgres)
        second = any_db_url
    batched = await _run(second, sink, classify_step, batched=True)
    assert one_by_one["incidents"], "the inputs must open a batch incident"
    assert any(kind == "repeat" for *_, links in one_by_one["records"] for kind, _ in links), (
        "the inputs must contain a repeat"
    )
    for part in ("records", "outbox", "clocks", "keys", "incidents", "history", "states"):
        assert batched[part] == one_by_one[part], part
    # one by one, the deliveries wait for deliver jobs; a batch sends its rows itself
    assert set(one_by_one["delivered"]) == {"pending"}
    assert set(batched["delivered"]) == {"delivered"}
    assert len(sink.received) == len(batched["outbox"])


async def test_rows_another_claimer_holds_are_left_alone(
    any_db_url, sink, hook_secret, classify_step
):
    async with running_gateway(
        make_settings(any_db_url, sink.url), classify_step, run_jobs=False
    ) as gw:
        raw_ids = [(await gw.post(body))[1]["raw_id"] for body in INPUTS[:3]]
        assert await process(gw.svc, raw_ids[1]) is not None
        references = await process_ids(gw.svc, raw_ids)
        again = await process_ids(gw.svc, raw_ids)
        await drain_sends(gw.svc)
        async with gw.svc.sessions() as session:
            stored = (await session.execute(select(Complaint.raw_id))).scalars().all()
    assert sorted(references) == [raw_ids[0], raw_ids[2]]
    assert again == {}
    assert sorted(stored) == sorted(raw_ids)
