"""A branch's timetable and its slots: where slots fall, what they hold, until when they can be booked."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.booking import domain
from shared.domain import RuleBroken

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {"mon": [["08:00", "18:00"]], "sat": [["08:00", "12:00"]]}
UTC = timezone.utc


def timetable(hours=HOURS, holidays=(), zone=BERLIN, minutes=120):
    return domain.Timetable(hours, frozenset(holidays), zone, minutes)


def test_slots_are_cut_from_local_business_hours_and_returned_in_utc():
    slots = timetable().slots_on(date(2026, 11, 23))  # a Monday, UTC+1
    assert len(slots) == 5
    assert slots[0].start == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert slots[-1].end == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_summer_time_shifts_the_utc_start():
    slots = timetable().slots_on(date(2026, 6, 1))  # a Monday, UTC+2
    assert slots[0].start == datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def test_closed_days_and_holidays_have_no_slots():
    assert timetable().slots_on(date(2026, 11, 24)) == []  # Tuesday: closed
    assert timetable(holidays=["2026-11-23"]).slots_on(date(2026, 11, 23)) == []


def test_a_timetable_is_read_from_the_branch_row():
    branch = {"business_hours": HOURS, "holidays": [date(2026, 11, 23)], "timezone": "Europe/Berlin",
              "slot_minutes": 120}
    assert domain.Timetable.of(branch) == timetable(holidays=["2026-11-23"])


def test_a_partial_slot_at_closing_is_not_offered():
    slots = timetable(minutes=180).slots_on(date(2026, 11, 28))  # Sat 08-12, 3 h slots
    assert len(slots) == 1


def test_a_time_that_is_not_a_slot_start_is_no_slot():
    with pytest.raises(RuleBroken) as info:
        timetable().slot_at(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    assert "slot_start" in info.value.fields
    slot = timetable().slot_at(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert slot.end == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_the_slot_found_at_a_time_is_exactly_the_slot_the_day_lists():
    """slot_at computes the slot directly; it must agree with slots_on, DST days included."""
    hours = {d: [["07:30", "12:00"], ["13:00", "23:59"]] for d in domain.WEEKDAYS}
    hours["sun"] = [["00:00", "23:59"]]
    new_york = ZoneInfo("America/New_York")
    for day, zone in ((date(2026, 3, 29), BERLIN), (date(2026, 10, 25), BERLIN), (date(2026, 11, 23), BERLIN),
                      (date(2026, 3, 8), new_york), (date(2026, 11, 1), new_york)):
        for minutes in (15, 45, 120):
            table = timetable(hours, zone=zone, minutes=minutes)
            listed = table.slots_on(day)
            assert listed
            for slot in listed:
                assert table.slot_at(slot.start) == slot
            starts = {slot.start for slot in listed}
            probe = datetime.combine(day, datetime.min.time(), UTC) - timedelta(hours=14)
            while probe < datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=38):
                if probe not in starts and probe.astimezone(zone).date() == day:
                    with pytest.raises(RuleBroken):
                        table.slot_at(probe)
                probe += timedelta(minutes=5)


def test_capacity_is_bays_unless_the_branch_overrides_the_slot():
    assert domain.slot_capacity(4, None) == 4
    assert domain.slot_capacity(4, 1) == 1
    assert domain.slot_capacity(4, 0) == 0


SLOT = domain.Slot(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), datetime(2026, 11, 23, 11, 0, tzinfo=UTC))


@pytest.mark.parametrize("channel", ["hotline", "app", "messaging", "web"])
def test_a_slot_can_be_booked_until_it_starts(channel):
    assert SLOT.open_to(channel, SLOT.start - timedelta(seconds=1))
    assert not SLOT.open_to(channel, SLOT.start)
    assert not SLOT.open_to(channel, SLOT.start + timedelta(minutes=20))
    with pytest.raises(RuleBroken) as info:
        SLOT.check_open_to(channel, SLOT.start + timedelta(minutes=20))
    assert info.value.message == "that slot has already started"
    assert "in the past" in info.value.fields["slot_start"][0]


def test_a_walk_in_may_take_the_slot_running_now_until_it_ends():
    assert SLOT.open_to("walk_in", SLOT.start + timedelta(minutes=59))
    assert not SLOT.open_to("walk_in", SLOT.end)
    with pytest.raises(RuleBroken) as info:
        SLOT.check_open_to("walk_in", SLOT.end + timedelta(days=1))
    assert info.value.message == "that slot is over" and "slot_start" in info.value.fields


def test_a_slot_that_has_started_has_no_places_left_to_book():
    assert SLOT.available(capacity=4, booked=1, now=SLOT.start - timedelta(minutes=1)) == 3
    assert SLOT.available(capacity=4, booked=1, now=SLOT.start) == 0
    assert SLOT.available(capacity=4, booked=1, now=SLOT.end + timedelta(days=28)) == 0
    assert SLOT.available(capacity=2, booked=3, now=SLOT.start - timedelta(minutes=1)) == 0  # lowered below its load
