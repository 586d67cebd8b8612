"""What booking takes and gives, validated at the edge of every RPC, and the words it uses
(services/booking/domain.py, capacity.py and extras.py import them from here)."""
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from shared.contracts.schemas import (
    Out,
    StatusListQuery,
    Strict,
    aware_datetime,
    money,
    status_filter,
    text,
)

PRIORITIES = ("safety_critical", "vip", "routine", "cosmetic")
WALK_IN = "walk_in"
CHANNELS = ("hotline", "app", "messaging", "web", WALK_IN)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# the booking's life cycle in its order (services/booking/domain.py LIFE_CYCLE; a unit test keeps them equal)
BOOKING_STATUSES = ("requested", "confirmed", "checked_in", "cancelled", "no_show")
SKILLS = ("general", "diagnostics", "ev_high_voltage", "body")  # what a technician can do (capacity)
MAX_KIT_LINES = 20  # lines of a service type's standard kit (services/booking/capacity.py kit)
EXTRAS = ("loaner_car", "pickup", "delivery")
PER = ("day", "slot")  # a loaner car is out for the day; a driver does one pickup or delivery per slot

TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class BranchSetup(Strict):
    branch_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$"))
    region_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$"))
    name = text(required=True)
    timezone = fields.String(required=True)
    business_hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
        values=fields.List(fields.List(fields.String(validate=validate.Regexp(TIME)),
                                       validate=validate.Length(equal=2))),
        required=True,
    )
    holidays = fields.List(fields.Date(), load_default=list)
    labour_rate_cents = money(required=True)
    tax_rate_bp = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=10000))
    bays = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=200))
    slot_minutes = fields.Integer(strict=True, load_default=120, validate=validate.Range(min=15, max=480))
    currency = fields.String(load_default="EUR", validate=validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code"
                                                                                          " such as EUR"))

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
    currency = fields.String()
    bays = fields.Integer()
    slot_minutes = fields.Integer()


class SlotQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    date = fields.Date(required=True)
    service_type = fields.String(validate=validate.Length(min=1, max=80),
                                 metadata={"description": "say per slot whether this work fits, and why not"})


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
    free_bays = fields.Integer(metadata={"description": "bays not yet booked"})
    skill = fields.String(metadata={"description": "the skill the asked service type needs"})
    hours_needed = fields.Float(metadata={"description": "labour hours the asked service type needs"})
    skill_hours_free = fields.Float(allow_none=True, metadata={
        "description": "technician hours with the skill on shift in the slot not yet booked; null at a branch"
                       " with no shifts recorded (bays only)"})
    bookable = fields.Boolean(metadata={"description": "the asked work fits in the slot now"})
    reason = fields.String(allow_none=True, metadata={
        "description": "why not: over, no bay, no <skill> hours, no technician hours"})


def _each_once(values):
    if len(set(values)) != len(values):
        raise ValidationError("each at most once")


class BookingRequest(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    customer_id = fields.UUID(required=True)
    vehicle_id = fields.UUID(required=True)
    slot_start = aware_datetime(required=True, allow_none=True, metadata={
        "description": "the start of a slot, with its UTC offset (Z or +01:00); null only with priority"
                       " safety_critical, which then takes the first slot that fits (today if possible,"
                       " displacing cosmetic work)"})
    service_type = text(required=True, max_length=80)
    priority = fields.String(load_default="routine", validate=validate.OneOf(PRIORITIES))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    symptoms = fields.String(load_default="", validate=validate.Length(max=2000))
    extras = fields.List(fields.String(validate=validate.OneOf(EXTRAS)), load_default=list,
                         validate=[validate.Length(max=len(EXTRAS)), _each_once],
                         metadata={"description": "loaner_car, pickup, delivery: taken with the slot from the"
                                                  " branch's capacity per day or per slot (409 when none is left)"})


HHMM = fields.String(required=True, validate=validate.Regexp(TIME, error="HH:MM, 00:00 to 23:59"))


class ShiftIn(Strict):
    date = fields.Date(required=True)
    start = HHMM
    end = HHMM


class TechnicianSetup(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    technician_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.@-]{1,80}$"))
    skills = fields.List(fields.String(validate=validate.OneOf(SKILLS)), required=True,
                         validate=validate.Length(min=1, max=len(SKILLS)))
    shifts = fields.List(fields.Nested(ShiftIn), load_default=list, validate=validate.Length(max=62),
                         metadata={"description": "one per day, in the branch's local time; replaces that day's"})


class TechnicianQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)

    @validates_schema
    def in_order(self, data, **kwargs):
        if data["date_to"] < data["date_from"]:
            raise ValidationError("is before date_from", "date_to")
        if (data["date_to"] - data["date_from"]).days > 366:
            raise ValidationError("at most 366 days after date_from", "date_to")


