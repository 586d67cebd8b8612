"""Test-side access to the bus: an RPC proxy, an event recorder, a raw publisher."""
import json
import os
import queue
import threading
import uuid

import kombu
from nameko.standalone.rpc import ClusterRpcProxy

from shared import config
from shared.contracts import events
from shared.bus.broker import EVENTS_EXCHANGE, ConfirmingPublisher


def rpc_proxy(timeout=10):
    return ClusterRpcProxy(config.nameko_config(), timeout=timeout)


class EventRecorder:
    """Binds its own queue to the events exchange and keeps every event that passes."""

    def __init__(self, pattern="#"):
        self.pattern = pattern
        self.received: "queue.Queue[dict]" = queue.Queue()
        self.seen: list[dict] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        exchange = kombu.Exchange(EVENTS_EXCHANGE, "topic", durable=True)
        q = kombu.Queue(f"test-recorder-{uuid.uuid4().hex[:8]}", exchange, routing_key=self.pattern,
                        auto_delete=True, exclusive=True)
        with kombu.Connection(os.environ["PITLANE_AMQP_URI"]) as conn:
            def on_message(body, message):
                event = body if isinstance(body, dict) else json.loads(body)
                event["_type"] = message.delivery_info["routing_key"]
                event["_message_id"] = message.properties.get("message_id")
                event["_content_type"] = message.content_type
                self.received.put(event)
                message.ack()

            with conn.Consumer(q, callbacks=[on_message]):
                self._ready.set()
                while not self._stop.is_set():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass

    def wait_for(self, event_type, timeout=15.0, **match):
        """The first event of `event_type` whose facts include `match`."""
        import time

        deadline = time.monotonic() + timeout
        for event in self.seen:
            if event.get("_type") == event_type and all(str(event.get(k)) == str(v) for k, v in match.items()):
                return event
        while time.monotonic() < deadline:
            try:
                event = self.received.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            self.seen.append(event)
            if event["_type"] == event_type and all(str(event.get(k)) == str(v) for k, v in match.items()):
                return event
        raise AssertionError(f"no {event_type} {match} within {timeout}s; saw {[e['_type'] for e in self.seen]}")


def publish_event(event_type, branch_id, source=None, **facts):
    """Publish a catalogued event straight to the exchange, as if a service had."""
    source = source or events.spec(event_type).source
    event = events.build(event_type, branch_id, source=source, **facts)
    publisher = ConfirmingPublisher(os.environ["PITLANE_AMQP_URI"])
    try:
        publisher.publish([(EVENTS_EXCHANGE, event_type, event, {})])
    finally:
        publisher.close()
    return event
