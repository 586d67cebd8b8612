"""What billing takes and gives, and the words it uses (services/billing/domain.py imports them from here)."""
from datetime import date

from marshmallow import ValidationError, fields, validate, validates_schema

from shared.contracts.schemas import (
    ListQuery,
    Out,
    PricedLine,
    StatusListQuery,
    Strict,
    aware_datetime,
    int4,
    money,
    status_filter,
    text,
)

PAYMENT_METHODS = ("cash", "card", "mobile")
INVOICE_STATUSES = ("issued", "paid")  # invoices_status_check
# warranty eligibility (domain.md s6): what an inspection may find that refuses it
EXCLUSIONS = ("water_damage", "unauthorised_modification", "customer_supplied_part")
# months and km by what the part is; None: no km limit. A part's own catalogue terms win.
PERIODS = {"oem": (36, 50_000), "alternative": (12, 20_000), "wear": (6, None), "goodwill": (6, None)}
# the warranty claim's steps in order, and how it ends: ending -> the steps it may follow
CLAIM_STEPS = ("fault_reproduced", "eligibility_checked", "submitted", "parts_allocated", "accepted")
CLAIM_ENDINGS = {"rejected": ("submitted", "parts_allocated"), "paid": ("accepted",)}
# a WarrantyClaim (services/billing/domain.py): drafted at invoicing, then its five steps, then rejected or paid
CLAIM_STATUSES = ("draft", *CLAIM_STEPS, *CLAIM_ENDINGS)
CREDIT_KINDS = ("refund", "compensation")


class Payment(Strict):
    amount_cents = money(minimum=1, required=True)
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
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
    approved_cents = fields.Integer(allow_none=True)
    billing_note = fields.String(allow_none=True)
    discount_cents = fields.Integer()
    tax_cents = fields.Integer()
    warranty_eligible = fields.Boolean(allow_none=True)
    warranty_reason = fields.String(allow_none=True)


class PaymentOut(Out):
    payment_id = fields.UUID()
    invoice_id = fields.UUID()
    branch_id = fields.String()
    amount_cents = fields.Integer()
    method = fields.String()
    reference = fields.String()
    credit_note_id = fields.UUID(allow_none=True)
    created_at = aware_datetime()


class CreditNoteOut(Out):
    credit_note_id = fields.UUID()
    number = fields.String()
    invoice_id = fields.UUID()
    complaint_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    amount_cents = fields.Integer()
    refunded_cents = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    level = fields.Integer()
    created_by = fields.String()
    created_at = aware_datetime()


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
    discount_cents = fields.Integer()
    credited_cents = fields.Integer()
    balance_cents = fields.Function(lambda i: i["total_cents"] - i["credited_cents"] - i["paid_cents"])
    status = fields.String()
    issued_at = aware_datetime()
    paid_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()
    lines = fields.List(fields.Nested(InvoiceLine))
    credit_notes = fields.List(fields.Nested(CreditNoteOut))
    payments = fields.List(fields.Nested(PaymentOut))


class ClaimStepOut(Out):
    step = fields.String()
    by = fields.String()
    at = fields.String()
    reason = fields.String(allow_none=True)


class WarrantyClaim(Out):
    claim_id = fields.UUID()
    repair_order_id = fields.UUID()
    invoice_id = fields.UUID()
    branch_id = fields.String()
    status = fields.String()
    value_cents = fields.Integer()
    lines = fields.List(fields.Dict())
    steps = fields.List(fields.Nested(ClaimStepOut))
    step_needed = fields.String(allow_none=True)
    created_at = aware_datetime()


class Discount(Strict):
    """A discount on one line (line_id) or the whole order: a percentage in basis points or an amount."""
    line_id = fields.UUID(load_default=None, allow_none=True)
    percent_bp = int4(1, 10000, load_default=None, allow_none=True)
    amount_cents = money(minimum=1, load_default=None, allow_none=True)
    reason = text(120, required=True)
    created_by = text(80, load_default=None)

    @validates_schema
    def one_of_percent_or_amount(self, data, **kwargs):
        if (data.get("percent_bp") is None) == (data.get("amount_cents") is None):
            raise ValidationError("give either percent_bp or amount_cents", "percent_bp")


class DiscountOut(Out):
    discount_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    line_id = fields.UUID(allow_none=True)
    percent_bp = fields.Integer(allow_none=True)
    amount_cents = fields.Integer(allow_none=True)
    reason = fields.String()
    created_by = fields.String()
    created_at = aware_datetime()


class WarrantyCheck(Strict):
    """Decide a warranty line's eligibility now: the odometer today, and the install date and odometer
    when billing's register does not know them; exclusions found on inspection."""
    line_id = fields.UUID(required=True)
    odometer_km = int4(0, required=True)
    installed_on = fields.Date(load_default=None, allow_none=True,
                               validate=validate.Range(min=date(1900, 1, 1), max=date(2200, 1, 1)))
    installed_km = int4(0, load_default=None, allow_none=True)
    exclusions = fields.List(fields.String(validate=validate.OneOf(EXCLUSIONS)), load_default=list,
                             validate=validate.Length(max=3))
    decided_by = text(80, load_default=None)


class WarrantyCheckOut(Out):
    check_id = fields.UUID()
    repair_order_id = fields.UUID()
    line_id = fields.UUID()
    branch_id = fields.String()
    eligible = fields.Boolean()
    reason = fields.String()
    terms = fields.String()
    installed_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    odometer_km = fields.Integer(allow_none=True)
    exclusions = fields.List(fields.String())
    decided_by = fields.String()
    decided_at = aware_datetime()


class ClaimStep(Strict):
    step = fields.String(required=True, validate=validate.OneOf((*CLAIM_STEPS, *CLAIM_ENDINGS)))
    reason = text(500, load_default=None, allow_none=True)
    by = text(80, load_default=None)


class ClaimPacket(Out):
    claim_id = fields.UUID()
    branch_id = fields.String()
    repair_order_id = fields.UUID()
    repair_order_number = fields.String(allow_none=True)
    invoice_id = fields.UUID()
    invoice_number = fields.String(allow_none=True)
    vehicle_id = fields.UUID(allow_none=True)
    vin = fields.String(allow_none=True)
    plate = fields.String(allow_none=True)
    odometer_km = fields.Integer(allow_none=True)
    fault_codes = fields.List(fields.String())
    findings = fields.List(fields.Dict())
    parts = fields.List(fields.Dict())
    labour = fields.List(fields.Dict())
    clocked_seconds = fields.Integer()
    value_cents = fields.Integer()
    status = fields.String()


class NewCreditNote(Strict):
    invoice_id = fields.UUID(required=True)
    complaint_id = fields.UUID(required=True)
    amount_cents = money(minimum=1, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CREDIT_KINDS))
    reason = text(500, required=True)
    created_by = text(80, load_default=None)


class CreditNoteQuery(ListQuery):
    invoice_id = fields.UUID()
    complaint_id = fields.UUID()


class Refund(Strict):
    amount_cents = money(minimum=1, required=True)
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    reference = fields.String(load_default="", validate=validate.Length(max=120))


class AuthorityLevel(Strict):
    level = int4(1, 3, required=True)
    limit_cents = money(minimum=0, required=True, allow_none=True)


class CreditAuthority(Strict):
    levels = fields.List(fields.Nested(AuthorityLevel), required=True, validate=validate.Length(min=1, max=3))


class CreditAuthorityOut(Out):
    levels = fields.List(fields.Dict())
