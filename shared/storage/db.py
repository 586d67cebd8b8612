"""PostgreSQL connections: a pool that cooperates with eventlet (units of work: shared/storage/unit_of_work.py)."""
import json
import logging
import queue
import sys
import threading
from contextlib import contextmanager
from time import monotonic

import psycopg
from psycopg import waiting
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps

from shared import config
from shared.contracts import errors

log = logging.getLogger(__name__)


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


set_json_dumps(lambda obj: json.dumps(obj, default=_json_default))


def _green_wait(gen, fileno, interval=0.0, timeout=None):
    """psycopg's wait for a green thread: park on eventlet's hub until the socket is ready.

    psycopg's own C wait would block the whole process (every green thread) on each query, and
    its select-based wait goes through eventlet's green select, which builds listeners and a
    0.1 s timer for every wait: a sixth of a service's CPU. Here a wait is one listener on the
    hub. (`interval` only lets psycopg notice Ctrl-C in a blocking wait; a green wait needs none.)
    """
    from eventlet.hubs import trampoline

    deadline = None if timeout is None else monotonic() + timeout
    try:
        state = next(gen)
        while True:
            left = None if deadline is None else max(0.0, deadline - monotonic())
            try:
                if state == waiting.WAIT_R:
                    trampoline(fileno, read=True, timeout=left, timeout_exc=_GreenTimeout)
                    ready = waiting.READY_R
                elif state == waiting.WAIT_W:
                    trampoline(fileno, write=True, timeout=left, timeout_exc=_GreenTimeout)
                    ready = waiting.READY_W
                else:  # both (a large query that does not flush at once): rare, the green select does it
                    return waiting.wait_select(_resumed(gen, state), fileno, 0.1 if left is None else left, left)
            except _GreenTimeout:
                raise psycopg.errors._WaitTimeout("wait timeout expired") from None
            state = gen.send(ready)
    except StopIteration as ex:
        return ex.value


class _GreenTimeout(Exception):
    pass


def _resumed(gen, state):
    """`gen` as a generator whose first step is `state` again (it was already taken)."""
    while True:
        ready = yield state
        try:
            state = gen.send(ready)
        except StopIteration as ex:
            return ex.value


def _eventlet_patched() -> bool:
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and patcher.is_monkey_patched("socket")


class GreenConnection(psycopg.Connection):
    """psycopg's connection for a process on eventlet (a service: pitlane.serve patches first):
    every wait of a query parks its green thread on the hub (`_green_wait`) instead of blocking
    the process in psycopg's C wait. Connecting still uses psycopg's own wait, once per connection."""

    def wait(self, gen, interval: float = 0.0, timeout: float | None = None):
        return _green_wait(gen, self.pgconn.socket, interval, timeout)


def connection_class() -> type[psycopg.Connection]:
    """GreenConnection in a process on eventlet, psycopg's own Connection anywhere else."""
    return GreenConnection if _eventlet_patched() else psycopg.Connection


def delete_old(conn, table: str, key: str, age_column: str, older_than, batch: int, where: str = "") -> int:
    """Delete up to `batch` rows of `table` whose `age_column` is older than `older_than` (a
    timedelta) and that match `where`, skipping rows another transaction holds; how many went.

    `key` names the row (its primary key's columns, comma-separated): the rows are picked, then
    deleted by it, so a batch is bounded and no lock waits on a busy row.
    """
    condition = f" AND {where}" if where else ""
    return conn.execute(
        f"DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} WHERE {age_column} < now() - %s"
        f"{condition} LIMIT %s FOR UPDATE SKIP LOCKED)", (older_than, batch)).rowcount


def through_pgbouncer(dsn: str, schema: str, address: str) -> str:
    """The conninfo of `dsn` for a pool of `schema` through the PgBouncer at `address` (host:port):
    its alias of the database (shared.config.pgbouncer_database), the same user, no `options`."""
    params = conninfo_to_dict(dsn)
    params.pop("options", None)
    host, colon, port = address.rpartition(":")
    if not colon:  # a host alone: PgBouncer's own port
        host, port = address, "6432"
    dbname = params.get("dbname") or params.get("user") or "postgres"  # libpq's default: the user's name
    params.update(host=host, port=port, dbname=config.pgbouncer_database(dbname, schema))
    return make_conninfo("", **params)


