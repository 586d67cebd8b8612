"""What workshop takes and gives, and the words it uses (services/workshop/domain.py imports them from here)."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.contracts.events import LINE_GROUPS, LINE_KINDS, PAY_TYPES
from shared.contracts.schemas import (ListQuery, PricedLine, StatusListQuery, Out, Strict, aware_datetime, boolean,
                                      decimal_quantity, money, status_filter, text)

QUOTE_STATUSES = ("open", "approved", "declined", "superseded", "withdrawn")  # quotes_status_check
# the repair order's life cycle in its order (services/workshop/domain.py LIFE_CYCLE; a unit test keeps them equal)
REPAIR_ORDER_STATUSES = ("checked_in", "diagnosed", "awaiting_approval", "approved", "waiting_for_parts",
                         "in_progress", "on_hold", "quality_check", "ready", "delivered", "closed", "cancelled")
HOLD_REASONS = ("parts", "approval", "sublet")
CONSENT_METHODS = ("signature", "recorded_verbal", "app", "online")  # online: on the customer's page
QUOTE_OPTIONS = ("basic", "standard", "premium")  # domain.md s3: a quote may offer alternatives
CHECK_KINDS = ("self", "peer", "road_test", "function_test")  # quality (domain.md s4)
# What the customer sees of each status, in their words ("closed" is the office's: paid or settled).
PUBLIC_STAGES = {
    "checked_in": "Checked in", "diagnosed": "Diagnosis done", "awaiting_approval": "Quote sent for your approval",
    "approved": "Work approved", "waiting_for_parts": "Waiting for parts", "in_progress": "Work in progress",
    "on_hold": "Work paused", "quality_check": "Quality check", "ready": "Ready for collection",
    "delivered": "Handed over", "closed": "Handed over", "cancelled": "Cancelled",
}


class Finding(Strict):
    code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    description = text(required=True, max_length=1000)
    status = fields.String(required=True, validate=validate.OneOf(("red", "amber", "green")))
    # a measurement and the standard value it is compared with, with their units ("2 mm", "3 mm")
    reading = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40))
    standard = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40))


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
    keep_for_customer = boolean(load_default=False)  # the replaced part is kept for the customer
    # a line of one of the quote's alternatives; the customer approves the lines of one option at most
    option = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(QUOTE_OPTIONS))

    @validates_schema
    def a_part_names_its_number(self, data, **kwargs):
        if data.get("kind") == "part" and not data.get("part_number"):
            raise ValidationError("a part line needs its part number", "part_number")
        if data.get("keep_for_customer") and data.get("kind") != "part":
            raise ValidationError("only a part line has a replaced part to keep", "keep_for_customer")


HOURS = validate.Range(min=0, max=1000)


class TimeRange(Strict):
    """Hours: the shortest, most likely and longest it may take (domain.md s2)."""
    shortest = fields.Float(required=True, validate=HOURS, allow_nan=False)
    likely = fields.Float(required=True, validate=HOURS, allow_nan=False)
    longest = fields.Float(required=True, validate=HOURS, allow_nan=False)

    @validates_schema
    def in_order(self, data, **kwargs):
        if not data.get("shortest", 0) <= data.get("likely", 0) <= data.get("longest", 0):
            raise ValidationError("shortest <= likely <= longest", "likely")


class Estimate(Strict):
    diagnosis = fields.Nested(TimeRange)
    parts = fields.Nested(TimeRange)
    labour = fields.Nested(TimeRange)

    @validates_schema
    def names_a_part(self, data, **kwargs):
        if not data:
            raise ValidationError("give diagnosis, parts or labour", "labour")


class NewQuote(Strict):
    lines = fields.List(fields.Nested(NewLine), required=True, validate=validate.Length(min=1, max=200))
    # optional: with it, the repair is promised for the likely time plus the branch's buffer
    estimate = fields.Nested(Estimate, load_default=None, allow_none=True)


class Supplement(Strict):
    """A finding during the repair and the priced lines it adds, for the customer's approval."""
    findings = fields.List(fields.Nested(Finding), required=True, validate=validate.Length(min=1, max=100))
    lines = fields.List(fields.Nested(NewLine), required=True, validate=validate.Length(min=1, max=200))
    diagnosed_by = text(required=True, max_length=80)


class DeclinedQuery(Strict):
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()
    branch_id = fields.String(validate=validate.Length(min=1, max=40))
    branch_ids = fields.List(fields.String(), load_default=None)  # set by the gateway from scope
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=200), load_default=50)

    @validates_schema
    def names_a_customer_or_vehicle(self, data, **kwargs):
        if not data.get("customer_id") and not data.get("vehicle_id"):
            raise ValidationError("give customer_id or vehicle_id", "customer_id")


