"""The after-sales journey through HTTP only, every service a real process; final state asserted everywhere."""
import re
import uuid
from datetime import date, datetime, timedelta, timezone

from tests.support import channels, fixtures
from tests.support.journey import Journey, expected_follow_up, until, vin

PART_PRICE = 8900  # the world's part (tests/support/fixtures.py); labour at 95.00 an hour


def test_the_whole_journey_over_http(advisor, technician, inspector, admin, world):
    before = advisor.ok("GET", f"/stock/{world['branch']}/{world['part']}")
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"]).run()
    ro_id = state["ro"]["repair_order_id"]

    ro = until(lambda: advisor.ok("GET", f"/repair-orders/{ro_id}"), lambda r: r["status"] == "closed",
               what="the paid repair order closed")  # closed once its invoice is paid
    assert [s["status"] for s in ro["timeline"]][-2:] == ["delivered", "closed"]
    assert ro["approved_total_cents"] == 14250 + 8900  # 1.5 h at 95.00 + the pads; wipers declined

    booking = advisor.ok("GET", f"/bookings/{state['booking']['booking_id']}")
    assert booking["status"] == "checked_in"

    after = advisor.ok("GET", f"/stock/{world['branch']}/{world['part']}")
    assert after["on_hand"] == before["on_hand"] - 1 and after["reserved"] == before["reserved"]
    reservations = advisor.ok("GET", "/reservations", repair_order_id=ro_id)["items"]
    assert [(r["part_number"], r["quantity"], r["status"]) for r in reservations] == [(world["part"], 1, "consumed")]

    invoice = advisor.ok("GET", f"/invoices/{state['invoice']['invoice_id']}")
    assert invoice["subtotal_cents"] == 23150
    assert invoice["tax_cents"] == 4399  # 19 % of 231.50, rounded half up
    assert invoice["total_cents"] == 27549
    assert invoice["status"] == "paid" and invoice["balance_cents"] == 0
    assert len(admin.ok("GET", "/invoices", repair_order_id=ro_id)["items"]) == 1

    follow_up = state["follow_up"]
    assert datetime.fromisoformat(follow_up["due_at"]) == expected_follow_up(state["delivered"]["delivered_at"])
    assert follow_up["status"] == "due"

    view = advisor.session.get(f"{advisor.base}/self-service/repair-orders/{ro['number']}",
                               params={"plate": state["plate"].lower()}, headers={"Authorization": ""})
    assert view.status_code == 200
    assert view.json()["stage"] == "Handed over" and "note" not in view.json()["timeline"][0]


