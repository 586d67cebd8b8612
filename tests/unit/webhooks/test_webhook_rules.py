"""The rules of webhooks (services/webhooks/domain.py), without broker or database."""
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.webhooks import domain
from shared.domain import IllegalTransition, RuleBroken

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def subscription(**overrides):
    return domain.Subscription.register(uuid.uuid4(), overrides.pop("url", "https://bi.example.com/hooks"),
                                        overrides.pop("event_types", ["repair_order.*"]), **overrides)


def test_a_subscription_names_catalogue_types_families_or_everything():
    s = subscription(event_types=["invoice.issued", "repair_order.*", "invoice.issued"])
    assert s.event_types == ["invoice.issued", "repair_order.*"]  # sorted, once each
    assert s.wants("repair_order.opened") and s.wants("invoice.issued") and not s.wants("invoice.paid")
    assert subscription(event_types=["*"]).wants("booking.created")
    with pytest.raises(RuleBroken) as refused:
        subscription(event_types=["repair_order.opend", "nothing.*"])
    assert len(refused.value.fields["event_types"]) == 2
    with pytest.raises(RuleBroken):
        subscription(event_types=[])


def test_a_subscription_is_announced_with_a_generated_secret_receivers_libraries_accept():
    s = subscription()
    assert s.secret.startswith("whsec_") and Webhook(s.secret)  # the library takes it as it is
    assert [e.type for e in s.events] == ["webhook.subscribed"]
    assert subscription(secret=s.secret).secret == s.secret
    with pytest.raises(RuleBroken):
        subscription(secret="hunter2")


def test_a_webhook_url_is_absolute_http_or_https():
    for bad in ("ftp://x.example.com/", "/relative", "https://", "javascript:alert(1)"):
        with pytest.raises(RuleBroken):
            subscription(url=bad)


def test_a_signed_delivery_verifies_with_the_standard_webhooks_library():
    secret, body = domain.new_secret(), '{"event_id": "e-1", "total": 12.5}'
    at = datetime.now(UTC)
    headers = domain.signed_headers(secret, "e-1", "invoice.issued", body, at)
    assert Webhook(secret).verify(body, headers) == {"event_id": "e-1", "total": 12.5}
    assert headers["webhook-id"] == "e-1" and headers["pitlane-event-type"] == "invoice.issued"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("12.5", "13.5"), headers)  # a changed body fails
    with pytest.raises(WebhookVerificationError):
        Webhook(domain.new_secret()).verify(body, headers)  # so does another secret


def test_retries_double_from_the_first_delay_with_jitter_up_to_the_longest():
    rng = random.Random(7)
    delays = [domain.retry_delay(n, 5, 3600, rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        base = min(5 * 2 ** (n - 1), 3600)
        assert 0.8 * base <= delay <= 1.2 * base
    assert len({round(d, 3) for d in delays}) == len(delays)  # jittered: no two alike


def test_a_2xx_answer_delivers_and_anything_else_retries_until_the_window_is_over():
    delivery = domain.Delivery(uuid.uuid4(), created_at=AT)
    assert not delivery.answered(AT, 500, "boom", retry_hours=24, backoff=(5, 3600))
    assert delivery.status == "pending" and delivery.attempts == 1
    assert timedelta(seconds=4) <= delivery.next_attempt_at - AT <= timedelta(seconds=6)
    assert not delivery.answered(AT, None, "ReadTimeout", 24, (5, 3600))  # no answer at all
    assert delivery.answered(AT, 204, None, 24, (5, 3600)) and delivery.status == "delivered"
    with pytest.raises(IllegalTransition):
        delivery.answered(AT, 200, None, 24, (5, 3600))  # a delivered one is never tried again


def test_a_delivery_fails_when_its_next_try_would_fall_outside_the_retry_window():
    delivery = domain.Delivery(uuid.uuid4(), created_at=AT)
    late = AT + timedelta(hours=23, minutes=50)
    assert not delivery.answered(late, 503, "busy", 24, (3600, 3600))
    assert delivery.status == "failed" and delivery.next_attempt_at is None and delivery.last_status == 503


def test_a_subscription_failing_every_try_for_the_pause_window_is_paused_and_operations_are_told():
    s = subscription()
    s.take_events()
    for minute in range(0, 6):
        s.try_failed(AT + timedelta(minutes=minute), pause_after=3600, why="HTTP 500")
    assert s.status == "active"  # failing for 5 minutes only
    s.try_failed(AT + timedelta(hours=1), pause_after=3600, why="HTTP 500")
    assert s.status == "paused" and "7 tries" in s.paused_reason
    assert [e.type for e in s.events] == ["webhook.subscription_paused"]


def test_one_success_starts_the_failures_over():
    s = subscription()
    s.try_failed(AT, 3600, "x")
    s.try_failed(AT + timedelta(minutes=30), 3600, "x")
    s.try_succeeded()
    s.try_failed(AT + timedelta(hours=2), 3600, "x")
    assert s.status == "active" and s.failures_in_a_row == 1 and s.failing_since == AT + timedelta(hours=2)


def test_a_few_failures_never_pause_however_long_apart():
    s = subscription()
    s.try_failed(AT, 60, "x")
    s.try_failed(AT + timedelta(hours=5), 60, "x")
    assert s.status == "active"


def test_a_resumed_subscription_starts_over_and_a_disabled_one_stays_disabled():
    s = subscription()
    s.pause("by hand")
    s.resume()
    assert s.status == "active" and s.failures_in_a_row == 0 and s.paused_reason is None
    s.disable()
    assert not s.wants("repair_order.opened")
    with pytest.raises(IllegalTransition):
        s.resume()


def test_events_of_one_subject_are_named_by_the_fact_they_are_about():
    order = uuid.uuid4()
    assert domain.subject_of({"event_id": "e", "repair_order_id": order, "customer_id": "c"}) == f"repair_order_id:{order}"
    assert domain.subject_of({"event_id": "e", "customer_id": "c"}) == "customer_id:c"
    assert domain.subject_of({"event_id": "e", "branch_id": "N1"}) == "event:e"  # about nothing: its own subject


def test_a_handler_queue_names_the_type_it_takes_and_other_queues_none():
    assert domain.queue_event_types("evt-pitlane-invoice.issued--crm.message_invoice") == ["invoice.issued"]
    assert domain.queue_event_types("bi-feed") is None
