"""The booking's life cycle: each command's guards, its change, the events it records."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.booking import capacity, domain
from shared.contracts.api.booking import BOOKING_STATUSES
from shared.domain import IllegalTransition, RuleBroken, StateConflict

UTC = timezone.utc
ROUND_THE_CLOCK = domain.Timetable({d: [["00:00", "23:59"]] for d in domain.WEEKDAYS}, frozenset(),
                                   timezone.utc, 60)
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # inside the 10:00 slot
RUNNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NEXT = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def request(slot_start=NEXT, channel="web", **overrides):
    return {"branch_id": "B1", "customer_id": uuid.uuid4(), "vehicle_id": uuid.uuid4(), "slot_start": slot_start,
            "service_type": "annual service", "priority": "routine", "channel": channel,
            "symptoms": "squeal when cold", **overrides}


def booking(status="requested", slot_start=NEXT, channel="web"):
    made = domain.Booking.request(uuid.uuid4(), request(slot_start, channel), ROUND_THE_CLOCK,
                                  slot_start - timedelta(hours=1))
    made.take_events()
    made.status = status
    return made


def test_a_request_holds_its_slot_and_records_booking_created():
    asked = request()
    made = domain.Booking.request("b-1", asked, ROUND_THE_CLOCK, NOW)
    assert (made.status, made.slot_start, made.slot_end, made.requested_at) == (
        "requested", NEXT, NEXT + timedelta(hours=1), NOW)
    [event] = made.events
    assert (event.type, event.branch_id) == ("booking.created", "B1")
    assert event.facts == {"booking_id": "b-1", "customer_id": asked["customer_id"],
                           "vehicle_id": asked["vehicle_id"], "slot_start": NEXT,
                           "slot_end": NEXT + timedelta(hours=1), "service_type": "annual service",
                           "priority": "routine", "channel": "web", "requested_at": NOW, "extras": []}
    assert made.row()["symptoms"] == "squeal when cold" and "events" not in made.row()


@pytest.mark.parametrize("slot_start", [
    RUNNING,  # earlier today: started half an hour ago
    datetime(2026, 11, 23, 8, 0, tzinfo=UTC),  # earlier today
    datetime(2026, 11, 22, 10, 0, tzinfo=UTC),  # yesterday
    datetime(2026, 10, 26, 10, 0, tzinfo=UTC),  # 28 days ago
], ids=["running", "earlier-today", "yesterday", "28-days-ago"])
def test_a_slot_can_be_booked_only_until_it_starts(slot_start):
    with pytest.raises(RuleBroken) as info:
        domain.Booking.request("b-1", request(slot_start), ROUND_THE_CLOCK, NOW)
    assert "slot_start" in info.value.fields and "past" in info.value.fields["slot_start"][0]


def test_a_walk_in_may_take_the_slot_running_now_but_not_one_that_is_over():
    made = domain.Booking.request("b-1", request(RUNNING, "walk_in"), ROUND_THE_CLOCK, NOW)
    assert made.slot_start == RUNNING and made.recorded("booking.created")
    with pytest.raises(RuleBroken) as info:
        domain.Booking.request("b-2", request(RUNNING - timedelta(hours=1), "walk_in"), ROUND_THE_CLOCK, NOW)
    assert "slot_start" in info.value.fields


def test_a_booking_is_only_for_a_time_a_slot_starts():
    with pytest.raises(RuleBroken) as info:
        domain.Booking.request("b-1", request(NEXT + timedelta(minutes=17)), ROUND_THE_CLOCK, NOW)
    assert info.value.fields == {"slot_start": ["must be the start of a slot within the branch's business hours"]}


def test_the_vehicle_booked_must_be_the_customers():
    made = booking()
    made.check_vehicle({"customer_id": str(made.customer_id)})  # the copy's ids may come as text
    with pytest.raises(RuleBroken) as info:
        made.check_vehicle({"customer_id": uuid.uuid4()})
    assert info.value.fields == {"vehicle_id": ["not this customer's vehicle"]}


def test_a_requested_booking_is_confirmed_and_says_so():
    made = booking()
    made.confirm(NOW)
    assert (made.status, made.confirmed_at) == ("confirmed", NOW)
    assert [(e.type, e.facts) for e in made.events] == [
        ("booking.confirmed", {"booking_id": made.booking_id, "slot_start": NEXT})]
    assert made.history == [domain.HistoryLine("requested", "confirmed", NEXT, "")]


def test_a_walk_in_is_checked_in_without_confirmation_and_that_answers_its_request():
    made = booking(slot_start=RUNNING, channel="walk_in")
    made.check_in(odometer_km=42000, fault_description="squeal", advisor="sam", plate="B-X 1", now=NOW)
    assert (made.status, made.checked_in_at, made.odometer_km, made.advisor) == ("checked_in", NOW, 42000, "sam")
    [event] = made.events
    assert event.type == "booking.checked_in"
    assert event.facts == {"booking_id": made.booking_id, "customer_id": made.customer_id,
                           "vehicle_id": made.vehicle_id, "priority": "routine", "service_type": "annual service",
                           "checked_in_at": NOW, "plate": "B-X 1", "odometer_km": 42000,
                           "fault_description": "squeal", "advisor": "sam", "fuel_level_pct": None,
                           "charge_level_pct": None, "damage": [], "belongings": [], "skill": None,
                           "estimated_hours": None}
    assert made.history == [domain.HistoryLine("requested", "checked_in", RUNNING, "")]


@pytest.mark.parametrize("status,command", [
    ("checked_in", "cancel"), ("cancelled", "confirm"), ("no_show", "check_in"), ("requested", "no_show"),
    ("confirmed", "confirm"), ("checked_in", "check_in"),
])
def test_a_step_the_life_cycle_does_not_allow_is_an_illegal_transition(status, command):
    made = booking(status)
    act = {"cancel": lambda: made.cancel("changed my mind", NOW), "confirm": lambda: made.confirm(NOW),
           "check_in": lambda: made.check_in(1, "probe", "sam", "P 1", NOW),
           "no_show": lambda: made.no_show(NEXT + timedelta(hours=1))}[command]
    with pytest.raises(IllegalTransition) as info:
        act()
    assert made.status == status and made.events == [] and made.history == []
    assert info.value.fields["status"][0].startswith(f"is {status}; allowed next:")


def test_a_cancelled_booking_frees_its_slot_and_keeps_the_reason():
    made = booking("confirmed")
    assert made.cancel("car sold", NOW) == NEXT
    assert (made.status, made.cancelled_at) == ("cancelled", NOW)
    assert [(e.type, e.facts) for e in made.events] == [
        ("booking.cancelled", {"booking_id": made.booking_id, "reason": "car sold"})]
    assert made.history == [domain.HistoryLine("confirmed", "cancelled", NEXT, "car sold")]


def test_a_reschedule_moves_the_booking_and_gives_up_its_slot():
    made = booking("confirmed")
    later = NEXT + timedelta(days=1)
    assert made.reschedule(ROUND_THE_CLOCK, later, NOW, "customer asked") == NEXT
    assert (made.status, made.slot_start, made.slot_end) == ("confirmed", later, later + timedelta(hours=1))
    assert [(e.type, e.facts) for e in made.events] == [
        ("booking.rescheduled", {"booking_id": made.booking_id, "previous_slot_start": NEXT, "slot_start": later})]
    assert made.history == [domain.HistoryLine("confirmed", "confirmed", later, "customer asked")]


@pytest.mark.parametrize("slot_start", [RUNNING, datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
                                        datetime(2026, 10, 26, 10, 0, tzinfo=UTC)],
                         ids=["running", "yesterday", "28-days-ago"])
def test_a_booking_cannot_be_rescheduled_into_the_past(slot_start):
    made = booking()
    with pytest.raises(RuleBroken) as info:
        made.reschedule(ROUND_THE_CLOCK, slot_start, NOW)
    assert "past" in info.value.fields["slot_start"][0]
    assert made.slot_start == NEXT and made.events == []


def test_a_booking_is_not_rescheduled_into_the_slot_it_holds():
    made = booking()
    with pytest.raises(RuleBroken) as info:
        made.reschedule(ROUND_THE_CLOCK, NEXT, NOW)
    assert info.value.fields == {"slot_start": ["is the current slot"]}


@pytest.mark.parametrize("status", ["checked_in", "cancelled", "no_show"])
def test_only_a_booking_that_holds_a_slot_can_be_moved(status):
    made = booking(status)
    with pytest.raises(StateConflict) as info:
        made.reschedule(ROUND_THE_CLOCK, NEXT + timedelta(hours=2), NOW)
    assert info.value.fields == {"status": [f"is {status}"]}


def test_a_confirmed_customer_more_than_30_minutes_late_is_a_no_show():
    made = booking("confirmed")
    with pytest.raises(RuleBroken):
        made.no_show(NEXT + timedelta(minutes=30))
    assert made.status == "confirmed" and made.events == []
    assert made.no_show(NEXT + timedelta(minutes=31)) == NEXT
    assert made.status == "no_show"
    assert [(e.type, e.facts) for e in made.events] == [
        ("booking.no_show", {"booking_id": made.booking_id, "slot_start": NEXT})]


def test_a_booking_is_rebuilt_from_its_stored_row():
    made = booking("confirmed")
    row = {**made.row(), "created_at": NOW, "updated_at": NOW}
    assert domain.Booking.from_row(row) == made


# -- reminders and no-shows (issue 23) -------------------------------------------------------------------
def test_a_reminder_is_due_once_when_the_slot_is_less_than_a_day_away():
    made = booking(slot_start=RUNNING + timedelta(days=2))
    assert not made.reminder_due(NOW)
    later = RUNNING + timedelta(days=1, hours=1)
    made.remind(later)
    assert made.reminder_sent_at == later and made.recorded("booking.reminder_due")[0].facts["booking_id"]
    with pytest.raises(StateConflict):
        made.remind(later + timedelta(minutes=1))


def test_no_reminder_for_a_booking_that_no_longer_holds_its_slot():
    made = booking(slot_start=RUNNING + timedelta(hours=5))
    made.cancel("sold the car", NOW)
    assert not made.reminder_due(NOW)


def test_a_customer_who_arrived_is_not_a_no_show():
    made = booking(slot_start=RUNNING + timedelta(hours=1))
    made.confirm(NOW)
    made.arrive(RUNNING + timedelta(hours=1, minutes=20))
    with pytest.raises(StateConflict):
        made.no_show(RUNNING + timedelta(hours=2))


def test_a_confirmed_booking_30_minutes_past_its_start_without_arrival_is_a_no_show_and_frees_its_slot():
    start = RUNNING + timedelta(hours=1)
    made = booking(slot_start=start)
    made.confirm(NOW)
    assert made.no_show(start + timedelta(minutes=31)) == start
    assert made.status == "no_show" and made.recorded("booking.no_show")[0].facts["slot_start"] == start


# -- arrival and the check-in record (issue 23) ------------------------------------------------------------
def test_arrival_is_recorded_once_and_starts_the_reception_clock():
    made = booking(slot_start=NEXT)
    made.arrive(NOW)
    [event] = made.events
    assert (event.type, event.facts["arrived_at"], made.arrived_at) == ("booking.arrived", NOW, NOW)
    assert made.history[-1].note == "arrived"
    with pytest.raises(StateConflict) as twice:
        made.arrive(NOW)
    assert "arrived_at" in twice.value.fields


def test_a_booking_not_holding_its_slot_cannot_arrive():
    made = booking(status="cancelled")
    with pytest.raises(StateConflict):
        made.arrive(NOW)


def test_the_check_in_record_and_the_work_travel_to_the_repair_order_on_the_event():
    made = domain.Booking.request("b-1", request(), ROUND_THE_CLOCK, NOW,
                                  capacity.Catalogue.of().work_for("ev battery"))
    made.take_events()
    damage = [{"note": "dent, left door", "photo_ref": "photos/1.jpg"}]
    made.check_in(12000, "no charge", "sam", "B-X 1", NOW, charge_level_pct=20, damage=damage,
                  belongings=["child seat"])
    facts = made.recorded("booking.checked_in")[0].facts
    assert (facts["charge_level_pct"], facts["fuel_level_pct"], facts["damage"], facts["belongings"]) == (
        20, None, damage, ["child seat"])
    assert (facts["skill"], facts["estimated_hours"], facts["advisor"]) == ("ev_high_voltage", 1.5, "sam")
    assert (made.charge_level_pct, made.damage, made.belongings) == (20, damage, ["child seat"])


def test_the_booking_life_cycle_has_the_statuses_the_api_names():
    assert domain.LIFE_CYCLE.statuses == BOOKING_STATUSES
