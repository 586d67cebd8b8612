"""SQL of the SLA clocks, the same in every service schema (shared migrations 003, 005, 007, 008, 009)."""
from shared.storage import paging
from shared.cache import Recent
from shared.sla.rules import CHANGING, DURATION_BUCKETS

CLOCK = ("SELECT c.*, b.region_id FROM sla_clocks c LEFT JOIN branches b USING (branch_id)")


_targets = Recent()


def target(tx, policy, branch_id, default):
    """A branch's own target, or the default; read at most every few seconds per process."""
    row = _targets.get((policy, branch_id), lambda: tx.one(
        "SELECT target_seconds FROM sla_targets WHERE policy = %s AND branch_id = %s", (policy, branch_id)))
    return row["target_seconds"] if row else default


def set_target(tx, policy, branch_id, seconds):
    _targets.forget_when_committed(tx, (policy, branch_id))
    tx.execute("INSERT INTO sla_targets (policy, branch_id, target_seconds) VALUES (%s, %s, %s)"
               " ON CONFLICT (policy, branch_id) DO UPDATE SET target_seconds = EXCLUDED.target_seconds",
               (policy, branch_id, seconds))


def start(clock) -> tuple[str, tuple]:
    """The insert of a new running clock (shared/sla/rules.py, Clock.start); it inserts none if the
    subject has one of this policy already."""
    return (
        "INSERT INTO sla_clocks (clock_id, policy, subject_type, subject_id, branch_id, safety_critical,"
        " target_seconds, started_at, running_since, deadline, at_risk_at, state)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (policy, subject_id) DO NOTHING",
        (clock.clock_id, clock.policy, clock.subject_type, clock.subject_id, clock.branch_id, clock.safety_critical,
         clock.target_seconds, clock.started_at, clock.running_since, clock.deadline, clock.at_risk_at, clock.state))


def clock(tx, policy, subject_id):
    return tx.one(CLOCK + " WHERE c.policy = %s AND c.subject_id = %s FOR UPDATE OF c", (policy, str(subject_id)))


# the SQL type of each column a command changes, for the VALUES list of save()
_TYPES = {"state": "text", "running_since": "timestamptz", "spent_seconds": "float8", "deadline": "timestamptz",
          "at_risk_at": "timestamptz", "outcome": "text", "at_risk": "boolean", "pause_reason": "text",
          "breached_at": "timestamptz", "ended_at": "timestamptz", "duration_seconds": "float8",
          "target_seconds": "integer"}  # a retarget (an escalated complaint) changes it
assert set(_TYPES) == set(CHANGING)


def save(tx, clocks):
    """Write what commands changed on `clocks` (one UPDATE for all of them), and the pauses they
    opened or closed."""
    clocks = list(clocks)
    if not clocks:
        return
    columns = list(CHANGING)
    row = "(%s::uuid, " + ", ".join(f"%s::{_TYPES[c]}" for c in columns) + ")"
    params = [p for c in clocks for p in (c.clock_id, *(getattr(c, k) for k in columns))]
    tx.execute(f"UPDATE sla_clocks c SET {', '.join(f'{k} = v.{k}' for k in columns)}"
               f" FROM (VALUES {', '.join([row] * len(clocks))}) AS v(clock_id, {', '.join(columns)})"
               " WHERE c.clock_id = v.clock_id", params)
    for c in clocks:
        for change in c.pauses:
            if change[0] == "paused":
                tx.execute("INSERT INTO sla_pauses (clock_id, paused_at, reason) VALUES (%s, %s, %s)",
                           (c.clock_id, change[1], change[2]))
            else:
                tx.execute("UPDATE sla_pauses SET resumed_at = %s WHERE clock_id = %s AND resumed_at IS NULL",
                           (change[1], c.clock_id))
        c.pauses.clear()


def due_to_breach(tx, policies, now, limit=500):
    """Running clocks past their deadline and not breached yet, locked; those another process holds are skipped."""
    return tx.all(CLOCK + " WHERE c.state = 'running' AND c.outcome IS NULL AND c.deadline <= %s"
                  " AND c.policy = ANY(%s) ORDER BY c.deadline LIMIT %s FOR UPDATE OF c SKIP LOCKED",
                  (now, list(policies), limit))


def due_at_risk(tx, policies, now, limit=500):
    """Running clocks past their at-risk share, not announced and not breached, locked as above."""
    return tx.all(CLOCK + " WHERE c.state = 'running' AND NOT c.at_risk AND c.outcome IS NULL"
                  " AND c.at_risk_at <= %s AND c.policy = ANY(%s) ORDER BY c.at_risk_at LIMIT %s"
                  " FOR UPDATE OF c SKIP LOCKED", (now, list(policies), limit))


