"""SQL of the SLA clocks, the same in every service schema (shared migration 003)."""
from shared import paging
from shared.cache import Recent
from shared.sla import DURATION_BUCKETS

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


def start(tx, c):
    """A running clock; none if the subject has one of this policy already. Sent with the next statement."""
    tx.defer(
        "INSERT INTO sla_clocks (clock_id, policy, subject_type, subject_id, branch_id, safety_critical,"
        " target_seconds, started_at, running_since, deadline, at_risk_at, state)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'running') ON CONFLICT (policy, subject_id) DO NOTHING",
        (c["clock_id"], c["policy"], c["subject_type"], c["subject_id"], c["branch_id"], c["safety_critical"],
         c["target_seconds"], c["started_at"], c["started_at"], c["deadline"], c["at_risk_at"]))


def clock(tx, policy, subject_id):
    return tx.one(CLOCK + " WHERE c.policy = %s AND c.subject_id = %s FOR UPDATE OF c", (policy, str(subject_id)))


def update(tx, clock_id, **changes):
    sets = ", ".join(f"{k} = %({k})s" for k in changes)
    return tx.one(f"UPDATE sla_clocks SET {sets} WHERE clock_id = %(clock_id)s RETURNING *",
                  {**changes, "clock_id": clock_id})


def pause(tx, clock_id, at, reason):
    tx.defer("INSERT INTO sla_pauses (clock_id, paused_at, reason) VALUES (%s, %s, %s)", (clock_id, at, reason))


def resume(tx, clock_id, at):
    tx.execute("UPDATE sla_pauses SET resumed_at = %s WHERE clock_id = %s AND resumed_at IS NULL", (at, clock_id))


def claim_breached(tx, now, limit=500):
    """Running clocks past their deadline, marked breached; skipped if another process holds them."""
    return tx.all(
        "WITH due AS (SELECT clock_id FROM sla_clocks WHERE state = 'running' AND outcome IS NULL"
        " AND deadline <= %s ORDER BY deadline LIMIT %s FOR UPDATE SKIP LOCKED)"
        " UPDATE sla_clocks c SET outcome = 'breached', breached_at = c.deadline FROM due"
        " WHERE c.clock_id = due.clock_id RETURNING c.*", (now, limit))


def claim_at_risk(tx, now, limit=500):
    return tx.all(
        "WITH risky AS (SELECT clock_id FROM sla_clocks WHERE state = 'running' AND NOT at_risk"
        " AND at_risk_at <= %s ORDER BY at_risk_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        " UPDATE sla_clocks c SET at_risk = true FROM risky WHERE c.clock_id = risky.clock_id RETURNING c.*",
        (now, limit))


def running_with_policy(tx, policies, limit=500):
    return tx.all("SELECT * FROM sla_clocks WHERE state = 'running' AND NOT at_risk AND outcome IS NULL"
                  " AND policy = ANY(%s) LIMIT %s FOR UPDATE SKIP LOCKED", (list(policies), limit))


def figures(tx, now) -> dict:
    """Aggregates for /metrics: GROUP BY in SQL, never rows, so 100,000 clocks scrape fast."""
    outcomes = tx.all(
        "SELECT c.policy, c.branch_id, b.region_id, c.outcome, count(*) AS count FROM sla_clocks c"
        " LEFT JOIN branches b USING (branch_id) WHERE c.outcome IS NOT NULL GROUP BY 1, 2, 3, 4")
    open_ = tx.all(
        "SELECT c.policy, c.branch_id, b.region_id, CASE WHEN c.state = 'paused' THEN 'paused'"
        " WHEN c.at_risk THEN 'at_risk' ELSE 'running' END AS state, count(*) AS count FROM sla_clocks c"
        " LEFT JOIN branches b USING (branch_id) WHERE c.state IN ('running', 'paused') GROUP BY 1, 2, 3, 4")
    nearest = tx.all(
        "SELECT policy, branch_id, EXTRACT(EPOCH FROM min(deadline) - %s)::float AS seconds FROM sla_clocks"
        " WHERE state = 'running' AND outcome IS NULL GROUP BY 1, 2", (now,))
    buckets = ", ".join(f"count(*) FILTER (WHERE duration_seconds <= {b}) AS le_{b}" for b in DURATION_BUCKETS)
    durations = tx.all(f"SELECT policy, count(*) AS count, coalesce(sum(duration_seconds), 0) AS sum, {buckets}"
                       " FROM sla_clocks WHERE state = 'stopped' GROUP BY policy")
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


def compliance(tx, filters) -> list[dict]:
    sql, params = paging.where(filters, ("policy",), time_column="started_at")
    return tx.all(
        "SELECT policy, branch_id, count(*) FILTER (WHERE outcome = 'met') AS met,"
        " count(*) FILTER (WHERE outcome = 'breached') AS breached,"
        " count(*) FILTER (WHERE outcome IS NULL) AS open FROM sla_clocks" + sql + " GROUP BY 1, 2 ORDER BY 1, 2",
        params)


def at_risk_now(tx, filters) -> list[dict]:
    sql, params = paging.where({k: v for k, v in filters.items() if k not in ("from", "to")})
    return tx.all("SELECT * FROM (" + CLOCK + ") c" + sql + " AND state = 'running' AND (at_risk OR outcome ="
                  " 'breached') ORDER BY deadline LIMIT 200", params)


CLOCKS = paging.Listing("SELECT * FROM (" + CLOCK + ") c", "clock_id", columns=("policy", "state"),
                        time_column="started_at")


def page(tx, filters):
    return CLOCKS.page(tx, filters)
