"""Due times per record (SPEC §5): per-severity limits in clock hours or working days.

Working days come from a calendar that knows Chinese public holidays and the
make-up working days (调休) announced each year by the State Council, kept by
the `chinesecalendar` package rather than typed in here. A limit of N working
days is due at the end (24:00, local time) of the Nth working day after the
day of receipt.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import chinese_calendar

DEFAULT_TIMEZONE = "Asia/Shanghai"
_COMMON = {
    "acknowledge": "10m",  # "at once": the acknowledgement's delivery stops this clock
    "first_response": "24h",
    "investigation": "48h",
    "final_reply": "15wd",
}
DEFAULT_LIMITS: Mapping[str, Mapping[str, str]] = {
    "major": {"escalate": "1h", **_COMMON},
    "general": dict(_COMMON),
    "minor": dict(_COMMON),
}
_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|wd)\s*$")


@dataclass(frozen=True)
class Limit:
    """How long a clock runs: plain duration, or a number of working days."""

    duration: timedelta = timedelta(0)
    working_days: int = 0


def parse_limit(text: str) -> Limit:
    """`"90m"`, `"24h"`, `"2d"` (calendar time) or `"15wd"` (working days)."""
    match = _LIMIT.match(text)
    if not match:
        raise ValueError(f"a time limit looks like 1h, 90m, 2d or 15wd, got {text!r}")
    amount, unit = float(match.group(1)), match.group(2)
    if unit == "wd":
        if not amount.is_integer():
            raise ValueError(f"working days must be whole, got {text!r}")
        return Limit(working_days=int(amount))
    scale = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[unit]
    return Limit(duration=scale * amount)


class WorkingCalendar(Protocol):
    def is_workday(self, day: date) -> bool: ...


class ChineseWorkingCalendar:
    """Mainland China: holidays and make-up working days; Monday–Friday outside known years."""

    def is_workday(self, day: date) -> bool:
        return _chinese_workday(day)


@functools.lru_cache(maxsize=4096)
def _chinese_workday(day: date) -> bool:
    """Cached: every stored record asks for the same few weeks of days."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not know yet
        return day.weekday() < 5


def add_working_days(
    start: datetime, days: int, calendar: WorkingCalendar, timezone: str = DEFAULT_TIMEZONE
) -> datetime:
    """End of the `days`-th working day after the local day of `start`, in UTC."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return end_of_day.astimezone(UTC)


def due_times(
    received_at: datetime,
    severity: str,
    limits: Mapping[str, Mapping[str, str]] | None = None,
    *,
    calendar: WorkingCalendar | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> dict[str, datetime]:
    """Clock name → due time (UTC) for a record of `severity` received at `received_at`."""
    table = DEFAULT_LIMITS if limits is None else limits
    per_clock = table.get(severity) or table.get("general") or {}
    calendar = calendar or ChineseWorkingCalendar()
    due: dict[str, datetime] = {}
    for clock, text in per_clock.items():
        limit = parse_limit(text)
        if limit.working_days:
            due[clock] = add_working_days(received_at, limit.working_days, calendar, timezone)
        else:
            due[clock] = (received_at + limit.duration).astimezone(UTC)
    return due


def validate_limits(limits: Mapping[str, Mapping[str, str]]) -> None:
    """Raise ValueError for a limit that does not parse (used by the settings model)."""
    for clocks in limits.values():
        for text in clocks.values():
            parse_limit(text)
