"""The event catalogue: every event pitlane publishes, who publishes it, and its payload schema.

This module is the contract between services and with integrators. Every payload carries the
envelope (`event_id`, `occurred_at`, `version`, `branch_id`, `source`) and the facts below.
A change that breaks consumers is a new `version`; adding an optional fact is not.
"""
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import EXCLUDE, ValidationError, fields, validate

from shared.contracts import errors
from shared.contracts.fastschema import NotPlanned, Schema

ANY_SOURCE = "*"


class Envelope(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    occurred_at = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    branch_id = fields.String(required=True, validate=validate.Length(min=1))
    source = fields.String(required=True)


PAY_TYPES = ("customer", "warranty", "internal", "goodwill")
LINE_KINDS = ("labour", "part", "consumable")
LINE_GROUPS = ("must", "recommended", "watch")


class QuoteLine(Schema):
    class Meta:
        unknown = EXCLUDE  # consumers ignore facts added in later minor versions

    line_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    group = fields.String(required=True, validate=validate.OneOf(LINE_GROUPS))
    description = fields.String(required=True)
    part_number = fields.String(allow_none=True, load_default=None)
    quantity = fields.Decimal(required=True, as_string=True)
    unit_price_cents = fields.Integer(required=True)
    net_cents = fields.Integer(required=True)
    pay_type = fields.String(required=True, validate=validate.OneOf(PAY_TYPES))
    # (billing's warranty decisions; optional: older events and non-part lines lack them)
    origin = fields.String(allow_none=True, load_default=None)  # oem, alternative... (parts catalogue)
    warranty_months = fields.Integer(allow_none=True, load_default=None)
    warranty_km = fields.Integer(allow_none=True, load_default=None)
    wear_part = fields.Boolean(allow_none=True, load_default=None)


class PartQuantity(Schema):
    class Meta:
        unknown = EXCLUDE  # consumers ignore facts added in later minor versions

    part_number = fields.String(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))


class ShortSubstitute(Schema):
    """An approved substitute of a short part, with what the branch has of it and how it differs."""

    class Meta:
        unknown = EXCLUDE  # consumers ignore facts added in later minor versions

    part_number = fields.String(required=True)
    available = fields.Integer(required=True)
    differences = fields.String(required=True)


class PartShortage(Schema):
    class Meta:
        unknown = EXCLUDE  # consumers ignore facts added in later minor versions

    part_number = fields.String(required=True)
    requested = fields.Integer(required=True)
    available = fields.Integer(required=True)
    # catalogue: approved substitutes the branch has enough of to fit instead (none in older events)
    substitutes = fields.List(fields.Nested(ShortSubstitute), load_default=list)


class SiteShelf(Schema):
    class Meta:
        unknown = EXCLUDE  # consumers ignore facts added in later minor versions

    branch_id = fields.String(required=True)
    region_id = fields.String(allow_none=True, load_default=None)
    part_number = fields.String(required=True)
    available = fields.Integer(required=True)
    safety_stock = fields.Integer(allow_none=True, load_default=None)


class SiteCompliance(Schema):
    class Meta:
        unknown = EXCLUDE  # consumers ignore facts added in later minor versions

    policy = fields.String(required=True)
    branch_id = fields.String(required=True)
    region_id = fields.String(allow_none=True, load_default=None)
    met = fields.Integer(required=True)
    breached = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    open = fields.Integer(required=True)


class Finding(Schema):
    class Meta:
        unknown = EXCLUDE  # consumers ignore facts added in later minor versions

    code = fields.String(load_default=None, allow_none=True)
    description = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("red", "amber", "green")))
    reading = fields.String(load_default=None, allow_none=True)  # a measurement, with its unit
    standard = fields.String(load_default=None, allow_none=True)  # the value it is compared with


def _facts(**declared):
    return Schema.from_dict(declared)


@dataclass(frozen=True)
class EventSpec:
    name: str
    source: str
    facts: type
    version: int = 1
    description: str = ""

    def schema(self) -> Schema:
        return type(f"{self.facts.__name__}Event", (Envelope, self.facts), {})()


