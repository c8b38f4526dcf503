"""The job functions of DESIGN.md "How a complaint flows": process, deliver, sweep.

They are the same in both run modes; each takes the `Services` and a row id,
claims the row, does its work, and commits the outcome. A job that runs twice
or is lost does no harm: the claim decides, and the sweeper finds lost work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import AcknowledgeError, ChannelType, RawInput
from channels.registry import get_kind
from gateway import metrics
from gateway.channel_host import GatewayHost
from gateway.followups import attach_follow_up, store_attachments
from gateway.letter_handover import hand_over_documents
from gateway.linking import contact_key, find_links
from gateway.live_routing import RoutingSnapshot
from gateway.routing_step import (
    after_stored,
    link_batch,
    route_items,
    routing_snapshot,
    sender_for,
    settle_delivered,
)
from gateway.services import Services
from gateway.sla_clock import mark_overdue
from routing.destinations import Delivery
from routing.outcome import Outcome, Verdict, next_delay
from routing.sla import due_times
from storage.archive import load_blob
from storage.complaints import (
    OutboxItem,
    insert_complaint,
    insert_outbox,
)
from storage.db import single_statements, utcnow
from storage.history import record_event, record_events
from storage.records import (
    Classification,
    ComplaintDraft,
    ComplaintRecord,
    DeliveryState,
    RawState,
)
from storage.references import allocate_reference
from storage.tables import ChannelAccount
from storage.threads import reference_for_messages, remember_messages
from storage.work import (
    ClaimedDelivery,
    ClaimedRaw,
    FinishedDelivery,
    claim_due_outbox,
    claim_outbox,
    claim_outbox_ids,
    claim_raw,
    finish_outbox_batch,
    outbox_to_resume,
    raw_to_resume,
    set_raw_state,
    set_raw_states,
)

log = logging.getLogger(__name__)
CHANNEL_DESTINATION = "channel:"  # outbox destinations answered through a channel account


async def process(svc: Services, raw_id: int) -> str | None:
    """Turn archived input `raw_id` into a stored, classified, routed record.

    Returns the reference, or None when there was nothing to do.
    """
    async with svc.sessions.begin() as session:
        claimed = await claim_raw(session, raw_id, svc.settings.stale_after_seconds)
        if claimed is None:
            return None
        account = await session.get(ChannelAccount, claimed.channel_account_id)
        data = await load_blob(session, claimed.sha256)
    if account is None:
        return None
    return await run_claimed(svc, claimed, account, data)


async def run_claimed(
    svc: Services, claimed: ClaimedRaw, account: ChannelAccount, data: bytes
) -> str | None:
    """Process one claimed row on its own: a failure leaves it `failed` with the error,
    a row another worker stored first is left alone; deliver jobs for its outbox rows."""
    started = time.perf_counter()
    try:
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                reference, outbox_ids = await _process_claimed(svc, claimed, account, data)
                break
            except DBAPIError as exc:
                if attempt == TRANSIENT_ATTEMPTS or not is_transient(exc):
                    raise
                await asyncio.sleep(0.05 * attempt)  # the other transaction commits meanwhile
    except IntegrityError:
        # Another worker stored this raw message first (a stale claim was retaken).
        log.info("raw message already processed elsewhere", extra={"raw_id": claimed.id})
        return None
    except Exception as exc:
        await mark_failed(svc, claimed.id, exc, account.kind)
        return None
    count_processed(account.kind, claimed, reference, started)
    for outbox_id in outbox_ids:
        await svc.enqueue("deliver", outbox_id)
    return reference


TRANSIENT_ATTEMPTS = 3
_TRANSIENT_STATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure


def is_transient(exc: DBAPIError) -> bool:
    """A PostgreSQL deadlock or serialization failure: the transaction can simply be rerun."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state in _TRANSIENT_STATES


