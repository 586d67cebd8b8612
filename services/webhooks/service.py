"""webhooks: the event stream pushed to integrators. Every event is archived as published (one queue bound
to the whole stream); each subscription that wants it gets a delivery, POSTed signed by the Standard
Webhooks conventions, retried with backoff, logged try by try; archived events are redelivered to a
subscription or replayed into a queue on request. Rules: services/webhooks/domain.py."""
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import amqp
import eventlet
import requests
from nameko.timer import timer

from services.webhooks import domain, store
from services.webhooks.stream import QUEUE, StreamArchive
from shared import config
from shared.bus.broker import ConfirmingPublisher, JsonText, connection_params
from shared.bus.rpc import load, record_id, rpc
from shared.contracts import errors
from shared.contracts.api import webhooks as schemas
from shared.contracts.schemas import page_of
from shared.domain import stored
from shared.sla.clocks import SlaClocks
from shared.storage.db import delete_old
from shared.storage.dependencies import Database

log = logging.getLogger(__name__)

SUBSCRIPTION, WITH_SECRET = schemas.SubscriptionOut(), schemas.SubscriptionWithSecret()
DELIVERY, WITH_TRIES, REPLAY = schemas.DeliveryOut(), schemas.DeliveryWithAttempts(), schemas.ReplayOut()
SENDERS = 64  # tries in flight in one process, over every subscription
PER_SUBSCRIPTION = 8  # of them for one subscription at most: a receiver that hangs holds only these
SETTLE_SECONDS = 1.0  # a new delivery waits this long, so events of one subject that arrive out of order sort
REPLAY_BATCH = 500


def now():
    return datetime.now(UTC)


def _unknown(what):
    return errors.NotFound(f"no such {what}", {f"{what}_id": [f"unknown {what}"]})


