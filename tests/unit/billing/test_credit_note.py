"""Credit notes within the complaint level's authority, never above the invoice; refunds of them."""
import uuid
from datetime import UTC, datetime

import pytest

from services.billing.domain import DEFAULT_AUTHORITY, CreditNote, Invoice, level_needed
from shared.domain import RuleBroken

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CUSTOMER = uuid.uuid4()


def invoice_row(total=100_000, credited=0):
    return {"invoice_id": uuid.uuid4(), "branch_id": "N1", "customer_id": CUSTOMER, "total_cents": total,
            "credited_cents": credited}


def complaint(level=1, customer_id=CUSTOMER):
    return {"complaint_id": uuid.uuid4(), "customer_id": customer_id, "level": level, "branch_id": "N1",
            "status": "open"}


def issue(amount, level=1, invoice=None, complaint_=None, limits=DEFAULT_AUTHORITY):
    return CreditNote.issue(credit_note_id=uuid.uuid4(), invoice=invoice or invoice_row(),
                            complaint=complaint_ if complaint_ is not None else complaint(level),
                            amount_cents=amount, kind="refund", reason="late", limits=limits, created_by="sam")


def test_a_credit_note_within_the_levels_authority_is_issued_and_numbered():
    note = issue(10_000, level=1)
    note.numbered("CN-N1-000001")
    [event] = note.events
    assert event.type == "credit_note.issued" and event.facts["amount_cents"] == 10_000
    assert event.facts["number"] == "CN-N1-000001" and event.facts["level"] == 1


def test_a_credit_note_above_the_levels_authority_is_refused_with_the_level_needed():
    with pytest.raises(RuleBroken) as refused:
        issue(10_001, level=1)
    assert refused.value.fields == {"amount_cents": ["level 1 may credit at most 10000; level 2 is needed"]}
    with pytest.raises(RuleBroken) as refused:
        issue(50_001, level=2)
    assert refused.value.fields == {"amount_cents": ["level 2 may credit at most 50000; level 3 is needed"]}


def test_level_3_may_credit_the_invoices_full_amount():
    assert issue(100_000, level=3).amount_cents == 100_000
    assert level_needed(100_000, DEFAULT_AUTHORITY, 100_000) == 3
    assert level_needed(100_001, DEFAULT_AUTHORITY, 100_000) is None


def test_a_credit_note_never_exceeds_the_invoice_less_earlier_credit_notes():
    with pytest.raises(RuleBroken) as refused:
        issue(30_001, level=3, invoice=invoice_row(total=100_000, credited=70_000))
    assert refused.value.fields == {"amount_cents": ["at most 30000"]}


def test_a_credit_note_for_a_complaint_billing_has_not_heard_of_is_refused():
    with pytest.raises(RuleBroken) as refused:
        CreditNote.issue(credit_note_id=uuid.uuid4(), invoice=invoice_row(), complaint=None, amount_cents=1,
                         kind="refund", reason="x", limits=DEFAULT_AUTHORITY, created_by="sam")
    assert "complaint_id" in refused.value.fields


def test_a_credit_note_for_another_customers_complaint_is_refused():
    with pytest.raises(RuleBroken):
        issue(100, complaint_=complaint(customer_id=uuid.uuid4()))


def paid_invoice(total=11_900):
    invoice = Invoice(invoice_id=uuid.uuid4(), number="INV-N1-000001", repair_order_id=uuid.uuid4(),
                      branch_id="N1", customer_id=CUSTOMER, tax_rate_bp=1900, subtotal_cents=10_000,
                      tax_cents=1_900, total_cents=total, covered_cents=0, issued_at=NOW)
    invoice.record_payment(payment_id="p", amount_cents=total, method="card", now=NOW)
    return invoice


def test_a_refund_is_a_negative_payment_against_the_credit_note():
    invoice = paid_invoice()
    note = issue(5_000, level=1, invoice={**invoice_row(), "total_cents": invoice.total_cents})
    invoice.credited_cents = 5_000
    payment = note.refund(invoice, payment_id="r1", amount_cents=3_000, method="card")
    assert payment["amount_cents"] == -3_000 and payment["credit_note_id"] == note.credit_note_id
    assert (note.refunded_cents, invoice.paid_cents, invoice.balance_cents) == (3_000, 8_900, -2_000)


def test_a_refund_above_the_credit_note_less_earlier_refunds_is_refused():
    invoice = paid_invoice()
    note = issue(5_000, level=1)
    invoice.credited_cents = 5_000
    note.refund(invoice, payment_id="r1", amount_cents=4_000, method="cash")
    with pytest.raises(RuleBroken) as refused:
        note.refund(invoice, payment_id="r2", amount_cents=1_001, method="cash")
    assert refused.value.fields == {"amount_cents": ["at most 1000"]}
    assert note.refunded_cents == 4_000


def test_a_credit_note_lowers_what_is_owed_on_an_unpaid_invoice():
    invoice = Invoice(invoice_id=uuid.uuid4(), number="INV-N1-000001", repair_order_id=uuid.uuid4(),
                      branch_id="N1", customer_id=CUSTOMER, tax_rate_bp=0, subtotal_cents=10_000,
                      tax_cents=0, total_cents=10_000, covered_cents=0, issued_at=NOW, credited_cents=2_500)
    with pytest.raises(RuleBroken):
        invoice.record_payment(payment_id="p", amount_cents=10_000, method="card", now=NOW)
    invoice.record_payment(payment_id="p", amount_cents=7_500, method="card", now=NOW)
    assert invoice.status == "paid"


def test_a_refund_never_makes_the_customer_owe_again():
    invoice = Invoice(invoice_id=uuid.uuid4(), number="INV-N1-000001", repair_order_id=uuid.uuid4(),
                      branch_id="N1", customer_id=CUSTOMER, tax_rate_bp=0, subtotal_cents=10_000,
                      tax_cents=0, total_cents=10_000, covered_cents=0, issued_at=NOW, credited_cents=2_000)
    invoice.record_payment(payment_id="p", amount_cents=8_000, method="card", now=NOW)  # paid what was left
    note = issue(2_000, level=1)
    with pytest.raises(RuleBroken) as refused:
        note.refund(invoice, payment_id="r", amount_cents=1, method="card")
    assert refused.value.fields == {"amount_cents": ["at most 0"]}
    assert invoice.balance_cents == 0 and note.refunded_cents == 0
