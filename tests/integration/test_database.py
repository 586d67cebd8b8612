"""The database layer: eventlet-friendly queries, idempotent migrations, pool recovery."""
import subprocess
import sys

import pytest

from shared.contracts import errors
from shared.storage.db import Pool, psycopg
from shared.storage.unit_of_work import UnitOfWork
from shared.storage.migrate import migrate
from tests.support.infra import ROOT

CONCURRENT_SLEEPS = r"""
import eventlet
eventlet.monkey_patch()
import sys, time
from shared.storage.db import GreenConnection, Pool
pool = Pool(sys.argv[1], "public", size=5)
assert pool.connection_class is GreenConnection, pool.connection_class
def sleep():
    with pool.connection() as conn:
        conn.execute("SELECT pg_sleep(0.5)")
def large():  # more than a socket buffer: psycopg waits to write and read at once
    with pool.connection() as conn:
        for _ in range(3):
            assert conn.execute("SELECT length(%s) AS n", ("x" * 4_000_000,)).fetchone()["n"] == 4_000_000
started = time.monotonic()
threads = [eventlet.spawn(sleep) for _ in range(4)] + [eventlet.spawn(large)]
[t.wait() for t in threads]
print(time.monotonic() - started)
"""

UNPATCHED_WAIT = ("import shared.storage.db, psycopg, psycopg.waiting as w;"
                  " print(w.wait.__name__, shared.storage.db.connection_class() is psycopg.Connection)")


