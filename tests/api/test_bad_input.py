"""Bad input at every step of the journey: a 4xx naming the field, and nothing half-written."""
import uuid

from tests.support import fixtures
from tests.support.journey import until, vin


def error_fields(response, status):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["message"] and isinstance(body["fields"], dict)
    return body["fields"]


def test_customer_and_vehicle(advisor, world):
    before = len(advisor.ok("GET", "/customers", branch_id=world["branch"], limit=200)["items"])
    assert "name" in error_fields(advisor.post("/customers", {"branch_id": world["branch"]}), 400)
    assert "email" in error_fields(advisor.post("/customers", {"branch_id": world["branch"], "name": "X",
                                                               "email": "not-an-email"}), 400)
    assert len(advisor.ok("GET", "/customers", branch_id=world["branch"], limit=200)["items"]) == before
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Input Checker"})
    for bad_vin in ("SHORT", "WVWZZZ1KZ8WO00001"):  # too short; an O
        fields = error_fields(advisor.post("/vehicles", {"customer_id": customer["customer_id"], "vin": bad_vin,
                                                         "plate": "B 1", "model": "Up"}), 400)
        assert "vin" in fields
    assert advisor.ok("GET", "/vehicles", customer_id=customer["customer_id"])["items"] == []


def _customer_vehicle(advisor, world):
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Bad Input"})
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": f"BI {uuid.uuid4().hex[:4]}", "model": "Up"})
    return customer, vehicle


def test_booking_and_arrival(advisor, world):
    customer, vehicle = _customer_vehicle(advisor, world)
    slot = fixtures.next_slot(hours_ahead=6)
    date = slot[:10]
    slots_before = advisor.ok("GET", "/slots", branch_id=world["branch"], date=date)
    misaligned = fixtures.booking_request(world["branch"], customer["customer_id"], vehicle["vehicle_id"],
                                          slot_start=slot.replace(":00:00", ":17:00"))
    response = until(lambda: advisor.post("/bookings", misaligned), lambda r: r.status_code != 422
                     or "slot_start" in r.json()["error"]["fields"], what="the vehicle copy")
    assert "slot_start" in error_fields(response, 422)
    fields = error_fields(advisor.post("/bookings", {**misaligned, "priority": "urgent-ish", "channel": "fax"}), 400)
    assert {"priority", "channel"} <= set(fields)
    assert advisor.ok("GET", "/bookings", customer_id=customer["customer_id"])["items"] == []
    assert advisor.ok("GET", "/slots", branch_id=world["branch"], date=date) == slots_before

    good = fixtures.booking_request(world["branch"], customer["customer_id"], vehicle["vehicle_id"], slot_start=slot)
    booking = advisor.ok("POST", "/bookings", good)
    fields = error_fields(advisor.post(f"/bookings/{booking['booking_id']}/check-in",
                                       {"odometer_km": -5, "fault_description": "", "advisor": "sam"}), 400)
    assert {"odometer_km", "fault_description"} <= set(fields)
    assert advisor.ok("GET", f"/bookings/{booking['booking_id']}")["status"] == "requested"
    cancelled = advisor.ok("POST", f"/bookings/{booking['booking_id']}/cancellation", {"reason": "test"})
    error_fields(advisor.post(f"/bookings/{booking['booking_id']}/confirmation"), 409)
    assert cancelled["status"] == "cancelled"


