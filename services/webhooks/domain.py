"""The rules of webhooks: what an integrator may subscribe to, how a delivery is signed, retried and given
up, when a subscription that keeps failing is paused, and which events keep their order.

A subscription names a URL, the event types it wants (catalogue names, `<family>.*` or `*`) and a
secret. A delivery is one event for one subscription: tried at once, then again with doubling delays
(+/- 20 % jitter) until it is delivered or the retry window (24 h) is over, when it fails and stays in
the subscription's dead letters for a manual redelivery. A subscription whose every try has failed for
the pause window (6 h) is paused: nothing more is tried until an admin resumes it, and operations are
told (webhook.subscription_paused; the metric pitlane_webhook_subscription_paused).
"""
import base64
import os
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlparse

from standardwebhooks.webhooks import Webhook

from shared.contracts import events
from shared.contracts.api.webhooks import DELIVERY_STATUSES, SUBSCRIPTION_STATUSES
from shared.domain import Aggregate, RuleBroken, StateConflict, StateMachine

SUBSCRIPTION = StateMachine("subscription", {
    "active": ("paused", "disabled"), "paused": ("active", "disabled"), "disabled": ()})
DELIVERY = StateMachine("delivery", {"pending": ("delivered", "failed"), "delivered": (), "failed": ()})
assert SUBSCRIPTION.statuses == SUBSCRIPTION_STATUSES and DELIVERY.statuses == DELIVERY_STATUSES

GROUP = "GROUP"  # the branch of webhook events: a subscription belongs to the dealer group, not a branch
MIN_PAUSE_FAILURES = 3  # a subscription is paused only after this many tries in a row failed, however long
SECRET_BYTES = 24

# The fact that names what an event is about, first found wins: events of one subject reach a
# subscription in the order they occurred (the next waits while an earlier one is still being tried).
SUBJECT_FACTS = ("repair_order_id", "booking_id", "walk_in_id", "transfer_id", "purchase_order_id",
                 "replenishment_id", "invoice_id", "claim_id", "credit_note_id", "complaint_id", "follow_up_id",
                 "invitation_id", "message_id", "subscription_id", "customer_id", "vehicle_id")


def subject_of(payload: dict) -> str:
    """What the event is about, as `<fact>:<id>`; an event about nothing in SUBJECT_FACTS is its own subject."""
    for fact in SUBJECT_FACTS:
        value = payload.get(fact)
        if value:
            return f"{fact}:{value}"
    return f"event:{payload.get('event_id')}"


def check_event_types(patterns: list[str]) -> list[str]:
    """The patterns, each a catalogue name, `<family>.*` naming a family of the catalogue, or `*`."""
    names = events.names()
    families = {name.split(".")[0] for name in names}
    wrong = [p for p in patterns if not (p == "*" or p in names or (p.endswith(".*") and p[:-2] in families))]
    if wrong:
        raise RuleBroken(f"not in the event catalogue: {', '.join(wrong)}",
                         event_types=[f"{p}: not an event type, a <family>.* or *" for p in wrong])
    return sorted(set(patterns))


def wants(patterns, event_type: str) -> bool:
    """Does a subscription with `patterns` want events of `event_type`?"""
    family = event_type.split(".")[0]
    return any(p == "*" or p == event_type or p == f"{family}.*" for p in patterns)


def queue_event_types(queue: str) -> list[str] | None:
    """The event type a service's handler queue takes (evt-pitlane-<type>--<service>.<method>); None for any
    other queue (an integrator's own, bound to what it chose)."""
    match = re.match(r"^evt-[^-]+-(.+?)--[\w.]+$", queue)
    return [match.group(1)] if match and match.group(1) in events.names() else None


def check_url(url: str, allow_http: bool = True) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in (("https", "http") if allow_http else ("https",)) or not parsed.hostname:
        raise RuleBroken("a webhook URL is an absolute http(s) URL", url=["not an absolute http(s) URL"])
    return url


