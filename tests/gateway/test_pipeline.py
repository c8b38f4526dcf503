"""The job functions: retries, dead letters, failures, replay and recovery of lost work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select, update

from gateway.pipeline import deliver, process, sweep
from storage.records import DeliveryState
from storage.tables import History, Outbox, RawMessage
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway

COMPLAINT = {
    "body": "The washing machine XQG100-HT8 leaks water from the door seal every wash.",
    "complainant": {"email": "li@example.com"},
}


async def _outbox_rows(gw):
    async with gw.svc.sessions() as session:
        return (await session.execute(select(Outbox).order_by(Outbox.id))).scalars().all()


async def test_server_errors_are_retried_with_backoff_then_delivered(
    sqlite_url, sink, hook_secret, classify_step
):
    sink.statuses = [503, 500]
    async with running_gateway(make_settings(sqlite_url, sink.url), classify_step) as gw:
        _, body = await gw.post(COMPLAINT)
        await gw.record(body["reference"])
        for _ in range(200):
            rows = await _outbox_rows(gw)
            if rows and all(row.state == "delivered" for row in rows):
                break
            await asyncio.sleep(0.05)
        record = await gw.record(body["reference"])
    assert [row.attempts for row in rows] == [3]
    assert len(sink.received) == 3
    assert len(set(sink.keys())) == 1  # the same idempotency key on every attempt
    actions = [h["action"] for h in record["history"]]
    assert actions.count("delivery_retry") == 2 and actions[-1] == "delivered"


async def test_client_error_is_dead_lettered_at_once_and_replayable(
    sqlite_url, sink, hook_secret, classify_step
):
    from storage.work import replay_dead

    sink.statuses = [400]
    async with running_gateway(make_settings(sqlite_url, sink.url), classify_step) as gw:
        _, body = await gw.post(COMPLAINT)
        await gw.record(body["reference"])
        for _ in range(200):
            rows = await _outbox_rows(gw)
            if rows and rows[0].state == "dead":
                break
            await asyncio.sleep(0.05)
        assert rows[0].state == "dead" and rows[0].attempts == 1
        async with gw.svc.sessions.begin() as session:
            replayed = await replay_dead(session)
        for outbox_id in replayed:
            await deliver(gw.svc, outbox_id)
        rows = await _outbox_rows(gw)
    assert rows[0].state == "delivered"
    assert sink.keys()[0] == sink.keys()[1]  # replay sends the same idempotency key


async def test_retry_after_is_honoured(sqlite_url, sink, hook_secret, classify_step):
    sink.statuses = [429]
    sink.headers = {"Retry-After": "1"}
    settings = make_settings(sqlite_url, sink.url, delivery_backoff_max_seconds=5.0)
    async with running_gateway(settings, classify_step) as gw:
        _, body = await gw.post(COMPLAINT)
        await gw.record(body["reference"])
        await sink.wait_for(1)
        first = asyncio.get_running_loop().time()
        while len(sink.received) < 2:
            await asyncio.sleep(0.02)
        waited = asyncio.get_running_loop().time() - first
    assert waited >= 0.9


async def test_crash_in_process_leaves_a_visible_failure_that_replay_fixes(
    sqlite_url, classify_step
):
    calls = {"n": 0}
    real = classify_step.classifier.classify

    def flaky(item):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model exploded")
        return real(item)

    classify_step.classifier.classify = flaky  # type: ignore[method-assign]
    try:
        async with running_gateway(make_settings(sqlite_url), classify_step, run_jobs=False) as gw:
            _, body = await gw.post(COMPLAINT)
            raw_id = body["raw_id"]
            assert await process(gw.svc, raw_id) is None
            async with gw.svc.sessions() as session:
                raw = await session.get(RawMessage, raw_id)
                assert raw.state == "failed" and "model exploded" in raw.error
            from storage.work import reset_raw_for_replay

            async with gw.svc.sessions.begin() as session:
                assert await reset_raw_for_replay(session, [raw_id]) == [raw_id]
            assert await process(gw.svc, raw_id) == body["reference"]
            async with gw.svc.sessions() as session:
                actions = (
                    (
                        await session.execute(
                            select(History.action)
                            .where(History.raw_id == raw_id)
                            .order_by(History.id)
                        )
                    )
                    .scalars()
                    .all()
                )
    finally:
        classify_step.classifier.classify = real  # type: ignore[method-assign]
    assert actions == ["received", "failed", "created"]


async def test_sweep_finds_lost_jobs_and_dead_workers_claims(
    sqlite_url, sink, hook_secret, classify_step
):
    settings = make_settings(sqlite_url, sink.url, stale_after_seconds=0.5)
    async with running_gateway(settings, classify_step, run_jobs=False) as gw:
        enqueued: list[tuple[str, int]] = []

        class Recorder:
            async def enqueue(self, job, row_id):
                enqueued.append((job, row_id))

            async def depth(self):
                return len(enqueued)

        gw.svc.queue = Recorder()
        _, body = await gw.post(COMPLAINT)  # the job is "lost": only recorded
        raw_id = body["raw_id"]
        async with gw.svc.sessions.begin() as session:  # a worker claimed it, then died
            await session.execute(
                update(RawMessage)
                .where(RawMessage.id == raw_id)
                .values(state="processing", claimed_at=datetime.now(UTC))
            )
        assert await sweep(gw.svc) == (0, 0)  # the claim is not stale yet
        await asyncio.sleep(0.6)
        enqueued.clear()
        assert await sweep(gw.svc) == (1, 0)
        assert enqueued == [("process", raw_id)]
        assert await process(gw.svc, raw_id) == body["reference"]
        outbox_ids = [row_id for job, row_id in enqueued if job == "deliver"]
        await asyncio.sleep(0.6)
        assert (await sweep(gw.svc))[1] == len(outbox_ids)  # first delivery job lost too
        for outbox_id in outbox_ids:
            assert await deliver(gw.svc, outbox_id) is DeliveryState.DELIVERED
    assert len(sink.received) == 1
