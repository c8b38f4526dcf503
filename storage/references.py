"""Human references `QC-YYYYMM-NNNNNN` (SPEC §2): unique, never reused.

One counter row per month is bumped with an atomic upsert; the row lock
(PostgreSQL) or the write lock (SQLite) makes concurrent callers queue, so
no two ever read the same number. A rolled-back caller leaves a gap, never
a repeat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import ReferenceCounter, table_of
from storage.upsert import PerDialect

PREFIX = "QC"


def format_reference(period: str, number: int) -> str:
    return f"{PREFIX}-{period}-{number:06d}"


_COUNTER = table_of(ReferenceCounter)
_BUMP = PerDialect(
    lambda dialect: (
        dialect.insert(_COUNTER)
        .values(last=1)
        .on_conflict_do_update(index_elements=["period"], set_={"last": _COUNTER.c.last + 1})
        .returning(_COUNTER.c.last)
    )
)


async def allocate_reference(session: AsyncSession, when: datetime) -> str:
    """Take the next reference for `when`'s month inside the caller's transaction."""
    period = when.strftime("%Y%m")
    number = (await session.execute(_BUMP(session), {"period": period})).scalar_one()
    return format_reference(period, int(number))


_BUMP_BY = PerDialect(
    lambda dialect: (
        dialect.insert(_COUNTER)
        .values(period=bindparam("period"), last=bindparam("count"))
        .on_conflict_do_update(
            index_elements=["period"], set_={"last": _COUNTER.c.last + bindparam("count")}
        )
        .returning(_COUNTER.c.last)
    )
)


async def allocate_references(session: AsyncSession, when: datetime, count: int) -> list[str]:
    """Take `count` consecutive references for `when`'s month in one statement."""
    if count <= 0:
        return []
    period = when.strftime("%Y%m")
    params = {"period": period, "count": count}
    last = int((await session.execute(_BUMP_BY(session), params)).scalar_one())
    return [format_reference(period, number) for number in range(last - count + 1, last + 1)]
