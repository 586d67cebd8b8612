"""The outbox relay: publishes committed events to the broker, in order, confirmed in batches."""
import logging
import threading
import time

from shared import errors
from shared.broker import EVENTS_EXCHANGE, ConfirmingPublisher, JsonText, PublishFailed

log = logging.getLogger(__name__)


class Relay:
    """Claims unpublished outbox rows (FOR UPDATE SKIP LOCKED), publishes them, marks them sent.

    Woken at once after a commit that published, and every `sweep_interval` seconds regardless,
    so an event committed by a process that died before publishing is still sent. A row is
    marked only after the broker confirmed it: a crash in between sends it again, and the
    consumers' inbox makes the second copy harmless.
    """

    def __init__(self, pool, amqp_uri: str, batch_size: int = 500, sweep_interval: float = 1.0,
                 linger: float = 0.003):
        self.pool = pool
        self.linger = linger  # after a wake, wait this long so commits close together share a batch
        self.publisher = ConfirmingPublisher(amqp_uri)
        self.batch_size = batch_size
        self.sweep_interval = sweep_interval
        self._wake = threading.Event()
        self._running = False

    def wake(self):
        self._wake.set()

    def stop(self):
        self._running = False
        self._wake.set()

    def run(self):
        self._running = True
        failures = 0
        while self._running:
            if self._wake.wait(self.sweep_interval) and self.linger:
                time.sleep(self.linger)
            self._wake.clear()
            try:
                while self._running and self.publish_batch() == self.batch_size:
                    pass
                failures = 0
            except (PublishFailed, errors.Unavailable) as exc:
                failures += 1
                delay = min(0.2 * 2 ** failures, 5.0)
                log.warning("outbox relay: %s; retrying in %.1fs", exc, delay)
                threading.Event().wait(delay)
                self._wake.set()
            except Exception:
                log.exception("outbox relay failed")
                threading.Event().wait(1.0)
        self.publisher.close()

    def publish_batch(self) -> int:
        """Claim and mark a batch in one statement, publish it, and commit the marks only once
        the broker confirmed: a failed publish rolls the marks back and the rows go again."""
        with self.pool.connection() as conn:
            with conn.transaction():
                rows = conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE id IN (SELECT id FROM outbox"
                    " WHERE published_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
                    " RETURNING id, event_type, event_id::text AS event_id, payload::text AS payload",
                    (self.batch_size,),
                ).fetchall()
                if not rows:
                    return 0
                rows.sort(key=lambda r: r["id"])  # RETURNING does not keep the subquery's order
                # the payload goes out as stored: no JSON parsed here only to be written again
                self.publisher.publish(
                    [(EVENTS_EXCHANGE, r["event_type"], JsonText(r["payload"], r["event_id"]), {}) for r in rows]
                )
        return len(rows)