class Decision(Strict):
    line_id = fields.UUID(required=True)
    approved = boolean(required=True)


class Consent(Strict):
    method = fields.String(required=True, validate=validate.OneOf(CONSENT_METHODS))
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


class PauseJob(Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=200))


class TechnicianTimeQuery(Strict):
    """A branch and a period of whole days (UTC), both ends included, at most a year."""

    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    from_ = fields.Date(required=True, data_key="from", attribute="from")
    to = fields.Date(required=True)

    @validates_schema
    def a_period_in_order(self, data, **kwargs):
        if data.get("from") and data.get("to"):
            if data["to"] < data["from"]:
                raise ValidationError("must be on or after from", "to")
            if (data["to"] - data["from"]).days > 366:
                raise ValidationError("a period is at most 366 days", "to")


class WorkshopSettingsChange(Strict):
    """The branch's workshop numbers to change; null puts one back to its default."""

    close_after_delivery_seconds = fields.Integer(strict=True, allow_none=True,
                                                  validate=validate.Range(min=0, max=90 * 86400))
    promise_buffer_pct = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=100))
    comeback_window_seconds = fields.Integer(strict=True, allow_none=True,
                                             validate=validate.Range(min=0, max=90 * 86400))
    progress_every_seconds = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=86400))
    delay_threshold_pct = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=100))


class WorkshopSettings(Out):
    branch_id = fields.String()
    close_after_delivery_seconds = fields.Integer()
    promise_buffer_pct = fields.Integer()
    comeback_window_seconds = fields.Integer()
    progress_every_seconds = fields.Integer()
    delay_threshold_pct = fields.Integer()


class FirstTimeFix(Out):
    branch_id = fields.String()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    delivered = fields.Integer()  # orders delivered in the period
    came_back = fields.Integer()  # of those, how many came back for the same fault within the window
    first_time_fix = fields.Float(allow_none=True)  # 1 - came_back / delivered


class Hold(Strict):
    reason = fields.String(required=True, validate=validate.OneOf(HOLD_REASONS))


class QualityCheck(Strict):
    checked_by = text(required=True, max_length=80)
    passed = boolean(required=True)
    notes = fields.String(load_default="", validate=validate.Length(max=2000))  # a failed check's reason
    kind = fields.String(load_default="peer", validate=validate.OneOf(CHECK_KINDS))
    # with a peer check: the road and function test results, when the work needs them and they were
    # not recorded before; left out, the peer checker's `passed` stands for them
    road_test = boolean(load_default=None, allow_none=True)
    function_test = boolean(load_default=None, allow_none=True)


class Delivery(Strict):
    delivered_by = text(required=True, max_length=80)


class Cancellation(Strict):
    reason = text(required=True, max_length=500)


class RepairOrderQuery(StatusListQuery):
    status = status_filter(REPAIR_ORDER_STATUSES)
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()
    open = fields.Boolean(metadata={"description": "true: still in the workshop (not delivered, closed or cancelled);"
                                            " false: those ended"})


class QuoteQuery(StatusListQuery):
    status = status_filter(QUOTE_STATUSES)
    repair_order_id = fields.UUID()


class JobQuery(ListQuery):
    repair_order_id = fields.UUID()
    technician_id = fields.String(validate=validate.Length(min=1, max=80))
    open = fields.Boolean(metadata={"description": "true: not finished (clocked on or paused); false: finished"})


class PartWarranty(Out):
    """A part line's warranty as quoted (parts catalogue): months, or km if sooner (null: no km limit)."""

    months = fields.Integer()
    km = fields.Integer(allow_none=True)


class Line(PricedLine):
    group = fields.String()
    decision = fields.String(allow_none=True)
    keep_for_customer = fields.Boolean()
    option = fields.String(allow_none=True)  # basic, standard or premium: alternatives
    # a part line's origin (oem | alternative) and warranty as quoted; null on other lines
    origin = fields.String(allow_none=True)
    warranty = fields.Nested(PartWarranty, allow_none=True)


class CheckOut(Out):
    kind = fields.String()
    checked_by = fields.String()
    passed = fields.Boolean()
    notes = fields.String()
    at = aware_datetime()


class Quote(Out):
    quote_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    status = fields.String()
    kind = fields.String()  # initial, or supplement (a finding during the repair)
    total_cents = fields.Integer()
    # a supplement's total -/+ 20 %: the range shown for risks found on disassembly (null otherwise)
    range_low_cents = fields.Integer(allow_none=True)
    range_high_cents = fields.Integer(allow_none=True)
    estimate = fields.Dict(allow_none=True)  # hours: {diagnosis|parts|labour: {shortest, likely, longest}}
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
    paused_at = aware_datetime(allow_none=True)
    paused_seconds = fields.Integer()
    pause_reason = fields.String(allow_none=True)
    created_at = aware_datetime()


