"""`python -m bench.metrics_scale [--clocks 100000,1000000] [--runs N] [--before]`: what a /metrics scrape
costs one service as its SLA history grows.

For each size, a service schema of a database of its own gets that many ended clocks (met, breached and
cancelled, over 40 branches and 4 policies, one in 11 safety-critical) and the same 2,000 open ones
(running, some of them breached, and paused). The clocks go in before shared migration 011, whose
backfill then counts them as it would on a deployed service (its time is printed). Then
shared/sla/store.py's figures(), what every scrape's `sla_figures` RPC runs, is timed `runs` times in a
read-only transaction, the sizes in turns so both see the same spells of the machine: median and p95 in
ms per size, and the ratio of the largest size's median to the smallest's. `--before` also times the
full GROUP BY over every clock that figures() ran before the totals, on the same data. The database is
dropped at the end.
"""
import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from shared.sla import store as sla_store
from shared.sla.rules import DURATION_BUCKETS
from shared.storage.db import psycopg
from shared.storage.migrate import SHARED_MIGRATIONS, drop_database, ensure_database, migrate
from shared.storage.unit_of_work import Transaction

TOTALS_MIGRATION = "011_sla_totals.sql"
OPEN = 2_000

HISTORY = """
INSERT INTO branches (branch_id, region_id, name, timezone, business_hours, labour_rate_cents, tax_rate_bp)
SELECT 'BENCH-' || b, 'BENCH-R' || (b % 5), 'Bench ' || b, 'UTC', '{{}}', 9000, 2100 FROM generate_series(0, 39) b;
-- the ended clocks: 90 % met, 7 % breached, 3 % cancelled, durations from a minute to four days
INSERT INTO sla_clocks (clock_id, policy, subject_type, subject_id, branch_id, safety_critical, target_seconds,
    started_at, state, outcome, breached_at, ended_at, spent_seconds, duration_seconds, created_at)
SELECT gen_random_uuid(), (ARRAY['booking_first_response', 'diagnosis', 'repair_promise', 'follow_up'])[1 + g % 4],
    'bench', 'ended-' || g, 'BENCH-' || (g / 4 % 40), g % 11 = 0, 14400, now() - interval '400 days' + g * interval '30 s',
    'stopped', CASE WHEN g / 160 % 100 < 90 THEN 'met' WHEN g / 160 % 100 < 97 THEN 'breached' ELSE 'cancelled' END,
    CASE WHEN g / 160 % 100 BETWEEN 90 AND 96 THEN now() - interval '400 days' + g * interval '30 s' END,
    now() - interval '400 days' + g * interval '30 s', (g::bigint * 7919) % 345600 + 60, (g::bigint * 7919) % 345600 + 60,
    now() - interval '400 days' + g * interval '30 s'
FROM generate_series(1, {ended}) g;
-- the open ones: running (one in five past its target already), and paused
INSERT INTO sla_clocks (clock_id, policy, subject_type, subject_id, branch_id, safety_critical, target_seconds,
    started_at, running_since, deadline, at_risk_at, state, outcome, breached_at, spent_seconds)
SELECT gen_random_uuid(), (ARRAY['booking_first_response', 'diagnosis', 'repair_promise', 'follow_up'])[1 + g % 4],
    'bench', 'open-' || g, 'BENCH-' || (g / 4 % 40), g % 11 = 0, 14400, now() - interval '1 hour',
    CASE WHEN g % 4 > 0 THEN now() - interval '1 hour' END,
    CASE WHEN g % 4 > 0 THEN now() + (g % 5 - 1) * interval '1 hour' END,
    CASE WHEN g % 4 > 0 THEN now() + (g % 5 - 2) * interval '1 hour' END,
    CASE WHEN g % 4 > 0 THEN 'running' ELSE 'paused' END, CASE WHEN g % 5 = 0 THEN 'breached' END,
    CASE WHEN g % 5 = 0 THEN now() - interval '1 hour' END, 0
FROM generate_series(1, {open}) g;
"""


def figures_before(tx, now) -> dict:
    """figures() as it was before shared migration 011: every aggregate over every clock (the tests' reference)."""
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


