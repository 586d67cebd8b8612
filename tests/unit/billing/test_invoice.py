import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.billing.domain import Invoice, discount_allowed, installed_parts, spread
from shared.domain import RuleBroken, StateConflict

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


def line(net_cents, pay_type="customer", kind="labour", quantity="1"):
    return {"line_id": uuid.uuid4(), "kind": kind, "group": "must", "description": f"{kind} {net_cents}",
            "part_number": None, "quantity": Decimal(quantity), "unit_price_cents": net_cents,
            "net_cents": net_cents, "pay_type": pay_type}


def issued(*lines, tax_rate_bp=1900, approved=None, discounts=(), warranty=None):
    invoice = Invoice.issue(invoice_id=uuid.uuid4(), repair_order_id=uuid.uuid4(), branch_id="N1",
                            customer_id=uuid.uuid4(), lines=list(lines), tax_rate_bp=tax_rate_bp, now=NOW,
                            approved=approved, discounts=discounts, warranty=warranty)
    invoice.numbered("INV-N1-000001")
    return invoice


def approvals(*lines, **over):
    return {str(line["line_id"]): over.get(line["description"], line["net_cents"]) for line in lines}


def test_only_customer_pay_lines_are_charged():
    warranty = line(5000, "warranty")
    invoice = issued(line(10000), warranty, line(700, "internal"), line(300, "goodwill"),
                     warranty={str(warranty["line_id"]): {"eligible": True, "reason": "within oem terms"}})
    assert [l["charged_cents"] for l in invoice.lines] == [10000, 0, 0, 0]
    assert invoice.subtotal_cents == 10000
    assert invoice.covered_cents == 5000 + 700 + 300


def test_tax_is_rounded_half_up_per_line_and_the_invoices_tax_is_the_sum_of_the_lines():
    invoice = issued(line(14250), line(8900))  # 19 %: 27.075 -> 27.08 and 16.91 -> 16.91
    assert [l["tax_cents"] for l in invoice.lines] == [2708, 1691]
    assert (invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents) == (23150, 4399, 27549)
    assert issued(line(25), tax_rate_bp=1000).tax_cents == 3  # 2.5 cents: half up, not to even
    assert issued(line(25), line(25), tax_rate_bp=1000).tax_cents == 6  # 3 + 3, never re-rounded as 5
    assert issued(line(24), tax_rate_bp=1000).tax_cents == 2  # 2.4 cents: down
    assert issued(line(15), tax_rate_bp=1000).tax_cents == 2  # 1.5: half up, where half-even would give 2 too
    assert issued(line(35), tax_rate_bp=1000).tax_cents == 4  # 3.5: half up (half-even: 4)
    assert issued(line(45), tax_rate_bp=1000).tax_cents == 5  # 4.5: half up, where half-even gives 4
    assert issued(line(0)).tax_cents == 0


def test_an_invoice_line_not_approved_is_refused_and_one_above_its_approved_amount_is_capped():
    ok, over, unapproved = line(10000), line(15000), line(4000)
    invoice = issued(ok, over, unapproved, approved=approvals(ok, over, **{over["description"]: 12000}))
    assert [l["charged_cents"] for l in invoice.lines] == [10000, 12000, 0]
    assert invoice.lines[1]["billing_note"] == "capped at the approved 12000 cents (delivered 15000)"
    assert invoice.lines[2]["billing_note"] == "refused: not approved by the customer"
    assert invoice.subtotal_cents == 22000


def test_a_line_discount_and_an_order_discount_are_applied_at_issue_and_never_below_zero():
    a, b = line(10000), line(5000)
    invoice = issued(a, b, tax_rate_bp=1000, discounts=[
        {"line_id": a["line_id"], "percent_bp": 1000, "amount_cents": None},  # 10 % off a
        {"line_id": None, "percent_bp": None, "amount_cents": 1400}])  # 14.00 off the rest (9000 + 5000)
    assert [l["discount_cents"] for l in invoice.lines] == [1000 + 900, 500]
    assert [l["charged_cents"] for l in invoice.lines] == [8100, 4500]
    assert [l["tax_cents"] for l in invoice.lines] == [810, 450]
    assert (invoice.discount_cents, invoice.subtotal_cents) == (2400, 12600)
    free = issued(line(3000), discounts=[{"line_id": None, "percent_bp": None, "amount_cents": 99999}])
    assert (free.subtotal_cents, free.tax_cents, free.lines[0]["charged_cents"]) == (0, 0, 0)


