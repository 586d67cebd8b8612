"""What crm takes and gives."""
from marshmallow import ValidationError, fields, validate

from services.crm import domain
from shared.contracts.schemas import ListQuery, StatusListQuery, Out, Strict, aware_datetime, boolean, status_filter, text

FOLLOW_UP_STATUSES = ("due", "done")  # domain.FollowUp
COMPLAINT_STATUSES = ("open", "resolved")  # domain.Complaint


class NewCustomer(Strict):
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = text(required=True)
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9 ()-]{5,20}$"))
    consent_marketing = boolean(load_default=False)


class Customer(Out):
    customer_id = fields.UUID()
    branch_id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    consent_marketing = fields.Boolean()
    created_at = aware_datetime()


class NewVehicle(Strict):
    customer_id = fields.UUID(required=True)
    vin = fields.String(required=True, validate=validate.Length(equal=17))
    plate = text(required=True, max_length=15)
    model = text(required=True, max_length=80)
    year = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1950, max=2100))
    odometer_km = fields.Integer(strict=True, load_default=None, allow_none=True,
                                 validate=validate.Range(min=0, max=3_000_000))


class Vehicle(Out):
    vehicle_id = fields.UUID()
    customer_id = fields.UUID()
    branch_id = fields.String()
    vin = fields.String()
    plate = fields.String()
    model = fields.String()
    year = fields.Integer(allow_none=True)
    odometer_km = fields.Integer(allow_none=True)
    created_at = aware_datetime()


def _searchable(typed):
    """domain.Search's rule (at least 3 characters) as a field error: 400."""
    try:
        domain.Search.of(typed)
    except domain.RuleBroken as refused:
        raise ValidationError(refused.fields["q"]) from None


def search(description):
    """`q`: domain.Search's rule (3 characters once trimmed) checked once, and stated in the document."""
    return fields.String(validate=[validate.Length(max=80), _searchable], metadata={
        "description": description, "minLength": domain.SEARCH_MIN, "pattern": r"^\s*\S[\s\S]+\S\s*$"})


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


class FollowUpDone(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(domain.OUTCOMES))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


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
    created_at = aware_datetime()


class NewSurvey(Strict):
    repair_order_id = fields.UUID(required=True)
    score = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10))
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


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
    what_happened = text(required=True, max_length=4000)
    customer_wants = fields.String(load_default="", validate=validate.Length(max=2000))
    category = fields.String(required=True, validate=validate.OneOf(
        ("repair_quality", "waiting_time", "price", "attitude", "parts", "communication", "other")))
    severity = fields.String(load_default="medium", validate=validate.OneOf(("low", "medium", "high", "safety")))
    owner = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))
    level = fields.Integer(strict=True, load_default=1, validate=validate.OneOf(domain.LEVELS))


class ComplaintQuery(StatusListQuery):
    status = status_filter(COMPLAINT_STATUSES)
    level = fields.Integer(validate=validate.OneOf(domain.LEVELS))
    customer_id = fields.UUID()


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
