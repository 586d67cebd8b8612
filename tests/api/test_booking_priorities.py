"""Priorities through the real gateway: safety-critical work takes the first slot that fits and may displace
cosmetic work, which is moved with alternatives; other work is never displaced."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import fixtures
from tests.support.branches import cars, own_branch
from tests.support.gateway import Api


@pytest.fixture(scope="module")
def branch(gateway, admin, world):
    """A branch of its own with one bay, so one booking fills a slot."""
    return own_branch(admin, world, "PRI", bays=1)


@pytest.fixture(scope="module")
def desk(gateway, branch):
    return Api.as_role(gateway.url, "advisor", branch_id=branch)


def _cars(api, branch_id, n):
    return cars(api, branch_id, n, "Priority Tester", "PR", "Corsa")


def test_safety_critical_work_displaces_cosmetic_work_which_moves_to_an_alternative(desk, branch):
    slot, later = fixtures.next_slot(hours_ahead=20), fixtures.next_slot(hours_ahead=21)
    customer_id, (car, other) = _cars(desk, branch, 2)
    paint = desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, car, slot_start=slot,
                                                                   service_type="paint", priority="cosmetic"))
    desk.ok("POST", f"/bookings/{paint['booking_id']}/confirmation")
    brakes = desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, other, slot_start=slot,
                                                                    service_type="brakes",
                                                                    priority="safety_critical"), status=201)
    assert brakes["slot_start"] == paint["slot_start"]
    moved = desk.ok("GET", f"/bookings/{paint['booking_id']}")
    assert (moved["status"], datetime.fromisoformat(moved["slot_start"])) == (
        "confirmed", datetime.fromisoformat(later)), moved
    assert moved["history"][-1]["note"] == "displaced by safety-critical work"
    day = desk.ok("GET", "/slots", branch_id=branch, date=slot[:10])
    held = {s["slot_start"]: s["booked"] for s in day}
    assert held[brakes["slot_start"]] == 1 and held[moved["slot_start"]] == 1


def test_routine_work_is_not_displaced_and_the_safety_work_gets_alternatives(desk, branch):
    slot = fixtures.next_slot(hours_ahead=25)
    customer_id, (car, other) = _cars(desk, branch, 2)
    routine = desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, car, slot_start=slot,
                                                                     service_type="oil change"))
    refused = desk.post("/bookings", fixtures.booking_request(branch, customer_id, other, slot_start=slot,
                                                              service_type="brakes", priority="safety_critical"))
    assert refused.status_code == 409 and refused.json()["error"]["fields"]["alternatives"], refused.text
    assert desk.ok("GET", f"/bookings/{routine['booking_id']}")["slot_start"] == routine["slot_start"]


def test_safety_critical_work_without_a_slot_takes_the_first_that_fits_today_if_possible(desk, branch):
    customer_id, (car,) = _cars(desk, branch, 1)
    today = datetime.now(timezone.utc).date()
    free = [s for d in (today, today + timedelta(days=1))
            for s in desk.ok("GET", "/slots", branch_id=branch, date=d.isoformat(), service_type="brakes")
            if s["bookable"]]
    request = fixtures.booking_request(branch, customer_id, car, service_type="brakes", priority="safety_critical")
    request["slot_start"] = None
    booked = desk.ok("POST", "/bookings", request, status=201)
    assert booked["slot_start"] == free[0]["slot_start"], (booked["slot_start"], free[:2])

    routine = {**request, "priority": "routine"}
    missing = desk.post("/bookings", routine)
    assert missing.status_code == 422 and "slot_start" in missing.json()["error"]["fields"], missing.text