class ShiftOut(Out):
    date = fields.String(metadata={"format": "date"})
    start = fields.String()
    end = fields.String()
    seconds = fields.Integer()


class Technician(Out):
    technician_id = fields.String()
    branch_id = fields.String()
    skills = fields.List(fields.String())
    shifts = fields.List(fields.Nested(ShiftOut))


class TechnicianHours(Out):
    technician_id = fields.String()
    skills = fields.List(fields.String())
    available_seconds = fields.Integer()


class KitLineIn(Strict):
    part_number = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z0-9][A-Z0-9._/-]{1,39}$", error="capitals, digits and . _ / -; 2 to 40 long"))
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1000))


class ServiceTypeSetup(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    service_type = text(required=True, max_length=80)
    skill = fields.String(required=True, validate=validate.OneOf(SKILLS))
    labour_hours = fields.Float(required=True, validate=validate.Range(min=0.05, max=40), allow_nan=False)
    parts = fields.List(fields.Nested(KitLineIn), load_default=None,
                        validate=validate.Length(max=MAX_KIT_LINES), metadata={
                            "description": "the kit picked for a car booked for this type before it is diagnosed;"
                                           " left out: the shipped kit of that type (if any), []: none"})


class PartLine(Out):
    part_number = fields.String()
    quantity = fields.Integer()


class ServiceTypeQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))


class ServiceType(Out):
    service_type = fields.String()
    skill = fields.String()
    labour_hours = fields.Float()
    branch_own = fields.Boolean(metadata={"description": "the branch's own entry over the shipped default"})
    parts = fields.List(fields.Nested(PartLine), metadata={
        "description": "the standard kit picked for this type before diagnosis ([] when none)"})


class WalkInArrival(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    customer_id = fields.UUID(required=True)
    vehicle_id = fields.UUID(required=True)
    service_type = text(required=True, max_length=80)
    priority = fields.String(load_default="routine", validate=validate.OneOf(PRIORITIES))
    symptoms = fields.String(load_default="", validate=validate.Length(max=2000))


class WalkInQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))


class WalkIn(Out):
    walk_in_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()
    service_type = fields.String()
    skill = fields.String()
    labour_seconds = fields.Integer()
    priority = fields.String()
    symptoms = fields.String()
    status = fields.String(metadata={"description": "waiting, or checked_in (then booking_id names its booking)"})
    arrived_at = aware_datetime()
    booking_id = fields.UUID(allow_none=True)
    promised_at = aware_datetime(allow_none=True, metadata={
        "description": "arrival + the wait estimated then; 15 minutes past it the customer gets an apology"})
    position = fields.Integer(allow_none=True, metadata={"description": "1 is served next; null once checked in"})
    estimated_wait_minutes = fields.Integer(allow_none=True, metadata={
        "description": "from the day's load: appointments due and not yet received first, then the walk-ins"
                       " ahead, shared by the technicians on shift now (the bays at a branch without shifts)"})


class RescheduleRequest(Strict):
    note = fields.String(load_default="", validate=validate.Length(max=500),
                         metadata={"description": "what the customer said (when suits them)"})


class RescheduleOffer(Strict):
    alternatives = fields.List(aware_datetime(), validate=validate.Length(min=2, max=3), metadata={
        "description": "2 to 3 slot starts the branch offers; left out, booking offers the earliest slot that"
                       " fits in the morning, at midday and in the evening"})


class DayQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    date = fields.Date(metadata={"description": "the branch's local day; tomorrow when left out"})


