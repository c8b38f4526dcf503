"""A stored complaint as the API and the CLI show it: the record plus routing and history."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.clocks import clocks_of
from storage.complaints import deliveries_of
from storage.history import history_of
from storage.records import ComplaintRecord
from storage.tables import Complaint


async def record_document(session: AsyncSession, row: Complaint) -> dict[str, Any]:
    record = ComplaintRecord.model_validate(row.record)
    record.status = row.status
    record.routing = await deliveries_of(session, row.id)
    record.history = await history_of(session, complaint_id=row.id, raw_id=row.raw_id)
    document = record.model_dump(mode="json")
    document["sla"] = await clocks_of(session, row.id)
    return document
