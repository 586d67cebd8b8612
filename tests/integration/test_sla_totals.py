"""The SLA totals behind /metrics (shared migration 011, shared/sla/store.py): figures() read from them
is what the full GROUP BY over every clock gave, through every move of a clock, under concurrent stops,
and from the migration's own count of the clocks it found."""
import json
import shutil
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from bench.metrics_scale import figures_before as reference  # figures() before the totals: every clock
from shared import org
from shared.sla import clocks, rules as sla
from shared.sla import store as sla_store
from shared.storage.db import Pool, psycopg
from shared.storage.migrate import SHARED_MIGRATIONS, migrate
from shared.storage.unit_of_work import Transaction, UnitOfWork

SCHEMA = "sla_totals_probe"
HOST = "workshop"  # diagnosis (stop, cancel) and repair_promise (pause, resume, cancel), both safety-critical
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # a Monday morning
HOURS = {day: [["00:00", "23:59"]] for day in sla.WEEKDAYS}  # business time, nearly round the clock
TOTALS_MIGRATION = "011_sla_totals.sql"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def comparable(figures: dict) -> dict:
    """The figures with each list in one order, and the durations' sums apart: a float sum depends on
    the order it adds in, so those are compared to within rounding (below)."""
    sums = {r["policy"]: r["sum"] for r in figures["durations"]}
    lists = {key: sorted(json.dumps({k: v for k, v in r.items() if k != "sum"}, sort_keys=True, default=str)
                         for r in rows) for key, rows in figures.items()}
    return {"lists": lists, "sums": sums}


def assert_same_as_reference(work, now=None):
    """figures() equals the full GROUP BY, read in one snapshot; returns the reference figures."""
    now = now or at(0)
    with work.pool.connection() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            tx = Transaction(conn, HOST)
            ours, theirs = sla_store.figures(tx, now), reference(tx, now)
        conn.isolation_level, conn.read_only = None, False
    ours_, theirs_ = comparable(ours), comparable(theirs)
    assert ours_["lists"] == theirs_["lists"]
    assert ours_["sums"] == pytest.approx(theirs_["sums"], rel=1e-12)
    return theirs


def counts(figures, outcome) -> int:
    return sum(r["count"] for r in figures["outcomes"] if r["outcome"] == outcome)


# -- a schema with the shared migrations, and clocks moved as the services move them ------------------
def _drop(dsn, schema):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def work(run_env, tmp_path):
    _drop(run_env["dsn"], SCHEMA)
    migrate(run_env["dsn"], SCHEMA, tmp_path)  # the shared migrations only
    pool = Pool(run_env["dsn"], SCHEMA, size=5)
    yield UnitOfWork(pool, HOST)
    pool.close()
    _drop(run_env["dsn"], SCHEMA)


def branch(work, branch_id, region_id):
    with work.transaction() as tx:
        org.upsert_branch(tx, branch_id, {"region_id": region_id, "name": branch_id, "timezone": "UTC",
                                          "business_hours": HOURS, "holidays": [], "labour_rate_cents": 9000,
                                          "tax_rate_bp": 2100})


def happen(work, event_type, repair_order_id, minutes, branch_id, **facts):
    """`event_type` about a repair order occurs: the workshop's clocks move as SlaClocks moves them."""
    with work.transaction() as tx:
        clocks.apply(tx, HOST, event_type, {"repair_order_id": repair_order_id, "branch_id": branch_id,
                                            "occurred_at": at(minutes), **facts})


class Workshop(clocks.SlaClocks):
    name = HOST

    def __init__(self, work):
        self.db = work


def watch(work, minutes, monkeypatch):
    """The SLA watch looks at `minutes`: it marks breaches and clocks at risk."""
    monkeypatch.setattr(clocks, "now", lambda: at(minutes))
    Workshop(work).sla_watch()


def stored(work, repair_order_id, policy):
    with work.transaction() as tx:
        return tx.one("SELECT state, outcome, duration_seconds FROM sla_clocks WHERE policy = %s AND subject_id = %s",
                      (policy, str(repair_order_id)))