_CATALOGUE = [
    # booking: branches, appointments, arrivals
    EventSpec("branch.configured", "booking", _facts(
        region_id=fields.String(required=True), name=fields.String(required=True),
        timezone=fields.String(required=True), business_hours=fields.Dict(required=True),
        holidays=fields.List(fields.Date(), required=True),
        labour_rate_cents=fields.Integer(required=True), tax_rate_bp=fields.Integer(required=True),
        bays=fields.Integer(required=True), slot_minutes=fields.Integer(required=True),
        currency=fields.String(load_default="EUR"),
    ), description="A branch was set up or its settings changed; every service keeps a copy."),
    EventSpec("booking.created", "booking", _facts(
        booking_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vehicle_id=fields.UUID(required=True), slot_start=fields.AwareDateTime(required=True),
        slot_end=fields.AwareDateTime(required=True), service_type=fields.String(required=True),
        priority=fields.String(required=True), channel=fields.String(required=True),
        requested_at=fields.AwareDateTime(required=True),
        extras=fields.List(fields.String(), load_default=list),  # loaner_car, pickup, delivery held with the slot
    ), description="A customer asked for an appointment and a slot was held for it."),
    EventSpec("booking.confirmed", "booking", _facts(
        booking_id=fields.UUID(required=True), slot_start=fields.AwareDateTime(required=True),
    )),
    EventSpec("booking.rescheduled", "booking", _facts(
        booking_id=fields.UUID(required=True), previous_slot_start=fields.AwareDateTime(required=True),
        slot_start=fields.AwareDateTime(required=True),
        reason=fields.String(load_default=None, allow_none=True),  # a move the branch made says why
    )),
    EventSpec("booking.displaced", "booking", _facts(
        booking_id=fields.UUID(required=True), previous_slot_start=fields.AwareDateTime(required=True),
        slot_start=fields.AwareDateTime(required=True), reason=fields.String(required=True),
        displaced_by=fields.UUID(required=True),
        alternatives=fields.List(fields.Dict(), required=True),
    ), description="Cosmetic work was moved to another slot to make room for safety-critical work; the"
                   " customer may pick one of the alternatives instead."),
    EventSpec("booking.reschedule_requested", "booking", _facts(
        booking_id=fields.UUID(required=True), slot_start=fields.AwareDateTime(required=True),
        note=fields.String(required=True), requested_at=fields.AwareDateTime(required=True),
    ), description="The customer asked to move the booking; the branch owes 2 to 3 alternatives."),
    EventSpec("booking.reschedule_offered", "booking", _facts(
        booking_id=fields.UUID(required=True), alternatives=fields.List(fields.Dict(), required=True),
        offered_at=fields.AwareDateTime(required=True),
    ), description="The branch offered alternatives ({slot_start, slot_end, part_of_day}); the customer picks one."),
    EventSpec("booking.reminder_due", "booking", _facts(
        booking_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vehicle_id=fields.UUID(required=True), slot_start=fields.AwareDateTime(required=True),
        slot_end=fields.AwareDateTime(required=True), service_type=fields.String(required=True),
    ), description="The visit is less than a day away: remind the customer (once per booking)."),
    EventSpec("booking.no_show", "booking", _facts(
        booking_id=fields.UUID(required=True), slot_start=fields.AwareDateTime(required=True),
    ), description="A confirmed customer did not arrive within 30 minutes of the slot's start; the slot is freed."),
    EventSpec("booking.waiting_apology", "booking", _facts(
        booking_id=fields.UUID(load_default=None, allow_none=True),
        walk_in_id=fields.UUID(load_default=None, allow_none=True),
        customer_id=fields.UUID(required=True), promised_at=fields.AwareDateTime(required=True),
        minutes_late=fields.Integer(required=True), reason=fields.String(required=True),
        apology_number=fields.Integer(required=True),
    ), description="A customer waiting at the branch is 15 minutes past the promised time (then every 30 more):"
                   " apologise with the reason. booking_id for a booked customer, walk_in_id for a walk-in."),
    EventSpec("walk_in.arrived", "booking", _facts(
        walk_in_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vehicle_id=fields.UUID(required=True), service_type=fields.String(required=True),
        priority=fields.String(required=True), arrived_at=fields.AwareDateTime(required=True),
    ), description="A car came without an appointment and joined the branch's walk-in queue."),
    EventSpec("booking.cancelled", "booking", _facts(
        booking_id=fields.UUID(required=True), reason=fields.String(required=True),
    )),
    EventSpec("booking.checked_in", "booking", _facts(
        booking_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vehicle_id=fields.UUID(required=True), priority=fields.String(required=True),
        service_type=fields.String(required=True), odometer_km=fields.Integer(required=True),
        fault_description=fields.String(required=True), checked_in_at=fields.AwareDateTime(required=True),
        advisor=fields.String(required=True), plate=fields.String(required=True),
        # the check-in record and the work the service type needs (optional: older events lack them)
        fuel_level_pct=fields.Integer(load_default=None, allow_none=True),
        charge_level_pct=fields.Integer(load_default=None, allow_none=True),
        damage=fields.List(fields.Dict(), load_default=list),
        belongings=fields.List(fields.String(), load_default=list),
        skill=fields.String(load_default=None, allow_none=True),
        estimated_hours=fields.Float(load_default=None, allow_none=True),
    ), description="The car arrived and was received; the workshop opens a repair order."),
    EventSpec("booking.arrived", "booking", _facts(
        booking_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vehicle_id=fields.UUID(required=True), slot_start=fields.AwareDateTime(required=True),
        arrived_at=fields.AwareDateTime(required=True),
    ), description="The customer is at the desk with the car; the reception clock runs until check-in."),
    # crm: customers and vehicles, follow-ups
    EventSpec("customer.registered", "crm", _facts(
        customer_id=fields.UUID(required=True), name=fields.String(required=True),
    )),
    EventSpec("vehicle.registered", "crm", _facts(
        vehicle_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vin=fields.String(required=True), plate=fields.String(required=True),
        model=fields.String(required=True),
    )),
    EventSpec("follow_up.scheduled", "crm", _facts(
        follow_up_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), due_at=fields.AwareDateTime(required=True),
        kind=fields.String(allow_none=True, load_default=None),  # after_72h, major_7d, ...
    )),
    EventSpec("follow_up.completed", "crm", _facts(
        follow_up_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        outcome=fields.String(required=True),
    )),
    EventSpec("survey.answered", "crm", _facts(
        survey_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), score=fields.Integer(required=True),
    )),
    EventSpec("complaint.opened", "crm", _facts(
        complaint_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        repair_order_id=fields.UUID(allow_none=True, load_default=None),
        category=fields.String(required=True), severity=fields.String(required=True),
        level=fields.Integer(required=True),
        # (optional: older events lack them)
        complaint_source=fields.String(allow_none=True, load_default=None),  # staff, survey, comeback, social_media...
        vehicle_id=fields.UUID(allow_none=True, load_default=None),
        matter=fields.String(allow_none=True, load_default=None),
        owner=fields.String(allow_none=True, load_default=None),
        trigger=fields.String(allow_none=True, load_default=None),
        # the complaint's SLA targets (seconds from opening; policies complaint_first_response, _resolution)
        response_target_seconds=fields.Integer(allow_none=True, load_default=None),
        resolution_target_seconds=fields.Integer(allow_none=True, load_default=None),
    ), description="A complaint was recorded (by staff, from a low survey score, a follow-up or a comeback);"
                   " its first-response and resolution clocks start. Level 1/2/3."),
    EventSpec("complaint.escalated", "crm", _facts(
        complaint_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        level=fields.Integer(required=True), from_level=fields.Integer(required=True),
        trigger=fields.String(required=True),
        response_target_seconds=fields.Integer(allow_none=True, load_default=None),
        resolution_target_seconds=fields.Integer(allow_none=True, load_default=None),
    ), description="The complaint went up a level (trigger: repeat_problem, several_departments,"
                   " customer_request, safety, media, legal_threat, vip, third_on_same_matter, regulator);"
                   " the first response is now due within 30 minutes."),
    EventSpec("complaint.responded", "crm", _facts(
        complaint_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        level=fields.Integer(required=True),
        responded_by=fields.String(allow_none=True, load_default=None),
        responded_at=fields.AwareDateTime(allow_none=True, load_default=None),
    ), description="Someone answered the customer on the complaint (the first one stops the response clock)."),
    EventSpec("complaint.resolved", "crm", _facts(
        complaint_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        level=fields.Integer(required=True), measures=fields.List(fields.String(), required=True),
        deadline=fields.AwareDateTime(required=True), owner=fields.String(required=True),
        repair_order_id=fields.UUID(allow_none=True, load_default=None),
    ), description="The complaint was resolved with measures, a deadline for them and their owner."),
    EventSpec("complaint.reopened", "crm", _facts(
        complaint_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        level=fields.Integer(required=True),
        reason=fields.String(allow_none=True, load_default=None),
        resolution_target_seconds=fields.Integer(allow_none=True, load_default=None),  # the level's deadline
    ), description="A resolved complaint was reopened; it is open again at its level."),
    EventSpec("survey.invited", "crm", _facts(
        survey_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), number=fields.String(allow_none=True, load_default=None),
        reminder=fields.Boolean(required=True),
    ), description="Ask the customer for a score 1-10 and a comment: at delivery (reminder false) and once"
                   " more if still unanswered after the branch's reminder delay (default 48 h, reminder true)."),
    EventSpec("follow_up.due", "crm", _facts(
        follow_up_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), kind=fields.String(required=True),
        due_at=fields.AwareDateTime(required=True),
    ), description="A follow-up's window opened (kind: after_72h, major_7d, major_30d, first_1m, first_3m):"
                   " contact the customer."),
    EventSpec("follow_up.booking_requested", "crm", _facts(
        follow_up_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), vehicle_id=fields.UUID(allow_none=True, load_default=None),
        note=fields.String(required=True),
    ), description="A follow-up found an issue that needs the car back: booking may offer an appointment."),
    EventSpec("feedback.received", "crm", _facts(
        feedback_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
    ), description="A customer gave feedback; a reply is owed within 24 h (policy feedback_reply)."),
    EventSpec("feedback.replied", "crm", _facts(
        feedback_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
    ), description="The branch replied to the feedback."),
    EventSpec("customer.erased", "crm", _facts(
        customer_id=fields.UUID(required=True),
    ), description="The customer's personal data was erased on request; every service drops what it holds"
                   " on the person (records the law makes us keep stay, pseudonymised by customer_id)."),
    # crm, messages to customers: services/crm/messages.py
    EventSpec("message.sent", "crm", _facts(
        message_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        channel=fields.String(required=True), key=fields.String(required=True),
        attempts=fields.Integer(required=True),
    ), description="A message reached the customer's provider (SMTP server or SMS/chat API) after `attempts` tries."),
    EventSpec("message.failed", "crm", _facts(
        message_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        channel=fields.String(allow_none=True, load_default=None), key=fields.String(required=True),
        reason=fields.String(required=True), attempts=fields.Integer(required=True),
    ), description="A message did not reach the customer: not sent at all (attempts 0: no consent, no address,"
                   " channel not configured) or refused until its retries ran out (at most 24 h)."),
    # workshop: the repair order from check-in to hand-over
    EventSpec("repair_order.opened", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), number=fields.String(required=True),
        booking_id=fields.UUID(allow_none=True, load_default=None),
        customer_id=fields.UUID(required=True), vehicle_id=fields.UUID(required=True),
        priority=fields.String(required=True), plate=fields.String(required=True),
    )),
    EventSpec("diagnosis.recorded", "workshop", _facts(
        repair_order_id=fields.UUID(required=True),
        findings=fields.List(fields.Nested(Finding), required=True),
    )),
    EventSpec("quote.issued", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), quote_id=fields.UUID(required=True),
        lines=fields.List(fields.Nested(QuoteLine), required=True),
        total_cents=fields.Integer(required=True),
    )),
    EventSpec("quote.approved", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), quote_id=fields.UUID(required=True),
        approved_lines=fields.List(fields.Nested(QuoteLine), required=True),
        declined_line_ids=fields.List(fields.UUID(), required=True),
        approved_total_cents=fields.Integer(required=True),
        priority=fields.String(allow_none=True, load_default=None),
        # the quote's likely time plus the branch's buffer: the repair-promise clock's target (none: 4 h)
        promised_seconds=fields.Integer(allow_none=True, load_default=None),
    ), description="The customer approved these lines; parts reserves the part lines (in order of need:"
                   " priority, then approval time)."),
    EventSpec("quote.withdrawn", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), quote_id=fields.UUID(required=True),
        reason=fields.String(required=True),
    ), description="A quote awaiting approval was withdrawn: a new finding changed what the repair needs."),
    EventSpec("quote.declined", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), quote_id=fields.UUID(required=True),
        declined_line_ids=fields.List(fields.UUID(), required=True),
    )),
    EventSpec("job.started", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), job_id=fields.UUID(required=True),
        technician_id=fields.String(required=True), started_at=fields.AwareDateTime(required=True),
    )),
    EventSpec("job.finished", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), job_id=fields.UUID(required=True),
        technician_id=fields.String(required=True), finished_at=fields.AwareDateTime(required=True),
        clocked_seconds=fields.Integer(required=True),
    )),
    EventSpec("repair_order.progress", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vehicle_id=fields.UUID(required=True), number=fields.String(required=True),
        plate=fields.String(required=True),
        stage=fields.String(required=True, validate=validate.OneOf((
            "checked_in", "diagnosed", "waiting_for_parts", "work_started", "work_in_progress", "qc_done",
            "ready"))),
        text=fields.String(required=True), update_due=fields.String(allow_none=True, load_default=None),
    ), description="What the customer is told at each stage, and at least every 2 hours while work runs:"
                   " what a message needs (crm sends it). `update_due` is the update it answers."),
    EventSpec("progress.due", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), update_due=fields.String(required=True),
    ), description="Work runs: the customer's next progress update is due (the progress_update clock)."),
    EventSpec("progress.not_due", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), update_due=fields.String(required=True),
    ), description="Work stopped (on hold, quality check): the update that was due is no longer owed."),
    EventSpec("repair_order.delayed", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        vehicle_id=fields.UUID(required=True), number=fields.String(required=True),
        plate=fields.String(required=True), reason=fields.String(required=True),
        new_time=fields.AwareDateTime(required=True), text=fields.String(required=True),
    ), description="The repair runs 20 % past its estimate: the customer is told at once, with the reason and"
                   " a new time."),
    EventSpec("repair_order.comeback", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), number=fields.String(required=True),
        customer_id=fields.UUID(required=True), vehicle_id=fields.UUID(required=True),
        fault_family=fields.String(required=True), previous_repair_order_id=fields.UUID(required=True),
        previous_number=fields.String(required=True), days_since_delivery=fields.Float(required=True),
    ), description="The vehicle is back for the same fault family within the branch's window after its last"
                   " delivery (default 7 days): a comeback, against first-time-fix; crm opens a quality complaint."),
    EventSpec("supplement.requested", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), quote_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), number=fields.String(required=True),
        lines=fields.List(fields.Nested(QuoteLine), required=True), total_cents=fields.Integer(required=True),
        range_low_cents=fields.Integer(required=True), range_high_cents=fields.Integer(required=True),
    ), description="A finding during the repair: a supplementary quote awaits the customer's approval (the"
                   " order is on hold, reason approval); the range is the total -/+ 20 % for risks found on"
                   " disassembly."),
    EventSpec("supplement.approved", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), quote_id=fields.UUID(required=True),
        approved_lines=fields.List(fields.Nested(QuoteLine), required=True),
        declined_line_ids=fields.List(fields.UUID(), required=True),
        approved_total_cents=fields.Integer(required=True),
    ), description="The customer approved (some of) a supplement: the approved amount grows; work resumes."),
    EventSpec("supplement.declined", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), quote_id=fields.UUID(required=True),
        declined_line_ids=fields.List(fields.UUID(), required=True),
    ), description="The customer declined a supplement: its lines are kept for later reminders; work resumes."),
    EventSpec("repair_order.closed", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), number=fields.String(required=True),
        customer_id=fields.UUID(required=True), vehicle_id=fields.UUID(required=True),
        reason=fields.String(required=True), closed_at=fields.AwareDateTime(required=True),
    ), description="A delivered repair order is closed: its invoice was paid, or the branch's time after"
                   " delivery passed (default 7 days)."),
    EventSpec("job.paused", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), job_id=fields.UUID(required=True),
        technician_id=fields.String(required=True), paused_at=fields.AwareDateTime(required=True),
        reason=fields.String(required=True),
    ), description="A job's clock paused: the technician stepped away, or the order went on hold."),
    EventSpec("job.resumed", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), job_id=fields.UUID(required=True),
        technician_id=fields.String(required=True), resumed_at=fields.AwareDateTime(required=True),
    ), description="A paused job's clock runs again (the technician has no other clock running)."),
    EventSpec("repair_order.on_hold", "workshop", _facts(
        repair_order_id=fields.UUID(required=True),
        reason=fields.String(required=True, validate=validate.OneOf(("parts", "approval", "sublet"))),
    )),
    EventSpec("repair_order.resumed", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), reason=fields.String(required=True),
    )),
    EventSpec("qc.passed", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), checked_by=fields.String(required=True),
    )),
    EventSpec("qc.failed", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), checked_by=fields.String(required=True),
        reason=fields.String(required=True),
        kind=fields.String(load_default="peer", validate=validate.OneOf(("self", "peer", "road_test",
                                                                        "function_test"))),
    )),
    EventSpec("qc.check_recorded", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), checked_by=fields.String(required=True),
        kind=fields.String(required=True, validate=validate.OneOf(("self", "road_test", "function_test"))),
    ), description="A self-check, road test or function test of the finished work passed."),
    EventSpec("repair_order.ready", "workshop", _facts(
        repair_order_id=fields.UUID(required=True),
    )),
    EventSpec("repair_order.delivered", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), number=fields.String(required=True),
        customer_id=fields.UUID(required=True), vehicle_id=fields.UUID(required=True),
        delivered_at=fields.AwareDateTime(required=True),
        lines=fields.List(fields.Nested(QuoteLine), required=True),
        # the quotes and supplements the lines were approved in: billing invoices once it has seen each
        # approval (they travel on other queues); optional, older events lack it
        approved_quote_ids=fields.List(fields.UUID(), allow_none=True, load_default=None),
    ), description="The car was handed back; billing invoices the lines, crm schedules the follow-up."),
    EventSpec("repair_order.cancelled", "workshop", _facts(
        repair_order_id=fields.UUID(required=True), reason=fields.String(required=True),
    )),
    # parts: catalogue, reservations and thresholds
    EventSpec("part.catalogued", "parts", _facts(
        part_number=fields.String(required=True), description=fields.String(required=True),
        origin=fields.String(required=True, validate=validate.OneOf(("oem", "alternative"))),
        price_cents=fields.Integer(required=True), warranty_months=fields.Integer(required=True),
        warranty_km=fields.Integer(allow_none=True, load_default=None),
        # catalogue, optional so that older events still load: a wear part, and whether the
        # warranty terms are the rule's by kind or the supplier's own
        wear_part=fields.Boolean(load_default=False),
        warranty_source=fields.String(allow_none=True, load_default=None,
                                      validate=validate.OneOf(("rule", "supplier"))),
    ), description="A part was added to the catalogue or changed (branch_id: the group's HQ); warranty_months"
                   " and warranty_km are its terms, by rule (OEM 36 months or 50,000 km, alternative 12 months or"
                   " 20,000 km, wear parts 6 months) unless the supplier's own were given."),
    EventSpec("parts.reserved", "parts", _facts(
        repair_order_id=fields.UUID(required=True),
        lines=fields.List(fields.Nested(PartQuantity), required=True),
    )),
    EventSpec("parts.shortage", "parts", _facts(
        repair_order_id=fields.UUID(required=True),
        lines=fields.List(fields.Nested(PartShortage), required=True),
    ), description="Not all approved parts could be reserved; nothing was reserved for the order."),
    EventSpec("parts.released", "parts", _facts(
        repair_order_id=fields.UUID(required=True),
        lines=fields.List(fields.Nested(PartQuantity), required=True),
    )),
    EventSpec("parts.consumed", "parts", _facts(
        repair_order_id=fields.UUID(required=True),
        lines=fields.List(fields.Nested(PartQuantity), required=True),
    )),
    EventSpec("stock.below_threshold", "parts", _facts(
        part_number=fields.String(required=True), available=fields.Integer(required=True),
        reorder_point=fields.Integer(required=True), safety_stock=fields.Integer(required=True),
        region_id=fields.String(required=True),
    ), description="Available stock fell below the reorder point (once per crossing)."),
    EventSpec("stock.recovered", "parts", _facts(
        part_number=fields.String(required=True), available=fields.Integer(required=True),
        region_id=fields.String(required=True),
    )),
    # parts: thresholds, replenishment and shortage escalation
    EventSpec("stock.below_safety_stock", "parts", _facts(
        part_number=fields.String(required=True), available=fields.Integer(required=True),
        safety_stock=fields.Integer(required=True), reorder_point=fields.Integer(required=True),
        region_id=fields.String(required=True),
    ), description="Available stock fell below the safety stock: louder than stock.below_threshold, once per"
                   " crossing (cleared when it is back at the safety stock)."),
    EventSpec("stock.replenishment_proposed", "parts", _facts(
        replenishment_id=fields.UUID(required=True), part_number=fields.String(required=True),
        alert=fields.String(required=True, validate=validate.OneOf(("reorder_point", "safety_stock"))),
        kind=fields.String(required=True, validate=validate.OneOf(("transfer", "purchase"))),
        from_branch_id=fields.String(allow_none=True, load_default=None), quantity=fields.Integer(required=True),
        lead_time_hours=fields.Integer(required=True), region_id=fields.String(required=True),
    ), description="With a threshold alert: how much to bring (up to reorder point + safety stock, less what is"
                   " in transit, on order or requested) and from where (the best donor, else a purchase)."),
    EventSpec("stock.replenishment_accepted", "parts", _facts(
        replenishment_id=fields.UUID(required=True), part_number=fields.String(required=True),
        kind=fields.String(required=True), from_branch_id=fields.String(allow_none=True, load_default=None),
        quantity=fields.Integer(required=True), transfer_id=fields.UUID(allow_none=True, load_default=None),
        purchase_order_id=fields.UUID(allow_none=True, load_default=None),
    ), description="A replenishment proposal was taken: the transfer request or the purchase order it became."),
    EventSpec("parts.loaner_suggested", "parts", _facts(
        repair_order_id=fields.UUID(required=True), waiting_since=fields.AwareDateTime(required=True),
        tier=fields.String(required=True), lines=fields.List(fields.Nested(PartQuantity), required=True),
    ), description="A repair order started to wait for parts: the advisor offers the customer a loaner car"
                   " (once per shortage)."),
    *[
        EventSpec(f"parts.escalated_{tier}", "parts", _facts(
            repair_order_id=fields.UUID(required=True), tier=fields.String(required=True),
            proposal=fields.List(fields.Dict(), required=True),
            waiting_since=fields.AwareDateTime(required=True),
        ), description=f"A shortage's previous tier ran out of time: it escalates to the {tier} tier (starts"
                       f" parts_shortage_{tier}), with the tier's proposal per part.")
        for tier in ("region", "group")
    ],
    *[
        EventSpec(f"transfer.{step}", "parts", _facts(
            transfer_id=fields.UUID(required=True), from_branch_id=fields.String(required=True),
            part_number=fields.String(required=True), quantity=fields.Integer(required=True),
            repair_order_id=fields.UUID(allow_none=True, load_default=None),
            tracking_reference=fields.String(allow_none=True, load_default=None),
            received_quantity=fields.Integer(allow_none=True, load_default=None),
            written_off_quantity=fields.Integer(allow_none=True, load_default=None),
            acted_by=fields.String(allow_none=True, load_default=None),
            reason=fields.String(allow_none=True, load_default=None),
            delivery_seconds=fields.Integer(allow_none=True, load_default=None),
            # sites (docs/sites.md): the step's name, the sites of the two branches (none when one stack
            # hosts both), and for a step taken at the other site and applied here, that site
            step=fields.String(allow_none=True, load_default=None),
            from_site=fields.String(allow_none=True, load_default=None),
            to_site=fields.String(allow_none=True, load_default=None),
            mirrored_from=fields.String(allow_none=True, load_default=None),
        ), description=f"A transfer of stock between branches was {step} (branch_id: the receiving branch;"
                       " received_quantity: the units received so far; written_off_quantity: units that never"
                       " came, written off with a reason; acted_by: who did it; delivery_seconds, at dispatch: the lead time"
                       " between the two branches, the delivery clock's target; from_site and to_site: the"
                       " sites of the two branches when they are at two sites, whose steps cross between them;"
                       " mirrored_from: the site where the step was taken, when it is applied at the other).")
        for step in ("requested", "approved", "picked", "dispatched", "tracking_sent", "partly_received",
                     "written_off", "received", "closed", "cancelled")
    ],
    # parts, ledger: adjustments, counts, purchase orders
    EventSpec("stock.adjusted", "parts", _facts(
        part_number=fields.String(required=True), quantity=fields.Integer(required=True),
        reason=fields.String(required=True), note=fields.String(load_default=""),
        on_hand=fields.Integer(required=True), available=fields.Integer(required=True),
    ), description="Units were added to or taken off a branch's shelf outside any order (quantity signed;"
                   " reason: damaged, lost, stolen, expired, returned_to_supplier, found, correction)."),
    EventSpec("stock.counted", "parts", _facts(
        part_number=fields.String(required=True), counted_quantity=fields.Integer(required=True),
        difference=fields.Integer(required=True), on_hand=fields.Integer(required=True),
        available=fields.Integer(required=True),
    ), description="A branch counted a part: on hand is now the count (difference: counted less what was"
                   " on hand; 0 when the shelf agreed)."),
    EventSpec("purchase.ordered", "parts", _facts(
        purchase_order_id=fields.UUID(required=True), part_number=fields.String(required=True),
        quantity=fields.Integer(required=True), expected_at=fields.AwareDateTime(required=True),
        repair_order_id=fields.UUID(allow_none=True, load_default=None),
    ), description="A branch ordered units of a part from the supplier (branch_id: the branch it is for;"
                   " repair_order_id: the order it is for, if any); they are on order until received."),
    EventSpec("purchase.received", "parts", _facts(
        purchase_order_id=fields.UUID(required=True), part_number=fields.String(required=True),
        quantity=fields.Integer(required=True), received_quantity=fields.Integer(required=True),
        outstanding=fields.Integer(required=True),
        repair_order_id=fields.UUID(allow_none=True, load_default=None),
    ), description="Units arrived against a purchase order (quantity: this receipt; outstanding: still to"
                   " come, 0 when the order is received in full)."),
    EventSpec("purchase.cancelled", "parts", _facts(
        purchase_order_id=fields.UUID(required=True), part_number=fields.String(required=True),
        quantity=fields.Integer(required=True), received_quantity=fields.Integer(required=True),
        reason=fields.String(load_default=""),
        repair_order_id=fields.UUID(allow_none=True, load_default=None),
    ), description="The rest of a purchase order was called off (quantity: the units taken off order;"
                   " what was received stays)."),
    # billing: invoices and payments
    EventSpec("invoice.issued", "billing", _facts(
        invoice_id=fields.UUID(required=True), number=fields.String(required=True),
        repair_order_id=fields.UUID(required=True), customer_id=fields.UUID(required=True),
        subtotal_cents=fields.Integer(required=True), tax_cents=fields.Integer(required=True),
        total_cents=fields.Integer(required=True),
        discount_cents=fields.Integer(allow_none=True, load_default=None),
    ), description="A delivered repair order's invoice, numbered without gaps per branch: approved lines only"
                   " (never above their approved amounts), discounts applied, tax rounded per line."),
    EventSpec("invoice.paid", "billing", _facts(
        invoice_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), amount_cents=fields.Integer(required=True),
        paid_at=fields.AwareDateTime(required=True),
    )),
    # billing in depth: discounts, warranty, claims, credit notes
    EventSpec("discount.recorded", "billing", _facts(
        discount_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        line_id=fields.UUID(allow_none=True, load_default=None),
        percent_bp=fields.Integer(allow_none=True, load_default=None),
        amount_cents=fields.Integer(allow_none=True, load_default=None), reason=fields.String(required=True),
    ), description="A discount on a line (line_id) or the whole order, applied when the invoice is issued."),
    EventSpec("warranty.checked", "billing", _facts(
        check_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        line_id=fields.UUID(required=True), eligible=fields.Boolean(required=True),
        reason=fields.String(required=True), ends_on=fields.Date(allow_none=True, load_default=None),
    ), description="A warranty line's eligibility was decided, with its reason, before the work (on approval"
                   " or on demand); an ineligible line is never claimed and is charged to nobody until changed"
                   " to customer pay."),
    *[EventSpec(f"warranty_claim.{step}", "billing", _facts(
        claim_id=fields.UUID(required=True), repair_order_id=fields.UUID(required=True),
        by=fields.String(required=True), reason=fields.String(allow_none=True, load_default=None),
        value_cents=fields.Integer(required=True),
    ), description=f"A warranty claim to the manufacturer reached the step {step!r} (steps go in order: fault"
                   " reproduced, eligibility checked, submitted, parts allocated, accepted; then paid, or"
                   " rejected with a reason once submitted).")
      for step in ("fault_reproduced", "eligibility_checked", "submitted", "parts_allocated", "accepted",
                   "rejected", "paid")],
    EventSpec("warranty.ending", "billing", _facts(
        customer_id=fields.UUID(required=True), vehicle_id=fields.UUID(required=True),
        what=fields.String(required=True), ends_on=fields.Date(required=True),
        part_number=fields.String(allow_none=True, load_default=None),
    ), description="A part's warranty on a vehicle ends in a month (once per warranty): crm tells the customer."),
    EventSpec("credit_note.issued", "billing", _facts(
        credit_note_id=fields.UUID(required=True), number=fields.String(required=True),
        invoice_id=fields.UUID(required=True), complaint_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), amount_cents=fields.Integer(required=True),
        kind=fields.String(required=True), level=fields.Integer(required=True),
    ), description="A refund or compensation against an invoice for a complaint, within the level's authority."),
    EventSpec("credit_note.refunded", "billing", _facts(
        credit_note_id=fields.UUID(required=True), invoice_id=fields.UUID(required=True),
        customer_id=fields.UUID(required=True), amount_cents=fields.Integer(required=True),
        method=fields.String(required=True),
    ), description="(Part of) a credit note was paid back to the customer: a negative payment on the invoice."),
    # SLA clocks, published by whichever service owns the clock
    *[
        EventSpec(f"sla.{outcome}", ANY_SOURCE, _facts(
            clock_id=fields.UUID(required=True), policy=fields.String(required=True),
            subject_type=fields.String(required=True), subject_id=fields.String(required=True),
            region_id=fields.String(allow_none=True, load_default=None),
            started_at=fields.AwareDateTime(required=True), deadline=fields.AwareDateTime(required=True),
            elapsed_seconds=fields.Integer(required=True), target_seconds=fields.Integer(required=True),
        ))
        for outcome in ("at_risk", "breached", "met")
    ],
    # webhooks: integrators' subscriptions to this stream (services/webhooks)
    EventSpec("webhook.subscribed", "webhooks", _facts(
        subscription_id=fields.UUID(required=True), url=fields.String(required=True),
        event_types=fields.List(fields.String(), required=True),
    ), description="An admin subscribed a URL to event types (catalogue names, `<family>.*` or `*`)."),
    EventSpec("webhook.subscription_paused", "webhooks", _facts(
        subscription_id=fields.UUID(required=True), url=fields.String(required=True),
        failures_in_a_row=fields.Integer(required=True),
        failing_since=fields.AwareDateTime(allow_none=True, load_default=None), reason=fields.String(required=True),
    ), description="No more tries until an admin resumes it: every try failed for the pause window, or an admin"
                   " paused it. Its deliveries wait."),
    EventSpec("webhook.subscription_resumed", "webhooks", _facts(
        subscription_id=fields.UUID(required=True), url=fields.String(required=True),
    ), description="Tries start again at once, the waiting deliveries first."),
    EventSpec("webhook.unsubscribed", "webhooks", _facts(
        subscription_id=fields.UUID(required=True), url=fields.String(required=True),
    ), description="The subscription gets no more deliveries; its log stays until the archive's retention."),
    # sites: what a site tells the others every interval (docs/sites.md); branch_id is GROUP
    EventSpec("stock.site_figures", "parts", _facts(
        site=fields.String(required=True), regions=fields.List(fields.String(), load_default=list),
        as_of=fields.AwareDateTime(required=True), since=fields.AwareDateTime(allow_none=True, load_default=None),
        shelves=fields.List(fields.Nested(SiteShelf), required=True),
    ), description="A site's stock figures for the other sites' donor ranking: the shelves that changed since"
                   " its previous figures (`since`; none: every shelf), each with what is available and the"
                   " safety stock. Sent every interval, empty when nothing changed: the figures are good as of"
                   " `as_of`."),
    EventSpec("sla.site_figures", ANY_SOURCE, _facts(
        site=fields.String(required=True), service=fields.String(required=True),
        as_of=fields.AwareDateTime(required=True),
        compliance=fields.List(fields.Nested(SiteCompliance), required=True),
    ), description="One service's SLA figures at a site, for the group view at the other sites: clocks met,"
                   " breached, cancelled and open per policy and branch, as of `as_of`. Sent every interval."),
]

