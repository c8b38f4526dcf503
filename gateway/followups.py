"""Attaching a follow-up (a reply with a known reference, a late chat message) to its complaint.

The input is archived like any other; instead of a new record it becomes a
`follow_ups` entry and a history row on the complaint it continues.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.archive import store_blob
from storage.history import record_event
from storage.records import ComplaintDraft, FollowUp, RawState
from storage.tables import Complaint
from storage.work import set_raw_state


async def store_attachments(session: AsyncSession, draft: ComplaintDraft) -> None:
    for data in draft.attachment_data.values():
        await store_blob(session, data)


async def attach_follow_up(session: AsyncSession, raw_id: int, draft: ComplaintDraft) -> str | None:
    """Append the draft to the complaint it names; None when that complaint does not exist."""
    row = (
        await session.execute(
            select(Complaint).where(Complaint.reference == draft.follow_up_of).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    await store_attachments(session, draft)
    follow_up = FollowUp(
        at=draft.received_at,
        raw_id=raw_id,
        channel_account=draft.channel_account,
        body=draft.body,
        attachments=draft.attachments,
    )
    record = dict(row.record)
    record["follow_ups"] = [*record.get("follow_ups", []), follow_up.model_dump(mode="json")]
    row.record = record
    await record_event(
        session,
        "follow_up",
        complaint_id=row.id,
        raw_id=raw_id,
        detail={"channel_account": draft.channel_account, "attachments": len(draft.attachments)},
    )
    await set_raw_state(session, raw_id, RawState.PROCESSED)
    return row.reference
