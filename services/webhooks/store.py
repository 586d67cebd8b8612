"""SQL of webhooks (migrations/001_webhooks.sql): the archive, subscriptions, deliveries and their tries."""
from shared.storage import paging

SUBSCRIPTION = (
    "SELECT s.*, p.pending, p.oldest_pending_at FROM subscriptions s LEFT JOIN LATERAL ("
    " SELECT count(*) AS pending, min(d.created_at) AS oldest_pending_at FROM deliveries d"
    " WHERE d.subscription_id = s.subscription_id AND d.status = 'pending') p ON true")
SUBSCRIPTIONS = paging.Listing("SELECT * FROM (" + SUBSCRIPTION + ") s", "subscription_id")
DELIVERIES = paging.Listing("SELECT * FROM deliveries", "delivery_id",
                            lookups=("subscription_id", "event_id"), columns=("event_type",))


# -- the archive ----------------------------------------------------------------------------------------
def archive_many(tx, events) -> list[dict]:
    """Archive (type, id, occurred_at, subject, body) events in one statement, in the order given; the
    rows of those that were not there yet (a copy of an archived event is left out)."""
    if not events:
        return []
    values = ", ".join(["(%s, %s::uuid, %s::timestamptz, %s, %s, %s)"] * len(events))
    params = [p for i, (kind, event_id, occurred_at, subject, body) in enumerate(events)
              for p in (i, event_id, occurred_at, kind, subject, body)]
    return tx.all(
        "INSERT INTO archive (event_id, occurred_at, event_type, subject, payload)"
        f" SELECT event_id, occurred_at, event_type, subject, payload FROM (VALUES {values})"
        " AS v (n, event_id, occurred_at, event_type, subject, payload) ORDER BY n"
        " ON CONFLICT (event_id) DO NOTHING"
        " RETURNING seq, event_id, event_type, subject, occurred_at, received_at", params)


def archived(tx, event_id):
    return tx.one("SELECT seq, event_id, event_type, subject, occurred_at, received_at FROM archive"
                  " WHERE event_id = %s", (event_id,))


def archive_range(first_seq=None, occurred_from=None, occurred_to=None) -> tuple[str, list]:
    """The WHERE clause of a range of the archive: after a seq, and/or a window of occurrence."""
    sql, params = " WHERE true", []
    if first_seq is not None:
        sql += " AND seq >= %s"
        params.append(first_seq)
    if occurred_from is not None:
        sql += " AND occurred_at >= %s"
        params.append(occurred_from)
    if occurred_to is not None:
        sql += " AND occurred_at < %s"
        params.append(occurred_to)
    return sql, params


def bodies(tx, seqs) -> dict:
    return {r["seq"]: r["payload"] for r in tx.all("SELECT seq, payload FROM archive WHERE seq = ANY(%s)", (list(seqs),))}


# -- subscriptions ----------------------------------------------------------------------------------------
def insert_subscription(tx, s: dict):
    tx.execute("INSERT INTO subscriptions (subscription_id, url, event_types, secret, description, created_by, status)"
               " VALUES (%(subscription_id)s, %(url)s, %(event_types)s, %(secret)s, %(description)s, %(created_by)s,"
               " %(status)s)", s)


def subscription(tx, subscription_id, lock=False):
    if lock:
        return tx.one("SELECT * FROM subscriptions WHERE subscription_id = %s FOR UPDATE", (subscription_id,))
    return tx.one(SUBSCRIPTION + " WHERE s.subscription_id = %s", (subscription_id,))


def receiving(tx) -> list[dict]:
    """Subscriptions that take new deliveries: active, and paused ones (theirs wait for the resume)."""
    return tx.all("SELECT subscription_id, event_types, status FROM subscriptions WHERE status <> 'disabled'")


def save_subscription(tx, s: dict, delivered: int = 0, failed: int = 0):
    tx.execute("UPDATE subscriptions SET status = %(status)s, failures_in_a_row = %(failures_in_a_row)s,"
               " failing_since = %(failing_since)s, paused_reason = %(paused_reason)s,"
               " delivered = delivered + %(delivered)s, failed = failed + %(failed)s"
               " WHERE subscription_id = %(subscription_id)s", {**s, "delivered": delivered, "failed": failed})


def figures(tx) -> list[dict]:
    """Per subscription: its state, its totals, and what waits (an index range per subscription)."""
    return tx.all(SUBSCRIPTION.replace("s.*", "s.subscription_id, s.url, s.status, s.delivered, s.failed,"
                                       " s.failures_in_a_row") + " WHERE s.status <> 'disabled'")


# -- deliveries -------------------------------------------------------------------------------------------
def add_deliveries(tx, rows: list[dict], redelivery=False) -> int:
    """Deliveries of archived events; an event with a delivery waiting already for the subscription gets
    no second one. How many were added."""
    if not rows:
        return 0
    columns = ("delivery_id", "subscription_id", "event_id", "event_type", "subject", "occurred_at", "seq",
               "next_attempt_at")
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ", %s)"] * len(rows))
    params = [p for r in rows for p in (*(r[c] for c in columns), redelivery)]
    return tx.execute(f"INSERT INTO deliveries ({', '.join(columns)}, redelivery) VALUES {values}"
                      " ON CONFLICT (subscription_id, event_id) WHERE status = 'pending' DO NOTHING", params).rowcount