def count_processed(kind: str, claimed: ClaimedRaw, reference: str, started: float) -> None:
    """Metrics and the log line of one stored complaint."""
    family = get_kind(kind).family.value
    metrics.PROCESSED.labels(family).inc()
    metrics.LATENCY.labels(family).observe(
        max(datetime.now(UTC).timestamp() - claimed.received_at.timestamp(), 0.0)
    )
    log.info(
        "complaint stored",
        extra={"raw_id": claimed.id, "reference": reference, "ms": _ms_since(started)},
    )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def normalise(
    kind: ChannelType, claimed: ClaimedRaw, account: ChannelAccount, data: bytes
) -> ComplaintDraft:
    """The channel kind's draft of an archived input."""
    raw = RawInput(
        data=data,
        media_type=claimed.media_type,
        account=account.name,
        provider_id=claimed.provider_id,
        received_at=_aware(claimed.received_at),
        meta=claimed.meta,
        settings=dict(account.settings),
    )
    # A CPU-heavy normaliser (OCR) runs in a thread so the event loop keeps serving.
    return await asyncio.to_thread(kind.normalise, raw) if kind.cpu_bound else kind.normalise(raw)


async def _process_claimed(
    svc: Services, claimed: ClaimedRaw, account: ChannelAccount, data: bytes
) -> tuple[str, list[int]]:
    kind = get_kind(account.kind)
    draft = await normalise(kind, claimed, account, data)
    if not draft.follow_up_of and draft.replies_to:
        async with svc.sessions() as session:
            draft.follow_up_of = await reference_for_messages(session, draft.replies_to)
    if draft.follow_up_of:
        async with svc.sessions.begin() as session:
            joined = await attach_follow_up(session, claimed.id, draft)
            if joined is not None:
                await remember_messages(session, draft.provider_ids, joined)
        if joined is not None:
            return joined, []
    decision = svc.classify(draft)
    snapshot = await routing_snapshot(svc)
    async with svc.sessions.begin() as session:
        # A second worker holding a stale claim fails on the unique raw_id: IntegrityError.
        stored = await store_draft(session, svc, snapshot, kind, claimed, draft, decision)
        await write_stored(session, [stored])
    await hand_over_documents(svc, stored.reference, draft)  # scans mailed in go to the letter OCR
    return stored.reference, stored.outbox_ids


@dataclass(frozen=True)
class Stored:
    """A record written by `store_draft`; its `created` history row and the raw row's
    `processed` state are left to `write_stored`, so a batch writes them in one go."""

    raw_id: int
    reference: str
    complaint_id: int
    outbox_ids: list[int]
    detail: dict[str, Any]


async def store_draft(
    session: AsyncSession,
    svc: Services,
    snapshot: RoutingSnapshot,
    kind: ChannelType,
    claimed: ClaimedRaw,
    draft: ComplaintDraft,
    decision: Classification,
) -> Stored:
    """Link, store and route one classified draft inside the caller's transaction."""
    key = contact_key(draft)
    await store_attachments(session, draft)
    links, decision = await find_links(session, draft, decision, key)
    links, decision, batch, batch_keys = await link_batch(
        session, svc.settings.links, draft, decision, links
    )
    reference = claimed.reference or await allocate_reference(session, draft.received_at)
    record = ComplaintRecord(
        **draft.model_dump(),
        reference=reference,
        raw_id=claimed.id,
        original=f"blob:{claimed.sha256}",
        classification=decision,
        links=links,
        due=due_times(
            draft.received_at,
            decision.severity,
            svc.settings.sla.limits,
            timezone=svc.settings.sla.timezone,
        ),
    )
    complaint_id = await insert_complaint(session, record, key)
    await remember_messages(session, draft.provider_ids, reference)
    items = [*route_items(snapshot, record), *_acknowledgement(kind, record)]
    items += await after_stored(
        session, svc, snapshot, complaint_id, record, items, batch, batch_keys
    )
    outbox_ids = await insert_outbox(session, complaint_id, items)
    detail = {
        "validity": decision.validity,
        "reason": decision.reason,
        "severity": decision.severity,
        "department": decision.department,
        "destinations": len(outbox_ids),
    }
    return Stored(claimed.id, reference, complaint_id, outbox_ids, detail)