class Arrival(Out):
    booking_id = fields.UUID()
    slot_start = aware_datetime()
    slot_end = aware_datetime()
    status = fields.String()
    customer_id = fields.UUID()
    vehicle_id = fields.UUID()
    plate = fields.String(allow_none=True)
    service_type = fields.String()
    priority = fields.String()
    channel = fields.String()
    symptoms = fields.String()
    skill = fields.String(allow_none=True)
    labour_hours = fields.Float(allow_none=True)
    arrived_at = aware_datetime(allow_none=True)
    parts_to_pick = fields.List(fields.Nested(PartLine), metadata={
        "description": "the service type's standard kit ([] when it has none): before diagnosis only the type"
                       " is known; stock is not checked here"})


class SkillNeed(Out):
    skill = fields.String()
    hours_needed = fields.Float()
    hours_on_shift = fields.Float()
    short = fields.Boolean(metadata={"description": "more hours needed than on shift (never at a branch without"
                                                    " shifts)"})


class SlotArrivals(Out):
    slot_start = aware_datetime()
    slot_end = aware_datetime()
    booking_ids = fields.List(fields.UUID())


class Day(Out):
    branch_id = fields.String()
    date = fields.Date()
    arrivals = fields.List(fields.Nested(Arrival))
    skills = fields.List(fields.Nested(SkillNeed))
    slots = fields.List(fields.Nested(SlotArrivals))
    walk_ins_waiting = fields.Integer()
    parts_to_pick = fields.List(fields.Nested(PartLine), metadata={
        "description": "per part number, the pieces the day's arrivals' kits need (without no-shows)"})


class ExtraSetup(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    extra = fields.String(required=True, validate=validate.OneOf(EXTRAS))
    per = fields.String(required=True, validate=validate.OneOf(PER))
    capacity = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=500))


class ExtraQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    date = fields.Date(required=True)


class ExtraPeriod(Out):
    period_start = aware_datetime()
    taken = fields.Integer()
    free = fields.Integer()


class ExtraDay(Out):
    extra = fields.String()
    per = fields.String()
    capacity = fields.Integer()
    periods = fields.List(fields.Nested(ExtraPeriod))


class Reschedule(Strict):
    slot_start = aware_datetime(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class Cancel(Strict):
    reason = text(required=True, max_length=500)


class Damage(Strict):
    note = text(required=True, max_length=500)
    photo_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                              metadata={"description": "where the photo is kept (a URL or a document id)"})


PERCENT = {"strict": True, "load_default": None, "allow_none": True, "validate": validate.Range(min=0, max=100)}


class CheckIn(Strict):
    odometer_km = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=3_000_000))
    fault_description = text(required=True, max_length=2000)
    advisor = text(required=True, max_length=80)
    fuel_level_pct = fields.Integer(**PERCENT)
    charge_level_pct = fields.Integer(**PERCENT)
    damage = fields.List(fields.Nested(Damage), load_default=list, validate=validate.Length(max=50),
                         metadata={"description": "exterior damage found at check-in, each with a photo reference"})
    belongings = fields.List(text(max_length=200), load_default=list, validate=validate.Length(max=50),
                             metadata={"description": "what the customer left in the car"})


class BookingQuery(StatusListQuery):
    status = status_filter(BOOKING_STATUSES)
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
    arrived_at = aware_datetime(allow_none=True, metadata={"description": "the car arrived (reception clock)"})
    fuel_level_pct = fields.Integer(allow_none=True)
    charge_level_pct = fields.Integer(allow_none=True)
    damage = fields.List(fields.Dict(), metadata={"description": "[{note, photo_ref}] recorded at check-in"})
    belongings = fields.List(fields.String())
    reschedule_requested_at = aware_datetime(allow_none=True, metadata={"description": "the customer asked to move"})
    reschedule_offered_at = aware_datetime(allow_none=True)
    reschedule_offer = fields.List(fields.Dict(), metadata={
        "description": "[{slot_start, slot_end, part_of_day}] the branch offered; the customer picks one with"
                       " POST .../reschedule"})
    reminder_sent_at = aware_datetime(allow_none=True, metadata={"description": "the day-before reminder went out"})
    extras = fields.List(fields.String(), metadata={"description": "the extras held with the slot"})
    skill = fields.String(allow_none=True, metadata={"description": "the skill its service type needs"})
    labour_hours = fields.Float(allow_none=True, metadata={"description": "the labour hours it takes from its slot"})
    history = fields.List(fields.Nested(HistoryEntry))
