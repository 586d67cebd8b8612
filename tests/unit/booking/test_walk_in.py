"""Walk-ins: the queue per branch, who goes first, the estimated wait, and checking in without a slot."""
from datetime import datetime, timedelta, timezone

import pytest

from services.booking import capacity, domain
from services.booking.walk_in import WalkIn, queue
from shared.domain import IllegalTransition, RuleBroken

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def arrival(priority="routine", service_type="oil change", minutes_ago=0):
    walk_in = WalkIn.arrive("w-" + priority + str(minutes_ago), {
        "branch_id": "N1", "customer_id": "c", "vehicle_id": "v", "service_type": service_type,
        "priority": priority, "symptoms": ""}, capacity.Catalogue.of().work_for(service_type),
        NOW - timedelta(minutes=minutes_ago))
    return walk_in


def test_a_walk_in_joins_the_queue_with_the_work_its_service_type_needs():
    walk_in = arrival(service_type="diagnostics")
    assert (walk_in.status, walk_in.skill, walk_in.labour_seconds) == ("waiting", "diagnostics", 3600)
    assert walk_in.recorded("walk_in.arrived")[0].facts["walk_in_id"] == walk_in.walk_in_id


def test_the_queue_serves_safety_critical_then_vip_then_routine_then_who_came_first():
    waiting = [arrival("routine", minutes_ago=30).row(), arrival("vip", minutes_ago=5).row(),
               arrival("routine", minutes_ago=40).row(), arrival("safety_critical", minutes_ago=1).row()]
    order = [(w["priority"], w["position"]) for w in queue(waiting, 0, 1)]
    assert order == [("safety_critical", 1), ("vip", 2), ("routine", 3), ("routine", 4)]
    assert queue(waiting, 0, 1)[2]["arrived_at"] == NOW - timedelta(minutes=40)


def test_appointments_go_before_walk_ins_in_the_estimated_wait():
    waiting = [arrival("routine", minutes_ago=10).row(), arrival("routine", minutes_ago=5).row()]
    # two hours of appointments due now, two technicians on shift: an hour before the first walk-in
    estimated = [w["estimated_wait_minutes"] for w in queue(waiting, 2 * 3600, 2)]
    assert estimated == [60, 90]  # the second waits for the first's hour of oil change too, shared by two


def test_the_estimate_never_divides_by_no_one():
    assert queue([arrival().row()], 3600, 0)[0]["estimated_wait_minutes"] == 60


def test_a_walk_in_is_checked_in_without_a_slot():
    walk_in = arrival(service_type="brakes", minutes_ago=20)
    booking = domain.Booking.from_walk_in("b1", walk_in, NOW)
    walk_in.checked_in("b1")
    booking.check_in(30500, "squeal", "sam", "HH-AB 1", NOW)
    assert (booking.status, booking.channel, booking.slot_start, booking.requested_at) == (
        "checked_in", "walk_in", NOW, NOW - timedelta(minutes=20))
    assert [e.type for e in booking.events] == ["booking.created", "booking.checked_in"]
    assert walk_in.status == "checked_in" and walk_in.booking_id == "b1"
    with pytest.raises(IllegalTransition):
        walk_in.checked_in("b2")


def test_a_walk_ins_vehicle_is_the_customers():
    with pytest.raises(RuleBroken):
        arrival().check_vehicle({"customer_id": "someone else"})
