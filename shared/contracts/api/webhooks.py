"""What the API takes and gives about webhooks and the event archive (services/webhooks): subscriptions,
their delivery log, redeliveries and replays (the rules are in services/webhooks/domain.py)."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.contracts.schemas import ListQuery, Out, Strict, aware_datetime, status_filter, text

SUBSCRIPTION_STATUSES = ("active", "paused", "disabled")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
REPLAY_STATUSES = ("running", "done")


class NewSubscription(Strict):
    url = text(required=True, max_length=2000, metadata={"description": "where deliveries are POSTed (http or https)"})
    event_types = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                              validate=validate.Length(min=1, max=200),
                              metadata={"description": "catalogue names, `<family>.*` (every event of a family) or `*`"})
    secret = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                           metadata={"description": "whsec_ and base64; generated when not given"})
    description = fields.String(load_default="", validate=validate.Length(max=500))
    created_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))


class SubscriptionOut(Out):
    subscription_id = fields.UUID()
    url = fields.String()
    event_types = fields.List(fields.String())
    description = fields.String()
    status = fields.String(metadata={"description": "one of: " + ", ".join(SUBSCRIPTION_STATUSES)})
    paused_reason = fields.String(allow_none=True)
    failures_in_a_row = fields.Integer()
    failing_since = aware_datetime(allow_none=True)
    created_by = fields.String()
    created_at = aware_datetime()
    pending = fields.Integer(metadata={"description": "deliveries waiting (due or retrying)"})
    oldest_pending_at = aware_datetime(allow_none=True)
    delivered = fields.Integer(metadata={"description": "deliveries delivered, in all"})
    failed = fields.Integer(metadata={"description": "deliveries given up, in all (its dead letters)"})


class SubscriptionWithSecret(SubscriptionOut):
    secret = fields.String(metadata={"description": "for verifying signatures; shown to admins only"})


class SubscriptionQuery(ListQuery):
    status = status_filter(SUBSCRIPTION_STATUSES)


class DeliveryQuery(ListQuery):
    status = status_filter(DELIVERY_STATUSES)
    event_type = fields.String(validate=validate.Length(min=1, max=80))
    event_id = fields.UUID()


class AttemptOut(Out):
    attempted_at = aware_datetime()
    status_code = fields.Integer(allow_none=True, metadata={"description": "the receiver's HTTP status; null: no answer"})
    latency_ms = fields.Integer()
    error = fields.String(allow_none=True)


class DeliveryOut(Out):
    delivery_id = fields.UUID()
    subscription_id = fields.UUID()
    event_id = fields.UUID()
    event_type = fields.String()
    subject = fields.String()
    occurred_at = aware_datetime()
    status = fields.String(metadata={"description": "one of: " + ", ".join(DELIVERY_STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = aware_datetime(allow_none=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_latency_ms = fields.Integer(allow_none=True)
    created_at = aware_datetime()
    delivered_at = aware_datetime(allow_none=True)
    redelivery = fields.Boolean(metadata={"description": "asked for by hand or by a replay"})


class DeliveryWithAttempts(DeliveryOut):
    tries = fields.List(fields.Nested(AttemptOut))


def _queue_name(name: str):
    if len(name.encode()) > 255:
        raise ValidationError("a queue's name is at most 255 bytes in UTF-8")


class _Range(Strict):
    """Which archived events: one by id, those after an event id, or a time window of occurrence."""

    event_id = fields.UUID(metadata={"description": "this one event"})
    after_event_id = fields.UUID(metadata={"description": "every event archived after this one"})
    from_ = aware_datetime(data_key="from", attribute="from", metadata={"description": "occurred at or after"})
    to = aware_datetime(metadata={"description": "occurred before"})
    event_types = fields.List(fields.String(validate=validate.Length(min=1, max=80)),
                              validate=validate.Length(min=1, max=200),
                              metadata={"description": "only these (names, `<family>.*`, `*`)"})

    @validates_schema
    def one_start(self, data, **kwargs):
        starts = [k for k in ("event_id", "after_event_id", "from") if data.get(k) is not None]
        if len(starts) != 1:
            raise ValidationError("give one of event_id, after_event_id or from", "from")
        if data.get("event_id") is not None and data.get("to") is not None:
            raise ValidationError("a window ends only a range, not one event", "to")
        if data.get("from") and data.get("to") and data["from"] >= data["to"]:
            raise ValidationError("must be after from", "to")


class Redelivery(_Range):
    """Events of the archive sent to a subscription again (it has to want their type)."""


class Replay(_Range):
    """Events of the archive published again into one queue of the broker, for an integrator's own
    consumer (or a service's handler queue) that lost or never had them."""

    queue = fields.String(required=True, validate=[validate.Length(min=1), _queue_name],
                          metadata={"description": "a queue on the broker, at most 255 bytes in UTF-8"})
    created_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))


class RedeliveryOut(Out):
    queued = fields.Integer(metadata={"description": "deliveries created"})
    already_pending = fields.Integer(metadata={"description": "events with a delivery waiting already"})


class ReplayOut(Out):
    replay_id = fields.UUID()
    created_by = fields.String()
    queue = fields.String()
    status = fields.String(metadata={"description": "one of: " + ", ".join(REPLAY_STATUSES)})
    matched = fields.Integer(metadata={"description": "archived events the range holds"})
    published = fields.Integer(metadata={"description": "published so far, in archive order"})
    created_at = aware_datetime()
    finished_at = aware_datetime(allow_none=True)
