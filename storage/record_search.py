"""The admin records list: filters, full-text search in zh and en, keyset pages.

Search uses the index the `users_0001` migration made: on SQLite an FTS5 trigram table
(any three characters match as a substring, so Chinese needs no segmenter; one or two
characters fall back to LIKE), on PostgreSQL a pg_trgm GIN index that serves ILIKE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import Complaint
from storage.tables_routing import ComplaintClock

PG_TEXT = (
    "(coalesce(record->>'subject', '') || ' ' || coalesce(record->>'body', '') || ' ' || reference)"
)


@dataclass(frozen=True)
class RecordFilter:
    channel: str | None = None
    department: str | None = None
    severity: str | None = None
    validity: str | None = None
    needs_review: bool | None = None
    overdue: bool = False
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    before_id: int | None = None


@dataclass(frozen=True)
class RecordRow:
    id: int
    reference: str
    channel: str
    channel_account: str
    validity: str
    severity: str
    department: str | None
    needs_review: bool
    received_at: datetime
    subject: str | None
    snippet: str


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_clause(dialect: str, q: str) -> Any:
    if dialect == "postgresql":
        return text(f"{PG_TEXT} ILIKE :q_like ESCAPE '\\'").bindparams(q_like=_like(q))
    if len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        matched = text("SELECT rowid FROM complaint_fts WHERE complaint_fts MATCH :q_fts")
        return Complaint.id.in_(matched.bindparams(q_fts=phrase).columns(literal_column("rowid")))
    body = func.coalesce(func.json_extract(Complaint.record, "$.body"), "")
    subject = func.coalesce(func.json_extract(Complaint.record, "$.subject"), "")
    pattern = _like(q)
    return or_(
        body.like(pattern, escape="\\"),
        subject.like(pattern, escape="\\"),
        Complaint.reference.like(pattern, escape="\\"),
    )


def _filtered(stmt: Select[Any], f: RecordFilter, dialect: str) -> Select[Any]:
    conditions: list[Any] = []
    for column, value in (
        (Complaint.channel, f.channel),
        (Complaint.department, f.department),
        (Complaint.severity, f.severity),
        (Complaint.validity, f.validity),
    ):
        if value:
            conditions.append(column == value)
    if f.needs_review is not None:
        conditions.append(Complaint.needs_review.is_(f.needs_review))
    if f.overdue:
        conditions.append(
            exists().where(
                ComplaintClock.complaint_id == Complaint.id,
                ComplaintClock.overdue_at.is_not(None),
                ComplaintClock.met_at.is_(None),
            )
        )
    if f.since is not None:
        conditions.append(Complaint.received_at >= f.since)
    if f.until is not None:
        conditions.append(Complaint.received_at < f.until)
    if f.q and f.q.strip():
        conditions.append(_search_clause(dialect, f.q.strip()))
    if f.before_id is not None:
        conditions.append(Complaint.id < f.before_id)
    return stmt.where(and_(*conditions)) if conditions else stmt


async def search_records(session: AsyncSession, f: RecordFilter, limit: int) -> list[RecordRow]:
    """One page, newest first; pass the last row's id as `before_id` for the next page."""
    dialect = session.get_bind().dialect.name
    stmt = select(
        Complaint.id,
        Complaint.reference,
        Complaint.channel,
        Complaint.channel_account,
        Complaint.validity,
        Complaint.severity,
        Complaint.department,
        Complaint.needs_review,
        Complaint.received_at,
        Complaint.record,
    ).order_by(Complaint.id.desc())
    rows = await session.execute(_filtered(stmt, f, dialect).limit(limit))
    out: list[RecordRow] = []
    for row in rows:
        record = row.record or {}
        body = str(record.get("body") or "")
        out.append(
            RecordRow(
                row.id,
                row.reference,
                row.channel,
                row.channel_account,
                row.validity,
                row.severity,
                row.department,
                bool(row.needs_review),
                row.received_at,
                record.get("subject"),
                body[:140],
            )
        )
    return out
