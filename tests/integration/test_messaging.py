"""The shared machinery over the real broker and database: outbox, inbox, retries, dead letters."""
import json
import subprocess
import sys
import time
import uuid

import pytest

from pitlane import dlq
from shared import config
from shared.bus.broker import EVENTS_EXCHANGE, ConfirmingPublisher
from shared.contracts import events
from shared.storage.db import Pool
from shared.bus.messaging import declare_topology
from tests.support.bus import EventRecorder, publish_event
from tests.support.infra import ROOT, ServiceProcess, queue_info, wait_for
from tests.support.probe import PROBE, ProbeService, running_probe

@pytest.fixture(scope="module")
def probe(run_env):
    with running_probe(run_env["amqp"]) as process:
        yield process


def effects(rpc, booking_id):
    return rpc.probe.effects(str(booking_id))


def test_event_published_through_the_outbox_reaches_handlers(probe, rpc):
    booking_id = str(uuid.uuid4())
    with EventRecorder("booking.cancelled") as recorder:
        event_id = rpc.probe.announce(booking_id, "customer asked")
        event = recorder.wait_for("booking.cancelled", booking_id=booking_id)
    assert event["event_id"] == event_id and event["source"] == "booking"
    # the relay sends the payload as stored, with the event's id as the message id
    assert event["_message_id"] == event_id and event["_content_type"] == "application/json"
    assert event["reason"] == "customer asked" and event["booking_id"] == booking_id
    wait_for(lambda: effects(rpc, booking_id) == 1, message="the probe to apply the event")


def test_redelivered_event_has_one_effect(probe, rpc):
    booking_id = uuid.uuid4()
    event = publish_event("booking.cancelled", "PROBE", booking_id=booking_id, reason="dup")
    publish_event("booking.cancelled", "PROBE", booking_id=booking_id, reason="dup",
                  event_id=event["event_id"], occurred_at=event["occurred_at"])
    wait_for(lambda: effects(rpc, booking_id) == 1)
    # the management API reports a count only after its first stats sample of the queue
    wait_for(lambda: queue_info("evt-pitlane-booking.cancelled--probe.count_cancellation").get("messages") == 0)
    assert effects(rpc, booking_id) == 1


def test_row_committed_by_a_dead_process_is_still_published(probe, rpc, run_env):
    """A crash between commit and publish: the row sits in the outbox; the relay's sweep sends it."""
    booking_id = str(uuid.uuid4())
    pool = Pool(run_env["dsn"], "probe", size=1)
    from shared.storage.unit_of_work import UnitOfWork

    with EventRecorder("booking.cancelled") as recorder:
        with UnitOfWork(pool, "booking").transaction() as tx:  # no relay wakes for this commit
            tx.publish("booking.cancelled", "PROBE", booking_id=booking_id, reason="orphaned")
        recorder.wait_for("booking.cancelled", timeout=10, booking_id=booking_id)
    pool.close()
    wait_for(lambda: effects(rpc, booking_id) == 1)


def test_failing_event_is_retried_then_dead_lettered_and_others_still_flow(probe, rpc):
    poison_id = uuid.uuid4()
    poison = publish_event("booking.cancelled", "PROBE", booking_id=poison_id, reason="poison")
    healthy_id = uuid.uuid4()
    publish_event("booking.cancelled", "PROBE", booking_id=healthy_id, reason="fine")
    wait_for(lambda: effects(rpc, healthy_id) == 1, message="the healthy event")
    letters = wait_for(
        lambda: [d for d in dlq.list_dead_letters(config.amqp_uri()) if d["id"] == poison["event_id"]],
        timeout=20, message="the poison message in the dead-letter queue",
    )
    letter = letters[0]
    assert letter["attempts"] == len(config.retry_delays()) + 1
    assert letter["queue"] == "evt-pitlane-booking.cancelled--probe.count_cancellation"
    assert "cannot apply" in letter["error"]
    assert effects(rpc, poison_id) == 0
    # listing does not consume: the letter is still there
    assert any(d["id"] == poison["event_id"] for d in dlq.list_dead_letters(config.amqp_uri()))


def test_an_event_that_meets_a_database_outage_waits_for_it_and_is_never_parked(probe, rpc):
    booking_id = uuid.uuid4()
    rpc.probe.set_failing(True, "database")
    try:
        event = publish_event("booking.cancelled", "PROBE", booking_id=booking_id, reason="outage")
        # well past every retry delay (0.2 s and 0.5 s in tests): a fault like the pool's would
        # have parked it by now
        time.sleep(4)
        assert all(d["id"] != event["event_id"] for d in dlq.list_dead_letters(config.amqp_uri()))
        assert effects(rpc, booking_id) == 0
    finally:
        rpc.probe.set_failing(False, "database")
    wait_for(lambda: effects(rpc, booking_id) == 1, timeout=20, message="the event once the database is back")
    assert all(d["id"] != event["event_id"] for d in dlq.list_dead_letters(config.amqp_uri()))


def test_a_dead_letter_names_the_fields_that_were_wrong(probe):
    from pitlane.dlq import list_dead_letters

    bad = events.build("booking.cancelled", "PROBE", source="booking", booking_id=uuid.uuid4(), reason="x")
    bad["reason"] = None  # a field the catalogue requires as text
    publisher = ConfirmingPublisher(config.amqp_uri())
    try:
        publisher.publish([(EVENTS_EXCHANGE, "booking.cancelled", bad, {})])
    finally:
        publisher.close()
    letter = wait_for(lambda: [d for d in list_dead_letters(config.amqp_uri()) if d["id"] == bad["event_id"]],
                      timeout=20, message="the invalid event in the dead letters")[0]
    assert "reason" in letter["error"], letter["error"]


def test_dead_letter_replayed_after_the_fault_is_fixed(probe, rpc):
    booking_id = uuid.uuid4()
    rpc.probe.set_failing(True)
    try:
        event = publish_event("booking.cancelled", "PROBE", booking_id=booking_id, reason="transient")
        wait_for(lambda: any(d["id"] == event["event_id"] for d in dlq.list_dead_letters(config.amqp_uri())),
                 timeout=20, message="the dead letter")
    finally:
        rpc.probe.set_failing(False)
    result = subprocess.run(
        [sys.executable, "-m", "pitlane.cli", "dlq", "replay", event["event_id"]],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert event["event_id"] in result.stdout
    wait_for(lambda: effects(rpc, booking_id) == 1, message="the replayed event to apply")
    assert all(d["id"] != event["event_id"] for d in dlq.list_dead_letters(config.amqp_uri()))


def test_dlq_list_cli_prints_records(probe):
    result = subprocess.run(
        [sys.executable, "-m", "pitlane.cli", "dlq", "list", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    counted = dlq.count(config.amqp_uri())  # the broker's own count (the management stats lag by seconds)
    assert len(records) == counted >= 1
    assert all(r["id"] and r["queue"].startswith("evt-") and r["error"] for r in records)


def test_handler_queues_are_durable_and_wait_for_a_stopped_service(run_env, rpc):
    """An event sent while its handler's service is down waits in the durable queue."""
    declare_topology(run_env["amqp"], [ProbeService])
    booking_id = uuid.uuid4()
    publish_event("booking.cancelled", "PROBE", booking_id=booking_id, reason="while down")
    info = queue_info("evt-pitlane-booking.cancelled--probe.count_cancellation")
    assert info["durable"] is True
    process = ServiceProcess(PROBE).start().wait_ready()
    try:
        wait_for(lambda: effects(rpc, booking_id) == 1, message="the waiting event")
    finally:
        process.stop()