def test_the_journey_runs_its_sla_clocks(advisor, technician, inspector, admin, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"]).run()
    ro_id, booking_id = state["ro"]["repair_order_id"], state["booking"]["booking_id"]

    def clock(service, policy, subject):
        [found] = admin.ok("GET", "/sla/clocks", service=service, policy=policy, subject_id=subject)["items"]
        return found

    assert clock("booking", "booking_first_response", booking_id)["outcome"] == "met"
    for policy in ("diagnosis", "repair_promise"):  # started and stopped by workshop's own events
        found = clock("workshop", policy, ro_id)
        assert found["state"] == "stopped" and found["outcome"] == "met", found
    follow_up = clock("crm", "follow_up", ro_id)  # started by workshop's delivery, in crm
    assert follow_up["state"] == "running" and follow_up["target_seconds"] == 72 * 3600
    admin.ok("POST", f"/follow-ups/{state['follow_up']['follow_up_id']}/completion", {"outcome": "reached"})
    from tests.support.infra import wait_for

    wait_for(lambda: clock("crm", "follow_up", ro_id)["outcome"] == "met", message="the follow-up clock to stop")


def test_a_warranty_line_a_supplement_and_a_low_survey_end_in_a_claim_a_complaint_and_a_credit_note(
        advisor, technician, inspector, admin, world):
    """The journey that goes wrong: a part under warranty, a finding during the repair, an unhappy
    customer. The manufacturer is claimed for the part, the customer pays for the rest, a low survey
    score opens a complaint, the customer asks for it to go higher, and compensation is credited within
    the escalated level's authority and refunded."""
    branch, a, t = world["branch"], advisor, technician
    levels = [{"level": 1, "limit_cents": 10000}, {"level": 2, "limit_cents": 50000}, {"level": 3, "limit_cents": None}]
    admin.session.put(admin.base + "/credit-authority", json={"levels": levels}, timeout=30).raise_for_status()
    mailbox = channels.start()["mailbox"]  # the real SMTP server crm sends to (started with the stack)

    def mail(subject):
        return until(lambda: [m for m in mailbox.to(email) if m["Subject"] == subject], bool,
                     what=f"the mail {subject!r}")[0]
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    customer = a.ok("POST", "/customers", {"branch_id": branch, "name": "Ada Warranty", "email": email})
    vehicle = a.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                         "plate": f"W {uuid.uuid4().hex[:5].upper()}", "model": "Golf"})
    booking = until(lambda: a.post("/bookings", fixtures.booking_request(
        branch, customer["customer_id"], vehicle["vehicle_id"], fixtures.next_slot(97))),
        lambda r: r.status_code == 201, what="the vehicle copy in booking", first_after=0).json()
    a.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")
    a.ok("POST", f"/bookings/{booking['booking_id']}/check-in", {"odometer_km": 42000,
                                                                 "fault_description": "pads squeal again"})
    ro = until(lambda: a.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"], bool,
               what="the repair order")[0]
    ro_id = ro["repair_order_id"]
    t.ok("POST", f"/repair-orders/{ro_id}/diagnosis", {
        "findings": [{"code": "C1234", "description": "front pads worn unevenly", "status": "red"}]})
    quote = a.ok("POST", f"/repair-orders/{ro_id}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "replace front pads", "quantity": "1.5"},
        {"kind": "part", "group": "must", "description": "front pads", "part_number": world["part"],
         "quantity": "1", "pay_type": "warranty"}]})
    labour, part = quote["lines"]
    quote_mail = mail(f"Diagnosis and quote ready ({ro['number']})").get_content()
    token = re.search(r"/customer/(\S+)", quote_mail).group(1)  # the signed link to read and approve it
    followed = a.session.get(f"{a.base}/customer/{token}", headers={"Authorization": ""})
    assert followed.status_code == 200 and followed.json()["number"] == ro["number"], followed.text
    assert a.session.get(f"{a.base}/customer/{token[:-2]}xx", headers={"Authorization": ""}).status_code == 404
    a.ok("POST", f"/repair-orders/{ro_id}/approval", {
        "quote_id": quote["quote_id"], "consent": {"method": "signature", "by": "Ada Warranty"},
        "decisions": [{"line_id": labour["line_id"], "approved": True},
                      {"line_id": part["line_id"], "approved": True}]})

    # decided before the work: billing's register knows no fitting, so the advisor gives the install
    automatic = until(lambda: a.ok("GET", f"/repair-orders/{ro_id}/warranty-checks"), bool,
                      what="the warranty decision on approval")
    assert [(c["line_id"], c["eligible"]) for c in automatic] == [(part["line_id"], False)]
    installed = (date.today() - timedelta(days=400)).isoformat()
    check = a.ok("POST", f"/repair-orders/{ro_id}/warranty-checks", {
        "line_id": part["line_id"], "odometer_km": 42000, "installed_on": installed, "installed_km": 30000},
        status=201)
    assert (check["eligible"], check["terms"]) == (True, "oem")

    until(lambda: a.ok("GET", f"/repair-orders/{ro_id}"), lambda r: r["parts_status"] in ("reserved", "short"),
          what="parts reserved")
    job = t.ok("POST", f"/repair-orders/{ro_id}/jobs", {}, status=201)
    supplement = t.ok("POST", f"/repair-orders/{ro_id}/supplements", {
        "findings": [{"description": "brake hose cracked, seen with the wheel off", "status": "red"}],
        "lines": [{"kind": "labour", "group": "must", "description": "replace brake hose", "quantity": "1"}]},
        status=201)
    a.ok("POST", f"/repair-orders/{ro_id}/approval", {
        "quote_id": supplement["quote_id"], "consent": {"method": "recorded_verbal", "by": "Ada Warranty"},
        "decisions": [{"line_id": supplement["lines"][0]["line_id"], "approved": True}]})
    t.ok("POST", f"/repair-orders/{ro_id}/jobs/{job['job_id']}/resumption")
    t.ok("POST", f"/repair-orders/{ro_id}/jobs/{job['job_id']}/finish", {})
    inspector.ok("POST", f"/repair-orders/{ro_id}/quality-check", {"passed": True, "notes": "road test fine"})
    a.ok("POST", f"/repair-orders/{ro_id}/delivery", {})

    invoice = until(lambda: a.get(f"/repair-orders/{ro_id}/invoice"), lambda r: r.status_code == 200,
                    what="the invoice").json()
    labour_cents, hose_cents = 14250, 9500  # 1.5 h and 1 h at 95.00
    assert invoice["covered_cents"] == PART_PRICE  # the pads, charged to the manufacturer
    assert invoice["subtotal_cents"] == labour_cents + hose_cents
    assert invoice["tax_cents"] == 2708 + 1805  # 19 % per line, half up: 2707.5 and 1805
    total = invoice["total_cents"]
    assert total == labour_cents + hose_cents + 2708 + 1805
    a.ok("POST", f"/invoices/{invoice['invoice_id']}/payments", {"amount_cents": 10000, "method": "cash"})
    paid = a.ok("POST", f"/invoices/{invoice['invoice_id']}/payments", {"amount_cents": total - 10000,
                                                                        "method": "card"})
    assert paid["status"] == "paid" and paid["balance_cents"] == 0

    claim = until(lambda: a.ok("GET", "/warranty-claims", repair_order_id=ro_id)["items"], bool,
                  what="the claim")[0]
    for step in ("fault_reproduced", "eligibility_checked", "submitted", "parts_allocated", "accepted", "paid"):
        claim = a.ok("POST", f"/warranty-claims/{claim['claim_id']}/steps", {"step": step}, status=201)
    assert claim["status"] == "paid" and claim["value_cents"] == PART_PRICE
    packet = a.ok("GET", f"/warranty-claims/{claim['claim_id']}/packet")
    assert (packet["vin"], packet["odometer_km"], packet["fault_codes"]) == (vehicle["vin"], 42000, ["C1234"])
    assert [p["part_number"] for p in packet["parts"]] == [world["part"]]

    # the survey at delivery, answered low: a complaint, escalated at the customer's request
    assert "1 to 10" in mail("How did we do?").get_content()
    invitation = until(lambda: a.ok("GET", "/surveys/invitations", repair_order_id=ro_id)["items"], bool,
                       what="the survey invitation")[0]
    survey = a.ok("POST", f"/surveys/{invitation['survey_id']}/answer",
                  {"score": 3, "comment": "a second visit for the same brakes"}, status=201)
    k = survey["complaint_id"]
    assert k is not None and a.ok("GET", f"/complaints/{k}")["level"] == 1
    credit = {"invoice_id": invoice["invoice_id"], "complaint_id": k, "kind": "compensation",
              "reason": "second visit for the same fault", "amount_cents": 15000}
    above_level_1 = until(lambda: a.post("/credit-notes", credit),
                          lambda r: r.status_code != 422 or "complaint_id" not in r.json()["error"]["fields"],
                          what="billing's copy of the complaint")
    assert above_level_1.status_code == 422
    assert above_level_1.json()["error"]["fields"] == {
        "amount_cents": ["level 1 may credit at most 10000; level 2 is needed"]}
    escalated = a.ok("POST", f"/complaints/{k}/escalations", {"trigger": "customer_request"}, status=201)
    assert escalated["level"] == 2
    a.ok("POST", f"/complaints/{k}/responses", {"note": "called Ada, sorry for the second visit"}, status=201)
    note = until(lambda: a.post("/credit-notes", credit), lambda r: r.status_code == 201,
                 what="the credit note once billing knows level 2").json()
    assert (note["level"], note["amount_cents"], note["complaint_id"]) == (2, 15000, k)
    refund = a.ok("POST", f"/credit-notes/{note['credit_note_id']}/refunds", {"amount_cents": 15000,
                                                                            "method": "card"}, status=201)
    assert refund["refunded_cents"] == 15000
    deadline = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    resolved = a.ok("POST", f"/complaints/{k}/resolution", {
        "measures": ["compensation of 150.00 refunded", "pads checked at the next service"],
        "deadline": deadline, "owner": a.subject})
    assert (resolved["status"], resolved["level"]) == ("resolved", 2)

    final = a.ok("GET", f"/invoices/{invoice['invoice_id']}")
    assert final["number"] == invoice["number"] and final["total_cents"] == total  # unchanged: corrected by note
    assert (final["credited_cents"], final["balance_cents"]) == (15000, 0)
    assert [(p["amount_cents"], p["method"]) for p in final["payments"]] == [
        (10000, "cash"), (total - 10000, "card"), (-15000, "card")]
    kinds = until(lambda: {e["kind"] for e in a.ok(
        "GET", f"/customers/{customer['customer_id']}/timeline", limit=200)["items"]},
        lambda k: {"visit", "repair_order", "invoice", "payment", "survey", "complaint", "credit_note",
                   "message"} <= k, what="the customer's timeline")
    assert "delivery" in kinds
