"""Booking's rules through the real gateway: past slots, walk-ins answered at check-in, the vehicle's scope."""
import uuid
from datetime import datetime, timedelta, timezone

from tests.support import fixtures
from tests.support.journey import until, vin

NOT_IN_SCOPE = {"error": {"code": "forbidden", "message": "not found in your scope", "fields": {}}}


def _customer_vehicle(api, branch_id):
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Rule Keeper"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                           "plate": f"BR {uuid.uuid4().hex[:4]}", "model": "Up"})
    return customer["customer_id"], vehicle["vehicle_id"]


def _hours_ago(hours) -> datetime:
    """The start of a one-hour slot about `hours` ago (the world's branches have no 23:00 slot)."""
    at = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
    return at - timedelta(hours=1) if at.hour == 23 else at


def _running_slot() -> datetime | None:
    """The slot running now, unless none runs (23:00) or it ends before a request could reach it."""
    now = datetime.now(timezone.utc)
    start = now.replace(minute=0, second=0, microsecond=0)
    return None if start.hour == 23 or now - start > timedelta(minutes=58) else start


def test_a_slot_can_be_booked_until_it_starts_and_by_a_walk_in_until_it_ends(advisor, world):
    branch = world["branch"]
    customer_id, vehicle_id = _customer_vehicle(advisor, branch)
    past = {"earlier today": _hours_ago(0), "yesterday": _hours_ago(24), "28 days ago": _hours_ago(28 * 24)}
    for when, slot in past.items():
        for channel in ("web", "walk_in"):
            if channel == "walk_in" and when == "earlier today":
                continue  # a walk-in may take the slot running now
            response = advisor.post("/bookings", fixtures.booking_request(
                branch, customer_id, vehicle_id, slot_start=slot.isoformat(), channel=channel))
            assert response.status_code == 422, (when, channel, response.status_code, response.text)
            error = response.json()["error"]
            assert "slot_start" in error["fields"] and error["message"] in (
                "that slot has already started", "that slot is over"), (when, error)
    assert advisor.ok("GET", "/bookings", customer_id=customer_id)["items"] == []

    # the day's list shows a past slot with nothing left to book
    yesterday = advisor.ok("GET", "/slots", branch_id=branch, date=past["yesterday"].date().isoformat())
    assert yesterday and {s["available"] for s in yesterday} == {0} and {s["capacity"] for s in yesterday} == {40}
    started = [s for s in advisor.ok("GET", "/slots", branch_id=branch, date=past["earlier today"].date().isoformat())
               if datetime.fromisoformat(s["slot_start"]) <= past["earlier today"]]
    assert started and {s["available"] for s in started} == {0}

    # rescheduling into the past is refused the same way, and changes nothing
    booking = advisor.ok("POST", "/bookings", fixtures.booking_request(
        branch, customer_id, vehicle_id, slot_start=fixtures.next_slot(hours_ahead=10)))
    moved = advisor.post(f"/bookings/{booking['booking_id']}/reschedule", {"slot_start": past["yesterday"].isoformat()})
    assert moved.status_code == 422 and "slot_start" in moved.json()["error"]["fields"], moved.text
    assert advisor.ok("GET", f"/bookings/{booking['booking_id']}")["slot_start"] == booking["slot_start"]

    running = _running_slot()
    if running is not None:  # a walk-in takes the slot running now
        walk_in = advisor.ok("POST", "/bookings", fixtures.booking_request(
            branch, customer_id, vehicle_id, slot_start=running.isoformat(), channel="walk_in"), status=201)
        assert datetime.fromisoformat(walk_in["slot_start"]) == running


def test_checking_in_a_walk_in_without_confirmation_stops_its_first_response_clock(advisor, admin, world):
    """Needs booking.checked_in among booking_first_response's stop events (shared/sla/policies.json)."""
    customer_id, vehicle_id = _customer_vehicle(advisor, world["branch"])
    slot = _running_slot() or datetime.fromisoformat(fixtures.next_slot(hours_ahead=1))
    booking = advisor.ok("POST", "/bookings", fixtures.booking_request(
        world["branch"], customer_id, vehicle_id, slot_start=slot.isoformat(), channel="walk_in"), status=201)
    checked_in = advisor.ok("POST", f"/bookings/{booking['booking_id']}/check-in", {
        "odometer_km": 30500, "fault_description": "warning light on", "advisor": "sam"})
    assert checked_in["status"] == "checked_in" and checked_in["confirmed_at"] is None

    since = (datetime.fromisoformat(booking["requested_at"]) - timedelta(seconds=5)).isoformat()

    def clock():
        items = admin.ok("GET", "/sla/clocks", service="booking", policy="booking_first_response",
                         subject_id=booking["booking_id"], **{"from": since})["items"]
        return items[0] if items else None

    found = until(clock, lambda c: c is not None and c["state"] != "running", timeout=10, what="the clock to stop")
    assert (found["state"], found["outcome"]) == ("stopped", "met"), found


def test_a_vehicle_named_in_the_body_is_checked_against_the_callers_scope(advisor, admin, world):
    far_customer, far_vehicle = _customer_vehicle(admin, world["far_branch"])
    request = fixtures.booking_request(world["branch"], far_customer, far_vehicle,
                                       slot_start=fixtures.next_slot(hours_ahead=11))
    foreign = advisor.post("/bookings", request)
    unknown = advisor.post("/bookings", {**request, "vehicle_id": str(uuid.uuid4())})
    assert foreign.status_code == unknown.status_code == 403, (foreign.text, unknown.text)
    assert foreign.json() == unknown.json() == NOT_IN_SCOPE
    assert admin.ok("GET", "/bookings", customer_id=far_customer)["items"] == []

    # an unscoped caller is told the vehicle is unknown, as before
    missing = admin.post("/bookings", {**request, "vehicle_id": str(uuid.uuid4())})
    assert missing.status_code == 422 and "vehicle_id" in missing.json()["error"]["fields"], missing.text
    # and the advisor's own branch's vehicles are booked as before
    customer_id, vehicle_id = _customer_vehicle(advisor, world["branch"])
    advisor.ok("POST", "/bookings", fixtures.booking_request(world["branch"], customer_id, vehicle_id,
                                                             slot_start=fixtures.next_slot(hours_ahead=11)), status=201)
