"""Business time of a branch and the deadlines counted in it: the SLA engine's clockwork, no I/O."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shared.sla import rules as sla

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [["08:00", "12:00"]]}
CAL = sla.BusinessCalendar(BERLIN, HOURS, frozenset({"2026-12-25"}))


def at(y, m, d, h, mi=0, zone=BERLIN):
    return datetime(y, m, d, h, mi, tzinfo=zone)


def test_business_seconds_within_one_day():
    assert CAL.seconds_between(at(2026, 11, 23, 9), at(2026, 11, 23, 10, 30)) == 5400


def test_nights_do_not_count():
    # Monday 17:30 -> Tuesday 08:30: half an hour before closing, half an hour after opening
    assert CAL.seconds_between(at(2026, 11, 23, 17, 30), at(2026, 11, 24, 8, 30)) == 3600


def test_weekend_counts_only_saturday_morning():
    # Friday 17:00 -> Monday 09:00: 1 h Friday + 4 h Saturday + 1 h Monday
    assert CAL.seconds_between(at(2026, 11, 27, 17), at(2026, 11, 30, 9)) == 6 * 3600


def test_holidays_do_not_count():
    # Thursday 24 Dec 17:00 -> Saturday 26 Dec 09:00; Friday the 25th is a holiday
    assert CAL.seconds_between(at(2026, 12, 24, 17), at(2026, 12, 26, 9)) == 2 * 3600


def test_deadline_rolls_over_night_and_weekend():
    # 30 min target started Friday 17:50 -> Saturday 08:20 Berlin
    due = sla.deadline(CAL, at(2026, 11, 27, 17, 50), 1800, 0)
    assert due == at(2026, 11, 28, 8, 20).astimezone(timezone.utc)


def test_a_clock_started_before_opening_starts_counting_at_opening():
    due = sla.deadline(CAL, at(2026, 11, 23, 6, 0), 900, 0)
    assert due == at(2026, 11, 23, 8, 15).astimezone(timezone.utc)


def test_time_zones_are_the_branchs_own():
    vienna = sla.BusinessCalendar(ZoneInfo("America/New_York"), HOURS)
    start = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # 08:00 in New York
    assert vienna.add(start, 3600) == datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def test_summer_time_change_keeps_local_opening_hours():
    # Berlin moves to summer time on Sunday 29 March 2026; Monday opens at 08:00 CEST = 06:00 UTC
    due = sla.deadline(CAL, at(2026, 3, 27, 17, 30), 3600, 0)  # Friday 17:30 CET
    assert due == datetime(2026, 3, 28, 7, 30, tzinfo=timezone.utc)  # Saturday 08:30 CET (UTC+1)
    due = sla.deadline(CAL, at(2026, 3, 28, 11, 30), 3600, 0)  # Saturday 11:30 CET, 30 min left that day
    assert due == datetime(2026, 3, 30, 6, 30, tzinfo=timezone.utc)  # Monday 08:30 CEST (UTC+2)


def test_pause_is_excluded_and_resume_recomputes_the_deadline():
    start = at(2026, 11, 23, 9)
    spent = CAL.seconds_between(start, at(2026, 11, 23, 9, 20))  # paused at 09:20 after 20 minutes
    resumed = at(2026, 11, 23, 11)  # 1 h 40 min on hold: not counted
    due = sla.deadline(CAL, resumed, 1800, spent)
    assert spent == 1200 and due == at(2026, 11, 23, 11, 10).astimezone(timezone.utc)


def test_restart_mid_clock_continues_from_stored_values():
    """A clock is its row: spent seconds and running_since; a new process computes the same."""
    row = {"spent_seconds": 600.0, "running_since": at(2026, 11, 23, 10), "target_seconds": 1800}
    before = sla.deadline(CAL, row["running_since"], row["target_seconds"], row["spent_seconds"])
    reloaded = sla.BusinessCalendar.of_branch({"timezone": "Europe/Berlin", "business_hours": HOURS,
                                               "holidays": ["2026-12-25"]})
    assert sla.deadline(reloaded, row["running_since"], row["target_seconds"], row["spent_seconds"]) == before
    assert before == at(2026, 11, 23, 10, 20).astimezone(timezone.utc)


def test_calendar_time_ignores_business_hours():
    start = datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)
    assert sla.CalendarTime().add(start, 72 * 3600) == start + timedelta(hours=72)


def test_a_branch_with_no_hours_at_all_does_not_loop():
    with pytest.raises(ValueError):
        sla.BusinessCalendar(BERLIN, {}).add(at(2026, 11, 23, 9), 60)
