"""What workshop takes and gives."""
from marshmallow import ValidationError, fields, validate, validates_schema

from services.workshop import domain
from shared.contracts.events import LINE_GROUPS, LINE_KINDS, PAY_TYPES
from shared.contracts.schemas import (ListQuery, PricedLine, StatusListQuery, Out, Strict, aware_datetime, boolean,
                                      decimal_quantity, money, status_filter, text)

QUOTE_STATUSES = ("open", "approved", "declined", "superseded", "withdrawn")  # quotes_status_check


class Finding(Strict):
    code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    description = text(required=True, max_length=1000)
    status = fields.String(required=True, validate=validate.OneOf(("red", "amber", "green")))


class Diagnosis(Strict):
    findings = fields.List(fields.Nested(Finding), required=True, validate=validate.Length(min=1, max=100))
    diagnosed_by = text(required=True, max_length=80)


class NewLine(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    group = fields.String(load_default="must", validate=validate.OneOf(LINE_GROUPS))
    description = text(required=True, max_length=500)
    part_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40))
    quantity = decimal_quantity(places=2, minimum="0.01", maximum="9999", required=True)  # numeric(10, 2)
    unit_price_cents = money(load_default=None, allow_none=True)
    pay_type = fields.String(load_default="customer", validate=validate.OneOf(PAY_TYPES))

    @validates_schema
    def a_part_names_its_number(self, data, **kwargs):
        if data.get("kind") == "part" and not data.get("part_number"):
            raise ValidationError("a part line needs its part number", "part_number")


class NewQuote(Strict):
    lines = fields.List(fields.Nested(NewLine), required=True, validate=validate.Length(min=1, max=200))


class Decision(Strict):
    line_id = fields.UUID(required=True)
    approved = boolean(required=True)


class Consent(Strict):
    method = fields.String(required=True, validate=validate.OneOf(domain.CONSENT_METHODS))
    by = text(required=True, max_length=120)


class Approval(Strict):
    quote_id = fields.UUID(required=True)
    decisions = fields.List(fields.Nested(Decision), required=True, validate=validate.Length(min=1, max=200))
    consent = fields.Nested(Consent, required=True)


class StartJob(Strict):
    technician_id = text(required=True, max_length=80)
    description = fields.String(load_default="", validate=validate.Length(max=500))


class FinishJob(Strict):
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class Hold(Strict):
    reason = fields.String(required=True, validate=validate.OneOf(domain.HOLD_REASONS))


class QualityCheck(Strict):
    checked_by = text(required=True, max_length=80)
    passed = boolean(required=True)
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class Delivery(Strict):
    delivered_by = text(required=True, max_length=80)


class Cancellation(Strict):
    reason = text(required=True, max_length=500)


class RepairOrderQuery(StatusListQuery):
    status = status_filter(domain.LIFE_CYCLE.statuses)
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()


class QuoteQuery(StatusListQuery):
    status = status_filter(QUOTE_STATUSES)
    repair_order_id = fields.UUID()


class JobQuery(ListQuery):
    repair_order_id = fields.UUID()
    technician_id = fields.String(validate=validate.Length(min=1, max=80))


class Line(PricedLine):
    group = fields.String()
    decision = fields.String(allow_none=True)


class Quote(Out):
    quote_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    status = fields.String()
    total_cents = fields.Integer()
    consent_method = fields.String(allow_none=True)
    consent_by = fields.String(allow_none=True)
    decided_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()
    lines = fields.List(fields.Nested(Line))


class Job(Out):
    job_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    technician_id = fields.String()
    description = fields.String()
    notes = fields.String()
    started_at = aware_datetime()
    finished_at = aware_datetime(allow_none=True)
    clocked_seconds = fields.Integer(allow_none=True)
    created_at = aware_datetime()


class Stage(Out):
    at = aware_datetime()
    status = fields.String()
    note = fields.String()


class FindingOut(Out):
    code = fields.String(allow_none=True)
    description = fields.String()
    status = fields.String()
    diagnosed_by = fields.String()
    at = aware_datetime()


class RepairOrder(Out):
    repair_order_id = fields.UUID()
    number = fields.String()
    branch_id = fields.String()
    booking_id = fields.UUID(allow_none=True)
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()
    plate = fields.String()
    priority = fields.String()
    fault_description = fields.String()
    odometer_km = fields.Integer(allow_none=True)
    status = fields.String()
    parts_status = fields.String()
    approved_total_cents = fields.Integer()
    delivered_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()
    updated_at = aware_datetime()
    quote = fields.Nested(Quote, allow_none=True)
    findings = fields.List(fields.Nested(FindingOut))
    jobs = fields.List(fields.Nested(Job))
    timeline = fields.List(fields.Nested(Stage))


class PublicLine(Out):
    description = fields.String()
    quantity = fields.Decimal(as_string=True)
    net_cents = fields.Integer()
    pay_type = fields.String()


class CustomerView(Out):
    """What a customer with the number and the plate may read: no staff notes, no other records."""
    number = fields.String()
    status = fields.String()
    stage = fields.String()
    timeline = fields.List(fields.Nested(Stage(only=("at", "status"))))
    approved_lines = fields.List(fields.Nested(PublicLine))
    approved_total_cents = fields.Integer()