def new_secret() -> str:
    """A secret as Standard Webhooks libraries take it: whsec_ and the base64 of random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]{32,}={0,2}$")


def check_secret(secret: str) -> str:
    if not _SECRET.match(secret or ""):
        raise RuleBroken("a secret is whsec_ and the base64 of at least 24 random bytes",
                         secret=["whsec_ and at least 32 base64 characters"])
    return secret


def signed_headers(secret: str, event_id: str, event_type: str, body: str, at: datetime) -> dict:
    """The Standard Webhooks headers of one try: webhook-id (the event's id, the same on every try so a
    receiver drops copies), webhook-timestamp, webhook-signature (v1, HMAC-SHA256 of id.timestamp.body);
    and what the event is, since the body is the event exactly as published."""
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(event_id, at, body),
            "content-type": "application/json", "pitlane-event-type": event_type}


def retry_delay(attempts: int, first: float, longest: float, rng=None) -> float:
    """Seconds before the next try after `attempts` failed tries: first, 2 x first, 4 x first ... capped
    at `longest`, each +/- 20 % so a receiver coming back is not met by every delivery at once."""
    return min(first * 2 ** max(attempts - 1, 0), longest) * (rng or random).uniform(0.8, 1.2)


@dataclass
class Subscription(Aggregate):
    subscription_id: uuid.UUID
    url: str
    event_types: list
    secret: str
    description: str = ""
    created_by: str = "unknown"
    status: str = "active"
    failures_in_a_row: int = 0
    failing_since: datetime | None = None
    paused_reason: str | None = None
    branch_id: str = field(default=GROUP, repr=False)

    @classmethod
    def register(cls, subscription_id, url, event_types, secret=None, description="", created_by="unknown",
                 allow_http=True) -> "Subscription":
        """A new subscription, active at once; its secret is generated unless one is given."""
        if not event_types:
            raise RuleBroken("name at least one event type", event_types=["at least one event type"])
        subscription = cls(subscription_id, check_url(url, allow_http), check_event_types(list(event_types)),
                           check_secret(secret) if secret else new_secret(), description, created_by)
        subscription.record("webhook.subscribed", subscription_id=subscription_id, url=url,
                            event_types=subscription.event_types)
        return subscription

    def wants(self, event_type: str) -> bool:
        return self.status != "disabled" and wants(self.event_types, event_type)

    def try_succeeded(self):
        self.failures_in_a_row, self.failing_since = 0, None

    def try_failed(self, at: datetime, pause_after: float, why: str):
        """One more failed try; paused when every try has failed for `pause_after` seconds (and a few
        tries at least: a receiver down for a minute is not paused for one slow retry)."""
        self.failures_in_a_row += 1
        self.failing_since = self.failing_since or at
        failing_for = (at - self.failing_since).total_seconds()
        if self.status == "active" and self.failures_in_a_row >= MIN_PAUSE_FAILURES and failing_for >= pause_after:
            self.pause(f"every try failed for {failing_for / 3600:.1f} h ({self.failures_in_a_row} tries); last: {why}")

    def pause(self, why: str):
        self.status = SUBSCRIPTION.check(self.status, "paused")
        self.paused_reason = why[:500]
        self.record("webhook.subscription_paused", subscription_id=self.subscription_id, url=self.url,
                    failures_in_a_row=self.failures_in_a_row, failing_since=self.failing_since,
                    reason=self.paused_reason)

    def resume(self):
        """Tries start again at once; the count of failures starts over."""
        self.status = SUBSCRIPTION.check(self.status, "active")
        self.failures_in_a_row, self.failing_since, self.paused_reason = 0, None, None
        self.record("webhook.subscription_resumed", subscription_id=self.subscription_id, url=self.url)

    def disable(self):
        self.status = SUBSCRIPTION.check(self.status, "disabled")
        self.record("webhook.unsubscribed", subscription_id=self.subscription_id, url=self.url)

    def check_redeliverable(self):
        if self.status == "disabled":
            raise StateConflict("a disabled subscription gets no deliveries", status=["is disabled"])

    @classmethod
    def from_row(cls, row: dict) -> "Subscription":
        return cls(**{k: row[k] for k in ("subscription_id", "url", "event_types", "secret", "description",
                                          "created_by", "status", "failures_in_a_row", "failing_since",
                                          "paused_reason")})


@dataclass
class Delivery:
    """One event for one subscription, until it is delivered or given up."""

    delivery_id: uuid.UUID
    created_at: datetime
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None

    def answered(self, at: datetime, status: int | None, error: str | None, retry_hours: float,
                 backoff: tuple[float, float], rng=None) -> bool:
        """Record a try: a 2xx answer delivers it; anything else (another status, a timeout, a dropped
        connection) tries again later, or fails it once the retry window is over. True if delivered."""
        self.attempts += 1
        self.last_status, self.last_error = status, (error or None) and error[:500]
        if status is not None and 200 <= status < 300:
            self.status, self.next_attempt_at = DELIVERY.check(self.status, "delivered"), None
            return True
        retry_at = at + timedelta(seconds=retry_delay(self.attempts, *backoff, rng=rng))
        if retry_at - self.created_at > timedelta(hours=retry_hours):
            self.status, self.next_attempt_at = DELIVERY.check(self.status, "failed"), None
        else:
            self.next_attempt_at = retry_at
        return False

    @classmethod
    def from_row(cls, row: dict) -> "Delivery":
        return cls(**{k: row[k] for k in ("delivery_id", "created_at", "status", "attempts", "next_attempt_at",
                                          "last_status", "last_error")})
