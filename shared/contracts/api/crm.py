"""What crm takes and gives, and the words it uses (services/crm/domain.py and complaints.py import them
from here; messages to customers are in shared/contracts/api/messages.py)."""
from marshmallow import ValidationError, fields, validate

from shared.contracts.schemas import ListQuery, StatusListQuery, Out, Strict, aware_datetime, boolean, status_filter, text

LANGUAGES = ("en", "zh")  # a customer's, and so a message template's
FOLLOW_UP_STATUSES = ("due", "done")  # services/crm/domain.py FollowUp
OUTCOMES = ("reached", "no_answer", "issue_found")  # of a follow-up call
FEEDBACK_STATUSES = ("open", "replied")  # services/crm/feedback.py Feedback
PHONE = r"^\+?[0-9 ()-]{5,20}$"
SEARCH_MIN = 3  # the shortest part of a key a search looks for: one trigram (pg_trgm), so an index serves it
COMPLAINT_SCORE = 6  # a survey score at or below this opens a complaint, unless the branch sets its own
MAJOR_TOTAL_CENTS = 100_000  # a repair over this (lines' net total) is major, unless the branch sets its own
MAJOR_LABOUR_HOURS = 4  # ... and so is one with a labour line over this many hours

# complaints (domain.md s7; the rules are in services/crm/complaints.py)
COMPLAINT_STATUSES = ("open", "resolved")
LEVELS = (1, 2, 3)  # 1 front line, 2 supervisor, 3 senior management
# escalation trigger -> the level it raises a complaint to
TRIGGER_LEVEL = {
    "repeat_problem": 2, "several_departments": 2, "customer_request": 2,
    "safety": 3, "media": 3, "legal_threat": 3, "vip": 3,
    "third_on_same_matter": 2, "regulator": 3,
}
TRIGGERS = tuple(TRIGGER_LEVEL)
CATEGORIES = ("repair_quality", "waiting_time", "price", "attitude", "parts", "communication", "other")
SEVERITIES = ("low", "medium", "high", "safety")
SOURCES = ("staff", "survey", "follow_up", "comeback", "social_media", "phone", "email", "walk_in")


class ContactEntry(Strict):
    """Another way to reach the customer: a label (work phone, WeChat, ...) and its value."""

    label = text(required=True, max_length=40)
    value = text(required=True, max_length=200)


class NewCustomer(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = text(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(PHONE))
    consent_marketing = boolean(load_default=False)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    vip = boolean(load_default=False)
    preferred_advisor = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))
    contacts = fields.List(fields.Nested(ContactEntry), load_default=list, validate=validate.Length(max=20))


class CustomerChange(Strict):
    """PATCH /customers/<id>: only the details given change."""

    name = text()
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(PHONE))
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    vip = boolean()
    preferred_advisor = fields.String(allow_none=True, validate=validate.Length(min=1, max=80))
    contacts = fields.List(fields.Nested(ContactEntry), validate=validate.Length(max=20))


class Customer(Out):
    customer_id = fields.UUID()
    branch_id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    consent_marketing = fields.Boolean()
    language = fields.String()
    vip = fields.Boolean()
    preferred_advisor = fields.String(allow_none=True)
    contacts = fields.List(fields.Dict())
    erased_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()


class NewVehicle(Strict):
    customer_id = fields.UUID(required=True)
    vin = fields.String(required=True, validate=validate.Length(equal=17))
    plate = text(required=True, max_length=15)
    model = text(required=True, max_length=80)
    year = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1950, max=2100))
    odometer_km = fields.Integer(strict=True, load_default=None, allow_none=True,
                                 validate=validate.Range(min=0, max=3_000_000))
    purchase_date = fields.Date(load_default=None, allow_none=True)


class Vehicle(Out):
    vehicle_id = fields.UUID()
    customer_id = fields.UUID()
    branch_id = fields.String()
    vin = fields.String()
    plate = fields.String()
    model = fields.String()
    year = fields.Integer(allow_none=True)
    odometer_km = fields.Integer(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    created_at = aware_datetime()


class NewReading(Strict):
    odometer_km = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=3_000_000))
    correction = boolean(load_default=False)
    read_at = aware_datetime(load_default=None, allow_none=True)


class Reading(Out):
    reading_id = fields.Integer()
    vehicle_id = fields.UUID()
    odometer_km = fields.Integer()
    read_at = aware_datetime()
    source = fields.String()
    correction = fields.Boolean()


