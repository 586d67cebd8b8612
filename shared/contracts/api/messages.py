"""What the API takes and gives about messages to customers (crm's): consent, messages and their attempts,
branch templates, and the words they use (the rules are in services/crm/messages.py, which imports them)."""
from marshmallow import fields, validate, validates_schema, ValidationError

from shared.contracts.api.crm import LANGUAGES  # noqa: F401  (a template's languages are the customers')
from shared.contracts.schemas import Out, Strict, aware_datetime, boolean, text

CHANNELS = ("email", "sms", "chat")
PURPOSES = ("service", "marketing", "surveys")
STATUSES = ("queued", "sent", "failed", "not_sent")
# A template's key -> (its purpose, the placeholders it may use). Every template may also use the COMMON ones.
COMMON = frozenset({"name", "branch", "number", "plate", "link"})
KINDS = {
    "booking_confirmed": ("service", {"date", "time", "advisor", "bring", "service_type"}),
    "booking_reminder": ("service", {"date", "time", "service_type"}),
    "reschedule_offered": ("service", {"alternatives"}),
    "checked_in": ("service", {"text"}),
    "quote_ready": ("service", {"total"}),
    "waiting_for_parts": ("service", {"text", "loaner"}),
    "progress": ("service", {"text"}),
    "delayed": ("service", {"reason", "new_time"}),
    "ready": ("service", {"text"}),
    "invoice": ("service", {"invoice_number", "total"}),
    "follow_up": ("service", {"kind"}),
    "survey": ("surveys", set()),
    "survey_reminder": ("surveys", set()),
    "warranty_ending": ("service", {"what", "ends_on"}),
    "transfer_tracking": ("service", {"tracking_reference"}),
    "manual": ("service", {"text"}),
}


class ConsentItem(Strict):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))
    granted = boolean(required=True)


class ConsentChange(Strict):
    consents = fields.List(fields.Nested(ConsentItem), required=True, validate=validate.Length(min=1, max=9))
    preferred_channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS))
    source = fields.String(load_default="staff", validate=validate.OneOf(("staff", "customer", "phone", "web",
                                                                            "in_person")))
    changed_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))


class ConsentOut(Out):
    channel = fields.String()
    purpose = fields.String()
    granted = fields.Boolean()


class ConsentsOut(Out):
    customer_id = fields.UUID()
    branch_id = fields.String()
    preferred_channel = fields.String(allow_none=True)
    consents = fields.List(fields.Nested(ConsentOut))


class ConsentHistoryEntry(Out):
    channel = fields.String()
    purpose = fields.String()
    granted = fields.Boolean()
    changed_by = fields.String(allow_none=True)
    source = fields.String()
    changed_at = aware_datetime()


class ConsentHistory(Out):
    customer_id = fields.UUID()
    branch_id = fields.String()
    changes = fields.List(fields.Nested(ConsentHistoryEntry))


class ManualMessage(Strict):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    template = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(tuple(KINDS)))
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=2000))
    purpose = fields.String(load_default="service", validate=validate.OneOf(PURPOSES))
    sent_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))

    @validates_schema
    def _one_of(self, data, **kwargs):
        if (data.get("template") is None) == (data.get("text") is None):
            raise ValidationError("give a template or a text, not both", "text")


class Attempt(Out):
    at = aware_datetime()
    channel = fields.String(allow_none=True)
    result = fields.String()
    answer = fields.String()


class MessageOut(Out):
    message_id = fields.UUID()
    branch_id = fields.String()
    customer_id = fields.UUID()
    repair_order_id = fields.UUID(allow_none=True)
    key = fields.String()
    purpose = fields.String()
    channel = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    subject = fields.String()
    body = fields.String()
    status = fields.String()
    reason = fields.String(allow_none=True)
    attempts = fields.Integer()
    next_attempt_at = aware_datetime(allow_none=True)
    created_at = aware_datetime()
    attempt_log = fields.List(fields.Nested(Attempt))


class MessageQuery(Strict):
    cursor = fields.String(validate=validate.Length(max=500), load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    status = fields.String(validate=validate.OneOf(STATUSES))


class TemplateChange(Strict):
    subject = text(required=True, max_length=200)
    body = text(required=True, max_length=4000)


class MessageTemplate(Out):
    branch_id = fields.String()
    key = fields.String()
    language = fields.String()
    subject = fields.String()
    body = fields.String()
    source = fields.String()
