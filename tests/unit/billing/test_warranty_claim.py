import uuid
from datetime import UTC, datetime
from decimal import Decimal

from services.billing.domain import Invoice, WarrantyClaim

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def line(net_cents, pay_type, quantity="1.5"):
    return {"line_id": uuid.uuid4(), "kind": "labour", "group": "must", "description": "work",
            "part_number": None, "quantity": Decimal(quantity), "unit_price_cents": net_cents,
            "net_cents": net_cents, "pay_type": pay_type}


def invoice_of(*lines, refused=()):
    decisions = {str(line["line_id"]): {"eligible": line not in refused, "reason": "test"} for line in lines}
    return Invoice.issue(invoice_id=uuid.uuid4(), repair_order_id=uuid.uuid4(), branch_id="N1",
                         customer_id=uuid.uuid4(), lines=list(lines), tax_rate_bp=1900, now=NOW, warranty=decisions)


def test_the_claim_carries_the_warranty_lines_at_their_net_value():
    warranty_a, warranty_b = line(5000, "warranty"), line(1250, "warranty", quantity="0.5")
    invoice = invoice_of(line(10000, "customer"), warranty_a, line(700, "goodwill"), warranty_b)
    claim = WarrantyClaim.of(invoice, claim_id="c1")
    assert (claim.claim_id, claim.invoice_id, claim.repair_order_id, claim.branch_id) == (
        "c1", invoice.invoice_id, invoice.repair_order_id, "N1")
    assert claim.value_cents == 6250 and claim.status == "draft"
    assert [c["line_id"] for c in claim.lines] == [str(warranty_a["line_id"]), str(warranty_b["line_id"])]
    assert [c["quantity"] for c in claim.lines] == ["1.5", "0.5"]  # stored as JSON: exact decimals as text
    assert claim.lines[0]["charged_cents"] == 0  # the customer pays nothing for it


def test_an_invoice_without_warranty_lines_has_no_claim():
    assert WarrantyClaim.of(invoice_of(line(10000, "customer"), line(700, "internal")), claim_id="c1") is None
