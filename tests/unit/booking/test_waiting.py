"""Customers waiting at the branch: an apology with the reason 15 minutes past the promised time, then every 30."""
from datetime import datetime, timedelta, timezone

import pytest

from services.booking import capacity, domain, waiting
from services.booking.walk_in import WalkIn
from shared.domain import StateConflict

UTC = timezone.utc
SLOT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def arrived_booking(arrived_at):
    b = domain.Booking("b1", "N1", "c", "v", SLOT, SLOT + timedelta(hours=1), "oil change", "routine", "web", "",
                       "confirmed", SLOT - timedelta(days=2))
    b.arrive(arrived_at)
    b.take_events()
    return b


def test_a_waiting_customer_gets_an_apology_15_minutes_past_the_promised_time_then_every_30():
    b = arrived_booking(SLOT - timedelta(minutes=5))  # early: promised the slot's start
    with pytest.raises(StateConflict):
        b.apologise_for_the_wait(SLOT + timedelta(minutes=14))
    b.apologise_for_the_wait(SLOT + timedelta(minutes=15))
    first = b.recorded("booking.waiting_apology")[0].facts
    assert (first["apology_number"], first["minutes_late"], first["reason"]) == (1, 15, waiting.BOOKED_LATE)
    with pytest.raises(StateConflict):
        b.apologise_for_the_wait(SLOT + timedelta(minutes=44))
    b.apologise_for_the_wait(SLOT + timedelta(minutes=45))
    assert b.apologies_sent == 2


def test_a_late_customer_is_promised_from_arrival():
    b = arrived_booking(SLOT + timedelta(minutes=20))
    b.apologise_for_the_wait(SLOT + timedelta(minutes=35))
    assert b.recorded("booking.waiting_apology")[0].facts["promised_at"] == SLOT + timedelta(minutes=20)


def test_no_apology_once_the_customer_is_received():
    b = arrived_booking(SLOT)
    b.check_in(1000, "oil", "sam", "X", SLOT + timedelta(minutes=2))
    with pytest.raises(StateConflict):
        b.apologise_for_the_wait(SLOT + timedelta(hours=1))


def test_a_walk_in_is_promised_its_estimated_wait_and_apologised_to_past_it():
    w = WalkIn.arrive("w1", {"branch_id": "N1", "customer_id": "c", "vehicle_id": "v", "service_type": "tyres",
                             "priority": "routine", "symptoms": ""}, capacity.Catalogue.of().work_for("tyres"), SLOT)
    w.promise(40)
    assert w.promised_at == SLOT + timedelta(minutes=40)
    w.apologise_for_the_wait(SLOT + timedelta(minutes=55))
    facts = w.recorded("booking.waiting_apology")[0].facts
    assert (facts["walk_in_id"], facts["reason"], facts["minutes_late"]) == ("w1", waiting.WALK_IN_LATE, 15)