def _history(dsn, schema, ended) -> dict:
    """`schema` with `ended` + OPEN clocks kept before migration 011, then 011 and what follows: seconds each."""
    with tempfile.TemporaryDirectory() as folder:
        for path in sorted(SHARED_MIGRATIONS.glob("*.sql")):
            if path.name < TOTALS_MIGRATION:
                shutil.copy(path, folder)
        migrate(dsn, schema, Path(folder), include_shared=False)
        with psycopg.connect(dsn, autocommit=True, options=f"-c search_path={schema},public") as conn:
            started = time.monotonic()
            conn.execute(HISTORY.format(ended=int(ended), open=OPEN))
            filled = time.monotonic() - started
        for path in sorted(SHARED_MIGRATIONS.glob("*.sql")):
            if path.name >= TOTALS_MIGRATION:
                shutil.copy(path, folder)
        started = time.monotonic()
        migrate(dsn, schema, Path(folder), include_shared=False)
        backfilled = time.monotonic() - started
    with psycopg.connect(dsn, autocommit=True, options=f"-c search_path={schema},public") as conn:
        conn.execute("VACUUM ANALYZE")
    return {"clocks": int(ended) + OPEN, "fill_s": round(filled, 1), "migration_011_s": round(backfilled, 1)}


def _timed(conn, fn) -> float:
    """ms of one call of `fn(tx, now)` in a read-only transaction, as the sla_figures RPC reads."""
    started = time.perf_counter()
    with conn.transaction():
        fn(Transaction(conn, "bench"), datetime.now(timezone.utc))
    return (time.perf_counter() - started) * 1000


def _summary(times) -> dict:
    times = sorted(times)
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3)}


def run(sizes=(100_000, 1_000_000), runs: int = 25, before: bool = False) -> dict:
    """{"small": figures at the smallest size, "large": at the largest, "sizes": every size's, "ratio"}."""
    base = os.environ.get("PITLANE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    dsn = f"{base}/pitlane_bench_metrics_{uuid.uuid4().hex[:8]}"
    ensure_database(dsn)
    conns = []
    try:
        schemas = {size: f"metrics_{size}" for size in sizes}
        results = {size: _history(dsn, schemas[size], size) for size in sizes}
        for size in sizes:
            conn = psycopg.connect(dsn, row_factory=psycopg.rows.dict_row,
                                   options=f"-c search_path={schemas[size]},public")
            conn.read_only = True
            conns.append(conn)
        ways = {"after": sla_store.figures, **({"before": figures_before} if before else {})}
        for conn in conns:  # warm: the catalogue, the statements prepared as a service's would be
            for fn in ways.values():
                for _ in range(6):
                    _timed(conn, fn)
        times = {(size, way): [] for size in sizes for way in ways}
        for _ in range(runs):  # in turns
            for size, conn in zip(sizes, conns):
                for way, fn in ways.items():
                    times[(size, way)].append(_timed(conn, fn))
        for size in sizes:
            results[size].update(_summary(times[(size, "after")]))
            if before:
                results[size]["before"] = _summary(times[(size, "before")])
    finally:
        for conn in conns:
            conn.close()
        drop_database(dsn)
    small, large = results[min(sizes)], results[max(sizes)]
    return {"runs": runs, "small": small, "large": large, "sizes": [results[s] for s in sizes],
            "ratio": round(large["median_ms"] / small["median_ms"], 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", default="100000,1000000", help="ended clocks per size, comma-separated")
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--before", action="store_true", help="also time the full GROUP BY of before the totals")
    args = parser.parse_args(argv)
    figures = run(tuple(int(n) for n in args.clocks.split(",")), args.runs, args.before)
    print(f"sla_store.figures(), {figures['runs']} runs per size, sizes in turns:")
    for size in figures["sizes"]:
        before = (f"  (before the totals: median {size['before']['median_ms']:8.3f} ms"
                  f"  p95 {size['before']['p95_ms']:8.3f} ms)") if "before" in size else ""
        print(f"  {size['clocks']:>9} clocks  median {size['median_ms']:8.3f} ms  p95 {size['p95_ms']:8.3f} ms"
              f"{before}  (filled in {size['fill_s']} s, migration 011 in {size['migration_011_s']} s)")
    print(f"  ratio largest / smallest: {figures['ratio']}")


if __name__ == "__main__":
    main()
