"""Safety-critical work first: the first slot that fits, today if possible, displacing cosmetic work."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.booking import capacity, domain, priority
from shared.domain import RuleBroken, StateConflict

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday
TODAY_ENDS = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
BRAKES = capacity.Catalogue.of().work_for("brakes")  # general, 1.5 h


def slot(hour, day=0):
    start = datetime(2026, 11, 23 + day, hour, 0, tzinfo=UTC)
    return domain.Slot(start, start + timedelta(hours=2))


def full():
    return capacity.SlotRoom(1, 1, True, 4 * 3600, 2 * 3600, 4 * 3600, 2 * 3600)


def free():
    return capacity.SlotRoom(1, 0, True, 4 * 3600, 0, 4 * 3600, 0)


def cosmetic_at(s, seconds=2 * 3600, kind="cosmetic"):
    return priority.Holder("b-" + str(s.start.hour), s.start, kind, "general", seconds)


def test_safety_critical_work_takes_the_first_free_slot_today():
    rooms = [(slot(10), full()), (slot(14), free()), (slot(8, day=1), free())]
    assert priority.emergency_slot(rooms, [], BRAKES, NOW, TODAY_ENDS) == (slot(14), None)


def test_safety_critical_work_displaces_cosmetic_work_when_today_is_full():
    rooms = [(slot(10), full()), (slot(14), full()), (slot(8, day=1), free())]
    holders = [cosmetic_at(slot(14))]
    assert priority.emergency_slot(rooms, holders, BRAKES, NOW, TODAY_ENDS) == (slot(14), holders[0])


def test_only_cosmetic_work_is_displaced():
    rooms = [(slot(10), full()), (slot(8, day=1), free())]
    routine = [cosmetic_at(slot(10), kind="routine")]
    assert priority.emergency_slot(rooms, routine, BRAKES, NOW, TODAY_ENDS) == (slot(8, day=1), None)


def test_displacing_must_free_enough_for_the_safety_work():
    """A cosmetic booking of half an hour frees too little of a slot short of hours."""
    short = capacity.SlotRoom(2, 1, True, 2 * 3600, 2 * 3600, 2 * 3600, 2 * 3600)
    assert priority.displaceable(slot(10), short, [cosmetic_at(slot(10), seconds=1800)], BRAKES, NOW) is None
    assert priority.displaceable(slot(10), short, [cosmetic_at(slot(10))], BRAKES, NOW) is not None


def test_without_any_slot_safety_work_gets_none():
    assert priority.emergency_slot([(slot(10), full())], [], BRAKES, NOW, TODAY_ENDS) == (None, None)


def test_a_displaced_booking_moves_and_the_customer_gets_alternatives_with_the_reason():
    timetable = domain.Timetable({"mon": [["08:00", "18:00"]]}, frozenset(), ZoneInfo("UTC"), 120)
    booking = domain.Booking("b1", "N1", "c", "v", slot(14).start, slot(14).end, "paint", "cosmetic", "web", "",
                             "confirmed", NOW)
    alternatives = [slot(16)]
    given_up = booking.displace(timetable, slot(16).start, alternatives, "b2", priority.DISPLACED, NOW)
    assert given_up == slot(14).start and booking.slot_start == slot(16).start
    rescheduled, displaced = booking.recorded("booking.rescheduled")[0], booking.recorded("booking.displaced")[0]
    assert rescheduled.facts["reason"] == priority.DISPLACED
    assert displaced.facts["alternatives"] == [{"slot_start": slot(16).start.isoformat(),
                                                "slot_end": slot(16).end.isoformat()}]
    assert displaced.facts["displaced_by"] == "b2"


def test_routine_work_is_never_displaced():
    timetable = domain.Timetable({"mon": [["08:00", "18:00"]]}, frozenset(), ZoneInfo("UTC"), 120)
    booking = domain.Booking("b1", "N1", "c", "v", slot(14).start, slot(14).end, "oil", "routine", "web", "",
                             "confirmed", NOW)
    with pytest.raises(StateConflict):
        booking.displace(timetable, slot(16).start, [slot(16)], "b2", priority.DISPLACED, NOW)


def test_only_safety_critical_work_may_be_booked_without_a_slot():
    timetable = domain.Timetable({"mon": [["08:00", "18:00"]]}, frozenset(), ZoneInfo("UTC"), 120)
    with pytest.raises(RuleBroken) as refused:
        domain.Booking.request("b1", {"slot_start": None, "channel": "web"}, timetable, NOW)
    assert "slot_start" in refused.value.fields
