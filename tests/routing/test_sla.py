"""Working-day due times across the 2026 National Day holiday and its make-up Saturday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing.sla import ChineseWorkingCalendar, add_working_days, due_times, parse_limit

CST = ZoneInfo("Asia/Shanghai")
CALENDAR = ChineseWorkingCalendar()


def test_calendar_knows_national_day_2026_and_the_make_up_saturday():
    assert not CALENDAR.is_workday(date(2026, 10, 1))  # Thursday, National Day
    assert not CALENDAR.is_workday(date(2026, 10, 7))  # Wednesday, still the holiday
    assert CALENDAR.is_workday(date(2026, 10, 10))  # Saturday, a make-up working day
    assert not CALENDAR.is_workday(date(2026, 10, 11))  # Sunday


def test_working_days_skip_the_holiday_and_count_the_make_up_saturday():
    received = datetime(2026, 9, 30, 15, 0, tzinfo=CST)  # Wednesday afternoon, before the holiday
    # 1 = Thu 8 Oct, 2 = Fri 9 Oct, 3 = Sat 10 Oct (make-up day): due at the end of 10 Oct, local.
    assert add_working_days(received, 3, CALENDAR) == datetime(2026, 10, 11, 0, 0, tzinfo=CST)
    # 15 working days: 8, 9, 10, 12–16, 19–23, 26, 27 October.
    final = due_times(received, "general")["final_reply"]
    assert final == datetime(2026, 10, 28, 0, 0, tzinfo=CST)
    assert final.tzinfo == UTC


def test_a_complaint_received_on_the_make_up_saturday_counts_from_the_next_working_day():
    received = datetime(2026, 10, 10, 9, 30, tzinfo=CST)
    assert add_working_days(received, 1, CALENDAR) == datetime(2026, 10, 13, 0, 0, tzinfo=CST)


def test_hour_limits_are_clock_hours_and_major_gets_the_one_hour_escalation():
    received = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    major = due_times(received, "major")
    assert major["escalate"] == received + timedelta(hours=1)
    assert major["first_response"] == received + timedelta(hours=24)
    assert major["investigation"] == received + timedelta(hours=48)
    assert "escalate" not in due_times(received, "general")
    custom = due_times(received, "minor", {"minor": {"final_reply": "2wd"}})
    assert custom == {"final_reply": datetime(2026, 10, 10, 0, 0, tzinfo=CST)}  # 8, 9 Oct


@pytest.mark.parametrize("text", ["", "15", "1.5wd", "3 weeks", "h"])
def test_bad_limits_are_refused(text):
    with pytest.raises(ValueError):
        parse_limit(text)
