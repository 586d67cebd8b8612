"""Supplements through the gateway: a finding during the repair waits for the customer's approval
(order on hold, its work refused meanwhile), the +/- 20 % range, the invoice within what was
approved, and declined lines listed per customer and vehicle for later reminders."""
import uuid

from tests.api.test_workshop_rules import CONSENT, approved
from tests.support.journey import until

FINDING = {"findings": [{"description": "drive shaft boot torn, found with the arm off", "status": "red"}],
           "lines": [{"kind": "labour", "group": "must", "description": "replace drive shaft boot", "quantity": "2"}]}


def decide(advisor, ro, quote, approve):
    return advisor.post(f"/repair-orders/{ro}/approval", {
        "quote_id": quote["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": l["line_id"], "approved": approve} for l in quote["lines"]]})


def test_a_supplement_is_approved_before_its_work_and_the_invoice_stays_within_the_approved_amount(
        advisor, technician, colleague, inspector, world):
    tech, other = colleague(f"tech-s-{uuid.uuid4().hex[:6]}"), colleague(f"tech-o-{uuid.uuid4().hex[:6]}")
    ro = approved(advisor, technician, world, 70)  # 1 h labour approved
    before = advisor.ok("GET", f"/repair-orders/{ro}")["approved_total_cents"]
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)

    quote = tech.ok("POST", f"/repair-orders/{ro}/supplements", FINDING, status=201)

    assert quote["kind"] == "supplement" and quote["status"] == "open"
    total = quote["total_cents"]
    assert (quote["range_low_cents"], quote["range_high_cents"]) == (round(total * 0.8), round(total * 1.2))
    order = advisor.ok("GET", f"/repair-orders/{ro}")
    assert order["status"] == "on_hold" and order["jobs"][0]["pause_reason"] == "order on hold: approval"
    assert order["findings"][-1]["description"].startswith("drive shaft boot")
    view = advisor.session.get(f"{advisor.base}/self-service/repair-orders/{order['number']}",
                               params={"plate": order["plate"]}, headers={"Authorization": ""}).json()
    assert view["supplement"] == {"total_cents": total, "range_low_cents": quote["range_low_cents"],
                                  "range_high_cents": quote["range_high_cents"]}
    early = other.post(f"/repair-orders/{ro}/jobs", {})
    assert early.status_code == 409 and "quote_id" in early.json()["error"]["fields"], early.text
    assert advisor.post(f"/repair-orders/{ro}/resumption").status_code == 409
    twice = tech.post(f"/repair-orders/{ro}/supplements", FINDING)
    assert twice.status_code == 409, twice.text

    resumed = decide(advisor, ro, quote, True)

    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "in_progress" and resumed.json()["approved_total_cents"] == before + total
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/resumption")
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
    inspector.ok("POST", f"/repair-orders/{ro}/quality-check", {"passed": True})
    advisor.ok("POST", f"/repair-orders/{ro}/delivery", {})
    invoice = until(lambda: advisor.get(f"/repair-orders/{ro}/invoice"), lambda r: r.status_code == 200,
                    what="the invoice").json()
    assert invoice["subtotal_cents"] == before + total  # the quote and the approved supplement, no more


def test_a_declined_supplement_is_kept_and_listed_for_later_reminders(advisor, technician, colleague, world):
    tech = colleague(f"tech-d-{uuid.uuid4().hex[:6]}")
    ro = approved(advisor, technician, world, 71)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    quote = tech.ok("POST", f"/repair-orders/{ro}/supplements", FINDING, status=201)

    declined = decide(advisor, ro, quote, False)

    assert declined.status_code == 200 and declined.json()["status"] == "in_progress", declined.text
    order = declined.json()
    for key in ("vehicle_id", "customer_id"):
        lines = advisor.ok("GET", "/declined-lines", **{key: order[key]})
        assert [(l["description"], l["quote_kind"], l["number"]) for l in lines] == [
            ("replace drive shaft boot", "supplement", order["number"])], lines
    missing = advisor.get("/declined-lines")
    assert missing.status_code == 400 and "customer_id" in missing.json()["error"]["fields"]
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/resumption")
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
    not_now = tech.post(f"/repair-orders/{ro}/supplements", FINDING)  # the work is finished
    assert not_now.status_code == 409 and "status" in not_now.json()["error"]["fields"], not_now.text


def test_quote_options_are_alternatives_of_which_the_customer_approves_one(advisor, technician, world):
    from tests.api.test_workshop_rules import checked_in, diagnose

    ro = checked_in(advisor, world, 72)
    assert diagnose(technician, ro).status_code == 200
    issued = advisor.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "description": "pads only", "quantity": "1", "option": "basic"},
        {"kind": "labour", "description": "pads and discs", "quantity": "2", "option": "premium"}]})
    assert [l["option"] for l in issued["lines"]] == ["basic", "premium"]
    both = decide(advisor, ro, issued, True)
    assert both.status_code == 422 and "decisions" in both.json()["error"]["fields"], both.text
    one = advisor.post(f"/repair-orders/{ro}/approval", {
        "quote_id": issued["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": issued["lines"][0]["line_id"], "approved": False},
                      {"line_id": issued["lines"][1]["line_id"], "approved": True}]})
    assert one.status_code == 200 and one.json()["approved_total_cents"] == issued["lines"][1]["net_cents"]
    bad = advisor.post(f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "description": "x", "quantity": "1", "option": "gold"}]})
    assert bad.status_code == 400, bad.text
