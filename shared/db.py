"""PostgreSQL access: a pool that cooperates with eventlet, and transactions that carry an outbox."""
import json
import logging
import queue
import sys
import threading
from contextlib import ExitStack, contextmanager
from time import monotonic

import psycopg
from psycopg import waiting
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb, set_json_dumps

from shared import errors

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


if _eventlet_patched():  # a service (pitlane.serve patches first); elsewhere psycopg's C wait
    waiting.wait = _green_wait


class Pool:
    """A bounded pool of connections whose search_path is one service's schema.

    Connections are made on demand up to `size`; a caller beyond that waits. A connection
    that failed (server restarted) is thrown away, and so are the idle ones made before it,
    so the pool heals after one failed unit of work instead of one per stale connection.
    """

    def __init__(self, dsn: str, schema: str, size: int = 8, connect_timeout: int = 5, autocommit: bool = False):
        self.dsn = dsn
        self.autocommit = autocommit  # single statements commit at once; conn.transaction() still groups
        self.schema = schema
        self.size = size
        self.connect_timeout = connect_timeout
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._generation = 0

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(
            self.dsn,
            row_factory=dict_row,
            connect_timeout=self.connect_timeout,
            autocommit=self.autocommit,
            options=f"-c search_path={self.schema},public",
        )
        conn._pitlane_generation = self._generation
        return conn

    @contextmanager
    def connection(self):
        if not self._slots.acquire(timeout=30):
            raise errors.Unavailable("database pool exhausted")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
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
            self._discard_all()
            if conn is not None:
                conn.close()
                conn = None
            raise errors.Unavailable(f"database unavailable: {exc.__class__.__name__}") from exc
        except BaseException:
            if conn is not None and (conn.broken or conn.closed):
                conn = None
            raise
        finally:
            if conn is not None:
                if conn.closed or conn.broken or conn._pitlane_generation != self._generation:
                    conn.close()
                else:
                    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        conn.rollback()
                    self._idle.put(conn)
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