async def write_stored(session: AsyncSession, stored: list[Stored]) -> None:
    """The `created` history rows and the `processed` raw states of stored records."""
    await record_events(
        session,
        [
            {
                "action": "created",
                "complaint_id": item.complaint_id,
                "raw_id": item.raw_id,
                "detail": item.detail,
            }
            for item in stored
        ],
    )
    await set_raw_states(session, [item.raw_id for item in stored], RawState.PROCESSED)


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _acknowledgement(kind: ChannelType, record: ComplaintRecord) -> list[OutboxItem]:
    """An outbox row owed to the complainant, unless there is nobody to answer, the
    channel would send nothing for it (an imported call), or it would feed a mail loop
    (spam, auto-replies, bounces)."""
    decision = record.classification
    if (
        not kind.would_acknowledge(record)
        or decision.reason == "spam"
        or "auto_reply" in record.hints
        or not record.complainant.has_contact()
    ):
        return []
    payload = {
        "reference": record.reference,
        "language": record.language or decision.entities.get("language"),
        "complainant": record.complainant.model_dump(exclude_none=True),
        "subject": record.subject,
        "provider_ids": record.provider_ids,
        "validity": decision.validity,
        "reason": decision.reason,
    }
    return [
        OutboxItem(
            purpose="ack",
            destination=f"{CHANNEL_DESTINATION}{record.channel_account}",
            idempotency_key=f"{record.reference}/ack/1",
            payload=payload,
        )
    ]


async def mark_failed(svc: Services, raw_id: int, exc: Exception, kind: str) -> None:
    error = f"{type(exc).__name__}: {exc}"[:4000]
    log.warning("processing failed", extra={"raw_id": raw_id, "error_type": type(exc).__name__})
    async with svc.sessions.begin() as session:
        await set_raw_state(session, raw_id, RawState.FAILED, error=error)
        await record_event(session, "failed", raw_id=raw_id, detail={"error": error})
    try:
        family = get_kind(kind).family.value
    except LookupError:
        family = kind
    metrics.FAILED.labels(family).inc()


DELIVERY_BATCH = 100  # rows one deliver job claims, its own included
DELIVERY_IN_FLIGHT = 1000  # rows one process holds claimed at once (memory, claim age)
PER_DESTINATION = 32  # concurrent sends to one destination from one process
FLUSH_SECONDS = 1.0  # a slow send does not hold back the recording of finished ones
REMEMBER_DELIVERED = 50_000  # ids whose queued jobs end without a database round trip
_EVENT_FOR_STATE = {
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.PENDING: "delivery_retry",
    DeliveryState.DEAD: "dead_lettered",
}


async def deliver(svc: Services, outbox_id: int) -> DeliveryState | None:
    """Send outbox row `outbox_id` and, in the same job, a batch of other due rows.

    Per-row jobs stay (they give a new row its first attempt at once), but a job
    that wins its own row also claims up to DELIVERY_BATCH - 1 more due rows in one
    statement, sends them concurrently and records every outcome in one
    transaction; the jobs queued for those rows then end at once (this process
    remembers them) or after one UPDATE that claims nothing (another process's
    worker). Returns `outbox_id`'s new state, or None when another job had it.
    """
    limits = _limits(svc)
    if limits.handled_here(outbox_id):
        return None
    claimed = await _claim_batch(svc, outbox_id, limits)
    if not claimed:
        return None
    states: dict[int, DeliveryState] = {}  # filled as outcomes commit
    try:
        await _send_and_finish(svc, claimed, limits, states)
    finally:
        limits.release(claimed, states)
    return states.get(outbox_id)


async def deliver_rows(svc: Services, outbox_ids: list[int]) -> dict[int, DeliveryState]:
    """Send rows just written, without a job each (a processing batch's outbox rows).

    Claimed in one statement, sent and finished like a deliver job's batch. Rows this
    process cannot take now (its in-flight bound) get jobs instead; a row lost to a
    crash here is pending with no attempt, and the sweeper enqueues it.
    """
    limits = _limits(svc)
    wanted = [i for i in outbox_ids if not limits.handled_here(i)]
    room = max(DELIVERY_IN_FLIGHT - len(limits.in_flight), 0)
    wanted, later = wanted[:room], wanted[room:]
    for outbox_id in later:
        await svc.enqueue("deliver", outbox_id)
    if not wanted:
        return {}
    async with single_statements(svc.engine, svc.sessions) as session:
        claimed = await claim_outbox_ids(session, wanted)
    limits.take(claimed)
    states: dict[int, DeliveryState] = {}
    try:
        await _send_and_finish(svc, claimed, limits, states)
    finally:
        limits.release(claimed, states)
    return states


