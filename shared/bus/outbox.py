"""The outbox relay: publishes committed events to the broker, in order, confirmed in batches;
and the retention that removes what the outbox and the inbox no longer need."""
import logging
import threading
import time
from datetime import timedelta

from shared import sites
from shared.contracts import errors
from shared.storage.db import delete_old
from shared.bus.broker import EVENTS_EXCHANGE, SITES_OUTBOUND, ConfirmingPublisher, JsonText, PublishFailed

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
                    " RETURNING id, event_type, event_id::text AS event_id, payload::text AS payload, crossing",
                    (self.batch_size,),
                ).fetchall()
                if not rows:
                    return 0
                rows.sort(key=lambda r: r["id"])  # RETURNING does not keep the subquery's order
                # the payload goes out as stored: no JSON parsed here only to be written again
                messages = []
                for r in rows:
                    body = JsonText(r["payload"], r["event_id"])
                    if not r["crossing"] or sites.stays_home_too(r["event_type"]):
                        messages.append((EVENTS_EXCHANGE, r["event_type"], body, {}))
                    if r["crossing"]:  # for the other sites (too): the shovels take it from there
                        messages.append((SITES_OUTBOUND, r["event_type"], body, {}))
                self.publisher.publish(messages)
        return len(rows)


class Retention:
    """Removes published outbox rows and applied inbox marks older than `keep_days`, and the
    kept answers of RPC commands once their `replies_keep` is over.

    The outbox and the inbox grow with every event (a journey writes about 25 outbox rows and 8
    inbox marks), and neither needs a row for long: an outbox row is only waiting for the broker's
    confirm, and an inbox mark only guards against a redelivery, which comes within seconds (a
    relay that died before marking, an unacknowledged message) or, for a service that died right
    after its commit, when it comes back. An answer is kept only for a redelivered request, which
    expires with its caller's timeout. An unpublished row is never removed. Runs every `interval`
    seconds beside the relay, `batch` rows per transaction and at most `max_batches` per table per
    run, so a long backlog is worked off over several runs and never holds a lock for long.
    """

    def __init__(self, pool, keep_days: float, replies_keep: timedelta = timedelta(minutes=10),
                 interval: float = 60.0, batch: int = 5000, max_batches: int = 10):
        self.pool, self.interval = pool, interval
        self.batch, self.max_batches = batch, max_batches
        kept = timedelta(days=keep_days)
        self.tables = {  # table: (its key, its age column, how long a row is kept, which rows may go)
            "outbox": ("id", "created_at", kept, "published_at IS NOT NULL"),
            "inbox": ("consumer, event_id", "applied_at", kept, ""),
            "rpc_replies": ("correlation_id", "created_at", replies_keep, ""),
        }
        self._stop = threading.Event()

    def stop(self):
        self._stop.set()

    def run(self):
        while not self._stop.wait(self.interval):
            try:
                self.prune()
            except Exception as exc:  # the database is away: the next run tries again
                log.warning("outbox and inbox retention: %s", exc)

    def prune(self) -> dict:
        """Remove what is older than the retention; how many rows of each table went."""
        removed = {}
        for table, (key, age, kept, where) in self.tables.items():
            removed[table] = 0
            for _ in range(self.max_batches):
                with self.pool.connection() as conn:
                    with conn.transaction():
                        count = delete_old(conn, table, key, age, kept, self.batch, where)
                removed[table] += count
                if count < self.batch:
                    break
        return removed
