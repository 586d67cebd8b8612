"""Webhooks against real HTTP receivers this test starts: one that answers 500, hangs past the timeout or
drops the connection now and then, one that is always fine, one that is down until it is fixed. Every
event arrives and verifies with the `standardwebhooks` package, events of one subject in the order they
occurred; the flaky receiver never slows the healthy one; a receiver that keeps failing pauses its
subscription until it is resumed; archived events are redelivered and replayed into a queue.

The webhooks service runs on a vhost and database of its own: it consumes every event of its vhost."""
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import amqp
import pytest

from shared.bus.broker import connection_params
from shared.contracts import errors
from tests.conftest import RUN_ID
from tests.support import infra
from tests.support.bus import publish_event, rpc_proxy
from tests.support.infra import ServiceProcess, wait_for
from tests.support.receiver import Receiver

TIMEOUT = 1.5  # PITLANE_WEBHOOK_TIMEOUT: a hanging receiver is given up on after this


@pytest.fixture(scope="module")
def webhooks(run_env):
    from services.webhooks.service import WebhooksService
    from shared.bus.messaging import declare_topology

    settings = {"PITLANE_WEBHOOK_TIMEOUT": str(TIMEOUT), "PITLANE_WEBHOOK_FIRST_RETRY": "0.2",
                "PITLANE_WEBHOOK_LONGEST_RETRY": "1", "PITLANE_WEBHOOK_PAUSE_AFTER": "4"}
    with infra.own_vhost(f"pitlane-test-{RUN_ID}-webhooks", f"pitlane_test_{RUN_ID}_webhooks", **settings) as uri:
        declare_topology(uri, [WebhooksService])
        process = ServiceProcess("webhooks").start()
        try:
            process.wait_ready()
            yield process
        finally:
            process.stop()


@pytest.fixture
def receivers():
    made = []

    def make(behave=lambda event_id, tries: "ok"):
        made.append(Receiver(behave, hang_seconds=TIMEOUT + 1))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def subscribe(receiver, event_types):
    with rpc_proxy() as proxy:
        subscription = proxy.webhooks.create_subscription({"url": receiver.url, "event_types": event_types,
                                                          "created_by": "test"})
    receiver.secret = subscription["secret"]
    return subscription


def call(method, *args):
    with rpc_proxy() as proxy:
        return getattr(proxy.webhooks, method)(*args)


def publish_subjects(subjects: int, steps: int, event_type="booking.cancelled") -> dict:
    """`steps` events about each of `subjects` bookings, each subject's in order; their ids by booking."""
    published = {}
    start = datetime.now(UTC)
    for step in range(steps):
        for n in range(subjects):
            booking_id = uuid.UUID(int=n + 1 + (hash(RUN_ID) & 0xFFFFFF) * 1000)
            event = publish_event(event_type, "PROBE", booking_id=booking_id, reason=f"step {step}",
                                  occurred_at=start + timedelta(milliseconds=step * 10 + n * 0.01))
            published.setdefault(str(booking_id), []).append(event["event_id"])
    return published


