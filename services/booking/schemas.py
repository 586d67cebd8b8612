"""What booking takes and gives, validated at the edge of every RPC."""
from marshmallow import ValidationError, fields, validate, validates

from services.booking import domain
from shared.contracts.schemas import StatusListQuery, Out, Strict, aware_datetime, money, status_filter, text

TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class BranchSetup(Strict):
    branch_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$"))
    region_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$"))
    name = text(required=True)
    timezone = fields.String(required=True)
    business_hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(domain.WEEKDAYS)),
        values=fields.List(fields.List(fields.String(validate=validate.Regexp(TIME)),
                                       validate=validate.Length(equal=2))),
        required=True,
    )
    holidays = fields.List(fields.Date(), load_default=list)
    labour_rate_cents = money(required=True)
    tax_rate_bp = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=10000))
    bays = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=200))
    slot_minutes = fields.Integer(strict=True, load_default=120, validate=validate.Range(min=15, max=480))

    @validates("timezone")
    def known_zone(self, value, **kwargs):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError("unknown time zone") from None

    @validates("business_hours")
    def spans_in_order(self, value, **kwargs):
        for day, spans in value.items():
            for opens, closes in spans:
                if opens >= closes:
                    raise ValidationError(f"{day}: {opens}-{closes} closes before it opens")


class Branch(Out):
    branch_id = fields.String()
    region_id = fields.String()
    name = fields.String()
    timezone = fields.String()
    business_hours = fields.Dict()
    holidays = fields.List(fields.String())
    labour_rate_cents = fields.Integer()
    tax_rate_bp = fields.Integer()
    bays = fields.Integer()
    slot_minutes = fields.Integer()


class SlotQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    date = fields.Date(required=True)


class SlotOverride(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    slot_start = aware_datetime(required=True)
    capacity = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=200))


class Slot(Out):
    """A slot of the day with its places. A slot can be booked until it starts, so one that has
    started (or is over) shows available 0; a walk-in may still take the slot running now, until
    it ends, while booked < capacity."""

    slot_start = aware_datetime()
    slot_end = aware_datetime()
    capacity = fields.Integer()
    booked = fields.Integer()
    available = fields.Integer(metadata={"description": "places left to book; 0 once the slot has started"
                                                        " (a walk-in may take the running slot while"
                                                        " booked < capacity)"})


class BookingRequest(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    customer_id = fields.UUID(required=True)
    vehicle_id = fields.UUID(required=True)
    slot_start = aware_datetime(required=True)
    service_type = text(required=True, max_length=80)
    priority = fields.String(load_default="routine", validate=validate.OneOf(domain.PRIORITIES))
    channel = fields.String(required=True, validate=validate.OneOf(domain.CHANNELS))
    symptoms = fields.String(load_default="", validate=validate.Length(max=2000))


class Reschedule(Strict):
    slot_start = aware_datetime(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class Cancel(Strict):
    reason = text(required=True, max_length=500)


class CheckIn(Strict):
    odometer_km = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=3_000_000))
    fault_description = text(required=True, max_length=2000)
    advisor = text(required=True, max_length=80)


class BookingQuery(StatusListQuery):
    status = status_filter(domain.LIFE_CYCLE.statuses)
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()


class HistoryEntry(Out):
    at = aware_datetime()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    slot_start = aware_datetime(allow_none=True)
    note = fields.String()


class Booking(Out):
    booking_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()
    slot_start = aware_datetime()
    slot_end = aware_datetime()
    service_type = fields.String()
    priority = fields.String()
    channel = fields.String()
    symptoms = fields.String()
    status = fields.String()
    advisor = fields.String(allow_none=True)
    odometer_km = fields.Integer(allow_none=True)
    fault_description = fields.String(allow_none=True)
    requested_at = aware_datetime()
    confirmed_at = aware_datetime(allow_none=True)
    checked_in_at = aware_datetime(allow_none=True)
    cancelled_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()
    updated_at = aware_datetime()
    history = fields.List(fields.Nested(HistoryEntry))