class Pool:
    """A bounded pool of connections whose search_path is one service's schema.

    Connections are made on demand up to `size`; a caller beyond that waits. A connection
    that failed (server restarted) is thrown away, and so are the idle ones made before it,
    so the pool heals after one failed unit of work instead of one per stale connection. A new
    connection refused costs only the unit of work that asked for it.
    """

    def __init__(self, dsn: str, schema: str, size: int = 8, connect_timeout: int = 5, autocommit: bool = False,
                 pgbouncer: str | None = None):
        """`pgbouncer`: host:port of a PgBouncer to connect through; by default PITLANE_PGBOUNCER
        (none: straight to PostgreSQL), "" for straight to PostgreSQL whatever the environment says."""
        self.dsn = dsn
        self.autocommit = autocommit  # single statements commit at once; conn.transaction() still groups
        self.schema = schema
        self.size = size
        self.connect_timeout = connect_timeout
        self.pgbouncer = config.pgbouncer() if pgbouncer is None else (pgbouncer or None)
        self.connection_class = connection_class()
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._generation = 0

    def connect_arguments(self) -> dict:
        """What a new connection is made with. Straight to PostgreSQL, the schema's search_path
        travels as a startup option. Through PgBouncer (transaction mode) there is no option
        (PgBouncer 1.18 refuses it): the pool connects to the alias of its database whose
        connect_query sets the search_path on every server connection (`pitlane pgbouncer-config`),
        and prepares no statement, since the next transaction may run on another server connection
        that never saw it."""
        common = {"row_factory": dict_row, "connect_timeout": self.connect_timeout, "autocommit": self.autocommit}
        if self.pgbouncer is None:
            return {"conninfo": self.dsn, "options": f"-c search_path={self.schema},public", **common}
        return {"conninfo": through_pgbouncer(self.dsn, self.schema, self.pgbouncer), "prepare_threshold": None,
                **common}

    def _connect(self) -> psycopg.Connection:
        conn = self.connection_class.connect(**self.connect_arguments())
        conn._pitlane_generation = self._generation
        return conn

    @contextmanager
    def connection(self):
        conn = self._checkout()
        try:
            yield conn
        except psycopg.errors.TransactionRollback as exc:
            # a deadlock or a serialization failure: nothing was written, and a retry may pass
            raise errors.Unavailable("the database rolled back a concurrent update; retry", {}) from exc
        except psycopg.DataError as exc:
            # a value the database cannot hold (a NUL character, a number out of range): bad input
            raise errors.ValidationFailed("invalid input", {"_schema": [str(exc).splitlines()[0]]}) from exc
        except psycopg.errors.IntegrityError as exc:
            # a rule of the schema refused the write (a check, a reference, a unique key)
            rule = exc.diag.constraint_name or exc.__class__.__name__
            raise errors.Conflict(f"refused by the database rule {rule}", {}) from exc
        except psycopg.OperationalError as exc:
            self._failed(conn, stale_too=True)
            conn = None
            raise errors.Unavailable(f"database unavailable: {exc.__class__.__name__}") from exc
        except BaseException:
            if conn.broken or conn.closed:
                self._failed(conn, stale_too=False)
                conn = None
            raise
        finally:
            if conn is not None:
                self._checkin(conn)

    def _checkout(self) -> psycopg.Connection:
        if not self._slots.acquire(timeout=30):
            raise errors.Unavailable("database pool exhausted")
        try:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                return self._connect()
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, psycopg.OperationalError):
                # a new connection refused (too many clients, the server starting): the ones this
                # pool holds are not the worse for it, and stay
                raise errors.Unavailable(f"database unavailable: {exc.__class__.__name__}") from exc
            raise

    def _checkin(self, conn):
        try:
            if conn.closed or conn.broken or conn._pitlane_generation != self._generation:
                conn.close()
            else:
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.rollback()
                self._idle.put(conn)
        finally:
            self._slots.release()

    def _failed(self, conn, stale_too: bool):
        """`conn` failed: it goes, and with `stale_too` the idle ones made before it."""
        if stale_too:
            self._discard_all()
        try:
            conn.close()
        finally:
            self._slots.release()

    def _discard_all(self):
        self._generation += 1
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def close(self):
        self._discard_all()

