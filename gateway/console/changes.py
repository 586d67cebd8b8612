"""What changed, per branch, for the boards left open: each gateway process listens to the events
exchange while a board polls it, and keeps the moment it last saw an event of each branch.

A board asks `GET /console/changes?branch=…` every couple of seconds; the answer comes from this
process's memory (no service, no database), and the board fetches its content again only when a
branch it shows moved on. The listener starts with the first question and stops after a minute
without one, so a gateway nobody watches carries no consumer at all.

Each process has its own listener, so two processes see the same event a few milliseconds apart:
a stamp is the time this process received the event, and a board keeps the newest stamp it has
seen, so a second process's later stamp at most repeats one refresh.
"""
import json
import logging
import threading
import time

import amqp

from shared import config
from shared.bus.broker import EVENTS_EXCHANGE, connection_params

log = logging.getLogger(__name__)
IDLE_SECONDS = 60.0
EVERYWHERE = "*"


class ChangeFeed:
    def __init__(self, uri: str | None = None, idle_seconds: float = IDLE_SECONDS):
        self.uri = uri
        self.idle_seconds = idle_seconds
        self._stamps: dict[str, float] = {}
        self._lock = threading.Lock()
        self._asked_at = 0.0
        self._listener: threading.Thread | None = None
        self._started_at = 0.0

    def stamp(self, branches=None) -> float:
        """The newest change seen of these branches (all branches when None), as epoch seconds.
        Before the listener has started it answers the moment it started: a board rendered
        earlier refreshes once."""
        self._asked_at = time.monotonic()
        self._ensure_listening()
        with self._lock:
            keys = [EVERYWHERE] if branches is None else list(branches)
            return max([self._stamps.get(k, 0.0) for k in keys] + [self._started_at])

    def saw(self, branch_id: str | None, at: float | None = None):
        at = at or time.time()
        with self._lock:
            self._stamps[EVERYWHERE] = at
            if branch_id:
                self._stamps[branch_id] = at

    def _ensure_listening(self):
        if self._listener is not None and self._listener.is_alive():
            return
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._started_at = time.time()
            self._listener = threading.Thread(target=self._listen, name="console-changes", daemon=True)
            self._listener.start()

    def _listen(self):
        while time.monotonic() - self._asked_at < self.idle_seconds:
            try:
                self._consume()
            except Exception as exc:  # the broker went away: try again shortly, boards keep polling
                log.warning("console change feed: %s; reconnecting", exc)
                self._started_at = time.time()  # what happened meanwhile is unknown: boards refresh
                time.sleep(1.0)

    def _consume(self):
        with amqp.Connection(**connection_params(self.uri or config.amqp_uri()), connect_timeout=5) as conn:
            channel = conn.channel()
            channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True, auto_delete=False)
            queue, _, _ = channel.queue_declare("", exclusive=True, auto_delete=True,
                                                arguments={"x-max-length": 10_000})
            channel.queue_bind(queue, EVENTS_EXCHANGE, routing_key="#")
            channel.basic_consume(queue, callback=self._on_event, no_ack=True)
            self._started_at = time.time()  # events before this moment were not seen: boards refresh once
            while time.monotonic() - self._asked_at < self.idle_seconds:
                try:
                    conn.drain_events(timeout=1.0)
                except TimeoutError:
                    pass
            channel.close()

    def _on_event(self, message):
        try:
            branch_id = json.loads(message.body).get("branch_id")
        except (ValueError, AttributeError):
            branch_id = None
        self.saw(branch_id)


FEED = ChangeFeed()
