"""Importing a file of many inputs (a call-centre export) in bulk, then processing it in batches.

One transaction per input and one classification per input made 10,000 calls
take minutes. Here the accepted inputs are archived together (idempotent per
provider id, so importing the file again adds nothing) and then go through the
normal pipeline's batch job (`gateway.process_batch`): claimed, classified and
stored many at a time. Whatever a crash leaves unprocessed is `received` in the
database, so the sweeper picks it up; nothing accepted is lost.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from channels.base import AcceptResult, BatchItem
from gateway.channel_host import GatewayHost, account_view
from gateway.process_batch import process_ids
from gateway.services import Services
from storage.records import ComplaintRecord
from storage.tables import ChannelAccount, Complaint, RawMessage

ACCEPT_CHUNK = 2_000  # inputs per transaction: bounded memory and lock time
PROCESS_CHUNK = 256  # rows per processing batch (one model pass, one transaction)


async def accept_batch(
    svc: Services, account: ChannelAccount, items: list[BatchItem], meta: dict[str, Any]
) -> list[AcceptResult]:
    """Archive every item (with `meta` added), not queued; one answer per item, in order."""
    host = GatewayHost(svc)
    view = account_view(account)
    results: list[AcceptResult] = []
    for start in range(0, len(items), ACCEPT_CHUNK):
        chunk = [
            replace(item, meta={**meta, **item.meta})
            for item in items[start : start + ACCEPT_CHUNK]
        ]
        results += await host.accept_many(view, chunk, enqueue=False)
    return results


async def process_new(svc: Services, raw_ids: list[int], size: int = PROCESS_CHUNK) -> None:
    """Run the pipeline over `raw_ids` (just accepted) in batches of `size`."""
    for start in range(0, len(raw_ids), size):
        await process_ids(svc, raw_ids[start : start + size])


async def outcomes(svc: Services, raw_ids: list[int], chunk: int = 500) -> list[dict[str, Any]]:
    """For each raw id, its stored record (with status; routing and history are left to
    `complaints show`: per record they cost three more queries) or its pipeline state."""
    found: dict[int, dict[str, Any]] = {}
    unique = sorted(set(raw_ids))
    async with svc.sessions() as session:
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            rows = await session.execute(select(Complaint).where(Complaint.raw_id.in_(part)))
            for row in rows.scalars():
                record = ComplaintRecord.model_validate(row.record)
                record.status = row.status
                found[row.raw_id] = record.model_dump(mode="json", exclude={"routing", "history"})
            missing = [raw_id for raw_id in part if raw_id not in found]
            if missing:
                states = await session.execute(
                    select(RawMessage.id, RawMessage.state, RawMessage.error).where(
                        RawMessage.id.in_(missing)
                    )
                )
                for raw_id, state, error in states:
                    found[raw_id] = {"raw_id": raw_id, "status": state, "error": error}
    return [dict(found[raw_id]) for raw_id in raw_ids]
