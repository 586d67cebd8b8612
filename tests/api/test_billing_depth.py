"""Billing in depth through the gateway: approvals, discounts, tax per line, gapless numbers
under parallel deliveries, warranty decisions and claims, credit notes within authority, refunds."""
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tests.support import fixtures
from tests.support.bus import EventRecorder, publish_event
from tests.support.gateway import Api
from tests.support.journey import until, vin

PRICE, RATE = 8900, 9500  # world's part price and the branch labour rate (tests/support/fixtures.py)


def quality_checked(api, tech, checker, branch_id, part, slot_hours, pay_types=("customer", "customer")):
    """A repair order at `branch_id` with a quote of labour 1.5 h and one part approved, work done and
    checked: ready to be delivered."""
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Billing Probe"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(), "plate": "BP 1",
                                           "model": "Golf"})
    booking = until(lambda: api.post("/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], fixtures.next_slot(slot_hours))),
        lambda r: r.status_code == 201, what="the vehicle copy in booking", first_after=0).json()
    api.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")
    api.ok("POST", f"/bookings/{booking['booking_id']}/check-in", {"odometer_km": 42000, "fault_description": "noise"})
    ro = until(lambda: api.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"], bool,
               what="the repair order")[0]
    ro_id = ro["repair_order_id"]
    api.ok("POST", f"/repair-orders/{ro_id}/diagnosis", {
        "findings": [{"code": "C1234", "description": "front pads at 2 mm", "status": "red"}]})
    quote = api.ok("POST", f"/repair-orders/{ro_id}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "replace pads", "quantity": "1.5",
         "pay_type": pay_types[0]},
        {"kind": "part", "group": "must", "description": "pads", "part_number": part, "quantity": "1",
         "pay_type": pay_types[1]}]})
    api.ok("POST", f"/repair-orders/{ro_id}/approval", {
        "quote_id": quote["quote_id"], "consent": {"method": "signature", "by": "Probe"},
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})
    until(lambda: api.ok("GET", f"/repair-orders/{ro_id}"), lambda r: r["parts_status"] in ("reserved", "short"),
          what="parts reserved")
    job = tech.ok("POST", f"/repair-orders/{ro_id}/jobs", {})
    tech.ok("POST", f"/repair-orders/{ro_id}/jobs/{job['job_id']}/finish", {})
    checker.ok("POST", f"/repair-orders/{ro_id}/quality-check", {"passed": True, "notes": "fine"})
    return {"customer": customer, "vehicle": vehicle, "ro": ro, "quote": quote}


def billing_knows(api, ro_id):
    """billing has kept the order's approval (its copy comes from workshop's events)."""
    until(lambda: api.get(f"/repair-orders/{ro_id}/discounts"), lambda r: r.status_code == 200,
          what="billing's copy of the repair order")


def invoice_of(api, ro_id):
    return until(lambda: api.get(f"/repair-orders/{ro_id}/invoice"), lambda r: r.status_code == 200,
                 what="the invoice").json()


def test_invoices_issued_concurrently_at_one_branch_are_numbered_1_to_n_without_gap_or_duplicate(
        gateway, admin, world):
    tag = uuid.uuid4().hex[:4].upper()
    branch = f"BIL-{tag}"  # in a region of its own: other tests count the world region's branches
    admin.ok("POST", "/branches", fixtures.branch(branch, region_id=f"BIL-R{tag}", bays=40), status=201)
    until(lambda: admin.post("/stock/receipts", {"branch_id": branch, "part_number": world["part"],
                                                 "quantity": 100}), lambda r: r.status_code == 201,
          what="parts to know the branch")
    until(lambda: admin.post("/customers", {"branch_id": branch, "name": "Branch Probe"}),
          lambda r: r.status_code == 201, what="crm to know the branch")
    checker = Api.as_role(gateway.url, "admin")  # the peer check: another person
    n = 30
    with ThreadPoolExecutor(6) as pool:
        orders = list(pool.map(lambda i: quality_checked(admin, admin.another(f"tech-{i}"), checker, branch, world["part"], 30), range(n)))
    ro_ids = [o["ro"]["repair_order_id"] for o in orders]
    with ThreadPoolExecutor(n) as pool:  # every delivery at once
        delivered = list(pool.map(lambda ro_id: admin.post(f"/repair-orders/{ro_id}/delivery", {}), ro_ids))
    assert [r.status_code for r in delivered] == [200] * n, [r.text for r in delivered if r.status_code != 200]
    numbers = sorted(invoice_of(admin, ro_id)["number"] for ro_id in ro_ids)
    assert numbers == [f"INV-{branch}-{i:06d}" for i in range(1, n + 1)]