def _searchable(typed):
    """A search's shape as a field error (400): at least SEARCH_MIN characters once trimmed, the rule
    Search.of in services/crm/domain.py keeps too."""
    if len(typed.strip()) < SEARCH_MIN:
        raise ValidationError(f"at least {SEARCH_MIN} characters")


def search(description):
    """`q`: a search's shape (3 characters once trimmed) checked once, and stated in the document."""
    return fields.String(validate=[validate.Length(max=80), _searchable], metadata={
        "description": description, "minLength": SEARCH_MIN, "pattern": r"^\s*\S[\s\S]+\S\s*$"})


class CustomerQuery(ListQuery):
    q = search("at least 3 characters, found in the name, email or phone number (digits compared without"
               " spaces, dashes, brackets, + or leading zeros) of the customer, or in the plate (without spaces"
               " or dashes, capitals) or VIN of any of their vehicles")


class VehicleQuery(ListQuery):
    customer_id = fields.UUID()
    q = search("at least 3 characters, found in the plate (compared without spaces or dashes, in capitals)"
               " or the VIN; fewer than 3 letters or digits find nothing")


class FollowUpQuery(StatusListQuery):
    status = status_filter(FOLLOW_UP_STATUSES)
    due_before = aware_datetime()
    customer_id = fields.UUID()
    repair_order_id = fields.UUID()
    booking_requested = fields.Boolean()  # true: the customers an issue found asked to book, not booked yet


class FollowUpDone(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    # an issue found: open a complaint (its category) and/or ask booking for an appointment
    complaint_category = fields.String(load_default=None, allow_none=True,
                                       validate=validate.OneOf(CATEGORIES))
    request_booking = boolean(load_default=False)


class FollowUp(Out):
    follow_up_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    delivered_at = aware_datetime()
    due_at = aware_datetime()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    completed_at = aware_datetime(allow_none=True)
    kind = fields.String()
    opens_at = aware_datetime()
    created_at = aware_datetime()
    complaint_id = fields.UUID(allow_none=True)
    booking_requested_at = aware_datetime(allow_none=True)
    booked_at = aware_datetime(allow_none=True)


class NewSurvey(Strict):
    repair_order_id = fields.UUID(required=True)
    score = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10))
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class SurveyAnswer(Strict):
    score = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10))
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class InvitationQuery(ListQuery):
    customer_id = fields.UUID()
    repair_order_id = fields.UUID()


class Invitation(Out):
    survey_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    number = fields.String(allow_none=True)
    invited_at = aware_datetime()
    reminded_at = aware_datetime(allow_none=True)
    answered_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()


class SurveyFiguresQuery(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))


class SurveyFigures(Out):
    branch_id = fields.String()
    invited = fields.Integer()
    answered = fields.Integer()
    average = fields.Float(allow_none=True)
    promoter_share = fields.Float(allow_none=True, metadata={"description": "share of scores 9-10"})
    detractor_share = fields.Float(allow_none=True, metadata={"description": "share of scores 1-6"})
    net_promoter_score = fields.Float(allow_none=True)
    response_rate = fields.Float(allow_none=True, metadata={"description": "invited surveys answered per invitation"})
    threshold = fields.Integer(metadata={"description": "a score at or under this opens a complaint"})


class Survey(Out):
    survey_id = fields.UUID()
    repair_order_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    score = fields.Integer()
    comment = fields.String()
    created_at = aware_datetime()
    complaint_id = fields.UUID(allow_none=True)


class NewComplaint(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    customer_id = fields.UUID(required=True)
    repair_order_id = fields.UUID(load_default=None, allow_none=True)
    vehicle_id = fields.UUID(load_default=None, allow_none=True)
    what_happened = text(required=True, max_length=4000)
    customer_wants = fields.String(load_default="", validate=validate.Length(max=2000))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    severity = fields.String(load_default="medium", validate=validate.OneOf(SEVERITIES))
    owner = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))
    level = fields.Integer(strict=True, load_default=1, validate=validate.OneOf(LEVELS))
    source = fields.String(load_default="staff", validate=validate.OneOf(SOURCES))
    happened_at = aware_datetime(load_default=None, allow_none=True)
    place = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    reported_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
    triggers = fields.List(fields.String(validate=validate.OneOf(TRIGGERS)), load_default=list,
                           validate=validate.Length(max=len(TRIGGERS)))