def test_a_discount_on_a_line_the_customer_does_not_pay_takes_nothing():
    w = line(5000, "warranty")
    invoice = issued(w, line(1000), discounts=[{"line_id": w["line_id"], "percent_bp": None, "amount_cents": 700}])
    assert [l["discount_cents"] for l in invoice.lines] == [0, 0]


def test_an_order_discount_is_spread_over_the_lines_to_the_exact_cent():
    assert spread(100, [1, 1, 1]) == [34, 33, 33]
    assert spread(0, [5, 5]) == [0, 0] and spread(7, [0, 0]) == [0, 0]
    assert sum(spread(999, [333, 1, 7000])) == 999


def test_an_ineligible_warranty_line_is_charged_to_nobody_and_covered_by_nobody():
    w = line(5000, "warranty")
    invoice = issued(w, warranty={str(w["line_id"]): {"eligible": False, "reason": "excluded: water_damage"}})
    assert (invoice.lines[0]["charged_cents"], invoice.covered_cents) == (0, 0)
    assert (invoice.lines[0]["warranty_eligible"], invoice.lines[0]["warranty_reason"]) == (
        False, "excluded: water_damage")


def test_an_issued_invoice_keeps_its_number():
    invoice = issued(line(100))
    with pytest.raises(StateConflict):
        invoice.numbered("INV-N1-000002")
    assert invoice.number == "INV-N1-000001"


def test_issuing_records_invoice_issued_with_the_totals():
    invoice = issued(line(10000), line(2000, "warranty"))
    [event] = invoice.events
    assert (event.type, event.branch_id) == ("invoice.issued", "N1")
    assert event.facts == {"invoice_id": invoice.invoice_id, "number": "INV-N1-000001",
                           "repair_order_id": invoice.repair_order_id, "customer_id": invoice.customer_id,
                           "subtotal_cents": 10000, "tax_cents": 1900, "total_cents": 11900,
                           "discount_cents": 0}
    assert (invoice.status, invoice.paid_cents, invoice.issued_at) == ("issued", 0, NOW)


def test_a_part_payment_lowers_the_balance_and_leaves_the_invoice_issued():
    invoice = issued(line(10000))
    invoice.take_events()
    payment = invoice.record_payment(payment_id="p1", amount_cents=1900, method="card", now=NOW)
    assert payment == {"payment_id": "p1", "invoice_id": invoice.invoice_id, "branch_id": "N1",
                       "amount_cents": 1900, "method": "card", "reference": "", "credit_note_id": None}
    assert (invoice.paid_cents, invoice.balance_cents, invoice.status, invoice.paid_at) == (1900, 10000, "issued", None)
    assert invoice.events == []


def test_the_payment_that_settles_the_balance_marks_the_invoice_paid_and_records_invoice_paid():
    invoice = issued(line(10000))
    invoice.take_events()
    invoice.record_payment(payment_id="p1", amount_cents=1900, method="card", now=NOW)
    invoice.record_payment(payment_id="p2", amount_cents=10000, method="cash", now=LATER)
    assert (invoice.status, invoice.balance_cents, invoice.paid_at) == ("paid", 0, LATER)
    [event] = invoice.events
    assert event.type == "invoice.paid"
    assert event.facts == {"invoice_id": invoice.invoice_id, "repair_order_id": invoice.repair_order_id,
                           "customer_id": invoice.customer_id, "amount_cents": 11900, "paid_at": LATER}


def test_a_paid_invoice_takes_no_payment():
    invoice = issued(line(10000))
    invoice.record_payment(payment_id="p1", amount_cents=11900, method="card", now=NOW)
    with pytest.raises(StateConflict) as refused:
        invoice.record_payment(payment_id="p2", amount_cents=1, method="card", now=LATER)
    assert refused.value.fields == {"amount_cents": ["nothing is owed"]}
    assert invoice.paid_cents == 11900 and invoice.paid_at == NOW


