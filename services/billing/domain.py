"""Billing's rules, no I/O: what the customer is charged for each delivered line, tax in integer
cents, payments against the balance, and the warranty claim the manufacturer is sent."""
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from shared.domain import Aggregate, RuleBroken, StateConflict

PAYMENT_METHODS = ("cash", "card", "mobile")
CHARGED = "customer"  # only customer-pay lines are charged; warranty, internal, goodwill go elsewhere
WARRANTY = "warranty"  # claimed from the manufacturer (domain.md s6)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stored(obj) -> dict:
    """A domain object's fields as store.py writes them (not the events it recorded)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "events"}


@dataclass
class Invoice(Aggregate):
    """What a delivered repair order costs the customer, and what has been paid of it."""

    invoice_id: object
    number: str
    repair_order_id: object
    branch_id: str
    customer_id: object
    tax_rate_bp: int
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    covered_cents: int
    issued_at: datetime
    status: str = "issued"
    paid_cents: int = 0
    paid_at: datetime | None = None
    lines: list = field(default_factory=list)

    @classmethod
    def issue(cls, *, invoice_id, number, repair_order_id, branch_id, customer_id, lines, tax_rate_bp,
              now) -> "Invoice":
        """The invoice of a delivered repair order's lines: each line charged by its pay type, tax
        (basis points) on the charged subtotal, rounded half up once per invoice."""
        charged = [{**line, "charged_cents": line["net_cents"] if line["pay_type"] == CHARGED else 0}
                   for line in lines]
        subtotal = sum(line["charged_cents"] for line in charged)
        tax = round_half_up(Decimal(subtotal) * tax_rate_bp / 10000)
        invoice = cls(invoice_id=invoice_id, number=number, repair_order_id=repair_order_id, branch_id=branch_id,
                      customer_id=customer_id, tax_rate_bp=tax_rate_bp, subtotal_cents=subtotal, tax_cents=tax,
                      total_cents=subtotal + tax,
                      covered_cents=sum(line["net_cents"] for line in charged if line["pay_type"] != CHARGED),
                      issued_at=now, lines=charged)
        invoice.record("invoice.issued", invoice_id=invoice_id, number=number, repair_order_id=repair_order_id,
                       customer_id=customer_id, subtotal_cents=invoice.subtotal_cents, tax_cents=tax,
                       total_cents=invoice.total_cents)
        return invoice

    @classmethod
    def from_row(cls, row: dict, lines=()) -> "Invoice":
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name not in ("events", "lines")},
                   lines=list(lines))

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents

    def record_payment(self, *, payment_id, amount_cents: int, method: str, reference: str = "", now) -> dict:
        """Take a payment towards the balance: the payment to store. Nothing may be paid on an
        invoice that owes nothing, nor more than it owes; the payment that settles it marks it paid."""
        balance = self.balance_cents
        if balance <= 0:
            raise StateConflict("the invoice is already paid", amount_cents="nothing is owed")
        if amount_cents > balance:
            raise RuleBroken("the payment is larger than what is owed", amount_cents=f"at most {balance}")
        self.paid_cents += amount_cents
        if self.paid_cents == self.total_cents:
            self.status, self.paid_at = "paid", now
            self.record("invoice.paid", invoice_id=self.invoice_id, repair_order_id=self.repair_order_id,
                        customer_id=self.customer_id, amount_cents=self.total_cents, paid_at=now)
        return {"payment_id": payment_id, "invoice_id": self.invoice_id, "branch_id": self.branch_id,
                "amount_cents": amount_cents, "method": method, "reference": reference}


@dataclass
class WarrantyClaim(Aggregate):
    """The warranty lines of an invoice, claimed from the manufacturer (domain.md s6); a draft until
    it is submitted."""

    claim_id: object
    repair_order_id: object
    invoice_id: object
    branch_id: str
    value_cents: int
    lines: list
    status: str = "draft"

    @classmethod
    def of(cls, invoice: Invoice, claim_id) -> "WarrantyClaim | None":
        """The claim for the invoice's warranty lines, at their net value; None when it has none."""
        warranty = [line for line in invoice.lines if line["pay_type"] == WARRANTY]
        if not warranty:
            return None
        return cls(claim_id=claim_id, repair_order_id=invoice.repair_order_id, invoice_id=invoice.invoice_id,
                   branch_id=invoice.branch_id, value_cents=sum(line["net_cents"] for line in warranty),
                   lines=[{k: str(v) if k in ("line_id", "quantity") else v for k, v in line.items()}
                          for line in warranty])  # kept as JSON: ids and decimal quantities as text