def redeliver_range(tx, subscription_id, where: str, params: list, at, patterns: list[list]) -> int:
    """Deliveries again of every archived event in a range (`where`, archive_range) whose type every one
    of `patterns` admits (the subscription's, and the ones asked for), in one statement."""
    for p in patterns:
        more, more_params = wanted_types(p)
        where, params = where + more, params + more_params
    return tx.execute(
        "INSERT INTO deliveries (delivery_id, subscription_id, event_id, event_type, subject, occurred_at, seq,"
        " next_attempt_at, redelivery) SELECT gen_random_uuid(), %s, event_id, event_type, subject, occurred_at,"
        f" seq, %s, true FROM archive{where} ORDER BY seq"
        " ON CONFLICT (subscription_id, event_id) WHERE status = 'pending' DO NOTHING",
        [subscription_id, at, *params]).rowcount


def wanted_types(patterns) -> tuple[str, list]:
    """ANDed on an archive query: the event's type is one of `patterns` (a name, `<family>.*`, `*`),
    as domain.wants decides it."""
    return (" AND (event_type = ANY(%s) OR split_part(event_type, '.', 1) || '.*' = ANY(%s) OR '*' = ANY(%s))",
            [list(patterns)] * 3)


def claim_due(tx, at, lease_until, limit: int, per_subscription: int) -> list[dict]:
    """Deliveries to try now, claimed until `lease_until` (a dispatcher that dies with them lets them come
    back then): due, of an active subscription, the first of their subject still waiting (events of one
    subject go in the order they occurred), at most `per_subscription` of one subscription so a slow
    receiver never takes every slot. Picked first, then locked with SKIP LOCKED and checked again: two
    dispatchers (two processes) never claim the same delivery."""
    picked = tx.all(
        "SELECT delivery_id FROM (SELECT d.delivery_id, row_number() OVER (PARTITION BY d.subscription_id"
        " ORDER BY d.next_attempt_at) AS n FROM deliveries d JOIN subscriptions s USING (subscription_id)"
        " WHERE d.status = 'pending' AND d.next_attempt_at <= %s AND s.status = 'active'"
        " AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.subscription_id = d.subscription_id"
        " AND e.subject = d.subject AND e.status = 'pending' AND (e.occurred_at, e.seq) < (d.occurred_at, d.seq))"
        " ) ranked WHERE n <= %s LIMIT %s", (at, per_subscription, limit))
    if not picked:
        return []
    return tx.all(
        "UPDATE deliveries d SET next_attempt_at = %s FROM subscriptions s WHERE d.delivery_id IN ("
        " SELECT delivery_id FROM deliveries WHERE delivery_id = ANY(%s) AND status = 'pending'"
        " AND next_attempt_at <= %s FOR UPDATE SKIP LOCKED) AND s.subscription_id = d.subscription_id"
        " RETURNING d.*, s.url, s.secret", (lease_until, [r["delivery_id"] for r in picked], at))


def delivery(tx, delivery_id, lock=False):
    return tx.one("SELECT * FROM deliveries WHERE delivery_id = %s" + (" FOR UPDATE" if lock else ""), (delivery_id,))


def save_delivery(tx, d: dict, latency_ms: int, at):
    tx.execute("UPDATE deliveries SET status = %(status)s, attempts = %(attempts)s,"
               " next_attempt_at = %(next_attempt_at)s, last_status = %(last_status)s, last_error = %(last_error)s,"
               " last_latency_ms = %(latency_ms)s, delivered_at = CASE WHEN %(status)s = 'delivered' THEN %(at)s END"
               " WHERE delivery_id = %(delivery_id)s", {**d, "latency_ms": latency_ms, "at": at})


def add_attempt(tx, delivery_id, at, status_code, latency_ms, error):
    tx.execute("INSERT INTO attempts (delivery_id, attempted_at, status_code, latency_ms, error)"
               " VALUES (%s, %s, %s, %s, %s)", (delivery_id, at, status_code, latency_ms, error))


def attempts(tx, delivery_id) -> list[dict]:
    return tx.all("SELECT * FROM attempts WHERE delivery_id = %s ORDER BY attempted_at", (delivery_id,))


def resume_waiting(tx, subscription_id, at):
    """A resumed subscription's waiting deliveries are due at once."""
    tx.execute("UPDATE deliveries SET next_attempt_at = %s WHERE subscription_id = %s AND status = 'pending'",
               (at, subscription_id))


# -- replays into a queue -----------------------------------------------------------------------------------
def insert_replay(tx, r: dict):
    return tx.one(
        "INSERT INTO replays (replay_id, queue, first_seq, last_seq, after_seq, occurred_from, occurred_to,"
        " event_types, matched, created_by) VALUES (%(replay_id)s, %(queue)s, %(first_seq)s, %(last_seq)s,"
        " %(after_seq)s, %(occurred_from)s, %(occurred_to)s, %(event_types)s, %(matched)s, %(created_by)s)"
        " RETURNING *", r)


def replay(tx, replay_id):
    return tx.one("SELECT * FROM replays WHERE replay_id = %s", (replay_id,))


def claim_replay(tx):
    """One replay with events left to publish, held for this batch (another process takes another)."""
    return tx.one("SELECT * FROM replays WHERE status = 'running' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED")


def replay_batch(tx, r: dict, limit: int) -> list[dict]:
    """The next events of a replay, in archive order."""
    where, params = archive_range(occurred_from=r["occurred_from"], occurred_to=r["occurred_to"])
    where, params = where + " AND seq > %s AND seq <= %s", params + [r["after_seq"], r["last_seq"]]
    if r["event_types"]:
        more, more_params = wanted_types(r["event_types"])
        where, params = where + more, params + more_params
    return tx.all(f"SELECT seq, event_id, event_type, payload FROM archive{where} ORDER BY seq LIMIT %s",
                  [*params, limit])


def replay_moved(tx, replay_id, after_seq, published, done, at):
    tx.execute("UPDATE replays SET after_seq = %s, published = published + %s, status = %s, finished_at = %s"
               " WHERE replay_id = %s", (after_seq, published, "done" if done else "running", at if done else None,
                                        replay_id))
