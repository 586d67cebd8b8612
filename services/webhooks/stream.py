"""The whole event stream into the archive, in batches: one queue bound to `#`, a few hundred events a
transaction, acknowledged together once they committed.

Every event of every service passes here, so one nameko worker and one transaction per event (what
`on_event` handlers get) cost the webhooks process 60 ms of CPU per journey, a sixth of the stack's
(docs/benchmarks.md); a batch costs a statement or two for all its events. At least once all the
same: nothing is acknowledged before its batch committed, and the archive's unique event id makes a
redelivered copy harmless.
"""
import json
import logging
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import amqp
from nameko.extensions import DependencyProvider

from services.webhooks import store
from services.webhooks.domain import subject_of, wants
from shared.bus.broker import (DEAD_LETTER_QUEUE, EVENTS_EXCHANGE, ConfirmingPublisher, Connection, JsonText,
                               connection_params, queue_arguments)
from shared.bus.messaging import EXCHANGE_OWNER
from shared.contracts import errors

log = logging.getLogger(__name__)

QUEUE = f"evt-{EXCHANGE_OWNER}-#--webhooks.archive"
BATCH = 500  # events a transaction at most
LINGER = 0.05  # seconds a batch waits for more events once its first arrived


class StreamArchive(DependencyProvider):
    """Consumes QUEUE in a thread of its own and archives what arrives (`archive` below)."""

    def __init__(self, settle_seconds: float):
        self.settle_seconds = settle_seconds

    def setup(self):
        self.uri = self.container.config["AMQP_URI"]
        self._stop = threading.Event()

    def start(self):
        database = next(d for d in self.container.dependencies if hasattr(d, "unit_of_work"))
        self.unit_of_work = database.unit_of_work
        self.container.spawn_managed_thread(self._run, identifier="stream-archive")

    def stop(self):
        self._stop.set()

    kill = stop

    def _run(self):
        failures = 0
        while not self._stop.is_set():
            try:
                self._consume()
                failures = 0
            except (OSError, amqp.exceptions.AMQPError, errors.Unavailable) as exc:
                failures += 1
                delay = min(0.2 * 2 ** failures, 5.0)
                log.warning("stream archive: %s; again in %.1f s (unacknowledged events come back)", exc, delay)
                self._stop.wait(delay)

    def _consume(self):
        conn = Connection(**connection_params(self.uri), heartbeat=0, connect_timeout=5)
        conn.connect()
        try:
            channel = conn.channel()
            channel.basic_qos(0, BATCH, False)
            channel.queue_declare(QUEUE, durable=True, auto_delete=False, arguments=queue_arguments())
            channel.queue_bind(QUEUE, EVENTS_EXCHANGE, routing_key="#")
            batch: list = []
            channel.basic_consume(QUEUE, callback=batch.append)
            first_at = None
            while not self._stop.is_set():
                try:
                    conn.drain_events(timeout=LINGER)
                except socket.timeout:
                    pass
                if batch and first_at is None:
                    first_at = time.monotonic()
                if batch and (len(batch) >= BATCH or time.monotonic() - first_at >= LINGER):
                    self._archive_batch(batch)  # raises while the database is away: nothing acked
                    channel.basic_ack(batch[-1].delivery_tag, multiple=True)
                    batch.clear()
                    first_at = None
        finally:
            try:
                conn.close()
            except Exception:  # the connection is gone already; its unacked messages come back
                pass

    def _archive_batch(self, messages):
        events, unreadable = [], []
        for message in messages:
            body = _text(message.body)
            try:
                payload = json.loads(body)
                events.append((message.delivery_info["routing_key"], payload["event_id"], payload["occurred_at"],
                               subject_of(payload), body))
            except (ValueError, KeyError, TypeError) as exc:
                unreadable.append((message, f"{exc.__class__.__name__}: {exc}"))
        if unreadable:
            self._dead_letter(unreadable)
        with self.unit_of_work.transaction() as tx:
            archive(tx, events, self.settle_seconds)

    def _dead_letter(self, unreadable):
        """What is not an event (not JSON, no event_id): parked for operations, never archived."""
        publisher = ConfirmingPublisher(self.uri)
        try:
            publisher.publish([("", DEAD_LETTER_QUEUE, JsonText(_text(m.body), m.properties.get("message_id")),
                                {"x-pitlane-queue": QUEUE, "x-pitlane-attempts": 1,
                                              "x-pitlane-error": why[:1000],
                                              "x-pitlane-event-type": m.delivery_info["routing_key"],
                                              "x-pitlane-failed-at": datetime.now(timezone.utc).isoformat()})
                               for m, why in unreadable])
        finally:
            publisher.close()
        log.error("stream archive: %d unreadable messages dead-lettered", len(unreadable))


def _text(body) -> str:
    return body.decode(errors="replace") if isinstance(body, bytes) else body


def archive(tx, events, settle_seconds: float):
    """Archive `events` ((type, id, occurred_at, subject, body), in the order they arrived) and give each
    subscription that wants one a delivery, due once `settle_seconds` have passed: two statements for the
    whole batch. A copy of an archived event gets nothing more."""
    archived = store.archive_many(tx, events)
    receiving = store.receiving(tx) if archived else []
    due = timedelta(seconds=settle_seconds)
    store.add_deliveries(tx, [
        {"delivery_id": uuid.uuid4(), "subscription_id": s["subscription_id"], "event_id": row["event_id"], "event_type": row["event_type"],
         "subject": row["subject"], "occurred_at": row["occurred_at"], "seq": row["seq"],
         "next_attempt_at": row["received_at"] + due}
        for row in archived for s in receiving if wants(s["event_types"], row["event_type"])])