def test_quote_approval_work_and_payment(advisor, technician, inspector, world):
    customer, vehicle = _customer_vehicle(advisor, world)
    booking = advisor.ok("POST", "/bookings", fixtures.booking_request(
        world["branch"], customer["customer_id"], vehicle["vehicle_id"], slot_start=fixtures.next_slot(hours_ahead=7)))
    advisor.ok("POST", f"/bookings/{booking['booking_id']}/check-in",
               {"odometer_km": 1000, "fault_description": "rattle", "advisor": "sam"})
    ro = until(lambda: advisor.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"], bool)[0]
    path = f"/repair-orders/{ro['repair_order_id']}"

    # one bad line refuses the whole quote
    fields = error_fields(advisor.post(path + "/quotes", {"lines": [
        {"kind": "labour", "description": "check", "quantity": "1"},
        {"kind": "part", "description": "mystery", "part_number": "NO-SUCH-PART", "quantity": "1"}]}), 422)
    assert "lines" in fields
    error_fields(advisor.post(path + "/quotes", {"lines": [{"kind": "labour", "quantity": "-1"}]}), 400)
    assert advisor.ok("GET", "/quotes", repair_order_id=ro["repair_order_id"])["items"] == []
    assert advisor.ok("GET", path)["status"] == "checked_in"

    draft = advisor.ok("POST", path + "/quotes", {"lines": [
        {"kind": "labour", "description": "inspect", "quantity": "0.5"}]})
    quote = advisor.ok("POST", path + "/quotes", {"lines": [
        {"kind": "labour", "description": "fix rattle", "quantity": "1"},
        {"kind": "part", "description": "pads", "part_number": world["part"], "quantity": "1"}]})
    first, second = quote["lines"]
    listed = advisor.ok("GET", "/quotes", repair_order_id=ro["repair_order_id"])["items"]
    assert {q["quote_id"]: (q["status"], [line["description"] for line in q["lines"]]) for q in listed} == {
        draft["quote_id"]: ("superseded", ["inspect"]), quote["quote_id"]: ("open", ["fix rattle", "pads"])}
    consent = {"method": "signature", "by": "Bad Input"}
    fields = error_fields(advisor.post(path + "/approval", {"quote_id": quote["quote_id"], "consent": consent,
                                                            "decisions": [{"line_id": first["line_id"],
                                                                           "approved": True}]}), 422)
    assert "decisions" in fields
    error_fields(advisor.post(path + "/approval", {"quote_id": quote["quote_id"], "decisions": [
        {"line_id": first["line_id"], "approved": True}, {"line_id": second["line_id"], "approved": True}]}), 400)
    assert advisor.ok("GET", path)["quote"]["status"] == "open"
    assert advisor.ok("GET", "/reservations", repair_order_id=ro["repair_order_id"])["items"] == []

    advisor.ok("POST", path + "/approval", {"quote_id": quote["quote_id"], "consent": consent, "decisions": [
        {"line_id": first["line_id"], "approved": True}, {"line_id": second["line_id"], "approved": True}]})
    until(lambda: advisor.ok("GET", path)["parts_status"], lambda s: s == "reserved", what="reservation")
    error_fields(technician.post(path + "/quality-check", {"passed": True}), 409)
    job = technician.ok("POST", path + "/jobs", {})
    technician.ok("POST", f"{path}/jobs/{job['job_id']}/finish", {})
    # the peer check: who worked on it cannot check it, and cannot pass for a colleague either
    assert "checked_by" in error_fields(technician.post(path + "/quality-check", {"passed": True}), 422)
    assert "checked_by" in error_fields(technician.post(path + "/quality-check",
                                                        {"checked_by": inspector.subject, "passed": True}), 403)
    assert advisor.ok("GET", path)["status"] == "quality_check"
    checked = inspector.ok("POST", path + "/quality-check", {"passed": True})
    assert checked["timeline"][-1]["note"] == f"quality check passed, checked by {inspector.subject}"
    advisor.ok("POST", path + "/delivery", {})
    invoice = until(lambda: advisor.get(path + "/invoice"), lambda r: r.status_code == 200).json()
    over = advisor.post(f"/invoices/{invoice['invoice_id']}/payments",
                        {"amount_cents": invoice["total_cents"] + 1, "method": "card"})
    assert "amount_cents" in error_fields(over, 422)
    assert "method" in error_fields(advisor.post(f"/invoices/{invoice['invoice_id']}/payments",
                                                 {"amount_cents": 100, "method": "cheque"}), 400)
    after = advisor.ok("GET", f"/invoices/{invoice['invoice_id']}")
    assert after["paid_cents"] == 0 and advisor.ok("GET", "/payments", invoice_id=invoice["invoice_id"])["items"] == []