def test_every_event_reaches_a_flaky_receiver_verified_in_order_per_subject_and_the_healthy_one_is_not_slowed(
        webhooks, receivers):
    rng = random.Random(27)

    def flaky(event_id, tries):
        if tries >= 3:
            return "ok"
        return rng.choices(["ok", "500", "hang", "drop"], weights=[50, 20, 15, 15])[0]

    flaky_receiver, healthy = receivers(flaky), receivers()
    slow = subscribe(flaky_receiver, ["booking.cancelled"])
    fine = subscribe(healthy, ["booking.*"])
    started = time.monotonic()
    published = publish_subjects(subjects=12, steps=5)
    every = {e for ids in published.values() for e in ids}

    wait_for(lambda: healthy.ids() >= every, timeout=30, message="the healthy receiver to have every event")
    healthy_done = time.monotonic() - started
    wait_for(lambda: flaky_receiver.ids() >= every, timeout=120, interval=0.5,
             message="the flaky receiver to have every event")
    flaky_done = time.monotonic() - started
    assert healthy_done < flaky_done and healthy_done < 15, (healthy_done, flaky_done)

    for receiver in (flaky_receiver, healthy):
        first = {}
        for event in receiver.accepted:
            first.setdefault(event["_id"], event)
        by_subject = {}
        for event in sorted(first.values(), key=lambda e: e["_at"]):
            by_subject.setdefault(event["booking_id"], []).append(event["_id"])
        assert by_subject == published  # per subject: first accepted in the order they occurred
        assert all(e["_type"] == "booking.cancelled" for e in receiver.accepted)

    log = call("list_deliveries", slow["subscription_id"], {"limit": 200})["items"]
    assert len(log) == len(every) and {d["status"] for d in log} == {"delivered"}
    assert any(d["attempts"] > 1 for d in log)
    tries = [t for d in log if d["attempts"] > 1 for t in call("get_delivery", d["delivery_id"])["tries"]]
    assert {500, None} <= {t["status_code"] for t in tries}  # refusals, and tries with no answer at all
    assert any(t["error"] and "Timeout" in t["error"] for t in tries)
    assert all(t["latency_ms"] >= 0 for t in tries)
    assert call("get_subscription", fine["subscription_id"])["delivered"] == len(every)
    figures = {f["subscription_id"]: f for f in call("webhook_figures")}
    assert figures[slow["subscription_id"]]["pending"] == 0
    assert figures[slow["subscription_id"]]["delivered"] == len(every)
    for sub in (slow, fine):
        call("disable_subscription", sub["subscription_id"])


def test_a_receiver_that_keeps_failing_is_paused_and_once_resumed_gets_everything(webhooks, receivers):
    down = {"down": True}
    receiver = receivers(lambda event_id, tries: "500" if down["down"] else "ok")
    subscription = subscribe(receiver, ["booking.cancelled"])
    published = publish_subjects(subjects=3, steps=1)
    paused = wait_for(lambda: (s := call("get_subscription", subscription["subscription_id"]))["status"] == "paused"
                      and s, timeout=30, message="the subscription to be paused")
    assert paused["failures_in_a_row"] >= 3 and "every try failed" in paused["paused_reason"]
    figures = {f["subscription_id"]: f for f in call("webhook_figures")}
    assert figures[subscription["subscription_id"]]["status"] == "paused"
    assert figures[subscription["subscription_id"]]["pending"] == 3
    tries = sum(receiver.tries.values())
    time.sleep(1.5)
    assert sum(receiver.tries.values()) == tries  # paused: nothing is tried
    down["down"] = False
    assert call("resume_subscription", subscription["subscription_id"])["status"] == "active"
    every = {e for ids in published.values() for e in ids}
    wait_for(lambda: receiver.ids() >= every, timeout=20, message="the waiting deliveries after the resume")
    announced = call("list_deliveries", subscription["subscription_id"], {"status": "delivered"})["items"]
    assert len(announced) == 3
    call("disable_subscription", subscription["subscription_id"])