def test_an_invoice_charges_the_approved_lines_with_the_discount_and_tax_rounded_per_line(
        advisor, technician, inspector, world):
    order = quality_checked(advisor, technician, inspector, world["branch"], world["part"], 31)
    ro_id = order["ro"]["repair_order_id"]
    billing_knows(advisor, ro_id)
    labour, _part = order["quote"]["lines"]
    line_discount = advisor.ok("POST", f"/repair-orders/{ro_id}/discounts", {
        "line_id": labour["line_id"], "percent_bp": 1000, "reason": "loyal customer"}, status=201)
    assert (line_discount["percent_bp"], line_discount["created_by"]) == (1000, advisor.subject)
    advisor.ok("POST", f"/repair-orders/{ro_id}/discounts", {"amount_cents": 1000, "reason": "waited long"},
               status=201)
    advisor.ok("POST", f"/repair-orders/{ro_id}/delivery", {})
    invoice = invoice_of(advisor, ro_id)
    labour_net, part_net = int(1.5 * RATE), PRICE  # 14250 and 8900
    after_line = labour_net - 1425  # 10 % off the labour line
    order_share = [round(1000 * after_line / (after_line + part_net)), None]
    order_share[1] = 1000 - order_share[0]
    charged = [after_line - order_share[0], part_net - order_share[1]]
    assert [l["charged_cents"] for l in invoice["lines"]] == charged
    assert [l["discount_cents"] for l in invoice["lines"]] == [1425 + order_share[0], order_share[1]]
    taxes = [int(c * 19 / 100 + 0.5) for c in charged]  # half up per line
    assert [l["tax_cents"] for l in invoice["lines"]] == taxes
    assert (invoice["subtotal_cents"], invoice["tax_cents"], invoice["total_cents"]) == (
        sum(charged), sum(taxes), sum(charged) + sum(taxes))
    assert invoice["discount_cents"] == 2425 and invoice["balance_cents"] == invoice["total_cents"]
    assert [l["approved_cents"] for l in invoice["lines"]] == [labour_net, part_net]
    # the issued invoice is never changed: no discount after issue
    late = advisor.post(f"/repair-orders/{ro_id}/discounts", {"amount_cents": 100, "reason": "too late"})
    assert late.status_code == 409, late.text


