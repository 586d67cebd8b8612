"""Event handling: one exchange (and one for events from other sites), durable queues, inbox per handler, retries with backoff, dead letters."""
import functools
import json
import inspect
import logging
from datetime import datetime, timezone

import kombu
import psycopg
from nameko.events import EventHandler
from nameko.extensions import SharedExtension

from shared import config
from shared.contracts import errors, events
from shared.domain import DomainError
from shared.bus.rpc import BROKER_GONE, ReconnectingQueueConsumer
from shared.bus.broker import (
    DEAD_LETTER_QUEUE,
    EVENTS_EXCHANGE,
    SITES_INBOUND,
    SITES_INBOUND_OWNER,
    SITES_OUTBOUND,
    ConfirmingPublisher,
    queue_arguments,
    retry_queue,
)

log = logging.getLogger(__name__)


EXCHANGE_OWNER = EVENTS_EXCHANGE.split(".")[0]  # nameko names the exchange "<owner>.events"


def handler_queue(event_type: str, service: str, method: str, owner: str = EXCHANGE_OWNER) -> str:
    """The durable queue of one handler; the same name nameko gives it (`owner`: of the exchange it is
    bound to, <owner>.events)."""
    return f"evt-{owner}-{event_type}--{service}.{method}"


def owner_of(handler) -> str:
    """The owner of the exchange a handler consumes: sites.events for events from other sites."""
    return SITES_INBOUND_OWNER if getattr(handler, "pitlane_site_event", False) else EXCHANGE_OWNER


class NotYetKnown(Exception):
    """A handler needs what another event brings, not handled yet: events on different queues arrive
    in any order. Retried with the retry delays like any failure, then dead-lettered (for operations
    to redeliver once the other event is in)."""


class Redelivery(SharedExtension):
    """Sends a failed message to wait in a retry queue, or, out of retries, to the dead letters."""

    def setup(self):
        self.delays = config.retry_delays()
        self.publisher = ConfirmingPublisher(self.container.config["AMQP_URI"])
        with kombu.Connection(self.container.config["AMQP_URI"]) as conn:
            declare_broker_plumbing(conn, self.delays)

    def stop(self):
        self.publisher.close()

    def reroute(self, message, queue: str, exc: BaseException):
        headers = dict(message.headers or {})
        attempts = int(headers.get("x-pitlane-attempts", 0)) + 1
        headers.update({
            "x-pitlane-attempts": attempts,
            "x-pitlane-queue": queue,
            "x-pitlane-error": describe(exc)[:1000],
            "x-pitlane-event-type": message.delivery_info.get("routing_key", ""),
        })
        headers.pop("x-death", None)
        poisoned = isinstance(exc, (errors.ValidationFailed, DomainError))  # it would fail the same way again
        transient = is_transient(exc)  # the database or broker away: it waits for them, however long
        if transient or (attempts <= len(self.delays) and not poisoned):
            delay = self.delays[min(attempts, len(self.delays)) - 1]
            target = (retry_queue(delay), queue)
            log.warning("%s failed on %s (attempt %d), retrying in %ss", queue, exc, attempts, delay)
        else:
            headers["x-pitlane-failed-at"] = datetime.now(timezone.utc).isoformat()
            target = ("", DEAD_LETTER_QUEUE)
            log.error("%s failed on %s after %d attempts: dead-lettered", queue, exc, attempts)
        self.publisher.publish([(target[0], target[1], message.payload, headers)])


def is_transient(exc: BaseException) -> bool:
    """A fault of what a handler stands on, not of the message: PostgreSQL refusing connections,
    too many clients, a serialization failure (the pool reports each as Unavailable), the broker
    gone. Retried with backoff for as long as it lasts; anything else is parked after the retries."""
    return isinstance(exc, (errors.Unavailable, psycopg.OperationalError, *BROKER_GONE))


def describe(exc: BaseException) -> str:
    """What went wrong, for the dead letter: the error, and the fields it names."""
    text = f"{exc.__class__.__name__}: {exc}"
    fields = getattr(exc, "fields", None)
    return f"{text} {json.dumps(fields, default=str, sort_keys=True)}" if fields else text


class EventConsumer(EventHandler):
    """nameko's event handler, but a failure is retried with backoff and then dead-lettered.

    The failed message is acked only after its copy is confirmed in the retry or dead-letter
    queue; if that publish fails, the message goes back to its own queue instead.
    """

    redelivery = Redelivery()
    queue_consumer = ReconnectingQueueConsumer()

    def setup(self):
        super().setup()
        # declared as `pitlane topology` declares it: a different type or argument would be refused
        self.queue.queue_arguments = queue_arguments()

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self._settle(self.queue_consumer.ack_message, message)
            return result, exc_info
        try:
            self.redelivery.reroute(message, self.queue.name, exc_info[1])
        except Exception:
            log.exception("could not reroute a failed message; requeueing it")
            self._settle(self.queue_consumer.requeue_message, message)
        else:
            self._settle(self.queue_consumer.ack_message, message)
        return result, exc_info

    @staticmethod
    def _settle(action, message):
        """Ack or requeue; on a channel the broker already closed, the message comes back by itself."""
        try:
            action(message)
        except BROKER_GONE as exc:
            log.warning("could not settle a message (%s); the broker will redeliver it", exc)