def test_archived_events_are_redelivered_one_or_a_window_and_replayed_into_a_queue(webhooks, receivers):
    receiver = receivers()
    subscription = subscribe(receiver, ["booking.cancelled"])
    before = datetime.now(UTC) - timedelta(seconds=1)
    published = publish_subjects(subjects=2, steps=3)
    every = [e for ids in published.values() for e in ids]
    wait_for(lambda: receiver.ids() >= set(every), timeout=20, message="the first deliveries")
    one = every[0]

    assert call("redeliver", subscription["subscription_id"], {"event_id": one}) == {"queued": 1, "already_pending": 0}
    wait_for(lambda: sum(1 for e in receiver.accepted if e["_id"] == one) == 2, timeout=10,
             message="the redelivered event, with the same webhook-id")
    answer = call("redeliver", subscription["subscription_id"], {"from": before.isoformat(),
                                                                  "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()})
    assert answer["queued"] + answer["already_pending"] == len(every)
    wait_for(lambda: len(receiver.accepted) == 2 * len(every) + 1, timeout=20, message="the window again")

    queue = f"test-replay-{uuid.uuid4().hex[:8]}"
    with amqp.Connection(**connection_params(webhooks.env["PITLANE_AMQP_URI"])) as conn:
        channel = conn.channel()
        channel.queue_declare(queue, durable=True, auto_delete=False)
        replay = call("replay_to_queue", {"queue": queue, "after_event_id": one, "event_types": ["booking.cancelled"],
                                          "created_by": "test"})
        assert replay["matched"] >= len(every) - 1 and replay["status"] == "running"
        done = wait_for(lambda: (r := call("get_replay", replay["replay_id"]))["status"] == "done" and r, timeout=20,
                        message="the replay to finish")
        assert done["published"] == done["matched"]
        got = []
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            got.append(message.properties["message_id"])
        channel.queue_delete(queue)
    in_archive_order = [e for e in every if e != one]
    assert [m for m in got if m in set(in_archive_order)] == sorted(in_archive_order, key=got.index)
    assert set(in_archive_order) <= set(got) and one not in got
    call("disable_subscription", subscription["subscription_id"])


def test_a_message_on_the_stream_that_is_no_event_is_parked_and_the_stream_goes_on(webhooks, receivers):
    from pitlane import dlq
    from shared.bus.broker import EVENTS_EXCHANGE
    from services.webhooks.stream import QUEUE

    receiver = receivers()
    subscription = subscribe(receiver, ["booking.cancelled"])
    marker = f"not-an-event-{uuid.uuid4().hex[:8]}"
    with amqp.Connection(**connection_params(webhooks.env["PITLANE_AMQP_URI"])) as conn:
        channel = conn.channel()
        for body in (marker, f'{{"what": "{marker}"}}'):  # not JSON; JSON without an event id
            channel.basic_publish(amqp.Message(body, message_id=marker), exchange=EVENTS_EXCHANGE,
                                  routing_key="booking.cancelled")
    event = publish_subjects(subjects=1, steps=1)
    def parked():
        found = [d for d in dlq.list_dead_letters(webhooks.env["PITLANE_AMQP_URI"]) if d["id"] == marker]
        return found if len(found) == 2 else None

    assert {d["queue"] for d in wait_for(parked, timeout=20, message="both messages parked")} == {QUEUE}
    wait_for(lambda: receiver.ids() >= {e for ids in event.values() for e in ids}, timeout=20,
             message="the real event after them")
    call("disable_subscription", subscription["subscription_id"])


def test_what_cannot_be_done_says_why_with_a_typed_error(webhooks):
    with rpc_proxy() as proxy:
        with pytest.raises(errors.Unprocessable) as refused:  # well-formed, but no such event type
            proxy.webhooks.create_subscription({"url": "https://x.example.com/", "event_types": ["booking.nope"]})
        assert "booking.nope" in str(refused.value.fields)
        with pytest.raises(errors.Unprocessable) as bad_url:
            proxy.webhooks.create_subscription({"url": "ftp://x.example.com/", "event_types": ["*"]})
        assert "url" in bad_url.value.fields
        with pytest.raises(errors.NotFound) as missing:
            proxy.webhooks.replay_to_queue({"queue": "no-such-queue", "from": "2026-01-01T00:00:00Z"})
        assert "queue" in missing.value.fields
        with pytest.raises(errors.NotFound):
            proxy.webhooks.redeliver(str(uuid.uuid4()), {"event_id": str(uuid.uuid4())})
        with pytest.raises(errors.ValidationFailed) as two_starts:
            proxy.webhooks.redeliver(str(uuid.uuid4()), {"event_id": str(uuid.uuid4()), "from": "2026-01-01T00:00:00Z"})
        assert "from" in two_starts.value.fields
