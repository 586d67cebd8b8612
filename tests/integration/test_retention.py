"""Retention: published outbox rows, inbox marks and kept answers go once old; nothing unpublished ever does."""
import uuid

import pytest

from shared.storage.db import Pool, psycopg
from shared.storage.migrate import migrate
from shared.bus.outbox import Retention

SCHEMA = "retention_probe"


@pytest.fixture
def pool(run_env, tmp_path):
    migrate(run_env["dsn"], SCHEMA, tmp_path)  # the shared migrations only: the outbox and the inbox
    pool = Pool(run_env["dsn"], SCHEMA, size=2)
    yield pool
    pool.close()
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")


def add_outbox(conn, age_days: float, published: bool) -> str:
    event_id = str(uuid.uuid4())
    conn.execute("INSERT INTO outbox (event_id, event_type, payload, created_at, published_at)"
                 " VALUES (%s, 'probe.happened', '{}', now() - %s * interval '1 day',"
                 " CASE WHEN %s THEN now() - %s * interval '1 day' END)", (event_id, age_days, published, age_days))
    return event_id


def add_inbox(conn, age_days: float) -> str:
    event_id = str(uuid.uuid4())
    conn.execute("INSERT INTO inbox (consumer, event_id, applied_at) VALUES ('probe.handler', %s,"
                 " now() - %s * interval '1 day')", (event_id, age_days))
    return event_id


def add_reply(conn, age_minutes: float) -> str:
    correlation_id = str(uuid.uuid4())
    conn.execute("INSERT INTO rpc_replies (correlation_id, reply, created_at) VALUES (%s, '{}',"
                 " now() - %s * interval '1 minute')", (correlation_id, age_minutes))
    return correlation_id


def left(pool, table, key="event_id") -> set[str]:
    with pool.connection() as conn:
        return {str(r[key]) for r in conn.execute(f"SELECT {key} FROM {table}")}


def test_old_published_rows_and_old_marks_go_and_everything_else_stays(pool):
    with pool.connection() as conn, conn.transaction():
        old_sent = [add_outbox(conn, 9, published=True) for _ in range(3)]
        old_unsent = add_outbox(conn, 30, published=False)  # the broker was never reached: it must still go out
        recent_sent = add_outbox(conn, 2, published=True)
        old_marks = [add_inbox(conn, 8) for _ in range(2)]
        recent_mark = add_inbox(conn, 1)
        add_reply(conn, 11)  # a request expires with its caller's timeout: its answer is kept 10 minutes
        recent_reply = add_reply(conn, 9)

    removed = Retention(pool, keep_days=7).prune()

    assert removed == {"outbox": 3, "inbox": 2, "rpc_replies": 1}
    assert left(pool, "outbox") == {old_unsent, recent_sent}
    assert left(pool, "inbox") == {recent_mark}
    assert left(pool, "rpc_replies", "correlation_id") == {recent_reply}
    assert not set(old_sent) & left(pool, "outbox") and not set(old_marks) & left(pool, "inbox")
    assert Retention(pool, keep_days=7).prune() == {"outbox": 0, "inbox": 0, "rpc_replies": 0}  # nothing more


def test_a_backlog_goes_a_bounded_number_of_batches_per_run(pool):
    with pool.connection() as conn, conn.transaction():
        for _ in range(25):
            add_outbox(conn, 10, published=True)

    retention = Retention(pool, keep_days=7, batch=4, max_batches=3)
    assert retention.prune()["outbox"] == 12  # three batches of four, then the next run
    assert retention.prune()["outbox"] == 12
    assert retention.prune()["outbox"] == 1
    assert left(pool, "outbox") == set()
