"""A technician without the skill the booked work needs is refused when clocking on, with the reason
(the skill from booking's service-type catalogue, the technician's skills from booking)."""
import uuid

from tests.support import fixtures
from tests.support.gateway import Api
from tests.support.journey import until, vin


def test_a_technician_without_the_skill_is_refused_with_the_reason(gateway, admin, world):
    branch = f"WSK{uuid.uuid4().hex[:6]}"  # a branch of its own: its technicians change no one's capacity
    admin.ok("POST", "/branches", fixtures.branch(branch, region_id=f"{branch}-R", bays=4), status=201)
    customer = until(lambda: admin.post("/customers", {"branch_id": branch, "name": "Eve Volt"}),
                     lambda r: r.status_code == 201, what="crm to know the branch").json()
    vehicle = admin.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                             "plate": f"EV {uuid.uuid4().hex[:5]}", "model": "e-Golf"})
    booking = until(lambda: admin.post("/bookings", fixtures.booking_request(
        branch, customer["customer_id"], vehicle["vehicle_id"], fixtures.next_slot(hours_ahead=120),
        service_type="ev_service")), lambda r: r.status_code == 201, what="the booking").json()
    admin.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")
    admin.ok("POST", f"/bookings/{booking['booking_id']}/check-in",
             {"odometer_km": 9000, "fault_description": "high-voltage battery warning"})
    (ro,) = until(lambda: admin.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"], bool,
                  what="the repair order")
    assert ro["skill"] == "ev_high_voltage"
    rid = ro["repair_order_id"]
    admin.ok("POST", f"/repair-orders/{rid}/diagnosis", {"findings": [{"description": "cell module", "status": "red"}]})
    issued = admin.ok("POST", f"/repair-orders/{rid}/quotes", {"lines": [
        {"kind": "labour", "description": "replace cell module", "quantity": "2"}]})
    admin.ok("POST", f"/repair-orders/{rid}/approval", {
        "quote_id": issued["quote_id"], "consent": {"method": "signature", "by": "Eve Volt"},
        "decisions": [{"line_id": issued["lines"][0]["line_id"], "approved": True}]})
    general, volt = f"tech-gen-{uuid.uuid4().hex[:5]}", f"tech-ev-{uuid.uuid4().hex[:5]}"
    admin.ok("POST", "/technicians", {"branch_id": branch, "technician_id": general, "skills": ["general"]})
    admin.ok("POST", "/technicians", {"branch_id": branch, "technician_id": volt, "skills": ["ev_high_voltage"]})

    refused = Api.as_role(gateway.url, "technician", subject=general, branch_id=branch).post(
        f"/repair-orders/{rid}/jobs", {})

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"]["technician_id"] == ["needs the skill ev_high_voltage; has general"]
    assert admin.ok("GET", "/jobs", repair_order_id=rid)["items"] == []  # nothing written
    tech = Api.as_role(gateway.url, "technician", subject=volt, branch_id=branch)
    job = tech.ok("POST", f"/repair-orders/{rid}/jobs", {}, status=201)
    tech.ok("POST", f"/repair-orders/{rid}/jobs/{job['job_id']}/finish", {})
