"""Arrival and the check-in record through the real gateway: the reception clock, and what check-in records."""
import uuid
from datetime import datetime, timedelta

from tests.support import fixtures
from tests.support.journey import until, vin


def _booking(api, branch_id, hours_ahead, service_type="ev battery"):
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Arrival Tester"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                           "plate": f"AR {uuid.uuid4().hex[:4]}", "model": "ID.3"})
    return api.ok("POST", "/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], service_type=service_type,
        slot_start=fixtures.next_slot(hours_ahead=hours_ahead)), status=201)


def _reception_clock(admin, booking):
    since = (datetime.fromisoformat(booking["requested_at"]) - timedelta(seconds=5)).isoformat()
    items = admin.ok("GET", "/sla/clocks", service="booking", policy="reception", subject_id=booking["booking_id"],
                     **{"from": since})["items"]
    return items[0] if items else None


def test_arrival_starts_the_reception_clock_and_check_in_stops_it_with_the_record(advisor, admin, world):
    booking = _booking(advisor, world["branch"], hours_ahead=14)
    arrived = advisor.ok("POST", f"/bookings/{booking['booking_id']}/arrival")
    assert arrived["arrived_at"] is not None and arrived["history"][-1]["note"] == "arrived"
    running = until(lambda: _reception_clock(admin, booking), lambda c: c is not None, timeout=10,
                    what="the reception clock")
    assert running["state"] == "running", running
    twice = advisor.post(f"/bookings/{booking['booking_id']}/arrival")
    assert twice.status_code == 409 and "arrived_at" in twice.json()["error"]["fields"], twice.text

    checked_in = advisor.ok("POST", f"/bookings/{booking['booking_id']}/check-in", {
        "odometer_km": 12000, "fault_description": "range dropped", "charge_level_pct": 35,
        "damage": [{"note": "scratch on the rear bumper", "photo_ref": "photos/rear-1.jpg"}],
        "belongings": ["child seat", "charging cable"]})
    assert (checked_in["charge_level_pct"], checked_in["fuel_level_pct"]) == (35, None)
    assert checked_in["damage"] == [{"note": "scratch on the rear bumper", "photo_ref": "photos/rear-1.jpg"}]
    assert checked_in["belongings"] == ["child seat", "charging cable"]
    assert checked_in["advisor"] == advisor.subject  # the case owner: who checked in
    stopped = until(lambda: _reception_clock(admin, booking), lambda c: c["state"] != "running", timeout=10,
                    what="the reception clock to stop")
    assert (stopped["state"], stopped["outcome"]) == ("stopped", "met"), stopped


def test_a_check_in_record_out_of_range_is_refused_and_nothing_is_written(advisor, world):
    booking = _booking(advisor, world["branch"], hours_ahead=15, service_type="annual service")
    for bad in ({"fuel_level_pct": 101}, {"charge_level_pct": -1}, {"damage": [{"photo_ref": "x"}]},
                {"belongings": [""]}):
        refused = advisor.post(f"/bookings/{booking['booking_id']}/check-in",
                               {"odometer_km": 1000, "fault_description": "service", **bad})
        assert refused.status_code == 400 and set(bad) <= set(refused.json()["error"]["fields"]), (bad, refused.text)
    assert advisor.ok("GET", f"/bookings/{booking['booking_id']}")["status"] == "requested"
    # without the new fields check-in works as before
    plain = advisor.ok("POST", f"/bookings/{booking['booking_id']}/check-in",
                       {"odometer_km": 1000, "fault_description": "service"})
    assert (plain["status"], plain["damage"], plain["belongings"]) == ("checked_in", [], [])


def test_a_booking_not_holding_its_slot_cannot_arrive(advisor, world):
    booking = _booking(advisor, world["branch"], hours_ahead=16, service_type="tyres")
    advisor.ok("POST", f"/bookings/{booking['booking_id']}/cancellation", {"reason": "sold the car"})
    refused = advisor.post(f"/bookings/{booking['booking_id']}/arrival")
    assert refused.status_code == 409 and "status" in refused.json()["error"]["fields"], refused.text