# -- the clock's every move ------------------------------------------------------------------------------
def test_figures_from_the_totals_equal_the_full_group_by_through_every_move_of_a_clock(work, monkeypatch):
    monkeypatch.setattr(sla_store, "FOLD_EVERY", 3)  # folds among the moves, not only at the end
    north, south = f"N-{uuid.uuid4().hex[:6]}", f"S-{uuid.uuid4().hex[:6]}"
    branch(work, north, "R-north")  # `south` is configured only later: its clocks count calendar time
    ros = {name: uuid.uuid4() for name in ("met", "late", "cancelled", "cancelled_late", "held", "breaching",
                                           "held_late", "safety", "open")}
    for name, ro in ros.items():
        where = south if name in ("cancelled", "held_late") else north
        priority = "safety_critical" if name in ("safety", "late") else "routine"
        happen(work, "repair_order.opened", ro, 0, where, priority=priority)  # diagnosis: 1,800 s
        happen(work, "quote.approved", ro, 1, where, priority=priority)  # repair_promise: 14,400 s
    assert_same_as_reference(work)

    happen(work, "quote.issued", ros["met"], 15, north)  # diagnosis met, in 900 s: a bucket's bound
    happen(work, "quote.issued", ros["late"], 45, north)  # diagnosis breached when it stops, safety-critical
    happen(work, "repair_order.cancelled", ros["cancelled"], 5, south)  # both clocks cancelled
    happen(work, "repair_order.cancelled", ros["cancelled_late"], 40, north)  # diagnosis late: breached
    happen(work, "repair_order.on_hold", ros["held"], 20, north, reason="awaiting_parts")
    figures = assert_same_as_reference(work)
    assert counts(figures, "met") == 1 and counts(figures, "cancelled") == 3 and counts(figures, "breached") == 2
    assert stored(work, ros["held"], "repair_promise")["state"] == "paused"

    happen(work, "repair_order.resumed", ros["held"], 30, north)
    watch(work, 60, monkeypatch)  # every diagnosis still running is past its 30 minutes: breached, running on
    figures = assert_same_as_reference(work, at(60))
    assert stored(work, ros["breaching"], "diagnosis") == {"state": "running", "outcome": "breached",
                                                           "duration_seconds": None}
    assert [r["count"] for r in figures["safety_critical_breaches"]] == [2]  # late's, and safety's still running

    happen(work, "repair_order.on_hold", ros["held_late"], 300, south, reason="awaiting_parts")  # breached first
    assert stored(work, ros["held_late"], "repair_promise")["outcome"] == "breached"
    happen(work, "quote.issued", ros["breaching"], 70, north)  # a breached clock stops: now it has a duration
    happen(work, "repair_order.ready", ros["met"], 120, north)  # repair_promise met
    happen(work, "repair_order.ready", ros["breaching"], 400, north)  # repair_promise breached as it stops
    figures = assert_same_as_reference(work, at(400))
    assert figures["durations"] and figures["open"] and figures["seconds_to_breach_min"]

    branch(work, south, "R-south")  # a region configured after its branch's clocks counts for them at once
    figures = assert_same_as_reference(work, at(400))
    assert {r["region_id"] for r in figures["outcomes"] if r["branch_id"] == south} == {"R-south"}

    watch(work, 10_000, monkeypatch)  # the open ones breach now
    happen(work, "repair_order.cancelled", ros["open"], 10_001, north)  # cancelled after breaching: breached
    happen(work, "repair_order.cancelled", ros["safety"], 10_002, north)
    with work.transaction() as tx:
        sla_store.fold(tx)
    with work.transaction() as tx:
        assert tx.one("SELECT count(*) AS n FROM sla_total_moves")["n"] == 0
    figures = assert_same_as_reference(work, at(10_002))
    assert counts(figures, "breached") >= 8


def test_a_save_that_changes_no_outcome_nor_end_moves_no_totals(work):
    ro, north = uuid.uuid4(), f"N-{uuid.uuid4().hex[:6]}"
    happen(work, "quote.approved", ro, 0, north)
    happen(work, "repair_order.on_hold", ro, 10, north, reason="awaiting_parts")
    happen(work, "repair_order.resumed", ro, 20, north)
    with work.transaction() as tx:
        assert tx.one("SELECT count(*) AS n FROM sla_total_moves")["n"] == 0
    happen(work, "repair_order.ready", ro, 30, north)
    with work.transaction() as tx:
        assert tx.one("SELECT clocks, durations FROM sla_total_moves") == {"clocks": 1, "durations": 1}


def test_the_totals_have_one_column_per_bucket_of_the_duration_histogram(work):
    with work.transaction() as tx:
        columns = [r["column_name"] for r in tx.all(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'sla_totals'"
            " AND column_name LIKE 'le\\_%%' ORDER BY ordinal_position", (SCHEMA,))]
    assert columns == [f"le_{b}" for b in sla.DURATION_BUCKETS]


