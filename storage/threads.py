"""Message ids → complaint references, so a reply joins the complaint it answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import utcnow
from storage.tables import table_of
from storage.tables_email import MessageThread
from storage.upsert import insert_for

MAX_ID_LENGTH = 512


def _usable(ids: Sequence[str]) -> list[str]:
    return [item for item in dict.fromkeys(ids) if item and len(item) <= MAX_ID_LENGTH]


async def remember_messages(session: AsyncSession, ids: Sequence[str], reference: str) -> None:
    """Record that these message ids belong to `reference` (the first owner is kept)."""
    wanted = [item for item in _usable(ids) if item.startswith("<") and item.endswith(">")]
    if not wanted:
        return
    now = utcnow()
    stmt = insert_for(session, table_of(MessageThread)).values(
        [{"message_id": item, "reference": reference, "created_at": now} for item in wanted]
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["message_id"]))


async def reference_for_messages(session: AsyncSession, ids: Sequence[str]) -> str | None:
    """The complaint the latest of `ids` that we know belongs to (ids in thread order)."""
    wanted = _usable(ids)
    if not wanted:
        return None
    rows = dict(
        (
            await session.execute(
                select(MessageThread.message_id, MessageThread.reference).where(
                    MessageThread.message_id.in_(wanted)
                )
            )
        ).all()
    )
    for item in reversed(wanted):
        if item in rows:
            return rows[item]
    return None