def test_a_payment_larger_than_what_is_owed_is_refused_naming_the_most_allowed():
    invoice = issued(line(10000))
    invoice.record_payment(payment_id="p1", amount_cents=11000, method="card", now=NOW)
    with pytest.raises(RuleBroken) as refused:
        invoice.record_payment(payment_id="p2", amount_cents=901, method="cash", now=LATER)
    assert refused.value.message == "the payment is larger than what is owed"
    assert refused.value.fields == {"amount_cents": ["at most 900"]}
    assert (invoice.paid_cents, invoice.status) == (11000, "issued")


def test_an_invoice_is_rebuilt_from_its_stored_row():
    row = {"invoice_id": uuid.uuid4(), "number": "INV-N1-000002", "repair_order_id": uuid.uuid4(),
           "branch_id": "N1", "customer_id": uuid.uuid4(), "tax_rate_bp": 1900, "subtotal_cents": 100,
           "tax_cents": 19, "total_cents": 119, "covered_cents": 0, "issued_at": NOW, "status": "issued",
           "paid_cents": 100, "paid_at": None, "created_at": NOW,
           "discount_cents": 0, "credited_cents": 0}
    invoice = Invoice.from_row(row)
    assert invoice.balance_cents == 19 and invoice.events == []
    invoice.record_payment(payment_id="p", amount_cents=19, method="mobile", now=LATER)
    assert invoice.status == "paid"


def test_a_discount_is_recorded_only_before_the_invoice_is_issued():
    discount_allowed(False)
    with pytest.raises(StateConflict) as refused:
        discount_allowed(True)
    assert refused.value.fields == {"repair_order_id": ["already invoiced"]}


def test_every_approved_part_line_invoiced_registers_its_warranty_from_the_delivery_day():
    from datetime import date
    pads = {**line(8900, kind="part"), "part_number": "PAD-1", "origin": "oem"}
    wiper = {**line(900, "warranty", kind="part"), "part_number": "WIP-1", "warranty_months": 6}
    stray = {**line(500, kind="part"), "part_number": "STRAY-1"}
    invoice = issued(pads, wiper, stray, line(1000), approved=approvals(pads, wiper, line(1)))
    entries = installed_parts(invoice, "vehicle-1", date(2026, 1, 31))
    assert [(e["part_number"], e["terms"], e["installed_on"], e["ends_on"]) for e in entries] == [
        ("PAD-1", "oem", date(2026, 1, 31), date(2029, 1, 31)), ("WIP-1", "oem", date(2026, 1, 31), date(2026, 7, 31))]
    assert {e["vehicle_id"] for e in entries} == {"vehicle-1"}


def test_the_customer_sees_each_line_gross_as_the_invoice_will_charge_it():
    """Before the invoice: customer-pay lines at their net less the discounts so far, tax per line
    half up; a warranty line is charged to the customer at nothing. The invoice issued from the
    same lines and discounts charges the same amounts."""
    from services.billing.domain import customer_prices

    labour, part, warranty = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    lines = [{"line_id": labour, "description": "labour", "net_cents": 17850, "pay_type": "customer"},
             {"line_id": part, "description": "pads", "net_cents": 8905, "pay_type": "customer"},
             {"line_id": warranty, "description": "sensor", "net_cents": 4000, "pay_type": "warranty"}]
    discounts = [{"line_id": part, "percent_bp": 1000, "amount_cents": None}]
    priced = customer_prices(lines, 1900, discounts)
    by_id = {line["line_id"]: line for line in priced["lines"]}
    assert by_id[labour]["charged_cents"] == 17850 and by_id[labour]["tax_cents"] == 3392  # 3391.5 half up
    assert by_id[part]["charged_cents"] == 8905 - 891 and by_id[part]["gross_cents"] == 8014 + 1523  # 1522.66
    assert by_id[warranty]["gross_cents"] == 0
    assert priced["gross_cents"] == sum(line["gross_cents"] for line in priced["lines"])
    invoice = Invoice.issue(invoice_id=uuid.uuid4(), repair_order_id=uuid.uuid4(), branch_id="N1",
                            customer_id=uuid.uuid4(), lines=[{**line, "kind": "labour", "quantity": Decimal("1")}
                                                             for line in lines],
                            tax_rate_bp=1900, now=datetime.now(UTC), discounts=discounts)
    assert invoice.total_cents == priced["gross_cents"]