class WebhooksService(SlaClocks):
    name = "webhooks"

    db = Database()
    stream = StreamArchive(SETTLE_SECONDS)  # every event into the archive, with its deliveries (stream.py)
    stream_queues = (("#", QUEUE),)  # declared by `pitlane topology` with the handlers' queues
    senders = eventlet.GreenPool(SENDERS)

    # -- subscriptions -------------------------------------------------------------------------------------
    @rpc
    def create_subscription(self, data):
        new = load(schemas.NewSubscription, data)
        subscription = domain.Subscription.register(uuid.uuid4(), new["url"], new["event_types"], new["secret"],
                                                    new["description"], new["created_by"] or "unknown")
        with self.db.command() as tx:
            store.insert_subscription(tx, stored(subscription))
            tx.publish_recorded(subscription)
            row = store.subscription(tx, subscription.subscription_id)
        return WITH_SECRET.dump(row)

    @rpc
    def list_subscriptions(self, query):
        filters = load(schemas.SubscriptionQuery, query or {})
        with self.db.read() as tx:
            return page_of(SUBSCRIPTION, store.SUBSCRIPTIONS.page(tx, filters))

    @rpc
    def get_subscription(self, subscription_id, with_secret=False):
        with self.db.read() as tx:
            row = self._subscription(tx, subscription_id)
        return (WITH_SECRET if with_secret else SUBSCRIPTION).dump(row)

    @rpc
    def pause_subscription(self, subscription_id):
        return self._change(subscription_id, lambda s: s.pause("paused by an admin"))

    @rpc
    def resume_subscription(self, subscription_id):
        return self._change(subscription_id, domain.Subscription.resume, resumed=True)

    @rpc
    def disable_subscription(self, subscription_id):
        return self._change(subscription_id, domain.Subscription.disable)

    def _change(self, subscription_id, command, resumed=False):
        with self.db.command() as tx:
            subscription = domain.Subscription.from_row(self._subscription(tx, subscription_id, lock=True))
            command(subscription)
            store.save_subscription(tx, stored(subscription))
            if resumed:
                store.resume_waiting(tx, subscription.subscription_id, now())
            tx.publish_recorded(subscription)
            return SUBSCRIPTION.dump(store.subscription(tx, subscription.subscription_id))

    def _subscription(self, tx, subscription_id, lock=False):
        row = store.subscription(tx, record_id(subscription_id, "subscription"), lock=lock)
        if row is None:
            raise _unknown("subscription")
        return row

    # -- the delivery log ------------------------------------------------------------------------------------
    @rpc
    def list_deliveries(self, subscription_id, query):
        filters = load(schemas.DeliveryQuery, query or {})
        with self.db.read() as tx:
            self._subscription(tx, subscription_id)
            page = store.DELIVERIES.page(tx, {**filters, "subscription_id": record_id(subscription_id, "subscription")})
        return page_of(DELIVERY, page)

    @rpc
    def get_delivery(self, delivery_id):
        with self.db.read() as tx:
            row = store.delivery(tx, record_id(delivery_id, "delivery"))
            if row is None:
                raise _unknown("delivery")
            return WITH_TRIES.dump({**row, "tries": store.attempts(tx, row["delivery_id"])})

    # -- redelivery and replay from the archive -------------------------------------------------------------------
    @rpc
    def redeliver(self, subscription_id, data):
        """Archived events sent to the subscription again: one by id, or a range (after an event, or a window)."""
        asked = load(schemas.Redelivery, data)
        at = now()
        with self.db.command() as tx:
            subscription = domain.Subscription.from_row(self._subscription(tx, subscription_id))
            subscription.check_redeliverable()
            where, params, matched = self._range(tx, asked, subscription.event_types)
            queued = store.redeliver_range(tx, subscription.subscription_id, where, params, at,
                                           [subscription.event_types, *([asked["event_types"]] if asked.get("event_types") else [])])
        return {"queued": queued, "already_pending": matched - queued}

    @rpc
    def replay_to_queue(self, data):
        """Archived events published again into one queue, in archive order, worked off in batches."""
        asked = load(schemas.Replay, data)
        patterns = asked.get("event_types") or domain.queue_event_types(asked["queue"])
        if patterns:
            domain.check_event_types(patterns)
        self._check_queue(asked["queue"])
        with self.db.command() as tx:
            where, params, matched = self._range(tx, asked, patterns)
            bounds = tx.one(f"SELECT min(seq) AS first, max(seq) AS last FROM archive{where}", params)
            row = store.insert_replay(tx, {
                "replay_id": uuid.uuid4(), "queue": asked["queue"], "first_seq": bounds["first"] or 0,
                "last_seq": bounds["last"] or 0, "after_seq": (bounds["first"] or 1) - 1,
                "occurred_from": asked.get("from"), "occurred_to": asked.get("to"), "event_types": patterns,
                "matched": matched, "created_by": asked["created_by"] or "unknown"})
            if not matched:
                store.replay_moved(tx, row["replay_id"], row["after_seq"], 0, True, now())
                row = store.replay(tx, row["replay_id"])
        return REPLAY.dump(row)

    @rpc
    def get_replay(self, replay_id):
        with self.db.read() as tx:
            row = store.replay(tx, record_id(replay_id, "replay"))
        if row is None:
            raise _unknown("replay")
        return REPLAY.dump(row)

    def _range(self, tx, asked, patterns) -> tuple[str, list, int]:
        """The archive's WHERE clause for what was asked, and how many events of `patterns` it holds."""
        first = None
        if asked.get("event_id") or asked.get("after_event_id"):
            named = store.archived(tx, asked.get("event_id") or asked.get("after_event_id"))
            if named is None:
                field = "event_id" if asked.get("event_id") else "after_event_id"
                raise errors.NotFound("no such event in the archive", {field: [
                    f"not archived, or older than the archive keeps ({config.event_archive_days():g} days)"]})
            first = named["seq"] if asked.get("event_id") else named["seq"] + 1
        where, params = store.archive_range(first, asked.get("from"), asked.get("to"))
        if asked.get("event_id"):
            where, params = where + " AND seq = %s", params + [first]
        counted, counted_params = where, params
        for p in (patterns, asked.get("event_types")):
            if p:
                more, more_params = store.wanted_types(p)
                counted, counted_params = counted + more, counted_params + more_params
        matched = tx.one(f"SELECT count(*) AS n FROM archive{counted}", counted_params)["n"]
        return where, params, matched

    def _check_queue(self, queue):
        try:
            with amqp.Connection(**connection_params(config.amqp_uri()), connect_timeout=5) as conn:
                conn.channel().queue_declare(queue, passive=True)
        except amqp.exceptions.NotFound:
            raise errors.NotFound("no such queue on the broker", {"queue": ["declare it (bind it) first"]}) from None
        except (amqp.exceptions.ResourceLocked, amqp.exceptions.AccessRefused):
            raise errors.Unprocessable("that queue takes no replay", {"queue": [
                "exclusive to another connection, or not ours to write"]}) from None
        except (OSError, amqp.exceptions.AMQPError) as exc:
            raise errors.Unavailable(f"the broker did not answer: {exc}") from exc

    # -- the dispatcher: claims what is due, tries each off the request path ------------------------------------
    @timer(interval=0.25)
    def dispatch(self):
        free = self.senders.free()
        if not free:
            return
        at = now()
        try:
            with self.db.transaction() as tx:
                claimed = store.claim_due(tx, at, at + timedelta(seconds=config.webhook_timeout() * 3 + 30),
                                          free, PER_SUBSCRIPTION)
                bodies = store.bodies(tx, [r["seq"] for r in claimed]) if claimed else {}
        except errors.Unavailable as exc:
            log.warning("webhook dispatch skipped: %s", exc)
            return
        for row in claimed:
            self.senders.spawn_n(self._try, row, bodies.get(row["seq"]))

    def _try(self, row, body):
        """POST one delivery, then record the try (the receiver's answer, or why there was none)."""
        started, at = time.monotonic(), now()
        status, error = None, None
        if body is None:
            error = "the event is no longer in the archive"
        else:
            headers = domain.signed_headers(row["secret"], str(row["event_id"]), row["event_type"], body, at)
            try:
                answer = requests.post(row["url"], data=body.encode(), headers=headers, allow_redirects=False,
                                       timeout=(min(5.0, config.webhook_timeout()), config.webhook_timeout()))
                status = answer.status_code
                if not 200 <= status < 300:
                    error = answer.text[:200]
            except requests.RequestException as exc:
                error = f"{exc.__class__.__name__}: {exc}"[:500]
        latency_ms = int((time.monotonic() - started) * 1000)
        try:
            self._record_try(row["delivery_id"], at, status, error, latency_ms)
        except errors.Unavailable as exc:  # the lease brings the delivery back; the receiver may see it twice
            log.warning("could not record a try of delivery %s: %s", row["delivery_id"], exc)

    def _record_try(self, delivery_id, at, status, error, latency_ms):
        with self.db.transaction() as tx:
            row = store.delivery(tx, delivery_id, lock=True)
            if row is None or row["status"] != "pending":
                return
            delivery = domain.Delivery.from_row(row)
            delivered = delivery.answered(now(), status, error, config.webhook_retry_hours(), config.webhook_backoff())
            subscription = domain.Subscription.from_row(store.subscription(tx, row["subscription_id"], lock=True))
            if delivered:
                subscription.try_succeeded()
            else:
                subscription.try_failed(now(), config.webhook_pause_after(), error or f"HTTP {status}")
            store.add_attempt(tx, delivery_id, at, status, latency_ms, error)
            store.save_delivery(tx, stored(delivery), latency_ms, now())
            store.save_subscription(tx, stored(subscription), delivered=int(delivered),
                                    failed=int(delivery.status == "failed"))
            tx.publish_recorded(subscription)

    # -- replays into queues, a batch at a time ---------------------------------------------------------------
    @timer(interval=1)
    def work_replays(self):
        try:
            while self._replay_batch():
                pass
        except (errors.Unavailable, OSError) as exc:
            log.warning("replay paused: %s", exc)

    def _replay_batch(self) -> bool:
        with self.db.transaction() as tx:
            replay = store.claim_replay(tx)
            if replay is None:
                return False
            rows = store.replay_batch(tx, replay, REPLAY_BATCH)
            if rows:
                publisher = ConfirmingPublisher(config.amqp_uri())
                try:  # confirmed before the cursor moves: a crash in between publishes the batch again
                    publisher.publish([("", replay["queue"], JsonText(r["payload"], str(r["event_id"])),
                                        {"x-pitlane-replay": str(replay["replay_id"]),
                                         "x-pitlane-event-type": r["event_type"]}) for r in rows])
                finally:
                    publisher.close()
            done = len(rows) < REPLAY_BATCH
            store.replay_moved(tx, replay["replay_id"], rows[-1]["seq"] if rows else replay["after_seq"], len(rows),
                               done, now())
        return True

    # -- what operations watch ------------------------------------------------------------------------------------
    @rpc
    def webhook_figures(self):
        with self.db.read() as tx:
            rows = store.figures(tx)
        at = now()
        return [{"subscription_id": str(r["subscription_id"]), "url": r["url"], "status": r["status"],
                 "delivered": r["delivered"], "failed": r["failed"], "pending": r["pending"],
                 "failures_in_a_row": r["failures_in_a_row"],
                 "oldest_pending_seconds": (at - r["oldest_pending_at"]).total_seconds() if r["oldest_pending_at"] else 0}
                for r in rows]

    # -- retention: the archive and the log as long as the setting says ----------------------------------------
    @timer(interval=60)
    def prune(self):
        keep = timedelta(days=config.event_archive_days())
        try:
            for table, key, age, where in (("archive", "seq", "received_at", ""),
                                           ("deliveries", "delivery_id", "created_at", "status <> 'pending'"),
                                           ("replays", "replay_id", "created_at", "status = 'done'")):
                for _ in range(10):
                    with self.db.transaction() as tx:
                        if delete_old(tx, table, key, age, keep, 5000, where) < 5000:
                            break
        except errors.Unavailable as exc:
            log.warning("webhook retention skipped: %s", exc)
