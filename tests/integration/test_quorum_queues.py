"""Quorum queues, chosen by configuration (PITLANE_QUEUE_TYPE=quorum): the event queues are declared as
quorum queues with a delivery limit, events flow, failures are retried through quorum retry queues and
dead-lettered as on classic queues, and a message no consumer ever settles stops at the limit.

On a vhost of its own: a queue keeps the type it was declared with, so quorum and classic queues of the
same names cannot share the run's vhost."""
import time
import uuid

import amqp
import pytest

from pitlane import dlq
from shared.bus.broker import DEAD_LETTER_QUEUE, EVENTS_EXCHANGE, connection_params
from tests.conftest import RUN_ID
from tests.support import infra
from tests.support.bus import publish_event
from tests.support.infra import ServiceProcess, queue_info, wait_for
from tests.support.probe import PROBE, ProbeService

VHOST = f"pitlane-test-{RUN_ID}-quorum"
QUEUE = "evt-pitlane-booking.cancelled--probe.count_cancellation"


@pytest.fixture(scope="module")
def quorum(run_env):
    from shared.bus.messaging import declare_topology

    with infra.own_vhost(VHOST, PITLANE_QUEUE_TYPE="quorum", PITLANE_DELIVERY_LIMIT="3") as uri:
        declare_topology(uri, [ProbeService])
        process = ServiceProcess(PROBE).start()
        try:
            process.wait_ready()
            yield uri
        finally:
            process.stop()


def effects(booking_id):
    from tests.support.bus import rpc_proxy

    with rpc_proxy() as proxy:
        return proxy.probe.effects(str(booking_id))


def test_event_queues_are_quorum_queues_with_a_delivery_limit(quorum):
    handler = queue_info(QUEUE, VHOST)
    assert handler["type"] == "quorum"
    assert handler["arguments"]["x-delivery-limit"] == 3
    assert handler["arguments"]["x-dead-letter-routing-key"] == DEAD_LETTER_QUEUE
    assert queue_info(DEAD_LETTER_QUEUE, VHOST)["type"] == "quorum"
    assert queue_info("pitlane.retry.200ms", VHOST)["type"] == "quorum"


def test_events_flow_once_and_failures_go_through_quorum_retries_to_the_dead_letters(quorum):
    healthy, poisoned = uuid.uuid4(), uuid.uuid4()
    event = publish_event("booking.cancelled", "PROBE", booking_id=healthy, reason="fine")
    publish_event("booking.cancelled", "PROBE", booking_id=healthy, reason="fine",
                  event_id=event["event_id"], occurred_at=event["occurred_at"])  # a copy: applied once
    poison = publish_event("booking.cancelled", "PROBE", booking_id=poisoned, reason="poison")
    wait_for(lambda: effects(healthy) == 1, message="the healthy event")
    letter = wait_for(lambda: [d for d in dlq.list_dead_letters(quorum) if d["id"] == poison["event_id"]],
                      timeout=20, message="the poison message, after its retries, in the dead letters")[0]
    assert letter["attempts"] == 3 and letter["queue"] == QUEUE  # two retries (0.2 s, 0.5 s), then parked
    assert effects(poisoned) == 0 and effects(healthy) == 1


def test_a_message_never_settled_stops_at_the_delivery_limit(quorum):
    """A consumer that dies holding a message gives it back to the queue; a quorum queue counts those
    deliveries and dead-letters the message at the limit instead of handing it out forever."""
    name = f"test-limit-{uuid.uuid4().hex[:8]}"
    from shared.bus.broker import queue_arguments

    with amqp.Connection(**connection_params(quorum)) as conn:
        channel = conn.channel()
        channel.queue_declare(name, durable=True, auto_delete=False, arguments=queue_arguments())
        channel.queue_bind(name, EVENTS_EXCHANGE, routing_key="test.limit")
        # returns once the broker confirmed it: a quorum queue has it then
        channel.basic_publish_confirm(amqp.Message('{"event_id": "limit-1"}', message_id="limit-1", delivery_mode=2),
                                      exchange=EVENTS_EXCHANGE, routing_key="test.limit")
        def delivered(within):
            """The message, given again to a consumer, or None if it did not come back within `within` s."""
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                message = channel.basic_get(name, no_ack=False)
                if message is not None:
                    return message
                time.sleep(0.05)
            return None

        deliveries, message = 0, delivered(10)
        while message is not None and deliveries < 20:
            deliveries += 1
            channel.basic_reject(message.delivery_tag, requeue=True)  # as a consumer that died with it
            message = delivered(2)
        assert deliveries == 4  # the first delivery and three redeliveries, then the limit
        channel.queue_delete(name)
    letter = wait_for(lambda: [d for d in dlq.list_dead_letters(quorum) if d["id"] == "limit-1"], timeout=10,
                      message="the message at its delivery limit in the dead letters")[0]
    assert letter["queue"] == name and "delivery limit" in letter["error"]
