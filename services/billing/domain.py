"""Billing rules, no I/O: what the customer pays for each line, tax, the balance."""
from decimal import ROUND_HALF_UP, Decimal

from shared import errors

PAYMENT_METHODS = ("cash", "card", "mobile")
CHARGED = "customer"  # only customer-pay lines are charged; warranty, internal, goodwill go elsewhere


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def invoice_lines(lines: list[dict]) -> list[dict]:
    """Each delivered line with what the customer is charged for it (zero for non-customer pay types)."""
    return [{**line, "charged_cents": line["net_cents"] if line["pay_type"] == CHARGED else 0} for line in lines]


def totals(lines: list[dict], tax_rate_bp: int) -> dict:
    """Subtotal of charged lines, tax on it (basis points, half up, once per invoice), total."""
    subtotal = sum(line["charged_cents"] for line in lines)
    tax = round_half_up(Decimal(subtotal) * tax_rate_bp / 10000)
    covered = sum(line["net_cents"] for line in lines if line["pay_type"] != CHARGED)
    return {"subtotal_cents": subtotal, "tax_cents": tax, "total_cents": subtotal + tax,
            "covered_cents": covered}


def apply_payment(total_cents: int, paid_cents: int, amount_cents: int) -> int:
    """The new paid amount; refuses a payment larger than what is still owed."""
    balance = total_cents - paid_cents
    if balance <= 0:
        raise errors.Conflict("the invoice is already paid", {"amount_cents": ["nothing is owed"]})
    if amount_cents > balance:
        raise errors.Unprocessable("the payment is larger than what is owed",
                                   {"amount_cents": [f"at most {balance}"]})
    return paid_cents + amount_cents
