"""The scale-out worker's `process` job: one job's win takes a batch of received rows.

Per complaint, most of a worker's time went to round trips (claim, account, blob,
commit, history, state) and to job dispatch. A job that wins its own row here also
claims up to `size - 1` more received rows of the same channel account in the same
statement, normalises them, classifies them in one model pass, stores them in one
transaction and sends their outbox rows at once (`deliver_rows`, in a task of its
own so the next batch need not wait for destinations to answer), without a deliver
job each. The jobs queued for the other rows end at once (this process holds them)
or after one UPDATE that claims nothing (another worker's batch).

Guarantees are `process`'s: the claim decides who works on a row; a row needing the
follow-up path, failing to normalise, or in a batch whose transaction fails is
processed on its own by `run_claimed` (which leaves a failure visible as `failed`);
a worker killed mid-batch leaves `processing` rows and pending outbox rows that the
sweeper re-enqueues once their claims are stale.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import ChannelType
from channels.registry import get_kind
from gateway.letter_handover import hand_over_documents
from gateway.linking import REPEAT_WINDOW_DAYS, contact_key
from gateway.live_routing import RoutingSnapshot
from gateway.pipeline import (
    TRANSIENT_ATTEMPTS,
    Stored,
    count_processed,
    deliver_rows,
    is_transient,
    mark_failed,
    normalise,
    run_claimed,
    store_draft,
    write_stored,
)
from gateway.routing_step import draft_batch_keys, routing_snapshot
from gateway.services import Services
from storage.archive import load_blobs
from storage.batch_context import close_batch_context, open_batch_context
from storage.batches import apply_incident_joins, defer_incident_joins
from storage.complaints import window_start
from storage.db import single_statements
from storage.records import Classification, ComplaintDraft
from storage.tables import ChannelAccount
from storage.ttl_cache import TtlCache
from storage.work import ClaimedRaw, claim_raw, claim_raw_ids, claim_received_raw

log = logging.getLogger(__name__)
PROCESS_BATCH = 64  # rows one process job claims, its own included
ACCOUNT_CACHE_SECONDS = 2.0


def _held(svc: Services) -> set[int]:
    """Raw ids a batch of this process holds claimed: their own jobs have nothing to do."""
    held = svc.extras.get("raw_in_flight")
    if not isinstance(held, set):
        held = svc.extras["raw_in_flight"] = set()
    return held


def _accounts(svc: Services) -> TtlCache[int, ChannelAccount | None]:
    """Channel accounts by id, briefly remembered (as the intake API does): an edit
    reaches the workers within ACCOUNT_CACHE_SECONDS plus one lookup."""
    cache = svc.extras.get("accounts_by_id")
    if not isinstance(cache, TtlCache):
        cache = svc.extras["accounts_by_id"] = TtlCache(ACCOUNT_CACHE_SECONDS)
    return cache


async def _load_account(svc: Services, account_id: int) -> ChannelAccount | None:
    """In a session of its own: a refresh may run behind the batch that started it, and
    concurrent batches share one lookup, so it cannot borrow a caller's session (nor be
    made while the caller holds one: SQLite has a single connection)."""
    async with svc.sessions() as session:
        return await session.get(ChannelAccount, account_id)


async def process_batch(svc: Services, raw_id: int, size: int = PROCESS_BATCH) -> str | None:
    """Process `raw_id` and, in the same job, a batch of other received rows of its account.

    Returns `raw_id`'s reference, or None when another job had it (or it failed).
    """
    if raw_id in _held(svc):
        return None

    async def claim(session: AsyncSession) -> list[ClaimedRaw]:
        own = await claim_raw(session, raw_id, svc.settings.stale_after_seconds)
        if own is None:
            return []
        return [own, *await claim_received_raw(session, own.channel_account_id, size - 1)]

    return (await _claim_and_process(svc, claim)).get(raw_id)


async def process_ids(svc: Services, raw_ids: list[int]) -> dict[int, str | None]:
    """Process the given rows as one batch (those another claimer holds are left alone)."""
    held = _held(svc)
    wanted = [raw_id for raw_id in dict.fromkeys(raw_ids) if raw_id not in held]
    if not wanted:
        return {}

    async def claim(session: AsyncSession) -> list[ClaimedRaw]:
        return await claim_raw_ids(session, wanted, svc.settings.stale_after_seconds)

    return await _claim_and_process(svc, claim)


async def _claim_and_process(
    svc: Services, claim: Callable[[AsyncSession], Awaitable[list[ClaimedRaw]]]
) -> dict[int, str | None]:
    """Claim (committed at once), read blobs and accounts, then process per account."""
    async with single_statements(svc.engine, svc.sessions) as session:
        claimed = await claim(session)
        if not claimed:
            return {}
        blobs = await load_blobs(session, [item.sha256 for item in claimed])
    cache = _accounts(svc)  # after the session: a lookup takes a connection of its own
    accounts = {
        account_id: await cache.get(account_id, partial(_load_account, svc))
        for account_id in sorted({item.channel_account_id for item in claimed})
    }
    held = _held(svc)
    ids = {item.id for item in claimed}
    held.update(ids)
    references: dict[int, str | None] = {}
    try:
        for account_id, account in accounts.items():
            if account is None:  # as `process`: left claimed, nothing to process it with
                continue
            group = [item for item in claimed if item.channel_account_id == account_id]
            references.update(await _process_claimed_batch(svc, account, group, blobs))
    finally:
        held.difference_update(ids)
    return references


async def _process_claimed_batch(
    svc: Services, account: ChannelAccount, claimed: list[ClaimedRaw], blobs: dict[str, bytes]
) -> dict[int, str | None]:
    kind = get_kind(account.kind)
    alone: list[ClaimedRaw] = []
    ready: list[tuple[ClaimedRaw, ComplaintDraft]] = []
    for item in claimed:
        data = blobs.get(item.sha256)
        if data is None:  # run_claimed records the failure
            alone.append(item)
            continue
        try:
            draft = await normalise(kind, item, account, data)
        except Exception:  # run_claimed normalises again and records the failure
            alone.append(item)
            continue
        if draft.follow_up_of or draft.replies_to:
            alone.append(item)  # the follow-up path reads and writes its own way
        else:
            ready.append((item, draft))
    references = await _store_batch(svc, kind, account, ready, blobs)
    for item in alone:
        references[item.id] = await _alone(svc, item, account, blobs.get(item.sha256))
    return references


async def _alone(
    svc: Services, item: ClaimedRaw, account: ChannelAccount, data: bytes | None
) -> str | None:
    if data is None:
        missing = LookupError(f"blob {item.sha256} is not in the archive")
        await mark_failed(svc, item.id, missing, account.kind)
        return None
    return await run_claimed(svc, item, account, data)


async def _store_all(
    svc: Services,
    snapshot: RoutingSnapshot,
    kind: ChannelType,
    ready: list[tuple[ClaimedRaw, ComplaintDraft]],
    decisions: list[Classification],
) -> list[Stored]:
    """One transaction for the whole batch; incident joins written last (see
    `storage.batches.defer_incident_joins`)."""
    async with svc.sessions.begin() as session:
        defer_incident_joins(session)
        await _prefetch(session, svc, ready, decisions)
        stored = [
            await store_draft(session, svc, snapshot, kind, item, draft, decision)
            for (item, draft), decision in zip(ready, decisions, strict=True)
        ]
        await close_batch_context(session)
        await apply_incident_joins(session)
        await write_stored(session, stored)
    return stored


async def _prefetch(
    session: AsyncSession,
    svc: Services,
    ready: list[tuple[ClaimedRaw, ComplaintDraft]],
    decisions: list[Classification],
) -> None:
    """The batch's look-ups of earlier complaints and look-alikes in two queries
    (see `storage.batch_context`)."""
    drafts = [draft for _, draft in ready]
    links = svc.settings.links
    contacts = {key for draft in drafts if (key := contact_key(draft)) is not None}
    keys = {
        key
        for draft, decision in zip(drafts, decisions, strict=True)
        for key in draft_batch_keys(links, draft, decision)
    }
    oldest = min(draft.received_at for draft in drafts)
    await open_batch_context(session).prefetch(
        session,
        contacts,
        window_start(oldest, REPEAT_WINDOW_DAYS),
        keys,
        oldest - timedelta(days=links.batch_window_days),
    )


async def _store_batch(
    svc: Services,
    kind: ChannelType,
    account: ChannelAccount,
    ready: list[tuple[ClaimedRaw, ComplaintDraft]],
    blobs: dict[str, bytes],
) -> dict[int, str | None]:
    """Classify and store every ready draft in one transaction, then send their rows.

    Any failure rolls the whole batch back and each row is processed on its own,
    so one bad row costs the batch its speed, never its correctness.
    """
    if not ready:
        return {}
    started = time.perf_counter()
    try:
        decisions = svc.classify.many([draft for _, draft in ready])
        snapshot = await routing_snapshot(svc)
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                stored = await _store_all(svc, snapshot, kind, ready, decisions)
                break
            except DBAPIError as exc:
                if attempt == TRANSIENT_ATTEMPTS or not is_transient(exc):
                    raise
                await asyncio.sleep(0.05 * attempt)  # the other transaction commits meanwhile
    except Exception as exc:
        log.warning(
            "batch not stored; processing its rows one by one",
            extra={"rows": len(ready), "error_type": type(exc).__name__},
        )
        return {
            item.id: await run_claimed(svc, item, account, blobs[item.sha256]) for item, _ in ready
        }
    outbox_ids: list[int] = []
    for (item, draft), done in zip(ready, stored, strict=True):
        count_processed(account.kind, item, done.reference, started)
        outbox_ids += done.outbox_ids
        await hand_over_documents(svc, done.reference, draft)
    if outbox_ids:
        send_later(svc, outbox_ids)
    return {done.raw_id: done.reference for done in stored}


def send_later(svc: Services, outbox_ids: list[int]) -> None:
    """Send a stored batch's rows in a task of their own: the batch's slot is free for
    the next batch while the sends wait on their destinations. A crash or shutdown
    before they finish leaves rows pending or claimed; the sweeper enqueues them."""
    tasks = _sending(svc)
    task = asyncio.create_task(_send(svc, outbox_ids))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _send(svc: Services, outbox_ids: list[int]) -> None:
    try:
        await deliver_rows(svc, outbox_ids)
    except Exception:  # stored all the same: the sweeper enqueues the unsent rows
        log.exception("sending a batch's rows failed", extra={"rows": len(outbox_ids)})


def _sending(svc: Services) -> set[asyncio.Task[None]]:
    tasks = svc.extras.get("batch_sends")
    if not isinstance(tasks, set):
        tasks = svc.extras["batch_sends"] = set()
    return tasks


async def drain_sends(svc: Services, timeout: float = 10.0) -> None:
    """Wait (bounded) for the sends `send_later` started; cancel what is left."""
    tasks = set(_sending(svc))
    if not tasks:
        return
    _done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
