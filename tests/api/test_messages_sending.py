"""The SQL of messages against a real PostgreSQL, in a throwaway copy of crm's schema (no service claims
from it): two senders never claim one message, two events about one thing make one message, erasure
keeps that a message was sent and drops what it said."""
import os
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from services.crm import messages, messages_store as store
from shared.storage.migrate import migrate
from shared.storage.unit_of_work import Transaction

CRM_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "crm" / "migrations"
AT = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def schema(run_env):
    name = f"crm_messages_{uuid.uuid4().hex[:8]}"
    migrate(run_env["dsn"], name, CRM_MIGRATIONS)
    yield name
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def connect(schema):
    return psycopg.connect(os.environ["PITLANE_DSN"], row_factory=dict_row, options=f"-c search_path={schema},public")


def customer(tx):
    row = {"customer_id": uuid.uuid4(), "branch_id": "B1", "name": "Ann", "email": "ann@example.com",
           "phone": "+4930123", "consent_marketing": False}
    tx.execute("INSERT INTO customers (customer_id, branch_id, name, email, phone) VALUES"
               " (%(customer_id)s, %(branch_id)s, %(name)s, %(email)s, %(phone)s)", row)
    return {**row, "language": "en"}


def queued(c, thing=None):
    return messages.Message.compose(uuid.uuid4(), "B1", c, messages.Consents.of(c), "ready", "service",
                                    messages.shipped_template("ready", "en"), {"text": "ready"},
                                    AT - timedelta(seconds=5), thing=thing)


def test_two_senders_claiming_at_once_never_take_the_same_message(schema):
    with connect(schema) as conn:
        tx = Transaction(conn, "crm")
        c = customer(tx)
        ids = {store.insert_message(tx, messages.stored(queued(c)))["message_id"] for _ in range(30)}
        conn.commit()
    claimed, barrier = [], threading.Barrier(2)

    def sender():
        with connect(schema) as conn:
            with conn.transaction():
                tx = Transaction(conn, "crm")
                barrier.wait()
                rows = store.claim_due(tx, AT, 120, limit=20)
                barrier.wait()  # both hold their claims at the same time
                claimed.append({r["message_id"] for r in rows})

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    first, second = claimed
    assert first and second and not first & second
    assert first | second == ids
    with connect(schema) as conn:  # claimed: not due again until the lease is over
        assert store.claim_due(Transaction(conn, "crm"), AT, 120) == []


def test_two_events_about_one_thing_make_one_message_even_at_the_same_moment(schema):
    with connect(schema) as conn:
        c = customer(Transaction(conn, "crm"))
        conn.commit()
    thing, made, barrier = f"ro:{uuid.uuid4()}:ready", [], threading.Barrier(2)

    def handler():
        with connect(schema) as conn:
            with conn.transaction():
                barrier.wait()
                made.append(store.insert_message(Transaction(conn, "crm"), messages.stored(queued(c, thing))))

    threads = [threading.Thread(target=handler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(m is None for m in made) == [False, True]
    with connect(schema) as conn:
        assert conn.execute("SELECT count(*) AS n FROM messages WHERE thing = %s", (thing,)).fetchone()["n"] == 1


def test_erasure_drops_addresses_and_texts_and_keeps_that_messages_were_sent(schema):
    with connect(schema) as conn:
        tx = Transaction(conn, "crm")
        c = customer(tx)
        row = store.insert_message(tx, messages.stored(queued(c)))
        store.add_attempt(tx, row["message_id"], AT, "email", "sent", "250 accepted for ann@example.com")
        consents = messages.Consents.of(c)
        consents.change([{"channel": "sms", "purpose": "service", "granted": False}], "advisor", "phone", AT)
        store.save_consents(tx, consents, "email", True)
        exported = store.export(tx, c["customer_id"])
        assert exported["messages"][0]["address"] == "ann@example.com"
        assert exported["messages"][0]["attempt_log"][0]["result"] == "sent"
        assert exported["consent_history"][0]["channel"] == "sms" and exported["preferred_channel"] == "email"
        assert store.erase(tx, c["customer_id"]) == {"messages": 1}
        kept = store.message(tx, row["message_id"])
        assert (kept["address"], kept["subject"], kept["body"], kept["erased"]) == (None, "", "", True)
        assert kept["channel"] == "email" and kept["created_at"] is not None
        assert store.attempts(tx, row["message_id"])[0]["answer"] == ""
        conn.rollback()


def test_a_customers_messages_are_read_through_an_index_not_a_scan_of_all_messages(schema):
    class Recorder:
        def all(self, sql, params=None):
            self.sql, self.params = sql, params
            return []

    recorder = Recorder()
    store.messages_page(recorder, uuid.uuid4(), {"limit": 50})
    with connect(schema) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = str(conn.execute("EXPLAIN (FORMAT JSON) " + recorder.sql, recorder.params).fetchone())
    assert "messages_customer" in plan
