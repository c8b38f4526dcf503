"""The misroute dashboard: department confusion per week, accuracy per department over
time, the most corrected rules and overdue counts, drawn as inline SVG."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from markupsafe import Markup

from gateway.admin_ui import svg
from gateway.admin_ui.permissions import Perm
from gateway.admin_ui.web import render, require, svc_of
from storage.clocks import overdue_counts
from storage.db import utcnow
from storage.misroutes import corrections, routed_per_week

WORDS = re.compile(r"^department (\S+):.*?words: (.+)$")


def week(at: datetime) -> str:
    year, number, _ = at.isocalendar()
    return f"{year}-W{number:02d}"


def confusion(rows: list[dict[str, Any]]) -> dict[str, Counter[tuple[str, str]]]:
    """Per week: (predicted, corrected) department counts of department corrections."""
    out: dict[str, Counter[tuple[str, str]]] = {}
    for row in rows:
        before = (row.get("previous") or {}).get("department") or "-"
        after = row.get("department") or "-"
        if before != after:
            out.setdefault(week(row["at"]), Counter())[(before, after)] += 1
    return out


def accuracy(
    routed: list[tuple[datetime, str, int]], rows: list[dict[str, Any]], weeks: list[str]
) -> dict[str, list[float | None]]:
    """Per department and week: 1 - (records corrected away from it / records routed to it)."""
    total: Counter[tuple[str, str]] = Counter((week(at), dept) for at, dept, _ in routed)
    wrong: Counter[tuple[str, str]] = Counter()
    for row in rows:
        before = (row.get("previous") or {}).get("department")
        if before and before != row.get("department"):
            wrong[(week(row["at"]), before)] += 1
    departments = sorted({d for _, d in total if d != "-"})
    return {
        dept: [
            (1 - wrong[(w, dept)] / total[(w, dept)]) if total[(w, dept)] else None for w in weeks
        ]
        for dept in departments
    }


def corrected_rules(rows: list[dict[str, Any]], top: int = 12) -> list[tuple[str, int]]:
    """Rule words that pointed at a department a supervisor then changed."""
    counts: Counter[str] = Counter()
    for row in rows:
        before = (row.get("previous") or {}).get("department")
        if not before or before == row.get("department"):
            continue
        for line in row.get("explanation") or []:
            match = WORDS.match(str(line))
            if match and match.group(1) == before:
                for word in match.group(2).split(", "):
                    counts[f"departments.{before}: {word.strip()}"] += 1
    return counts.most_common(top)


@require(Perm.DASHBOARD)
async def dashboard(request: web.Request) -> web.Response:
    svc = svc_of(request)
    weeks_back = min(max(int(request.query.get("weeks", "8") or 8), 1), 52)
    since = utcnow() - timedelta(weeks=weeks_back)
    async with svc.sessions() as session:
        rows = await corrections(session, since=since)
        routed = await routed_per_week(session, since)
        overdue = await overdue_counts(session)
    weeks = sorted({week(since + timedelta(weeks=k)) for k in range(weeks_back + 1)})
    per_week = confusion(rows)
    total: Counter[tuple[str, str]] = Counter()
    for counts in per_week.values():
        total.update(counts)
    departments = svc.classify.classifier.taxonomy.department_names
    charts = {
        "confusion": Markup(svg.heatmap(departments, departments, dict(total))),
        "accuracy": Markup(svg.lines(weeks, accuracy(routed, rows, weeks))),
        "rules": Markup(svg.bars(corrected_rules(rows))),
        "overdue": Markup(
            svg.bars(
                sorted(((f"{d} / {c}", n) for (d, c), n in overdue.items()), key=lambda x: -x[1])
            )
        ),
    }
    return render(
        request,
        "dashboard.html",
        charts=charts,
        per_week=sorted(per_week.items()),
        weeks_back=weeks_back,
        corrections=len(rows),
    )