# -- concurrent stops ---------------------------------------------------------------------------------------
def test_concurrent_stops_keep_the_totals_exact(work, monkeypatch):
    """Four writers stop clocks of one busy (policy, branch) at once, each holding its transaction a
    moment after the save, while the watch breaches others and folds run among them."""
    monkeypatch.setattr(sla_store, "FOLD_EVERY", 5)
    north = f"N-{uuid.uuid4().hex[:6]}"
    branch(work, north, "R-north")
    ros = [uuid.uuid4() for _ in range(120)]
    for i, ro in enumerate(ros):  # the last 20 opened earlier: the watch breaches them at 0, the others are not due
        happen(work, "repair_order.opened", ro, 0 if i < 100 else -100, north,
               priority="safety_critical" if i % 4 == 0 else "routine")
    todo = list(ros[:100])
    lock, start, failures = threading.Lock(), threading.Barrier(4), []

    def writer():
        start.wait()
        while True:
            with lock:
                if not todo:
                    return
                ro, n = todo.pop(), len(todo)
            try:
                with work.transaction() as tx:  # quick ones met, slow ones breached
                    clocks.apply(tx, HOST, "quote.issued", {"repair_order_id": ro, "branch_id": north,
                                                            "occurred_at": at(10 if n % 2 else 50)})
                    tx.execute("SELECT pg_sleep(0.005)")  # the rest of the command, its row locks held
            except Exception as exc:  # reported below
                failures.append(exc)
                return

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    start.wait()
    watch(work, 0, monkeypatch)  # while the writers stop theirs
    for t in threads:
        t.join(60)
    assert not failures, failures
    figures = assert_same_as_reference(work, at(60))
    assert counts(figures, "met") == 50 and counts(figures, "breached") == 70
    with work.transaction() as tx:
        assert tx.one("SELECT count(*) AS n FROM sla_totals")["n"] > 0, "no fold ran among the stops"
        sla_store.fold(tx)
    assert_same_as_reference(work, at(60))


# -- the migration's own count ------------------------------------------------------------------------------
BACKFILL_SCHEMA = "sla_totals_backfill"
HISTORY = """
INSERT INTO branches (branch_id, region_id, name, timezone, business_hours, labour_rate_cents, tax_rate_bp)
SELECT 'B' || b, 'R' || (b % 3), 'Branch ' || b, 'UTC', '{}', 9000, 2100 FROM generate_series(0, 5) b;
INSERT INTO sla_clocks (clock_id, policy, subject_type, subject_id, branch_id, safety_critical, target_seconds,
    started_at, running_since, deadline, at_risk_at, state, outcome, at_risk, breached_at, ended_at, duration_seconds)
SELECT gen_random_uuid(), (ARRAY['diagnosis', 'repair_promise', 'follow_up'])[1 + g % 3], 'repair_order', 'ro-' || g,
    'B' || (g % 8), g % 5 = 0, 3600, now() - interval '3 days',
    CASE WHEN g % 10 IN (0, 1) THEN now() END, CASE WHEN g % 10 IN (0, 1) THEN now() + g * interval '1 second' END,
    NULL,
    CASE WHEN g % 10 IN (0, 1) THEN 'running' WHEN g % 10 = 2 THEN 'paused' ELSE 'stopped' END,
    CASE WHEN g % 10 = 0 THEN NULL WHEN g % 10 = 1 THEN 'breached' WHEN g % 10 = 2 THEN
        (CASE WHEN g % 3 = 0 THEN 'breached' END) WHEN g % 10 = 3 THEN 'cancelled'
        WHEN g % 7 = 0 THEN 'breached' ELSE 'met' END,
    g % 13 = 0, CASE WHEN g % 10 = 1 OR g % 7 = 0 THEN now() - interval '1 day' END,
    CASE WHEN g % 10 > 2 THEN now() END, CASE WHEN g % 10 > 2 AND g % 97 <> 0 THEN (g * 150) % 300000 END
FROM generate_series(1, :count) g
"""