class Transaction:
    """One unit of work: the state change, the events that announce it, the inbox mark.

    A write whose result nobody reads (an outbox row, a history or timeline line, a new SLA
    clock) can be deferred: deferred writes go to the server together, as one statement of
    data-modifying CTEs, right before the next statement of the unit of work or its commit.
    Every later statement therefore sees them, and an error in one still rolls back the whole
    unit of work; what changes is only that two or three such writes cost one round trip.
    """

    def __init__(self, conn: psycopg.Connection, source: str, on_publish=None):
        self.conn = conn
        self.source = source
        self.on_publish = on_publish
        self.published: list[dict] = []
        self._deferred: list[tuple[str, tuple]] = []
        self.committed: list = []  # callables to run once this unit of work has committed
        self._marks: dict[str, tuple[int, int]] = {}  # savepoint -> (published, committed) at it

    def after_commit(self, fn):
        """Run `fn()` once the commit succeeded (never if the unit of work rolls back)."""
        self.committed.append(fn)

    def execute(self, sql, params=None):
        self.flush()
        return self.conn.execute(sql, params)

    def one(self, sql, params=None) -> dict | None:
        return self.execute(sql, params).fetchone()

    def all(self, sql, params=None) -> list[dict]:
        return self.execute(sql, params).fetchall()

    def batch(self, *queries: tuple[str, tuple]) -> list[list[dict]]:
        """Several statements with positional (%s) parameters in one round trip: the rows of each.

        They travel as one query of the simple protocol with the parameters bound on our side
        (psycopg's ClientCursor quotes every value by its type), and run one after the other in
        this unit of work, each seeing what the ones before it did, as separate calls would. The
        deferred writes go first in the same trip. Five reads of one repair order cost one
        round trip instead of five: about 190 us of client CPU instead of 510 to 670 us.
        """
        writes = self._take_deferred()
        if writes is not None:
            queries = (writes, *queries)
        cursor = psycopg.ClientCursor(self.conn, row_factory=dict_row)
        cursor.execute("; ".join(sql for sql, _ in queries), [p for _, params in queries for p in params])
        results = [cursor.fetchall() if cursor.description else []]
        while cursor.nextset():
            results.append(cursor.fetchall() if cursor.description else [])
        return results[1:] if writes is not None else results

    def defer(self, sql: str, params: tuple = ()):
        """An INSERT, UPDATE or DELETE with positional (%s) parameters, sent with the next statement."""
        self._deferred.append((sql, tuple(params)))

    def flush(self):
        """Send the deferred writes now: one statement, in the order they were deferred."""
        writes = self._take_deferred()
        if writes is not None:
            self.conn.execute(*writes)

    def _take_deferred(self) -> tuple[str, tuple] | None:
        """The deferred writes as one statement (data-modifying CTEs), and none left deferred."""
        if not self._deferred:
            return None
        writes, self._deferred = self._deferred, []
        if len(writes) == 1:
            return writes[0]
        ctes = ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(writes))
        return f"WITH {ctes} SELECT 1", tuple(p for _, params in writes for p in params)

    def publish(self, event_type: str, branch_id: str, **facts) -> dict:
        """Record an event in the outbox; it leaves for the broker only if this transaction commits."""
        from shared import events

        typed, event = events.build_typed(event_type, branch_id, source=self.source, **facts)
        self.defer("INSERT INTO outbox (event_id, event_type, payload) VALUES (%s, %s, %s)",
                   (event["event_id"], event_type, Jsonb(event)))
        self.published.append(event)
        if self.on_publish is not None:
            self.on_publish(self, event_type, typed)  # e.g. the service's own SLA clocks, same transaction
        return event

    def savepoint(self, name: str):
        """A point this unit of work can go back to with `undo_to(name)`; what was deferred so far
        is sent first, so it stays whatever is undone later."""
        self.flush()
        self._marks[name] = (len(self.published), len(self.committed))
        self._command(f"SAVEPOINT {name}")

    def undo_to(self, name: str):
        """Undo what this unit of work did since `savepoint(name)`: its statements, the writes it
        deferred and not sent yet, the events it published; the unit of work goes on.

        Sent as psycopg sends its own transaction commands: through execute(), a ROLLBACK makes
        psycopg drop every prepared statement of the connection (DEALLOCATE ALL, one more round
        trip, then each statement unprepared for its next five runs), for fear of objects the
        undone part created; a unit of work of ours creates none.
        """
        published, committed = self._marks[name]
        self._deferred.clear()
        del self.published[published:], self.committed[committed:]
        self._command(f"ROLLBACK TO SAVEPOINT {name}")

    def _command(self, sql: str):
        self.conn.wait(self.conn._exec_command(sql.encode()))  # psycopg's path for BEGIN and COMMIT

    def first_delivery(self, event_id: str, consumer: str) -> bool:
        """Mark an event applied by `consumer`; False when it already was (a redelivery)."""
        row = self.one(
            "INSERT INTO inbox (consumer, event_id) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            (consumer, event_id),
        )
        return row is not None