class _DeliveryLimits:
    """Per-process delivery state: the rows this process holds claimed (bounded, so a
    backlog never sits in memory or ages into stale claims), the rows it delivered
    lately, and a concurrency bound per destination (one slow destination cannot take
    every connection)."""

    def __init__(self) -> None:
        self.in_flight: set[int] = set()
        self._delivered: set[int] = set()
        self._delivered_order: deque[int] = deque()
        self._per_destination: dict[str, asyncio.Semaphore] = {}

    def handled_here(self, outbox_id: int) -> bool:
        """True when a batch of this process holds the row or delivered it: its job has
        nothing to do, without a database round trip. Only `delivered` is remembered,
        because it is final; a retry or a replayed dead letter must reach the claim."""
        return outbox_id in self.in_flight or outbox_id in self._delivered

    def room(self) -> int:
        return max(min(DELIVERY_BATCH - 1, DELIVERY_IN_FLIGHT - len(self.in_flight)), 0)

    def take(self, claimed: list[ClaimedDelivery]) -> None:
        self.in_flight.update(item.id for item in claimed)

    def release(self, claimed: list[ClaimedDelivery], states: dict[int, DeliveryState]) -> None:
        for item in claimed:
            self.in_flight.discard(item.id)
            if states.get(item.id) is DeliveryState.DELIVERED:
                self._remember_delivered(item.id)

    def _remember_delivered(self, outbox_id: int) -> None:
        self._delivered.add(outbox_id)
        self._delivered_order.append(outbox_id)
        if len(self._delivered_order) > REMEMBER_DELIVERED:
            self._delivered.discard(self._delivered_order.popleft())

    def slot(self, destination: str) -> asyncio.Semaphore:
        return self._per_destination.setdefault(destination, asyncio.Semaphore(PER_DESTINATION))


def _limits(svc: Services) -> _DeliveryLimits:
    limits = svc.extras.get("delivery_limits")
    if not isinstance(limits, _DeliveryLimits):
        limits = svc.extras["delivery_limits"] = _DeliveryLimits()
    return limits


async def _claim_batch(
    svc: Services, outbox_id: int, limits: _DeliveryLimits
) -> list[ClaimedDelivery]:
    """The job's own row first (due, or a dead worker's stale claim); only a job that
    wins it claims more, so an already-claimed row's job is a one-statement no-op and
    every row keeps a job responsible for it."""
    async with svc.sessions.begin() as session:
        own = await claim_outbox(session, outbox_id, svc.settings.stale_after_seconds)
        if own is None:
            return []
        claimed = [own, *await claim_due_outbox(session, limits.room())]
    limits.take(claimed)  # only once committed: a failed claim must not mark rows as ours
    return claimed


async def _send_and_finish(
    svc: Services,
    claimed: list[ClaimedDelivery],
    limits: _DeliveryLimits,
    states: dict[int, DeliveryState],
) -> None:
    """Send concurrently; record outcomes in one transaction when all are back, or in a
    few when some are slow (each FLUSH_SECONDS, what has finished is committed)."""
    tasks = {asyncio.create_task(_send_bounded(svc, item, limits)): item for item in claimed}
    waiting: set[asyncio.Task[Outcome]] = set(tasks)
    try:
        while waiting:
            done, waiting = await asyncio.wait(waiting, timeout=FLUSH_SECONDS)
            if done:
                states.update(await _finish(svc, [(tasks[t], t.result()) for t in done]))
    finally:
        for task in waiting:  # cancelled (shutdown): the claims go stale, the sweeper resends
            task.cancel()


async def _send_bounded(
    svc: Services, claimed: ClaimedDelivery, limits: _DeliveryLimits
) -> Outcome:
    """One send under its destination's concurrency bound; any error becomes a retry,
    so one row's failure never takes the rest of the batch with it."""
    async with limits.slot(claimed.destination):
        try:
            return await _send(svc, claimed)
        except Exception as exc:
            log.exception("delivery failed", extra={"destination": claimed.destination})
            return Outcome(Verdict.RETRY, f"{type(exc).__name__}: {exc}")