def test_the_migration_counts_the_clocks_it_finds_as_figures_counted_them(run_env, tmp_path, monkeypatch):
    """Migrations 001-010, a history of clocks of every kind (branches unknown among them), then 011."""
    folder = tmp_path / "shared"
    folder.mkdir()
    for path in sorted(SHARED_MIGRATIONS.glob("*.sql")):
        if path.name < TOTALS_MIGRATION:
            shutil.copy(path, folder)
    _drop(run_env["dsn"], BACKFILL_SCHEMA)
    migrate(run_env["dsn"], BACKFILL_SCHEMA, folder, include_shared=False)
    pool = Pool(run_env["dsn"], BACKFILL_SCHEMA, size=2)
    try:
        work = UnitOfWork(pool, HOST)
        with work.transaction() as tx:
            tx.execute(HISTORY.replace(":count", "3000"))
            assert tx.one("SELECT to_regclass('sla_totals') AS t")["t"] is None
        shutil.copy(SHARED_MIGRATIONS / TOTALS_MIGRATION, folder)
        assert migrate(run_env["dsn"], BACKFILL_SCHEMA, folder, include_shared=False) == [
            f"{BACKFILL_SCHEMA}/{TOTALS_MIGRATION}"]
        figures = assert_same_as_reference(work)
        assert counts(figures, "met") and counts(figures, "cancelled") and figures["safety_critical_breaches"]
        assert any(r["region_id"] is None for r in figures["outcomes"])  # B6 and B7 are not configured
        assert len(figures["durations"]) == 3

        # and the clocks it found move on from there: the ones still open stop, and the watch breaches one
        with work.transaction() as tx:
            tx.execute("UPDATE sla_clocks SET deadline = now() - interval '1 hour' WHERE subject_id = 'ro-10'")
        monkeypatch.setattr(sla_store, "FOLD_EVERY", 2)
        monkeypatch.setattr(clocks, "now", lambda: datetime.now(timezone.utc))
        Workshop(work).sla_watch()
        assert assert_same_as_reference(work) != figures
        with work.transaction() as tx:
            open_ones = tx.all("SELECT policy, subject_id FROM sla_clocks WHERE state = 'running' AND policy IN"
                               " ('diagnosis', 'repair_promise') ORDER BY subject_id LIMIT 40")
        for row in open_ones:
            stop = "quote.issued" if row["policy"] == "diagnosis" else "repair_order.ready"
            with work.transaction() as tx:
                clock = sla_store.clock(tx, row["policy"], row["subject_id"])
                moved = clocks._clock(tx, sla.policy(row["policy"]), clock)
                assert moved.follow(sla.policy(row["policy"]), stop, {"occurred_at": datetime.now(timezone.utc)})
                sla_store.save(tx, [moved])
        assert_same_as_reference(work)
    finally:
        pool.close()
        _drop(run_env["dsn"], BACKFILL_SCHEMA)


# -- what stays live reads the open clocks only ----------------------------------------------------------
FEW_OPEN = """
INSERT INTO sla_clocks (clock_id, policy, subject_type, subject_id, branch_id, target_seconds, started_at,
    running_since, deadline, state, outcome, ended_at, duration_seconds)
SELECT gen_random_uuid(), (ARRAY['diagnosis', 'repair_promise'])[1 + g % 2], 'repair_order', 'ro-' || g, 'B' || (g % 8),
    3600, now() - interval '1 day', CASE WHEN g % 500 = 0 THEN now() END,
    CASE WHEN g % 500 = 0 THEN now() + interval '1 hour' END,
    CASE WHEN g % 500 = 0 THEN 'running' WHEN g % 500 = 1 THEN 'paused' ELSE 'stopped' END,
    CASE WHEN g % 500 > 1 THEN 'met' END, CASE WHEN g % 500 > 1 THEN now() END, CASE WHEN g % 500 > 1 THEN 600 END
FROM generate_series(1, 20000) g
"""


def test_the_open_clocks_are_counted_through_partial_indexes(work):
    """20,000 ended clocks and 80 open ones: what figures() still counts live reads the open ones only."""
    with work.transaction() as tx:
        tx.execute(FEW_OPEN)
        tx.execute("ANALYZE sla_clocks")
        plans = {name: json.dumps(tx.one("EXPLAIN (FORMAT JSON) " + sql)["QUERY PLAN"]) for name, sql in (
            ("open", "SELECT c.policy, c.branch_id, c.state, c.at_risk, c.outcome, count(*) FROM sla_clocks c"
                     " WHERE c.state IN ('running', 'paused') GROUP BY 1, 2, 3, 4, 5"),
            ("nearest", "SELECT policy, branch_id, min(deadline) FROM sla_clocks"
                        " WHERE state = 'running' AND outcome IS NULL GROUP BY 1, 2"))}
    assert "sla_clocks_open" in plans["open"], plans["open"]
    assert not any("Seq Scan" in plan for plan in plans.values()), plans
