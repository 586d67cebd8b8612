"""The gateway's own schema: idempotency keys and the audit trail."""
import hashlib
import json
import time
from pathlib import Path

from psycopg.types.json import Jsonb

from shared import config, errors, paging
from shared.db import Pool
from shared.migrate import ensure_database, migrate

KEY_TTL_HOURS = 24
WAIT_FOR_WINNER = 5.0  # seconds a retry waits for the first request with its key to finish


class GatewayStore:
    def __init__(self, pool_size=4):
        dsn = config.dsn("gateway")
        ensure_database(dsn)
        migrate(dsn, "gateway", Path(__file__).parent / "migrations", include_shared=False)
        # autocommit: the audit row is one INSERT and one round trip; the idempotency claim
        # still runs in an explicit transaction
        self.pool = Pool(dsn, "gateway", size=pool_size, autocommit=True)

    # -- idempotency ---------------------------------------------------------------------------
    @staticmethod
    def request_hash(method, path, body) -> str:
        return hashlib.sha256(json.dumps([method, path, body], sort_keys=True).encode()).hexdigest()

    def claim(self, subject, key, request_hash):
        """None when this request owns the key; else the stored (status, body) of the first one."""
        deadline = time.monotonic() + WAIT_FOR_WINNER
        while True:
            with self.pool.connection() as conn, conn.transaction():
                conn.execute("DELETE FROM idempotency_keys WHERE subject = %s AND key = %s"
                             " AND created_at < now() - make_interval(hours => %s)", (subject, key, KEY_TTL_HOURS))
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
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO audit (subject, role, method, path, status, record_id)"
                         " VALUES (%s, %s, %s, %s, %s, %s)",
                         (principal.subject, principal.role, method, path, status, record_id))

    def audit_page(self, filters):
        from shared.db import Transaction

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