def test_four_half_second_queries_in_green_threads_run_concurrently(run_env):
    result = subprocess.run([sys.executable, "-c", CONCURRENT_SLEEPS, run_env["dsn"]],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    elapsed = float(result.stdout.strip())
    assert elapsed < 1.0, f"four 0.5 s queries took {elapsed:.2f} s: psycopg is blocking the hub"


def test_a_process_without_eventlet_keeps_psycopgs_own_wait():
    result = subprocess.run([sys.executable, "-c", UNPATCHED_WAIT], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wait_c True"


def test_migrations_apply_once_and_are_recorded(run_env, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_things.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    first = migrate(run_env["dsn"], "migration_probe", folder)
    assert first[:2] == ["shared/001_outbox_inbox.sql", "shared/002_branches.sql"]
    assert first[-1] == "migration_probe/001_things.sql"
    assert all(name.startswith("shared/") for name in first[:-1])
    (folder / "002_more.sql").write_text("ALTER TABLE things ADD COLUMN name text;")
    assert migrate(run_env["dsn"], "migration_probe", folder) == ["migration_probe/002_more.sql"]
    assert migrate(run_env["dsn"], "migration_probe", folder) == []


def test_pool_heals_after_the_server_drops_its_connections(run_env):
    import psycopg
    import pytest

    from shared.contracts import errors
    from shared.storage.db import Pool

    pool = Pool(run_env["dsn"], "public", size=2)
    with pool.connection() as conn:
        pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    with psycopg.connect(run_env["dsn"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(errors.Unavailable):
        with pool.connection() as conn:
            conn.execute("SELECT 1")
    with pool.connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1
    pool.close()


def test_database_rules_become_typed_errors_and_nothing_is_written(run_env):
    import pytest

    from shared.contracts import errors
    from shared.storage.db import Pool
    from shared.storage.unit_of_work import UnitOfWork

    pool = Pool(run_env["dsn"], "public", size=1)
    with pool.connection() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS rule_probe (id int PRIMARY KEY, n int CHECK (n >= 0))")
        conn.commit()
    with pytest.raises(errors.Conflict) as info:
        with UnitOfWork(pool, "probe").transaction() as tx:
            tx.execute("INSERT INTO rule_probe VALUES (1, 5)")
            tx.execute("INSERT INTO rule_probe VALUES (2, -1)")
    assert "rule_probe_n_check" in info.value.message
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM rule_probe").fetchone()["n"] == 0  # the first row too
        conn.execute("DROP TABLE rule_probe")
        conn.commit()
    pool.close()


@pytest.fixture
def work(run_env):
    """A unit of work on a one-connection pool (every transaction reuses the same connection),
    with a scratch table `probe_rows`, dropped afterwards."""
    pool = Pool(run_env["dsn"], "public", size=1)
    work = UnitOfWork(pool, "probe")
    with work.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS probe_rows (n int PRIMARY KEY, note text)")
    yield work
    with work.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS probe_rows")
    pool.close()


def count(work):
    with work.read() as tx:
        return tx.one("SELECT count(*) AS n FROM probe_rows")["n"]


def test_reads_refuse_writes_and_leave_the_connection_writable(work):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        with work.read() as tx:
            tx.execute("INSERT INTO probe_rows VALUES (1)")
    with pytest.raises(RuntimeError):
        with work.read() as tx:
            assert tx.one("SELECT count(*) AS n FROM probe_rows")["n"] == 0
            raise RuntimeError("a read that fails half-way")
    with work.transaction() as tx:
        tx.execute("INSERT INTO probe_rows VALUES (2)")
    assert count(work) == 1


def test_a_value_the_database_cannot_hold_is_invalid_input_not_a_crash(work):
    with pytest.raises(errors.ValidationFailed) as raised:
        with work.read() as tx:
            tx.one("SELECT %s::text AS t", ("a\x00b",))
    assert "NUL" in raised.value.fields["_schema"][0]
    with pytest.raises(errors.ValidationFailed):
        with work.read() as tx:
            tx.one("SELECT %s::int AS n", (10**12,))
    assert count(work) == 0  # the connection is fine afterwards


def test_a_unit_of_work_keeps_all_its_writes_or_none(work):
    with work.transaction() as tx:
        tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (1, "first"))
        tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (2, "second"))
        assert tx.one("SELECT count(*) AS n FROM probe_rows")["n"] == 2
        tx.execute("UPDATE probe_rows SET note = %s WHERE n = %s", ("changed", 1))
    with work.read() as tx:
        assert [r["note"] for r in tx.all("SELECT note FROM probe_rows ORDER BY n")] == ["changed", "second"]
    with pytest.raises(errors.Conflict):  # the duplicate key fails: nothing of the unit is kept
        with work.transaction() as tx:
            tx.execute("INSERT INTO probe_rows VALUES (3, 'third')")
            tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (1, "duplicate"))
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # a read refuses writes loudly
        with work.read() as tx:
            tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (4, "in a read"))
    assert count(work) == 2


def test_a_refused_new_connection_costs_no_healthy_one(run_env, monkeypatch):
    pool = Pool(run_env["dsn"], "public", size=3)
    try:
        with pool.connection() as first, pool.connection() as second:
            backends = {first.info.backend_pid, second.info.backend_pid}

        def refused():
            raise psycopg.OperationalError("connection failed: FATAL: sorry, too many clients already")

        monkeypatch.setattr(pool, "_connect", refused)
        with pool.connection() as a, pool.connection() as b:  # the two kept ones
            with pytest.raises(errors.Unavailable):
                with pool.connection():  # a third has to be made, and is refused
                    pass
            assert {a.info.backend_pid, b.info.backend_pid} == backends
        with pool.connection() as again:  # the healthy ones are still there, and work
            assert again.info.backend_pid in backends
            assert again.execute("SELECT 1 AS one").fetchone()["one"] == 1
    finally:
        pool.close()


def test_writes_sent_together_go_in_one_statement_with_a_last_statement_whose_rows_come_back(work):
    from shared.storage.unit_of_work import _with

    insert = "INSERT INTO probe_rows VALUES (%s, %s)"
    with work.transaction() as tx:
        tx.write_together((insert, (1, "one")), (insert, (2, "two")))
        rows = tx.all(*_with([(insert, (3, "three"))], ("WITH n AS (SELECT 7 AS seven) SELECT seven FROM n", ())))
        assert rows == [{"seven": 7}]
    assert count(work) == 3
    with pytest.raises(errors.Conflict):  # one of them refused: none of the statement's writes stays
        with work.transaction() as tx:
            tx.write_together((insert, (4, "four")), (insert, (1, "duplicate")))
    assert count(work) == 3


def test_what_waits_for_the_commit_runs_after_it_and_never_after_a_rollback(work):
    ran = []
    with work.transaction() as tx:
        tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (1, "kept"))
        tx.after_commit(lambda: ran.append(count(work)))  # the row is visible to others by then
    assert ran == [1]
    with pytest.raises(errors.Conflict):
        with work.transaction() as tx:
            tx.after_commit(lambda: ran.append("rolled back"))
            tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (1, "duplicate"))
    assert ran == [1]