CATALOGUE: dict[str, EventSpec] = {spec.name: spec for spec in _CATALOGUE}
_SCHEMAS = {name: spec.schema() for name, spec in CATALOGUE.items()}


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def names() -> frozenset:
    return frozenset(CATALOGUE)


def spec(event_type: str) -> EventSpec:
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise LookupError(f"{event_type!r} is not in the event catalogue") from None


def build(event_type: str, branch_id: str, source: str, **facts) -> dict:
    """A JSON-safe event with its envelope; raises if the facts do not match the catalogue."""
    return build_typed(event_type, branch_id, source, **facts)[1]


def build_typed(event_type: str, branch_id: str, source: str, **facts) -> tuple[dict, dict]:
    """The event as its handlers see it (typed) and as it travels (JSON-safe)."""
    entry = spec(event_type)
    if entry.source not in (ANY_SOURCE, source):
        raise ValueError(f"{source} may not publish {event_type} (published by {entry.source})")
    schema = _SCHEMAS[event_type]
    raw = {
        "event_id": facts.pop("event_id", None) or uuid.uuid4(),
        "occurred_at": facts.pop("occurred_at", None) or datetime.now(timezone.utc),
        "version": entry.version,
        "branch_id": branch_id,
        "source": source,
        **facts,
    }
    unknown = set(raw) - set(schema.fields)
    if unknown:
        raise ValueError(f"{event_type} has no facts named {sorted(unknown)}")
    try:
        try:
            typed = schema.load_planned(raw)  # facts as given: UUIDs, datetimes, Decimals as objects
        except NotPlanned:  # anything else is read as its consumers will read it: from JSON
            typed = schema.load(json.loads(json.dumps(raw, default=_json_default)))
    except ValidationError as exc:
        raise ValueError(f"{event_type} payload does not match the catalogue: {exc.messages}") from exc
    return typed, schema.dump(typed)


def load(event_type: str, payload: dict) -> dict:
    """A received event, validated and typed; an invalid one raises ValidationFailed."""
    try:
        return _SCHEMAS[event_type].load(payload)
    except ValidationError as exc:
        raise errors.from_marshmallow(exc) from exc


def json_schema_like() -> dict:
    """The catalogue as plain data, for docs and the API's event listing."""
    out = {}
    for name, entry in CATALOGUE.items():
        out[name] = {
            "source": entry.source,
            "version": entry.version,
            "description": entry.description,
            "fields": sorted(_SCHEMAS[name].fields),
        }
    return out
