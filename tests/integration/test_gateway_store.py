"""The gateway's idempotency keys: a key past its 24 hours is removed even if nobody uses it again."""
import uuid

import pytest


@pytest.fixture
def store(run_env):
    from gateway.store import GatewayStore

    store = GatewayStore(pool_size=2)
    yield store
    store.pool.close()


def add_key(store, subject, key, age_hours):
    with store.pool.connection() as conn:
        conn.execute("INSERT INTO idempotency_keys (subject, key, request_hash, status, body, created_at)"
                     " VALUES (%s, %s, 'h', 201, '{}', now() - make_interval(hours => %s))", (subject, key, age_hours))


def keys_of(store, subject):
    with store.pool.connection() as conn:
        return {r["key"] for r in conn.execute("SELECT key FROM idempotency_keys WHERE subject = %s", (subject,))}


def test_expired_keys_are_pruned_and_fresh_ones_kept(store):
    subject = f"prune-probe-{uuid.uuid4()}"
    for i in range(3):
        add_key(store, subject, f"old-{i}", 25)
    add_key(store, subject, "fresh", 23)

    assert store.prune_expired_keys() >= 3
    assert keys_of(store, subject) == {"fresh"}


def test_claims_prune_every_so_often(store):
    subject = f"prune-probe-{uuid.uuid4()}"
    add_key(store, subject, "old", 30)
    store.PRUNE_EVERY = 2
    assert store.claim(subject, "new-1", "hash-1") is None  # the first claim: no pruning yet
    assert keys_of(store, subject) == {"old", "new-1"}
    assert store.claim(subject, "new-2", "hash-2") is None  # the second prunes first
    assert keys_of(store, subject) == {"new-1", "new-2"}


def test_a_key_whose_request_stopped_without_an_answer_is_not_in_progress_for_ever(store, monkeypatch):
    from gateway import store as store_module
    from shared.contracts import errors

    subject, key = f"lease-probe-{uuid.uuid4()}", "pay-1"
    assert store.claim(subject, key, "h") is None  # the first request claims it, then never answers
    monkeypatch.setattr(store_module, "WAIT_FOR_WINNER", 0.2)
    with pytest.raises(errors.Conflict, match="still in progress"):  # within its lease: in progress
        store.claim(subject, key, "h")
    with store.pool.connection() as conn:  # the lease ran out (the first request is long gone)
        conn.execute("UPDATE idempotency_keys SET created_at = created_at - make_interval(secs => %s)"
                     " WHERE subject = %s AND key = %s", (store.lease_seconds + 1, subject, key))
    assert store.claim(subject, key, "h") is None  # the retry owns the key and does the work