class RpcReplies:
    """The answers of RPC commands that changed something, by correlation id (shared migration 004)."""

    def __init__(self, pool: Pool):
        self.pool = pool

    def lookup(self, correlation_id: str) -> tuple[bool, str | None]:
        """(whether a command with this correlation id committed, its kept answer or None)."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT reply FROM rpc_replies WHERE correlation_id = %s", (correlation_id,)).fetchone()
        return (row is not None, row["reply"] if row else None)

    def close(self):
        self.pool.close()


class RpcRequest:
    """The RPC request a worker serves, and its write transaction waiting for the answer to commit."""

    __slots__ = ("correlation_id", "pending")

    def __init__(self, correlation_id: str):
        self.correlation_id = correlation_id
        self.pending = None  # (unit of work, its connection's exit stack, transaction) until finished

    def finish(self, reply: str | None) -> bool:
        """Commit the waiting transaction with `reply` kept beside it; False when that commit failed
        (then nothing the request did stays, and nothing is kept)."""
        if self.pending is None:
            return True
        unit, stack, tx = self.pending
        self.pending = None
        return unit.commit_with_reply(self.correlation_id, reply, stack, tx)


class UnitOfWork:
    """Opens transactions on a pool and wakes the outbox relay after each commit that published.

    Serving an RPC request (`for_request`), a write transaction does not commit at the end of
    its block: it waits, connection held, for the request's answer, which is then written to
    `rpc_replies` in the same trip as the COMMIT (shared/rpc.py). A command committed is thus
    never without its kept answer, and a redelivered request is answered from it. A second
    write transaction in one request commits the first before it starts.
    """

    KEEP_MINUTES = 10  # a request expires with its caller's timeout; its answer is kept longer
    PRUNE_EVERY = 1000

    def __init__(self, pool: Pool, source: str, on_commit=None, on_publish=None, request: RpcRequest | None = None,
                 counter: list | None = None):
        self.pool = pool
        self.source = source
        self.on_commit = on_commit
        self.on_publish = on_publish
        self.request = request
        self._counter = counter if counter is not None else [0]  # answers kept by this process

    def for_request(self, request: RpcRequest | None) -> "UnitOfWork":
        """This unit of work for a worker serving `request` (itself when there is none)."""
        if request is None:
            return self
        return UnitOfWork(self.pool, self.source, self.on_commit, self.on_publish, request, self._counter)

    @contextmanager
    def transaction(self):
        if self.request is not None:
            with self._held_for_answer() as tx:
                yield tx
            return
        with self.pool.connection() as conn:
            with conn.transaction():
                tx = Transaction(conn, self.source, self.on_publish)
                yield tx
                tx.flush()
        self._committed(tx)

    @contextmanager
    def _held_for_answer(self):
        self.request.finish(None)  # an earlier transaction of this request commits first
        stack = ExitStack()
        conn = stack.enter_context(self.pool.connection())
        try:  # psycopg begins the transaction with its first statement; the COMMIT comes with the answer
            tx = Transaction(conn, self.source, self.on_publish)
            yield tx
            tx.flush()
        except BaseException:
            if not stack.__exit__(*sys.exc_info()):  # the pool rolls back and names the error
                raise
            return
        self.request.pending = (self, stack, tx)

    def commit_with_reply(self, correlation_id, reply, stack, tx) -> bool:
        self._counter[0] += 1
        prune = ("; DELETE FROM rpc_replies WHERE created_at < now() - interval '%s minutes'" % self.KEEP_MINUTES
                 if self._counter[0] % self.PRUNE_EVERY == 0 else "")
        try:
            psycopg.ClientCursor(tx.conn).execute(
                "INSERT INTO rpc_replies (correlation_id, reply) VALUES (%s, %s) ON CONFLICT (correlation_id)"
                f" DO UPDATE SET reply = EXCLUDED.reply{prune}; COMMIT", (correlation_id, reply))
        except Exception:
            try:
                stack.__exit__(*sys.exc_info())  # rolls back; the connection goes back or away
            except Exception as exc:
                log.warning("could not commit the command %s with its answer: %s", correlation_id, exc)
            return False
        stack.close()
        self._committed(tx)
        return True

    def _committed(self, tx):
        for fn in tx.committed:  # committed, and the connection back in the pool
            fn()
        if tx.published and self.on_commit:
            self.on_commit()

    @contextmanager
    def read(self):
        """A read-only transaction for queries (BEGIN READ ONLY: no round trip of its own)."""
        answer = None
        with self.pool.connection() as conn:
            conn.read_only = True
            try:
                with conn.transaction():
                    tx = Transaction(conn, self.source)
                    try:
                        yield tx
                    except errors.PitlaneError as exc:
                        # an answer (no such record, not in scope), not a fault: the read ends with a
                        # COMMIT like any other, since a ROLLBACK makes psycopg drop the connection's
                        # prepared statements (see Transaction.undo_to); the answer is raised below
                        answer = exc
                    else:
                        tx.flush()  # a write deferred here is refused loudly (read only), never dropped
            finally:
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    conn.read_only = False
                else:  # broken mid-read: never hand on a connection that would refuse writes
                    conn.close()
        if answer is not None:
            raise answer
