"""The check-in record on the repair order: what booking recorded at check-in (fuel or charge,
damage with photo references, belongings) and the case owner, shown on the order; older clients
that send none of it still open an order."""
import uuid

from tests.support import fixtures
from tests.support.journey import until, vin


def test_the_check_in_record_and_the_case_owner_stay_on_the_repair_order(advisor, world):
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Record Keeper"})
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": f"CI {uuid.uuid4().hex[:5]}", "model": "Zoe"})
    booking = until(lambda: advisor.post("/bookings", fixtures.booking_request(
        world["branch"], customer["customer_id"], vehicle["vehicle_id"], slot_start=fixtures.next_slot(110))),
        lambda r: r.status_code != 422 or "vehicle_id" not in r.json()["error"]["fields"], what="the vehicle copy")
    assert booking.status_code == 201, booking.text
    advisor.ok("POST", f"/bookings/{booking.json()['booking_id']}/check-in", {
        "odometer_km": 12000, "fault_description": "charging stops at 80 %", "charge_level_pct": 35,
        "damage": [{"note": "scratch on the rear bumper", "photo_ref": "photo-123"}], "belongings": ["child seat"]})
    (ro,) = until(lambda: advisor.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"], bool,
                  what="the repair order")
    assert ro["case_owner"] == advisor.subject
    record = ro["check_in_record"]
    assert record["charge_level_pct"] == 35 and record["fuel_level_pct"] is None
    assert record["damage"] == [{"note": "scratch on the rear bumper", "photo_ref": "photo-123"}]
    assert record["belongings"] == ["child seat"] and record["checked_in_at"]