class TimeFigures(Out):
    clocked_hours = fields.Float()
    billed_hours = fields.Float()
    available_hours = fields.Float(allow_none=True)
    efficiency = fields.Float(allow_none=True)
    productivity = fields.Float(allow_none=True)


class TechnicianFigures(TimeFigures):
    technician_id = fields.String()


class TechnicianTime(Out):
    """Efficiency (billed / clocked hours) and productivity (clocked / available hours) of a branch's
    technicians over a period; see services/workshop/technician_time.py for how billed hours are shared."""
    branch_id = fields.String()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    billed_hours_rule = fields.String()
    available_hours_source = fields.String()
    branch = fields.Nested(TimeFigures)
    technicians = fields.List(fields.Nested(TechnicianFigures))


class Stage(Out):
    at = aware_datetime()
    status = fields.String()
    note = fields.String()


class FindingOut(Out):
    code = fields.String(allow_none=True)
    description = fields.String()
    status = fields.String()
    reading = fields.String(allow_none=True)
    standard = fields.String(allow_none=True)
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
    closed_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()
    updated_at = aware_datetime()
    service_type = fields.String(allow_none=True)
    fault_family = fields.String(allow_none=True)  # for comebacks: services/workshop/domain.py fault_family
    case_owner = fields.String(allow_none=True)  # the advisor who checked the car in owns the case
    skill = fields.String(allow_none=True)  # the skill the booked work needs (booking's catalogue)
    # fuel_level_pct, charge_level_pct, damage [{note, photo_ref}], belongings, checked_in_at
    check_in_record = fields.Dict(allow_none=True)
    comeback_of = fields.UUID(allow_none=True)  # the earlier order this one repeats (a comeback)
    last_progress_at = aware_datetime(allow_none=True)  # when the customer last heard how it goes
    delayed_at = aware_datetime(allow_none=True)  # when the customer was told it runs late
    quote = fields.Nested(Quote, allow_none=True)
    findings = fields.List(fields.Nested(FindingOut))
    tests_required = fields.List(fields.String())  # road_test, function_test when the work needs them
    quality_checks = fields.List(fields.Nested(CheckOut))
    parts_kept_for_customer = fields.List(fields.Nested(Line(only=("line_id", "description", "part_number",
                                                                      "quantity"))))
    jobs = fields.List(fields.Nested(Job))
    timeline = fields.List(fields.Nested(Stage))


class DeclinedLine(PricedLine):
    group = fields.String()
    quote_id = fields.UUID()
    quote_kind = fields.String()
    decided_at = aware_datetime(allow_none=True)
    repair_order_id = fields.UUID()
    number = fields.String()
    branch_id = fields.String()
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()


class PublicSupplement(Out):
    total_cents = fields.Integer()
    range_low_cents = fields.Integer()
    range_high_cents = fields.Integer()


class PublicLine(Out):
    line_id = fields.UUID()
    description = fields.String()
    quantity = fields.Decimal(as_string=True)
    net_cents = fields.Integer()
    pay_type = fields.String()
    keep_for_customer = fields.Boolean()  # the replaced part is kept for the customer to see or take
    origin = fields.String(allow_none=True)  # a part line's origin and warranty as quoted
    warranty = fields.Nested(PartWarranty, allow_none=True)


class WaitingLine(Out):
    line_id = fields.UUID()
    kind = fields.String()
    group = fields.String()
    description = fields.String()
    quantity = fields.Decimal(as_string=True)
    net_cents = fields.Integer()
    pay_type = fields.String()


class WaitingQuote(Out):
    """The quote or supplement waiting for the customer's decision, line by line."""
    quote_id = fields.UUID()
    kind = fields.String()
    lines = fields.List(fields.Nested(WaitingLine))


class CustomerDecision(Strict):
    """The customer's own decision on their page: recorded as online consent, by the name they give."""
    quote_id = fields.UUID(required=True)
    decisions = fields.List(fields.Nested(Decision), required=True, validate=validate.Length(min=1, max=200))
    name = text(required=True, max_length=120)


class CustomerView(Out):
    """What a customer with the number and the plate may read: no staff notes, no other records.
    `repair_order_id` and `branch_id` are for the gateway, which leaves them out of its answer."""
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    promised_at = aware_datetime(allow_none=True)  # the repair promise's deadline, once the work is approved
    waiting = fields.Nested(WaitingQuote, allow_none=True)
    number = fields.String()
    status = fields.String()
    stage = fields.String()
    timeline = fields.List(fields.Nested(Stage(only=("at", "status"))))
    approved_lines = fields.List(fields.Nested(PublicLine))
    approved_total_cents = fields.Integer()
    supplement = fields.Nested(PublicSupplement, allow_none=True)  # awaiting the customer's approval
