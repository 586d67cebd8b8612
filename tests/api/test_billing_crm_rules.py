"""billing's and crm's rules through the gateway: who may open a complaint against whom, and what
an invoice accepts once it is paid."""
import uuid

from tests.support import fixtures
from tests.support.journey import Journey, until, vin

NOT_IN_SCOPE = {"error": {"code": "forbidden", "message": "not found in your scope", "fields": {}}}


def complaint(branch_id, customer_id, **more):
    return {"branch_id": branch_id, "customer_id": str(customer_id), "what_happened": "the car came back dirty",
            "category": "repair_quality", **more}


def repair_order_at(api, branch_id, slot_hours):
    """A repair order just opened at `branch_id`: customer, vehicle, booking, confirmation, check-in."""
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Complaint Probe"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(), "plate": "CP 1",
                                           "model": "Up"})
    request = fixtures.booking_request(branch_id, customer["customer_id"], vehicle["vehicle_id"],
                                       fixtures.next_slot(slot_hours))
    booking = until(lambda: api.post("/bookings", request), lambda r: r.status_code == 201,
                    what="the vehicle copy in booking", first_after=0).json()
    api.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")
    api.ok("POST", f"/bookings/{booking['booking_id']}/check-in",
           {"odometer_km": 1000, "fault_description": "rattle", "advisor": "sam"})
    ro = until(lambda: api.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"], bool,
               what="the repair order")[0]
    return customer, ro


def test_an_advisor_cannot_open_a_complaint_against_a_customer_of_another_branch(advisor, admin, world):
    far_customer = admin.ok("POST", "/customers", {"branch_id": world["far_branch"], "name": "Far Complainer"})
    foreign = advisor.post("/complaints", complaint(world["branch"], far_customer["customer_id"]))
    unknown = advisor.post("/complaints", complaint(world["branch"], uuid.uuid4()))
    assert foreign.status_code == unknown.status_code == 403, (foreign.text, unknown.text)
    assert foreign.json() == unknown.json() == NOT_IN_SCOPE
    assert admin.ok("GET", "/complaints", customer_id=far_customer["customer_id"])["items"] == []
    # an unscoped caller still learns that a customer does not exist
    assert admin.post("/complaints", complaint(world["branch"], uuid.uuid4())).status_code == 404


def test_a_complaint_is_opened_at_a_branch_the_caller_acts_for_not_necessarily_the_customers(
        advisor, admin, world):
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Travelling Complainer"})
    mine = advisor.ok("POST", "/complaints", complaint(world["branch"], customer["customer_id"], level=2),
                      status=201)
    assert (mine["branch_id"], mine["level"], mine["status"], mine["source"]) == (world["branch"], 2, "open", "staff")
    # the customer was served at another branch: the complaint is that branch's to handle
    there = admin.ok("POST", "/complaints", complaint(world["other_branch"], customer["customer_id"]), status=201)
    assert there["branch_id"] == world["other_branch"] and there["customer_id"] == customer["customer_id"]
    # but never at a branch the caller does not act for
    refused = advisor.post("/complaints", complaint(world["other_branch"], customer["customer_id"]))
    assert refused.status_code == 403


def test_a_repair_order_named_in_a_complaint_is_checked_against_the_callers_scope(advisor, admin, world):
    admin.ok("POST", "/stock/receipts", {"branch_id": world["far_branch"], "part_number": world["part"],
                                         "quantity": 1})
    _, far_ro = repair_order_at(admin, world["far_branch"], slot_hours=11)
    customer, own_ro = repair_order_at(advisor, world["branch"], slot_hours=12)
    near = complaint(world["branch"], customer["customer_id"], category="waiting_time")

    foreign = advisor.post("/complaints", {**near, "repair_order_id": far_ro["repair_order_id"]})
    unknown = advisor.post("/complaints", {**near, "repair_order_id": str(uuid.uuid4())})
    assert foreign.status_code == unknown.status_code == 403, (foreign.text, unknown.text)
    assert foreign.json() == unknown.json() == NOT_IN_SCOPE
    assert admin.ok("GET", "/complaints", customer_id=customer["customer_id"])["items"] == []

    opened = advisor.ok("POST", "/complaints", {**near, "repair_order_id": own_ro["repair_order_id"]}, status=201)
    assert opened["repair_order_id"] == own_ro["repair_order_id"]
    assert admin.post("/complaints", {**near, "repair_order_id": str(uuid.uuid4())}).status_code == 404


def test_a_paid_invoice_takes_no_further_payment_and_a_low_survey_score_opens_a_complaint(
        advisor, technician, inspector, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                    slot_start=fixtures.next_slot(13)).run()
    invoice = state["invoice"]
    again = advisor.post(f"/invoices/{invoice['invoice_id']}/payments", {"amount_cents": 1, "method": "cash"})
    assert again.status_code == 409 and again.json()["error"]["fields"] == {"amount_cents": ["nothing is owed"]}
    assert len(advisor.ok("GET", "/payments", invoice_id=invoice["invoice_id"])["items"]) == 1

    ro_id = state["ro"]["repair_order_id"]
    survey = advisor.ok("POST", "/surveys", {"repair_order_id": ro_id, "score": 4, "comment": "too slow"},
                        status=201)
    opened = advisor.ok("GET", f"/complaints/{survey['complaint_id']}")
    assert (opened["source"], opened["level"], opened["branch_id"], opened["repair_order_id"]) == (
        "survey", 1, world["branch"], ro_id)
    assert opened["what_happened"] == "survey score 4/10: too slow"
    assert advisor.post("/surveys", {"repair_order_id": ro_id, "score": 9}).status_code == 409