def running_with_policy(tx, policies, limit=500):
    """Running clocks of `policies` not yet at risk nor breached, locked as above (for a predictor)."""
    return tx.all(CLOCK + " WHERE c.state = 'running' AND NOT c.at_risk AND c.outcome IS NULL"
                  " AND c.policy = ANY(%s) LIMIT %s FOR UPDATE OF c SKIP LOCKED", (list(policies), limit))


def figures(tx, now) -> dict:
    """Aggregates for /metrics: GROUP BY in SQL, never rows, so 100,000 clocks scrape fast."""
    outcomes = tx.all(
        "SELECT c.policy, c.branch_id, b.region_id, c.outcome, count(*) AS count FROM sla_clocks c"
        " LEFT JOIN branches b USING (branch_id) WHERE c.outcome IS NOT NULL GROUP BY 1, 2, 3, 4")
    open_ = tx.all(
        "SELECT c.policy, c.branch_id, b.region_id, c.state, c.at_risk, c.outcome, count(*) AS count"
        " FROM sla_clocks c LEFT JOIN branches b USING (branch_id) WHERE c.state IN ('running', 'paused')"
        " GROUP BY 1, 2, 3, 4, 5, 6")
    nearest = tx.all(
        "SELECT policy, branch_id, EXTRACT(EPOCH FROM min(deadline) - %s)::float AS seconds FROM sla_clocks"
        " WHERE state = 'running' AND outcome IS NULL GROUP BY 1, 2", (now,))
    buckets = ", ".join(f"count(*) FILTER (WHERE duration_seconds <= {b}) AS le_{b}" for b in DURATION_BUCKETS)
    durations = tx.all(f"SELECT policy, count(*) AS count, coalesce(sum(duration_seconds), 0) AS sum, {buckets}"
                       " FROM sla_clocks WHERE state = 'stopped' AND outcome IN ('met', 'breached') GROUP BY policy")
    safety = tx.all(
        "SELECT c.branch_id, b.region_id, count(*) AS count FROM sla_clocks c LEFT JOIN branches b"
        " USING (branch_id) WHERE c.safety_critical AND c.outcome = 'breached' GROUP BY 1, 2")
    return {
        "outcomes": [dict(r) for r in outcomes], "open": [dict(r) for r in open_],
        "seconds_to_breach_min": [dict(r) for r in nearest],
        "durations": [{"policy": r["policy"], "count": r["count"], "sum": float(r["sum"]),
                       "buckets": {str(b): r[f"le_{b}"] for b in DURATION_BUCKETS}} for r in durations],
        "safety_critical_breaches": [dict(r) for r in safety],
    }


def _breached_within(filters) -> tuple[str, list]:
    """The breach window (breached_from, breached_to) ANDed on: clocks that breached in it, open or
    ended (shared migration 009 indexes breached_at)."""
    sql, params = "", []
    if filters.get("breached_from") is not None:
        sql += " AND breached_at >= %s"
        params.append(filters["breached_from"])
    if filters.get("breached_to") is not None:
        sql += " AND breached_at < %s"
        params.append(filters["breached_to"])
    return sql, params


def compliance(tx, filters) -> list[dict]:
    sql, params = paging.where(filters, ("policy", "outcome"), time_column="started_at")
    breached, more = _breached_within(filters)
    sql, params = sql + breached, params + more
    return tx.all(
        "SELECT policy, branch_id, count(*) FILTER (WHERE outcome = 'met') AS met,"
        " count(*) FILTER (WHERE outcome = 'breached') AS breached,"
        " count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled,"
        " count(*) FILTER (WHERE outcome IS NULL) AS open FROM sla_clocks" + sql + " GROUP BY 1, 2 ORDER BY 1, 2",
        params)


def at_risk_now(tx, filters) -> list[dict]:
    """Open clocks that need a look: at risk, or breached and still not answered."""
    sql, params = paging.where({k: v for k, v in filters.items() if k not in ("from", "to")}, ("outcome",))
    breached, more = _breached_within(filters)
    sql, params = sql + breached, params + more
    return tx.all("SELECT * FROM (" + CLOCK + ") c" + sql + " AND state = 'running' AND (at_risk OR outcome ="
                  " 'breached') ORDER BY deadline LIMIT 200", params)


CLOCKS = paging.Listing("SELECT * FROM (" + CLOCK + ") c", "clock_id", lookups=("subject_id",),
                        columns=("policy", "state", "outcome"),
                        time_column="started_at")


def page(tx, filters):
    return CLOCKS.page(tx, filters, *_breached_within(filters))
