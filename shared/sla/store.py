"""SQL of the SLA clocks, the same in every service schema (shared migrations 003, 005, 007, 008, 009, 011)."""
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
    subject has one of this policy already. It sets no outcome, so the totals do not move (save())."""
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


# What /metrics counts of a clock whose outcome is set (shared migration 011), summed over the `moves`
# of save(): each clock as it was (sign -1) and as it became (+1). A clock counts once in its (policy,
# branch, outcome), as safety-critical or not, and once stopped met or breached (timed) in the duration
# histogram: its duration, and one count in each bucket it falls in.
_TIMED = "state = 'stopped' AND outcome IN ('met', 'breached')"
TOTALS = ("clocks", "safety_critical", "durations", "duration_sum", *(f"le_{b}" for b in DURATION_BUCKETS))
_COUNTED = ("sum(sign)::bigint", "coalesce(sum(sign) FILTER (WHERE safety_critical), 0)::bigint",
            f"coalesce(sum(sign) FILTER (WHERE {_TIMED}), 0)::bigint",
            f"coalesce(sum(sign * duration_seconds) FILTER (WHERE {_TIMED}), 0)::float8",
            *(f"coalesce(sum(sign) FILTER (WHERE {_TIMED} AND duration_seconds <= {b}), 0)::bigint"
              for b in DURATION_BUCKETS))
# Folding: how many moves between two folds, and the most one fold takes.
FOLD_EVERY = 64
FOLD_BATCH = 10_000


def save(tx, clocks):
    """Write what commands changed on `clocks`, and move the totals /metrics reads by what changed
    in their outcomes and ends, both in one statement; then the pauses they opened or closed.

    The clocks were loaded with their rows locked (clock(), due_to_breach(), ...): the rows as they
    are before this statement are the ones the commands started from, and the moves are the
    difference between those and the new ones. The moves are appended to sla_total_moves rather
    than added to sla_totals, where every stop of a busy (policy, branch) would wait for the row
    until the one before commits (docs/benchmarks.md, "Round two, scale-out"); every FOLD_EVERY
    moves, the writer folds them."""
    clocks = list(clocks)
    if not clocks:
        return
    columns = list(CHANGING)
    row = "(%s::uuid, " + ", ".join(f"%s::{_TYPES[c]}" for c in columns) + ")"
    params = [p for c in clocks for p in (c.clock_id, *(getattr(c, k) for k in columns))]
    moved = tx.all(
        f"WITH v (clock_id, {', '.join(columns)}) AS (VALUES {', '.join([row] * len(clocks))}),"
        " was AS (SELECT c.clock_id, c.policy, c.branch_id, c.safety_critical, c.state, c.outcome,"
        "  c.duration_seconds FROM sla_clocks c JOIN v USING (clock_id)),"
        f" became AS (UPDATE sla_clocks c SET {', '.join(f'{k} = v.{k}' for k in columns)} FROM v"
        "  WHERE c.clock_id = v.clock_id RETURNING c.clock_id, c.state, c.outcome, c.duration_seconds),"
        " moves AS (SELECT policy, branch_id, safety_critical, state, outcome, duration_seconds, -1 AS sign"
        "  FROM was UNION ALL SELECT was.policy, was.branch_id, was.safety_critical, became.state, became.outcome,"
        "  became.duration_seconds, 1 FROM became JOIN was USING (clock_id))"
        f" INSERT INTO sla_total_moves (policy, branch_id, outcome, {', '.join(TOTALS)})"
        f" SELECT policy, branch_id, outcome, {', '.join(_COUNTED)} FROM moves WHERE outcome IS NOT NULL"
        f" GROUP BY policy, branch_id, outcome HAVING {' OR '.join(f'{e} <> 0' for e in _COUNTED)}"
        " RETURNING move_id", params)
    if any(m["move_id"] % FOLD_EVERY == 0 for m in moved):
        fold(tx)
    for c in clocks:
        for change in c.pauses:
            if change[0] == "paused":
                tx.execute("INSERT INTO sla_pauses (clock_id, paused_at, reason) VALUES (%s, %s, %s)",
                           (c.clock_id, change[1], change[2]))
            else:
                tx.execute("UPDATE sla_pauses SET resumed_at = %s WHERE clock_id = %s AND resumed_at IS NULL",
                           (change[1], c.clock_id))
        c.pauses.clear()


def count_loaded(tx, where: str):
    """Count clocks written without save() (a bulk load, as the benchmarks make) into the totals:
    one move per (policy, branch, outcome) of the clocks `where` picks."""
    tx.execute(f"INSERT INTO sla_total_moves (policy, branch_id, outcome, {', '.join(TOTALS)})"
               f" SELECT policy, branch_id, outcome, {', '.join(_COUNTED)} FROM (SELECT *, 1 AS sign FROM sla_clocks"
               f" WHERE outcome IS NOT NULL AND {where}) loaded GROUP BY 1, 2, 3")


def fold(tx, batch=FOLD_BATCH) -> int:
    """Add the moves appended so far (up to `batch`) to sla_totals and remove them; how many.

    One folder at a time per schema, and none waits for another: a fold runs inside a writer's
    transaction and holds the totals rows it changed until that commits, so a second folder that
    waited for them could wait on a writer that waits for its clocks. The moves are claimed with
    SKIP LOCKED all the same, so two folds never take the same move."""
    if not tx.one("SELECT pg_try_advisory_xact_lock(hashtext('pitlane.sla_totals.' || current_schema()))"
                  " AS mine")["mine"]:
        return 0
    sums = ", ".join(f"sum({t})" for t in TOTALS)
    return tx.execute(
        "WITH claimed AS (DELETE FROM sla_total_moves WHERE move_id IN (SELECT move_id FROM sla_total_moves"
        "  ORDER BY move_id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *),"
        f" folded AS (INSERT INTO sla_totals AS t (policy, branch_id, outcome, {', '.join(TOTALS)})"
        f"  SELECT policy, branch_id, outcome, {sums} FROM claimed GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        "  ON CONFLICT (policy, branch_id, outcome) DO UPDATE SET"
        f"  {', '.join(f'{t} = t.{t} + EXCLUDED.{t}' for t in TOTALS)})"
        " SELECT count(*) AS n FROM claimed", (batch,)).fetchone()["n"]


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


# The totals, and the moves not folded into them yet, read by one statement: a fold that commits
# meanwhile is seen whole or not at all.
_TOTALS_AND_MOVES = (f"(SELECT policy, branch_id, outcome, {', '.join(TOTALS)} FROM sla_totals UNION ALL"
                     f" SELECT policy, branch_id, outcome, {', '.join(TOTALS)} FROM sla_total_moves)")


def figures(tx, now) -> dict:
    """Aggregates for /metrics: what clocks whose outcome is set add up to, from the totals (shared
    migration 011), and the open clocks (few, whatever the history) counted through partial indexes."""
    outcomes = tx.all(
        "SELECT t.policy, t.branch_id, b.region_id, t.outcome, sum(t.clocks)::bigint AS count"
        f" FROM {_TOTALS_AND_MOVES} t LEFT JOIN branches b USING (branch_id) GROUP BY 1, 2, 3, 4"
        " HAVING sum(t.clocks) > 0")
    open_ = tx.all(
        "SELECT c.policy, c.branch_id, b.region_id, c.state, c.at_risk, c.outcome, count(*) AS count"
        " FROM sla_clocks c LEFT JOIN branches b USING (branch_id) WHERE c.state IN ('running', 'paused')"
        " GROUP BY 1, 2, 3, 4, 5, 6")
    nearest = tx.all(
        "SELECT policy, branch_id, EXTRACT(EPOCH FROM min(deadline) - %s)::float AS seconds FROM sla_clocks"
        " WHERE state = 'running' AND outcome IS NULL GROUP BY 1, 2", (now,))
    buckets = ", ".join(f"sum(le_{b})::bigint AS le_{b}" for b in DURATION_BUCKETS)
    durations = tx.all(f"SELECT policy, sum(durations)::bigint AS count, sum(duration_sum) AS sum, {buckets}"
                       f" FROM {_TOTALS_AND_MOVES} t GROUP BY policy HAVING sum(durations) > 0")
    safety = tx.all(
        "SELECT t.branch_id, b.region_id, sum(t.safety_critical)::bigint AS count"
        f" FROM {_TOTALS_AND_MOVES} t LEFT JOIN branches b USING (branch_id) WHERE t.outcome = 'breached'"
        " GROUP BY 1, 2 HAVING sum(t.safety_critical) > 0")
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