async def _finish(
    svc: Services, results: list[tuple[ClaimedDelivery, Outcome]]
) -> dict[int, DeliveryState]:
    """New states, history rows and settled clocks for finished sends, in one transaction."""
    finished = [_finished(svc, claimed, outcome) for claimed, outcome in results]
    at = utcnow()
    async with svc.sessions.begin() as session:
        await finish_outbox_batch(session, finished)
        for item in finished:
            if item.state is DeliveryState.DELIVERED:
                await settle_delivered(session, item.claimed.complaint_id, item.claimed.purpose, at)
    for claimed, outcome in results:
        metrics.DELIVERIES.labels(claimed.destination, outcome.verdict.value).inc()
    return {item.claimed.id: item.state for item in finished}


def _finished(svc: Services, claimed: ClaimedDelivery, outcome: Outcome) -> FinishedDelivery:
    state, retry_in = _next_state(svc, claimed, outcome)
    return FinishedDelivery(
        claimed=claimed,
        state=state,
        error=None if state is DeliveryState.DELIVERED else outcome.detail,
        retry_in=retry_in,
        action=_EVENT_FOR_STATE[state],
        detail={
            "destination": claimed.destination,
            "purpose": claimed.purpose,
            "attempt": claimed.attempts,
            "result": outcome.detail,
        },
    )


async def _send(svc: Services, claimed: ClaimedDelivery) -> Outcome:
    if claimed.destination.startswith(CHANNEL_DESTINATION):
        return await _acknowledge(svc, claimed)
    sender, problem = await sender_for(svc, claimed.destination)
    if sender is None:  # gone from the table: dead; disabled or broken: retried later
        gone = problem.endswith("is not configured")
        return Outcome(Verdict.DEAD if gone else Verdict.RETRY, problem)
    try:
        return await sender.send(
            Delivery(
                destination=claimed.destination,
                purpose=claimed.purpose,
                idempotency_key=claimed.idempotency_key,
                payload=claimed.payload,
                attempt=claimed.attempts,
            )
        )
    except Exception as exc:  # a sender bug must not lose the row
        log.exception("sender raised", extra={"destination": claimed.destination})
        return Outcome(Verdict.RETRY, f"{type(exc).__name__}: {exc}")


async def _acknowledge(svc: Services, claimed: ClaimedDelivery) -> Outcome:
    """Acknowledgements go back through the channel the complaint came in on."""
    host = GatewayHost(svc)
    account = await host.account(claimed.destination.removeprefix(CHANNEL_DESTINATION))
    if account is None:
        return Outcome(Verdict.DEAD, "the channel account no longer exists")
    try:
        note = await get_kind(account.kind).acknowledge(account, claimed.payload, host)
    except AcknowledgeError as exc:
        return Outcome(Verdict.RETRY if exc.retry else Verdict.DEAD, str(exc))
    return Outcome(Verdict.DELIVERED, note)


def _next_state(
    svc: Services, claimed: ClaimedDelivery, outcome: Outcome
) -> tuple[DeliveryState, float | None]:
    if outcome.verdict is Verdict.DELIVERED:
        return DeliveryState.DELIVERED, None
    if outcome.verdict is Verdict.DEAD or claimed.attempts >= svc.settings.delivery_max_attempts:
        return DeliveryState.DEAD, None
    delay = next_delay(
        outcome,
        claimed.attempts,
        base=svc.settings.delivery_backoff_base_seconds,
        cap=svc.settings.delivery_backoff_max_seconds,
    )
    return DeliveryState.PENDING, delay


async def sweep(svc: Services, older_than: float | None = None) -> tuple[int, int]:
    """Re-enqueue work whose job was lost or whose worker died; due retries too."""
    limit = svc.settings.stale_after_seconds if older_than is None else older_than
    async with svc.sessions() as session:
        raw_ids = await raw_to_resume(session, limit)
        outbox_ids = await outbox_to_resume(session, limit)
    for raw_id in raw_ids:
        await svc.enqueue("process", raw_id)
    for outbox_id in outbox_ids:
        await svc.enqueue("deliver", outbox_id)
    await mark_overdue(svc)
    if svc.queue is not None:
        metrics.QUEUE_DEPTH.set(await svc.queue.depth())
    return len(raw_ids), len(outbox_ids)


async def run_job(svc: Services, job: str, row_id: int) -> None:
    """Dispatch by job name (the embedded runner's handler)."""
    if job == "process":
        await process(svc, row_id)
    elif job == "deliver":
        await deliver(svc, row_id)
    else:
        raise ValueError(f"unknown job {job!r}")
