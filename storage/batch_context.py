"""Reads answered in bulk and writes held back while a batch of complaints is stored.

A processing batch stores many complaints in one transaction; per complaint the
linking step looks up the complainant's earlier complaints and the look-alikes of
its batch keys, and the routing step writes batch keys and SLA clocks, five round
trips. With a `BatchContext` in the session (`open_batch_context`), those look-ups
come from two queries made for the whole batch up front plus what the batch itself
stored, and the two inserts go out as one executemany each at `flush` - the storage
functions (`earlier_by_contact`, `lookalikes_by_key`, `add_batch_keys`,
`start_clocks`) check for it, so their callers need not know.

The answers are those the per-complaint queries would give inside the same
transaction: complaints are inserted as they are stored (so they are seen as
earlier complaints at once), and the held-back batch keys are merged into
look-alike answers. A look-up the prefetch cannot answer for certain (a key it did
not fetch, a complainant with more earlier complaints than it kept) goes to the
database as before.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import Complaint
from storage.tables_routing import ComplaintBatchKey, ComplaintClock

KEY = "batch_context"  # in `session.info`
CONTACT_PREFETCH = 20  # earlier complaints kept per complainant (`earlier_by_contact`'s limit)


class Members:
    """The complaints carrying one batch key, kept in (received_at, id) order, so the
    look-alikes since a time are a slice (the bench's keys gather thousands)."""

    def __init__(self) -> None:
        self.order: list[tuple[datetime, int]] = []
        self.references: list[str] = []

    def add(self, received_at: datetime, complaint_id: int, reference: str) -> None:
        at = bisect.bisect_right(self.order, (received_at, complaint_id))
        self.order.insert(at, (received_at, complaint_id))
        self.references.insert(at, reference)

    def since(self, since: datetime) -> list[str]:
        return self.references[bisect.bisect_left(self.order, (since, -1)) :]


@dataclass
class BatchContext:
    contacts: dict[str, list[Complaint]] = field(default_factory=dict)  # newest first
    complete_contacts: set[str] = field(default_factory=set)  # fewer than the prefetch limit
    contact_since: datetime | None = None
    lookalikes: dict[str, Members] = field(default_factory=dict)  # database and held rows
    keys_since: datetime | None = None
    held_keys: dict[str, Members] = field(default_factory=dict)  # held rows only
    references: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    batch_key_rows: list[dict[str, Any]] = field(default_factory=list)
    clock_rows: list[dict[str, Any]] = field(default_factory=list)

    # ---------------------------------------------------------------- prefetch

    async def prefetch(
        self,
        session: AsyncSession,
        contact_keys: Iterable[str],
        contact_since: datetime | None,
        batch_keys: Iterable[str],
        keys_since: datetime | None,
    ) -> None:
        keys = sorted(set(contact_keys))
        if keys and contact_since is not None:
            await self._prefetch_contacts(session, keys, contact_since)
        wanted = sorted(set(batch_keys))
        if wanted and keys_since is not None:
            await self._prefetch_keys(session, wanted, keys_since)

    async def _prefetch_contacts(
        self, session: AsyncSession, keys: list[str], since: datetime
    ) -> None:
        rank = (
            func.row_number()
            .over(partition_by=Complaint.contact_key, order_by=Complaint.id.desc())
            .label("rank")
        )
        ranked = (
            select(Complaint.id, rank)
            .where(Complaint.contact_key.in_(keys), Complaint.received_at >= since)
            .subquery()
        )
        stmt = (
            select(Complaint)
            .join(ranked, ranked.c.id == Complaint.id)
            .where(ranked.c.rank <= CONTACT_PREFETCH)
            .order_by(Complaint.id.desc())
        )
        self.contacts = {key: [] for key in keys}
        for row in (await session.execute(stmt)).scalars():
            self.contacts[str(row.contact_key)].append(row)
        self.complete_contacts = {
            key for key, rows in self.contacts.items() if len(rows) < CONTACT_PREFETCH
        }
        self.contact_since = since

    async def _prefetch_keys(self, session: AsyncSession, keys: list[str], since: datetime) -> None:
        stmt = (
            select(
                ComplaintBatchKey.key,
                ComplaintBatchKey.received_at,
                ComplaintBatchKey.complaint_id,
                Complaint.reference,
            )
            .join(Complaint, ComplaintBatchKey.complaint_id == Complaint.id)
            .where(ComplaintBatchKey.key.in_(keys), ComplaintBatchKey.received_at >= since)
        )
        self.lookalikes = {key: Members() for key in keys}
        for key, received_at, complaint_id, reference in await session.execute(stmt):
            self.lookalikes[key].add(received_at, complaint_id, reference)
        self.keys_since = since

    # ---------------------------------------------------------------- answers

    def earlier(self, key: str, since: datetime, limit: int) -> list[Complaint] | None:
        """`earlier_by_contact` from the prefetch, or None when it cannot be sure."""
        if (
            key not in self.complete_contacts
            or self.contact_since is None
            or since < self.contact_since
            or limit > CONTACT_PREFETCH
        ):
            return None
        rows = [row for row in self.contacts[key] if row.received_at >= since]
        return rows[:limit]

    def note_complaint(self, complaint: Complaint) -> None:
        """A complaint the batch stored: an earlier complaint for the ones after it."""
        self.references[complaint.id] = (complaint.reference, complaint.received_at)
        key = complaint.contact_key
        if key is not None and key in self.contacts:
            self.contacts[key].insert(0, complaint)
            if len(self.contacts[key]) > CONTACT_PREFETCH:
                self.contacts[key].pop()
                self.complete_contacts.discard(key)  # no longer certain: ask the database

    def lookalikes_for(self, keys: list[str], since: datetime) -> dict[str, list[str]] | None:
        """`lookalikes_by_key` from the prefetch and the held-back keys, or None."""
        if self.keys_since is None or since < self.keys_since:
            return None
        if any(key not in self.lookalikes for key in keys):
            return None
        return {key: self.lookalikes[key].since(since) for key in keys}

    def merge_held(self, found: dict[str, list[str]], since: datetime) -> dict[str, list[str]]:
        """Database answers plus the batch's held-back keys (not yet in the database);
        the held ones are the newest complaints, so they follow."""
        return {
            key: refs + (self.held_keys[key].since(since) if key in self.held_keys else [])
            for key, refs in found.items()
        }

    # ---------------------------------------------------------------- held writes

    def hold_batch_keys(
        self, complaint_id: int, keys: Iterable[str], received_at: datetime
    ) -> None:
        reference = self.references.get(complaint_id, ("", received_at))[0]
        for key in keys:
            self.batch_key_rows.append(
                {"complaint_id": complaint_id, "key": key, "received_at": received_at}
            )
            self.held_keys.setdefault(key, Members()).add(received_at, complaint_id, reference)
            if key in self.lookalikes:
                self.lookalikes[key].add(received_at, complaint_id, reference)

    async def flush(self, session: AsyncSession) -> None:
        """Write what was held back; call once, before the commit."""
        if self.batch_key_rows:
            await session.execute(insert(ComplaintBatchKey), self.batch_key_rows)
        if self.clock_rows:
            await session.execute(insert(ComplaintClock), self.clock_rows)
        self.batch_key_rows, self.clock_rows, self.held_keys = [], [], {}


def open_batch_context(session: AsyncSession) -> BatchContext:
    context = BatchContext()
    session.info[KEY] = context
    return context


def batch_context(session: AsyncSession) -> BatchContext | None:
    context = session.info.get(KEY)
    return context if isinstance(context, BatchContext) else None


async def close_batch_context(session: AsyncSession) -> None:
    """Flush the held-back writes and leave the session's look-ups to the database."""
    context = session.info.pop(KEY, None)
    if isinstance(context, BatchContext):
        await context.flush(session)