def test_undoing_to_a_savepoint_keeps_what_came_before_and_the_prepared_statements(work):
    prepared = "SELECT count(*) AS n FROM pg_prepared_statements"
    ran = []
    with work.transaction() as tx:
        tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (1, "before"))
        tx.savepoint("probe")
        for _ in range(6):  # psycopg prepares a statement on its fifth run
            assert tx.one("SELECT note FROM probe_rows WHERE n = %s", (1,))["note"] == "before"
        held = tx.one(prepared)["n"]
        assert held >= 1
        tx.execute("INSERT INTO probe_rows VALUES (2, 'undone')")
        tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (3, "also undone"))
        tx.after_commit(lambda: ran.append("undone"))
        tx.undo_to("probe")
        assert tx.one(prepared)["n"] == held  # through execute(), psycopg would have dropped them all
        tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (4, "after"))
        tx.after_commit(lambda: ran.append("kept"))
    with work.read() as tx:
        assert [r["n"] for r in tx.all("SELECT n FROM probe_rows ORDER BY n")] == [1, 4]
    assert ran == ["kept"]


def test_a_read_that_answers_no_such_record_keeps_the_prepared_statements(work):
    prepared = "SELECT count(*) AS n FROM pg_prepared_statements"
    for _ in range(6):
        with work.read() as tx:
            held = tx.one(prepared)["n"]
    assert held >= 1
    with pytest.raises(errors.NotFound, match="no such probe"):
        with work.read() as tx:
            if tx.one("SELECT note FROM probe_rows WHERE n = %s", (42,)) is None:
                raise errors.NotFound("no such probe", {})
    with work.read() as tx:
        assert tx.one(prepared)["n"] == held  # a ROLLBACK would have made psycopg drop them all


def test_a_batch_is_one_round_trip_of_statements_that_see_each_other_with_values_quoted(work):
    hostile = "x'); DROP TABLE probe_rows; --"
    with work.transaction() as tx:
        tx.execute("INSERT INTO probe_rows VALUES (%s, %s)", (1, hostile))  # goes first in the same trip
        inserted, rows, empty, counted = tx.batch(
            ("INSERT INTO probe_rows VALUES (%s, %s) RETURNING n", (2, "semi; colon")),
            ("SELECT n, note FROM probe_rows WHERE n = ANY(%s) ORDER BY n", ([1, 2],)),
            ("SELECT n FROM probe_rows WHERE note = %s", ("nobody",)),
            ("SELECT count(*) AS n FROM probe_rows", ()))
        assert inserted == [{"n": 2}] and empty == [] and counted == [{"n": 2}]
        assert rows == [{"n": 1, "note": hostile}, {"n": 2, "note": "semi; colon"}]
    assert count(work) == 2
    with pytest.raises(errors.Conflict):  # one statement failing fails the unit of work
        with work.transaction() as tx:
            tx.batch(("INSERT INTO probe_rows VALUES (%s, %s)", (3, "third")),
                     ("INSERT INTO probe_rows VALUES (%s, %s)", (1, "duplicate")))
    assert count(work) == 2
