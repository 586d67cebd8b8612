"""Reschedule with alternatives: the customer asks, the branch offers 2 to 3 slots (morning / midday / evening),
the customer picks one; the history keeps each step."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.booking import capacity, domain, reschedule
from shared.domain import StateConflict

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
OIL = capacity.Catalogue.of().work_for("oil change")


def slot(local_hour, day=0):
    start = datetime(2026, 11, 23 + day, local_hour, 0, tzinfo=BERLIN).astimezone(UTC)
    return domain.Slot(start, start + timedelta(hours=2))


def booking():
    s = slot(8, day=1)
    return domain.Booking("b1", "N1", "c", "v", s.start, s.end, "oil change", "routine", "web", "", "confirmed",
                          NOW, skill="general", labour_seconds=3600)


def test_alternatives_are_the_earliest_slot_that_fits_in_the_morning_at_midday_and_in_the_evening():
    free, full = capacity.SlotRoom(1, 0), capacity.SlotRoom(1, 1)
    rooms = [(slot(8), full), (slot(10), free), (slot(12), free), (slot(14), full), (slot(16), free),
             (slot(8, 1), free), (slot(12, 1), free)]
    offered = reschedule.alternatives(rooms, OIL, BERLIN, booking().slot_start, NOW)
    assert [(a["part_of_day"], a["slot_start"]) for a in offered] == [
        ("morning", slot(10).start), ("midday", slot(12).start), ("evening", slot(16).start)]


def test_the_booking_own_slot_is_never_an_alternative():
    rooms = [(slot(8, 1), capacity.SlotRoom(2, 1)), (slot(12, 1), capacity.SlotRoom(2, 0))]
    offered = reschedule.alternatives(rooms, OIL, BERLIN, booking().slot_start, NOW)
    assert [a["slot_start"] for a in offered] == [slot(12, 1).start]


def test_the_customer_asks_and_the_branch_owes_an_offer_once():
    b = booking()
    b.ask_to_reschedule("after 3 pm please", NOW)
    assert b.recorded("booking.reschedule_requested")[0].facts["note"] == "after 3 pm please"
    assert b.history[-1].note == "after 3 pm please"
    with pytest.raises(StateConflict):
        b.ask_to_reschedule("again", NOW)


def test_the_branch_offers_two_to_three_alternatives_and_the_history_keeps_them():
    b = booking()
    with pytest.raises(StateConflict):  # nothing asked yet
        b.offer_alternatives([], NOW)
    b.ask_to_reschedule("", NOW)
    with pytest.raises(StateConflict) as too_few:
        b.offer_alternatives([{"slot_start": slot(10).start, "slot_end": slot(10).end, "part_of_day": "morning"}],
                             NOW)
    assert "alternatives" in too_few.value.fields
    offer = [{"slot_start": s.start, "slot_end": s.end, "part_of_day": p}
             for s, p in ((slot(10), "morning"), (slot(16), "evening"))]
    b.offer_alternatives(offer, NOW + timedelta(minutes=20))
    event = b.recorded("booking.reschedule_offered")[0]
    assert [a["slot_start"] for a in event.facts["alternatives"]] == [slot(10).start.isoformat(),
                                                                       slot(16).start.isoformat()]
    assert b.history[-1].note.startswith("offered ") and b.reschedule_offered_at == NOW + timedelta(minutes=20)
    b.ask_to_reschedule("none of those", NOW + timedelta(hours=1))  # a new request after an offer is fine
    assert b.reschedule_offer == []


def test_a_booking_not_holding_its_slot_cannot_ask_to_move():
    b = booking()
    b.status = "checked_in"
    with pytest.raises(StateConflict):
        b.ask_to_reschedule("", NOW)
