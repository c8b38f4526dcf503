"""200 concurrent submissions give 200 distinct references, in SQLite and in PostgreSQL."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import func, select

from storage.tables import Complaint
from tests.conftest import make_settings
from tests.gateway.harness import running_gateway


async def test_concurrent_submissions_get_distinct_references(any_db_url, classify_step):
    settings = make_settings(any_db_url, embedded_workers=4)
    async with running_gateway(settings, classify_step) as gw:
        bodies = [
            {
                "body": f"第{n}号投诉：冰箱BCD-520W不制冷，订单HT20261101-{n:04d}",
                "complainant": {"phone": f"139{n:08d}"},
            }
            for n in range(200)
        ]
        results = await asyncio.gather(*(gw.post(body) for body in bodies))
        references = [body["reference"] for _, body in results]
        for reference in references[-5:]:
            await gw.record(reference, timeout=60)
        for _ in range(600):
            async with gw.svc.sessions() as session:
                stored = await session.scalar(select(func.count()).select_from(Complaint))
                distinct = await session.scalar(
                    select(func.count(func.distinct(Complaint.reference)))
                )
            if stored == 200:
                break
            await asyncio.sleep(0.1)
    assert {status for status, _ in results} == {202}
    assert len(set(references)) == 200
    assert all(re.fullmatch(r"QC-\d{6}-\d{6}", ref) for ref in references)
    assert stored == 200 and distinct == 200
