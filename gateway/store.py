"""The gateway's own schema: idempotency keys and the audit trail."""
import atexit
import hashlib
import itertools
import json
import logging
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from psycopg.types.json import Jsonb

from shared import config
from shared.contracts import errors
from shared.storage import paging
from shared.storage.db import Pool, delete_old
from shared.storage.migrate import ensure_database, migrate

log = logging.getLogger(__name__)
KEY_TTL_HOURS = 24
WAIT_FOR_WINNER = 5.0  # seconds a retry waits for the first request with its key to finish


class AuditTrail:
    """Writes the audit rows off the request path, in batches (COPY), a few milliseconds late.

    A write answered to its caller has its row kept in memory until it is written: a database
    outage delays the trail (the rows are written when it is back) instead of failing requests
    whose work is already done. Rows wait at most `linger` seconds plus the write; a process
    killed with SIGKILL loses what it had not written yet, a stopped one writes it on exit.
    """

    COLUMNS = "(at, subject, role, method, path, status, record_id)"

    def __init__(self, pool, linger: float = 0.05, limit: int = 100_000):
        self.pool, self.linger, self.limit = pool, linger, limit
        self._rows: list[tuple] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._writer_pid = None
        atexit.register(self.flush)

    def add(self, row: tuple):
        with self._lock:
            if len(self._rows) >= self.limit:
                del self._rows[0]
                log.error("audit trail: %d rows waiting for the database; the oldest is dropped", self.limit)
            self._rows.append(row)
        if self._writer_pid != os.getpid():  # after a fork the writer thread stayed in the parent
            self._writer_pid = os.getpid()
            threading.Thread(target=self._run, name="audit-trail", daemon=True).start()
        self._wake.set()

    def _run(self):
        while True:
            self._wake.wait()
            time.sleep(self.linger)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # the database is away: the rows wait, try again shortly
                log.warning("audit trail: %s; retrying", exc)
                time.sleep(1.0)
                self._wake.set()

    def flush(self):
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return
            try:
                # one COPY on an autocommit connection: all rows or none, no BEGIN or COMMIT trips
                with self.pool.connection() as conn, conn.cursor() as cur:
                    with cur.copy(f"COPY audit {self.COLUMNS} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            except BaseException:
                with self._lock:
                    self._rows[:0] = rows
                raise


class GatewayStore:
    PRUNE_EVERY = 1000  # idempotency claims between two removals of expired keys, per process
    PRUNE_BATCH = 5000

    def __init__(self, pool_size: int | None = None):
        dsn = config.dsn("gateway")
        ensure_database(dsn)  # these two straight to PostgreSQL; the pool through PITLANE_PGBOUNCER if set
        migrate(dsn, "gateway", Path(__file__).parent / "migrations", include_shared=False)
        # autocommit: the idempotency bookkeeping's single statements and the audit trail's COPY
        # batches commit at once; the idempotency claim runs in an explicit transaction. One pool per
        # gateway worker, shared by its threads (the connection budget: docs/reliability.md)
        self.pool = Pool(dsn, "gateway", size=pool_size or config.gateway_db_pool_size(), autocommit=True)
        self.audit_trail = AuditTrail(self.pool)
        self._claims = itertools.count(1)
        # how long a claimed key without an answer counts as in progress: the RPC's timeout and a margin
        self.lease_seconds = config.rpc_timeout() * 2 + 5

    # -- idempotency ---------------------------------------------------------------------------
    def prune_expired_keys(self) -> int:
        """Remove keys past their 24 hours, a batch at most; how many went. A key is otherwise
        replaced only when its caller uses it again, and most never are: without this every
        kept response would stay for good."""
        with self.pool.connection() as conn:
            return delete_old(conn, "idempotency_keys", "subject, key", "created_at", timedelta(hours=KEY_TTL_HOURS),
                              self.PRUNE_BATCH)

    @staticmethod
    def request_hash(method, path, body) -> str:
        return hashlib.sha256(json.dumps([method, path, body], sort_keys=True).encode()).hexdigest()

    def claim(self, subject, key, request_hash):
        """None when this request owns the key; else the stored (status, body) of the first one."""
        if next(self._claims) % self.PRUNE_EVERY == 0:
            self.prune_expired_keys()
        deadline = time.monotonic() + WAIT_FOR_WINNER
        while True:
            with self.pool.connection() as conn, conn.transaction():
                # a key past its hours is free again, and so is one whose request stopped running
                # without an answer (the gateway lost its database, or died): past the lease, its
                # retry goes to the service, which answers a command it carried out from its kept
                # answer instead of running it again (shared/bus/rpc.py, the command id)
                conn.execute("DELETE FROM idempotency_keys WHERE subject = %s AND key = %s"
                             " AND (created_at < now() - make_interval(hours => %s)"
                             "      OR (status IS NULL AND created_at < now() - make_interval(secs => %s)))",
                             (subject, key, KEY_TTL_HOURS, self.lease_seconds))
                won = conn.execute(
                    "INSERT INTO idempotency_keys (subject, key, request_hash) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING key", (subject, key, request_hash)).fetchone()
                if won:
                    return None
                row = conn.execute("SELECT request_hash, status, body FROM idempotency_keys"
                                   " WHERE subject = %s AND key = %s", (subject, key)).fetchone()
            if row is None:
                continue  # the first request failed and let go of the key: try to claim it again
            if row["request_hash"] != request_hash:
                raise errors.Unprocessable("this Idempotency-Key was used with a different request",
                                           {"Idempotency-Key": ["reused with another body"]})
            if row["status"] is not None:
                return row["status"], row["body"]
            if time.monotonic() > deadline:
                raise errors.Conflict("a request with this Idempotency-Key is still in progress",
                                      {"Idempotency-Key": ["in progress; retry later"]})
            time.sleep(0.05)

    def complete(self, subject, key, status, body):
        with self.pool.connection() as conn:
            conn.execute("UPDATE idempotency_keys SET status = %s, body = %s WHERE subject = %s AND key = %s",
                         (status, Jsonb(body), subject, key))

    def release(self, subject, key):
        """The request failed in a way worth retrying: let the next attempt do the work."""
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE subject = %s AND key = %s AND status IS NULL",
                         (subject, key))

    # -- audit -----------------------------------------------------------------------------------
    def audit(self, principal, method, path, status, record_id):
        self.audit_trail.add((datetime.now(timezone.utc), principal.subject, principal.role, method, path,
                              status, record_id))

    def audit_page(self, filters):
        from shared.storage.unit_of_work import Transaction

        self.audit_trail.flush()  # what this process wrote a moment ago is part of the answer
        with self.pool.connection() as conn, conn.transaction():
            tx = Transaction(conn, "gateway")
            sql, params = " WHERE true", []
            for column in ("subject", "role"):
                if filters.get(column):
                    sql += f" AND {column} = %s"
                    params.append(filters[column])
            if filters.get("from"):
                sql += " AND at >= %s"
                params.append(filters["from"])
            if filters.get("to"):
                sql += " AND at < %s"
                params.append(filters["to"])
            select = "SELECT *, lpad(audit_id::text, 20, '0') AS audit_key FROM audit"
            return paging.page(tx, "SELECT * FROM (" + select + ") a" + sql, params, "audit_key",
                               filters.get("cursor"), filters.get("limit", 50))

    def ping(self):
        with self.pool.connection() as conn:
            conn.execute("SELECT 1")

    # -- staff -----------------------------------------------------------------------------------
    def add_staff(self, member, password_hash):
        """Add a member of staff, or replace the password, role and scope of one with that login."""
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO staff (login, name, password_hash, role, branch_id, region_id) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (login) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash,"
                " role = excluded.role, branch_id = excluded.branch_id, region_id = excluded.region_id, active = true",
                (member.login, member.name, password_hash, member.role, member.branch_id, member.region_id))

    def staff_member(self, login):
        with self.pool.connection() as conn:
            return conn.execute("SELECT * FROM staff WHERE login = %s AND active", ((login or "").strip().lower(),)
                                ).fetchone()

    def rehash_staff(self, login, password_hash):
        with self.pool.connection() as conn:
            conn.execute("UPDATE staff SET password_hash = %s WHERE login = %s", (password_hash, login))
