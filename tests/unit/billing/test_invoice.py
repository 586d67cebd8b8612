import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from services.billing.domain import Invoice
from shared.domain import RuleBroken, StateConflict

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)


def line(net_cents, pay_type="customer", kind="labour", quantity="1"):
    return {"line_id": uuid.uuid4(), "kind": kind, "group": "must", "description": f"{kind} {net_cents}",
            "part_number": None, "quantity": Decimal(quantity), "unit_price_cents": net_cents,
            "net_cents": net_cents, "pay_type": pay_type}


def issued(*lines, tax_rate_bp=1900):
    return Invoice.issue(invoice_id=uuid.uuid4(), number="INV-N1-000001", repair_order_id=uuid.uuid4(),
                         branch_id="N1", customer_id=uuid.uuid4(), lines=list(lines), tax_rate_bp=tax_rate_bp,
                         now=NOW)


def test_only_customer_pay_lines_are_charged():
    invoice = issued(line(10000), line(5000, "warranty"), line(700, "internal"), line(300, "goodwill"))
    assert [l["charged_cents"] for l in invoice.lines] == [10000, 0, 0, 0]
    assert invoice.subtotal_cents == 10000
    assert invoice.covered_cents == 5000 + 700 + 300


def test_tax_is_charged_on_the_subtotal_once_per_invoice_and_rounded_half_up_to_the_cent():
    invoice = issued(line(14250), line(8900))  # 19 % of 231.50 is 43.985
    assert (invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents) == (23150, 4399, 27549)
    assert issued(line(25), tax_rate_bp=1000).tax_cents == 3  # 2.5 cents: half up, not to even
    assert issued(line(25), line(25), tax_rate_bp=1000).tax_cents == 5  # per line it would be 3 + 3


def test_issuing_records_invoice_issued_with_the_totals():
    invoice = issued(line(10000), line(2000, "warranty"))
    [event] = invoice.events
    assert (event.type, event.branch_id) == ("invoice.issued", "N1")
    assert event.facts == {"invoice_id": invoice.invoice_id, "number": "INV-N1-000001",
                           "repair_order_id": invoice.repair_order_id, "customer_id": invoice.customer_id,
                           "subtotal_cents": 10000, "tax_cents": 1900, "total_cents": 11900}
    assert (invoice.status, invoice.paid_cents, invoice.issued_at) == ("issued", 0, NOW)


def test_a_part_payment_lowers_the_balance_and_leaves_the_invoice_issued():
    invoice = issued(line(10000))
    invoice.take_events()
    payment = invoice.record_payment(payment_id="p1", amount_cents=1900, method="card", now=NOW)
    assert payment == {"payment_id": "p1", "invoice_id": invoice.invoice_id, "branch_id": "N1",
                       "amount_cents": 1900, "method": "card", "reference": ""}
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
           "paid_cents": 100, "paid_at": None, "created_at": NOW}
    invoice = Invoice.from_row(row)
    assert invoice.balance_cents == 19 and invoice.events == []
    invoice.record_payment(payment_id="p", amount_cents=19, method="mobile", now=LATER)
    assert invoice.status == "paid"