class ComplaintQuery(StatusListQuery):
    status = status_filter(COMPLAINT_STATUSES)
    level = fields.Integer(validate=validate.OneOf(LEVELS))
    customer_id = fields.UUID()


class ComplaintResponse(Strict):
    note = text(required=True, max_length=4000)
    responded_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class Escalation(Strict):
    trigger = fields.String(required=True, validate=validate.OneOf(TRIGGERS))
    escalated_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class Resolution(Strict):
    """Measures, deadline and owner are checked by the rule (422 without them), not the schema."""

    measures = fields.List(fields.String(validate=validate.Length(max=500)), load_default=list,
                           validate=validate.Length(max=20))
    deadline = aware_datetime(load_default=None, allow_none=True)
    owner = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))


class Reopening(Strict):
    reason = text(required=True, max_length=2000)


class Complaint(Out):
    complaint_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    repair_order_id = fields.UUID(allow_none=True)
    what_happened = fields.String()
    customer_wants = fields.String()
    category = fields.String()
    severity = fields.String()
    owner = fields.String(allow_none=True)
    level = fields.Integer()
    status = fields.String()
    source = fields.String()
    created_at = aware_datetime()
    resolved_at = aware_datetime(allow_none=True)
    vehicle_id = fields.UUID(allow_none=True)
    happened_at = aware_datetime(allow_none=True)
    place = fields.String(allow_none=True)
    reported_by = fields.String(allow_none=True)
    matter = fields.String(allow_none=True)
    trigger = fields.String(allow_none=True)
    opened_at = aware_datetime()
    response_target_seconds = fields.Integer()
    resolution_target_seconds = fields.Integer()
    first_response_at = aware_datetime(allow_none=True)
    measures = fields.List(fields.String())
    resolution_deadline = aware_datetime(allow_none=True)
    resolution_owner = fields.String(allow_none=True)
    reopened = fields.Integer()


class NewFeedback(Strict):
    branch_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40))
    text = text(required=True, max_length=4000)
    channel = fields.String(load_default="in_person", validate=validate.OneOf(
        ("in_person", "phone", "email", "web", "social_media", "message")))


class FeedbackReply(Strict):
    text = text(required=True, max_length=4000)
    replied_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class FeedbackQuery(StatusListQuery):
    status = status_filter(FEEDBACK_STATUSES)
    customer_id = fields.UUID()


class Feedback(Out):
    feedback_id = fields.UUID()
    customer_id = fields.UUID()
    branch_id = fields.String()
    text = fields.String()
    channel = fields.String()
    received_at = aware_datetime()
    status = fields.String()
    reply = fields.String(allow_none=True)
    replied_by = fields.String(allow_none=True)
    replied_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()


class TimelineQuery(Strict):
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(strict=False, load_default=50, validate=validate.Range(min=1, max=200))


class TimelineEntry(Out):
    id = fields.Integer()
    at = aware_datetime()
    kind = fields.String()
    note = fields.String()
    ref_id = fields.String(allow_none=True)
    branch_id = fields.String(allow_none=True)


class Erasure(Strict):
    reason = text(required=True, max_length=500)
    erased_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=80))


class Erased(Out):
    customer_id = fields.UUID()
    name = fields.String()
    erased_at = aware_datetime()
    already = fields.Boolean(metadata={"description": "erased before: nothing changed"})
    removed = fields.Dict()


class CrmSettings(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    survey_threshold = fields.Integer(strict=True, load_default=COMPLAINT_SCORE,
                                      validate=validate.Range(min=1, max=10))
    survey_reminder_hours = fields.Integer(strict=True, load_default=48, validate=validate.Range(min=1, max=720))
    major_total_cents = fields.Integer(strict=True, load_default=MAJOR_TOTAL_CENTS,
                                       validate=validate.Range(min=0, max=10**10))
    major_labour_hours = fields.Float(load_default=MAJOR_LABOUR_HOURS, validate=validate.Range(min=0.1, max=100))


class CrmSettingsOut(Out):
    branch_id = fields.String()
    survey_threshold = fields.Integer()
    survey_reminder_hours = fields.Integer()
    major_total_cents = fields.Integer()
    major_labour_hours = fields.Float()