def on_event(event_type: str):
    """Declare a handler of one catalogued event: `def handler(self, tx, event)`.

    The payload is validated against the catalogue; the handler runs inside a transaction of
    the service's `db` that also records the event in the inbox, so a redelivered event has no
    second effect and a failed handler leaves neither effect nor mark.
    """
    events.spec(event_type)

    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, payload):
            return _once(self, fn, events.load(event_type, payload))

        handler.pitlane_event_type = event_type
        return EventConsumer.decorator(EXCHANGE_OWNER, event_type)(handler)

    return decorate


def on_site_event(event_type: str, type_of=None):
    """Declare a handler of an event from another site (docs/sites.md), delivered by a shovel into this
    site's sites.events: `def handler(self, tx, event_type, event)`, in a transaction with its inbox mark, as
    on_event. `event_type` may be a routing pattern (transfer.*: every step of a transfer in one queue,
    so one subject's steps are handled in the order they were taken); `type_of(payload)` then names the
    catalogued type of each message."""
    if type_of is None:
        events.spec(event_type)

    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, payload):
            try:
                concrete = type_of(payload) if type_of else event_type
                events.spec(concrete)
            except (KeyError, TypeError, LookupError):
                raise errors.ValidationFailed("not a catalogued event", {"event_type": [event_type]}) from None
            return _once(self, fn, events.load(concrete, payload), concrete)

        handler.pitlane_event_type, handler.pitlane_site_event = event_type, True
        return EventConsumer.decorator(SITES_INBOUND_OWNER, event_type)(handler)

    return decorate


def _once(service, fn, event, *before):
    """Run the handler `fn(service, tx, *before, event)` in a transaction that marks the event applied by
    it (the inbox): a second copy finds the mark and does nothing."""
    consumer = f"{service.name}.{fn.__name__}"
    with service.db.transaction() as tx:
        if not tx.first_delivery(str(event["event_id"]), consumer):
            log.info("%s: %s already applied", consumer, event["event_id"])
            return None
        return fn(service, tx, *before, event)


def exchange_of(queue_name: str) -> str:
    """The exchange a handler queue is bound to: sites.events for events from other sites."""
    return SITES_INBOUND if queue_name.startswith(f"evt-{SITES_INBOUND_OWNER}-") else EVENTS_EXCHANGE


def subscriptions(service_cls) -> list[tuple[str, str]]:
    """(event type, queue name) of every event handler a service class declares, and of the queues it
    consumes by other means (`stream_queues`: a routing pattern and its queue, webhooks' archive)."""
    found = list(getattr(service_cls, "stream_queues", ()))
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        event_type = getattr(method, "pitlane_event_type", None)
        if event_type:
            found.append((event_type, handler_queue(event_type, service_cls.name, method_name, owner_of(method))))
    return found


def declare_broker_plumbing(conn: kombu.Connection, delays=None):
    """The events exchange, the retry queues and the dead-letter queue."""
    channel = conn.default_channel
    for name in (EVENTS_EXCHANGE, SITES_OUTBOUND, SITES_INBOUND):
        kombu.Exchange(name, "topic", durable=True)(channel).declare()
    for delay in delays if delays is not None else config.retry_delays():
        name = retry_queue(delay)
        exchange = kombu.Exchange(name, "fanout", durable=True)
        kombu.Queue(
            name, exchange, durable=True,
            queue_arguments={**queue_arguments(dead_letters=False),
                             "x-message-ttl": int(delay * 1000), "x-dead-letter-exchange": ""},
        )(channel).declare()
    kombu.Queue(DEAD_LETTER_QUEUE, durable=True, queue_arguments=queue_arguments(dead_letters=False))(channel).declare()


def declare_topology(amqp_uri: str, service_classes) -> list[str]:
    """Declare every handler queue before any service starts, so no early event is dropped."""
    declared = []
    with kombu.Connection(amqp_uri) as conn:
        declare_broker_plumbing(conn)
        for cls in service_classes:
            for event_type, queue_name in subscriptions(cls):
                exchange = kombu.Exchange(exchange_of(queue_name), "topic", durable=True)
                kombu.Queue(queue_name, exchange, routing_key=event_type, durable=True,
                            queue_arguments=queue_arguments())(conn.default_channel).declare()
                declared.append(queue_name)
    return declared
