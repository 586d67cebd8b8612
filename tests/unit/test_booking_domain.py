from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.booking import domain
from shared import errors

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {"mon": [["08:00", "18:00"]], "sat": [["08:00", "12:00"]]}


def test_slots_are_cut_from_local_business_hours_and_returned_in_utc():
    slots = domain.slots_for_day(date(2026, 11, 23), HOURS, [], BERLIN, 120)  # a Monday, UTC+1
    assert len(slots) == 5
    assert slots[0].start == datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)
    assert slots[-1].end == datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)


def test_summer_time_shifts_the_utc_start():
    slots = domain.slots_for_day(date(2026, 6, 1), HOURS, [], BERLIN, 120)  # a Monday, UTC+2
    assert slots[0].start == datetime(2026, 6, 1, 6, 0, tzinfo=timezone.utc)


def test_closed_days_and_holidays_have_no_slots():
    assert domain.slots_for_day(date(2026, 11, 24), HOURS, [], BERLIN, 120) == []  # Tuesday: closed
    assert domain.slots_for_day(date(2026, 11, 23), HOURS, ["2026-11-23"], BERLIN, 120) == []


def test_a_partial_slot_at_closing_is_not_offered():
    slots = domain.slots_for_day(date(2026, 11, 28), HOURS, [], BERLIN, 180)  # Sat 08-12, 3 h slots
    assert len(slots) == 1


def test_find_slot_refuses_a_time_that_is_not_a_slot_start():
    with pytest.raises(errors.Unprocessable) as info:
        domain.find_slot(datetime(2026, 11, 23, 8, 30, tzinfo=timezone.utc), HOURS, [], BERLIN, 120)
    assert "slot_start" in info.value.fields
    slot = domain.find_slot(datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc), HOURS, [], BERLIN, 120)
    assert slot.end == datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("current,target", [
    ("requested", "confirmed"), ("requested", "cancelled"), ("confirmed", "checked_in"),
    ("confirmed", "no_show"), ("requested", "checked_in"),
])
def test_allowed_transitions(current, target):
    assert domain.transition(current, target) == target


@pytest.mark.parametrize("current,target", [
    ("checked_in", "cancelled"), ("cancelled", "confirmed"), ("no_show", "checked_in"), ("requested", "no_show"),
])
def test_forbidden_transitions_are_conflicts(current, target):
    with pytest.raises(errors.Conflict):
        domain.transition(current, target)


def test_capacity_is_bays_unless_the_branch_overrides_the_slot():
    assert domain.slot_capacity(4, None) == 4
    assert domain.slot_capacity(4, 1) == 1
    assert domain.slot_capacity(4, 0) == 0


def test_find_slot_finds_exactly_the_slots_the_day_lists():
    """find_slot computes the slot directly; it must agree with slots_for_day, DST days included."""
    hours = {d: [["07:30", "12:00"], ["13:00", "23:59"]] for d in domain.WEEKDAYS}
    hours["sun"] = [["00:00", "23:59"]]
    for day, zone in ((date(2026, 3, 29), BERLIN), (date(2026, 10, 25), BERLIN), (date(2026, 11, 23), BERLIN),
                      (date(2026, 3, 8), ZoneInfo("America/New_York")), (date(2026, 11, 1), ZoneInfo("America/New_York"))):
        for minutes in (15, 45, 120):
            listed = domain.slots_for_day(day, hours, [], zone, minutes)
            assert listed
            for slot in listed:
                assert domain.find_slot(slot.start, hours, [], zone, minutes) == slot
            starts = {slot.start for slot in listed}
            probe = datetime.combine(day, datetime.min.time(), timezone.utc) - timedelta(hours=14)
            while probe < datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=38):
                if probe not in starts and probe.astimezone(zone).date() == day:
                    with pytest.raises(errors.Unprocessable):
                        domain.find_slot(probe, hours, [], zone, minutes)
                probe += timedelta(minutes=5)
