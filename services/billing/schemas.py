"""What billing takes and gives."""
from marshmallow import fields, validate

from services.billing import domain
from shared.contracts.schemas import (ListQuery, Out, PricedLine, StatusListQuery, Strict, aware_datetime, money,
                                      status_filter)

INVOICE_STATUSES = ("issued", "paid")  # invoices_status_check
CLAIM_STATUSES = ("draft",)  # domain.WarrantyClaim: a claim is drafted for the manufacturer


class Payment(Strict):
    amount_cents = money(minimum=1, required=True)
    method = fields.String(required=True, validate=validate.OneOf(domain.PAYMENT_METHODS))
    reference = fields.String(load_default="", validate=validate.Length(max=120))


class InvoiceQuery(StatusListQuery):
    status = status_filter(INVOICE_STATUSES)
    customer_id = fields.UUID()
    repair_order_id = fields.UUID()


class PaymentQuery(ListQuery):
    invoice_id = fields.UUID()


class ClaimQuery(StatusListQuery):
    status = status_filter(CLAIM_STATUSES)
    repair_order_id = fields.UUID()


class InvoiceLine(PricedLine):
    charged_cents = fields.Integer()


class Invoice(Out):
    invoice_id = fields.UUID()
    number = fields.String()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    subtotal_cents = fields.Integer()
    tax_rate_bp = fields.Integer()
    tax_cents = fields.Integer()
    total_cents = fields.Integer()
    covered_cents = fields.Integer()
    paid_cents = fields.Integer()
    balance_cents = fields.Function(lambda i: i["total_cents"] - i["paid_cents"])
    status = fields.String()
    issued_at = aware_datetime()
    paid_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()
    lines = fields.List(fields.Nested(InvoiceLine))


class PaymentOut(Out):
    payment_id = fields.UUID()
    invoice_id = fields.UUID()
    branch_id = fields.String()
    amount_cents = fields.Integer()
    method = fields.String()
    reference = fields.String()
    created_at = aware_datetime()


class WarrantyClaim(Out):
    claim_id = fields.UUID()
    repair_order_id = fields.UUID()
    invoice_id = fields.UUID()
    branch_id = fields.String()
    status = fields.String()
    value_cents = fields.Integer()
    lines = fields.List(fields.Dict())
    created_at = aware_datetime()