def test_hostile_billing_input_is_refused_with_field_messages(advisor, world):
    some_ro, some_invoice = str(uuid.uuid4()), str(uuid.uuid4())
    cases = [
        (f"/repair-orders/{some_ro}/discounts", {"amount_cents": -5, "reason": "x"}, "amount_cents"),
        (f"/repair-orders/{some_ro}/discounts", {"amount_cents": 5, "percent_bp": 10, "reason": "x"}, "percent_bp"),
        (f"/repair-orders/{some_ro}/discounts", {"percent_bp": 10001, "reason": "x"}, "percent_bp"),
        (f"/invoices/{some_invoice}/payments", {"amount_cents": 100, "method": "cheque"}, "method"),
        (f"/invoices/{some_invoice}/payments", {"amount_cents": -100, "method": "card"}, "amount_cents"),
        ("/credit-notes", {"invoice_id": some_invoice, "complaint_id": some_ro, "amount_cents": -1,
                           "kind": "refund", "reason": "x"}, "amount_cents"),
        ("/credit-notes", {"invoice_id": some_invoice, "complaint_id": some_ro, "amount_cents": 1,
                           "kind": "bribe", "reason": "x"}, "kind"),
        (f"/repair-orders/{some_ro}/warranty-checks", {"line_id": some_ro, "odometer_km": 1,
                                                        "exclusions": ["acts_of_god"]}, "exclusions"),
    ]
    for path, body, field in cases:
        answer = advisor.post(path, body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert field in answer.json()["error"]["fields"], (path, answer.text)


def test_a_warranty_line_is_decided_before_work_and_a_claim_goes_through_its_steps_in_order(
        advisor, technician, inspector, world):
    order = quality_checked(advisor, technician, inspector, world["branch"], world["part"], 32,
                            pay_types=("warranty", "warranty"))
    ro_id = order["ro"]["repair_order_id"]
    labour, part = order["quote"]["lines"]
    # decided on approval: billing's register has no fitting of this part on the vehicle
    automatic = until(lambda: advisor.ok("GET", f"/repair-orders/{ro_id}/warranty-checks"), lambda r: len(r) == 2,
                      what="the decisions on approval")
    assert {c["eligible"] for c in automatic} == {False}
    assert all(c["reason"].startswith("install date unknown") for c in automatic)
    installed = (date.today() - timedelta(days=400)).isoformat()
    water = advisor.ok("POST", f"/repair-orders/{ro_id}/warranty-checks", {
        "line_id": part["line_id"], "odometer_km": 42000, "installed_on": installed, "installed_km": 30000,
        "exclusions": ["water_damage"]}, status=201)
    assert (water["eligible"], water["reason"]) == (False, "excluded: water_damage")
    over_km = advisor.ok("POST", f"/repair-orders/{ro_id}/warranty-checks", {
        "line_id": part["line_id"], "odometer_km": 90001, "installed_on": installed, "installed_km": 40000},
        status=201)
    assert over_km["eligible"] is False and over_km["reason"].startswith("over 50000 km")
    for line in (labour, part):
        ok = advisor.ok("POST", f"/repair-orders/{ro_id}/warranty-checks", {
            "line_id": line["line_id"], "odometer_km": 42000, "installed_on": installed, "installed_km": 30000},
            status=201)
        assert ok["eligible"] is True and ok["terms"] == "oem" and ok["decided_by"] == advisor.subject
    advisor.ok("POST", f"/repair-orders/{ro_id}/delivery", {})
    invoice = invoice_of(advisor, ro_id)
    assert invoice["total_cents"] == 0 and invoice["covered_cents"] == int(1.5 * RATE) + PRICE
    assert [l["warranty_eligible"] for l in invoice["lines"]] == [True, True]
    claim = until(lambda: advisor.ok("GET", "/warranty-claims", repair_order_id=ro_id)["items"], bool,
                  what="the claim")[0]
    assert (claim["status"], claim["step_needed"]) == ("draft", "fault_reproduced")
    cid = claim["claim_id"]
    out_of_order = advisor.post(f"/warranty-claims/{cid}/steps", {"step": "submitted"})
    assert out_of_order.status_code == 409
    assert out_of_order.json()["error"]["fields"] == {"step": ["the step needed is fault_reproduced"]}
    for step in ("fault_reproduced", "eligibility_checked", "submitted", "parts_allocated", "accepted"):
        claim = advisor.ok("POST", f"/warranty-claims/{cid}/steps", {"step": step}, status=201)
    assert claim["status"] == "accepted" and [s["step"] for s in claim["steps"]][-1] == "accepted"
    assert advisor.post(f"/warranty-claims/{cid}/steps", {"step": "rejected", "reason": "x"}).status_code == 409
    packet = advisor.ok("GET", f"/warranty-claims/{cid}/packet")
    assert packet["vin"] == order["vehicle"]["vin"] and packet["repair_order_number"] == order["ro"]["number"]
    assert packet["fault_codes"] == ["C1234"] and packet["findings"][0]["description"] == "front pads at 2 mm"
    [fitted] = packet["parts"]
    assert (fitted["part_number"], fitted["description"], Decimal(fitted["quantity"]), fitted["net_cents"]) == (
        world["part"], "pads", 1, PRICE)
    assert [(l["operation"], Decimal(l["hours"])) for l in packet["labour"]] == [("replace pads", Decimal("1.5"))]
    assert packet["clocked_seconds"] >= 0 and packet["vehicle_id"] == order["vehicle"]["vehicle_id"]
    assert packet["odometer_km"] == 42000 and packet["invoice_number"] == invoice["number"]


def complaint_known(api, branch_id, customer_id, level):
    complaint = api.ok("POST", "/complaints", {"branch_id": branch_id, "customer_id": customer_id,
                                               "what_happened": "waited two hours", "category": "waiting_time",
                                               "level": level}, status=201)
    return complaint


def invoiced_with_complaint(api, tech, checker, world, slot_hours, level):
    """A delivered repair order's invoice, and a complaint of the customer's at `level`."""
    order = quality_checked(api, tech, checker, world["branch"], world["part"], slot_hours)
    api.ok("POST", f"/repair-orders/{order['ro']['repair_order_id']}/delivery", {})
    invoice = invoice_of(api, order["ro"]["repair_order_id"])
    return invoice, complaint_known(api, world["branch"], order["customer"]["customer_id"], level)


def credit_once_known(api, body):
    """POST /credit-notes once billing has the complaint's copy (it comes from crm's event)."""
    return until(lambda: api.post("/credit-notes", body),
                 lambda r: r.status_code != 422 or "complaint_id" not in r.json()["error"]["fields"],
                 what="billing's copy of the complaint")


def test_credit_notes_stay_within_the_complaint_levels_authority_and_the_invoice_and_refunds_within_them(
        advisor, technician, inspector, admin, world):
    order = quality_checked(advisor, technician, inspector, world["branch"], world["part"], 33)
    ro_id, customer_id = order["ro"]["repair_order_id"], order["customer"]["customer_id"]
    advisor.ok("POST", f"/repair-orders/{ro_id}/delivery", {})
    invoice = invoice_of(advisor, ro_id)
    total = invoice["total_cents"]
    advisor.ok("POST", f"/invoices/{invoice['invoice_id']}/payments", {"amount_cents": total, "method": "mobile"},
               status=201)
    unknown = advisor.post("/credit-notes", {"invoice_id": invoice["invoice_id"], "complaint_id": str(uuid.uuid4()),
                                             "amount_cents": 100, "kind": "refund", "reason": "sorry"})
    assert unknown.status_code == 422 and "complaint_id" in unknown.json()["error"]["fields"]
    level1 = complaint_known(advisor, world["branch"], customer_id, 1)
    body = {"invoice_id": invoice["invoice_id"], "complaint_id": level1["complaint_id"], "kind": "compensation",
            "reason": "lost time"}
    above = credit_once_known(advisor, {**body, "amount_cents": 10001})
    assert above.status_code == 422, above.text
    assert above.json()["error"]["fields"] == {"amount_cents": ["level 1 may credit at most 10000; level 2 is needed"]}
    within = advisor.ok("POST", "/credit-notes", {**body, "amount_cents": 10000}, status=201)
    assert within["number"].startswith(f"CN-{world['branch']}-") and within["level"] == 1
    level3 = complaint_known(advisor, world["branch"], customer_id, 3)
    body3 = {**body, "complaint_id": level3["complaint_id"], "kind": "refund"}
    too_much = credit_once_known(advisor, {**body3, "amount_cents": total - 10000 + 1})
    assert too_much.status_code == 422 and too_much.json()["error"]["fields"] == {
        "amount_cents": [f"at most {total - 10000}"]}
    # paid in full, then credited: the business owes the customer; a refund is a negative payment
    read = advisor.ok("GET", f"/invoices/{invoice['invoice_id']}")
    assert read["credited_cents"] == 10000 and read["balance_cents"] == -10000
    refunded = advisor.ok("POST", f"/credit-notes/{within['credit_note_id']}/refunds",
                          {"amount_cents": 4000, "method": "card"}, status=201)
    assert refunded["refunded_cents"] == 4000
    over = advisor.post(f"/credit-notes/{within['credit_note_id']}/refunds", {"amount_cents": 6001, "method": "card"})
    assert over.status_code == 422 and over.json()["error"]["fields"] == {"amount_cents": ["at most 6000"]}
    read = advisor.ok("GET", f"/invoices/{invoice['invoice_id']}")
    assert [p["amount_cents"] for p in read["payments"]] == [total, -4000]
    assert read["balance_cents"] == -6000
    assert read["payments"][1]["credit_note_id"] == within["credit_note_id"]
    assert [c["number"] for c in read["credit_notes"]] == [within["number"]]
    assert advisor.ok("GET", "/credit-notes", invoice_id=invoice["invoice_id"])["items"][0]["amount_cents"] == 10000


def put(api, path, body):
    return api.session.put(api.base + path, json=body, timeout=30)


def test_the_credit_authority_is_a_group_setting_only_an_admin_changes(advisor, admin):
    before = admin.ok("GET", "/credit-authority")
    assert [lv["level"] for lv in before["levels"]] == [1, 2, 3]
    assert put(advisor, "/credit-authority", {"levels": [{"level": 1, "limit_cents": 1}]}).status_code == 403
    changed = put(admin, "/credit-authority", {"levels": [{"level": 1, "limit_cents": 20000}]})
    assert changed.status_code == 200 and changed.json()["levels"][0]["limit_cents"] == 20000
    restored = put(admin, "/credit-authority", {"levels": [
        {"level": lv["level"], "limit_cents": lv["limit_cents"]} for lv in before["levels"]]}).json()
    assert restored["levels"] == before["levels"]
    bad = put(admin, "/credit-authority", {"levels": [{"level": 4, "limit_cents": 1}]})
    assert bad.status_code == 400


def event_line(net_cents, kind="labour", part_number=None, **more):
    return {"line_id": str(uuid.uuid4()), "kind": kind, "group": "must", "description": f"{kind} {net_cents}",
            "part_number": part_number, "quantity": "1", "unit_price_cents": net_cents, "net_cents": net_cents,
            "pay_type": "customer", **more}


def test_an_invoice_is_never_above_the_approved_amounts_and_a_fitted_parts_warranty_end_is_announced(
        advisor, world):
    """Events straight on the bus, as workshop would send them if it let more through: billing holds
    each line to what the customer approved, once it has the approvals the delivery names. The part it invoices joins the warranty register, whose
    timer announces warranty.ending a month before the end, once."""
    branch, ro_id, customer, vehicle = world["branch"], str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    approved_labour, approved_part = event_line(10000), event_line(5000, "part", "WIPER-1", warranty_months=1)
    with EventRecorder("warranty.ending") as recorder:
        publish_event("repair_order.opened", branch, repair_order_id=ro_id, number="RO-BIL-1", customer_id=customer,
                      vehicle_id=vehicle, priority="normal", plate="BIL 1")
        until(lambda: advisor.get(f"/repair-orders/{ro_id}/discounts"), lambda r: r.status_code in (200, 403),
              what="billing's copy", first_after=0.2)
        quote_id = str(uuid.uuid4())
        delivered = [{**approved_labour, "net_cents": 15000}, approved_part, event_line(3000)]
        # the delivery overtakes the approval (they travel on separate queues): billing waits for it
        publish_event("repair_order.delivered", branch, repair_order_id=ro_id, number="RO-BIL-1",
                      customer_id=customer, vehicle_id=vehicle, approved_quote_ids=[quote_id],
                      delivered_at=(datetime.now(UTC) - timedelta(days=10)).isoformat(), lines=delivered)
        time.sleep(0.3)
        assert advisor.get(f"/repair-orders/{ro_id}/invoice").status_code != 200  # not from half the facts
        publish_event("quote.approved", branch, repair_order_id=ro_id, quote_id=quote_id,
                      approved_lines=[approved_labour, approved_part], declined_line_ids=[],
                      approved_total_cents=15000)
        invoice = invoice_of(advisor, ro_id)
        assert [l["charged_cents"] for l in invoice["lines"]] == [10000, 5000, 0]
        assert [l["billing_note"] for l in invoice["lines"]] == [
            "capped at the approved 10000 cents (delivered 15000)", None, "refused: not approved by the customer"]
        assert invoice["subtotal_cents"] == 15000 and invoice["tax_cents"] == 1900 + 950
        ending = recorder.wait_for("warranty.ending", timeout=30, vehicle_id=vehicle)
        assert ending["customer_id"] == customer and ending["part_number"] == "WIPER-1"
        time.sleep(2.5)  # several timer rounds later: still one announcement
        while not recorder.received.empty():
            recorder.seen.append(recorder.received.get())
        assert [e for e in recorder.seen if e.get("vehicle_id") == vehicle] == [ending]


def test_an_escalated_complaint_carries_the_authority_of_its_new_level(advisor, technician, inspector, world):
    """billing keeps the complaint's level from crm's complaint.escalated: what level 1 was refused,
    level 2 may credit."""
    invoice, complaint = invoiced_with_complaint(advisor, technician, inspector, world, 34, 1)
    body = {"invoice_id": invoice["invoice_id"], "complaint_id": complaint["complaint_id"], "amount_cents": 20000,
            "kind": "compensation", "reason": "a day without the car"}
    refused = credit_once_known(advisor, body)
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == {"amount_cents": ["level 1 may credit at most 10000; level 2 is needed"]}
    escalated = advisor.ok("POST", f"/complaints/{complaint['complaint_id']}/escalations",
                           {"trigger": "customer_request"}, status=201)
    assert escalated["level"] == 2
    issued = until(lambda: advisor.post("/credit-notes", body), lambda r: r.status_code == 201,
                   what="billing's copy of the escalation").json()
    assert (issued["level"], issued["amount_cents"]) == (2, 20000)


def test_credit_notes_issued_at_once_on_one_invoice_never_exceed_it_and_take_consecutive_numbers(
        advisor, technician, inspector, world):
    invoice, complaint = invoiced_with_complaint(advisor, technician, inspector, world, 35, 3)
    body = {"invoice_id": invoice["invoice_id"], "complaint_id": complaint["complaint_id"], "amount_cents": 10000,
            "kind": "refund", "reason": "parallel"}
    probe = credit_once_known(advisor, {**body, "amount_cents": invoice["total_cents"] + 1})
    assert probe.status_code == 422  # known now, and above the invoice
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: advisor.post("/credit-notes", body), range(6)))
    accepted = [a.json() for a in answers if a.status_code == 201]
    assert len(accepted) == invoice["total_cents"] // 10000, [a.text for a in answers]
    assert {a.status_code for a in answers} <= {201, 422}
    numbers = sorted(int(a["number"].rsplit("-", 1)[1]) for a in accepted)
    assert numbers == list(range(numbers[0], numbers[0] + len(accepted)))
    read = advisor.ok("GET", f"/invoices/{invoice['invoice_id']}")
    assert read["credited_cents"] == 10000 * len(accepted) <= read["total_cents"]
