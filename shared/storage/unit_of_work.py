"""Units of work: a transaction with its outbox and inbox mark, and an RPC command's commit
together with its answer. Connections come from shared/storage/db.py's Pool."""
import copy
import logging
import sys
from contextlib import ExitStack, contextmanager
from datetime import timedelta

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from shared import sites
from shared.contracts import errors
from shared.domain import DomainError
from shared.storage.db import Pool, psycopg

log = logging.getLogger(__name__)


class Transaction:
    """One unit of work: the state change, the events that announce it, the inbox mark."""

    def __init__(self, conn: psycopg.Connection, source: str, on_publish=None):
        self.conn = conn
        self.source = source
        self.on_publish = on_publish
        self.published: list[dict] = []
        self.committed: list = []  # callables to run once this unit of work has committed
        self._marks: dict[str, tuple[int, int]] = {}  # savepoint -> (published, committed) at it

    def after_commit(self, fn):
        """Run `fn()` once the commit succeeded (never if the unit of work rolls back)."""
        self.committed.append(fn)

    def execute(self, sql, params=None):
        return self.conn.execute(sql, params)

    def one(self, sql, params=None) -> dict | None:
        return self.execute(sql, params).fetchone()

    def all(self, sql, params=None) -> list[dict]:
        return self.execute(sql, params).fetchall()

    def batch(self, *queries: tuple[str, tuple]) -> list[list[dict]]:
        """Several statements with positional (%s) parameters in one round trip: the rows of each.

        They travel as one query of the simple protocol with the parameters bound on our side
        (psycopg's ClientCursor quotes every value by its type), and run one after the other in
        this unit of work, each seeing what the ones before it did, as separate calls would.
        Five reads of one repair order cost one round trip instead of five: about 190 us of client
        CPU instead of 510 to 670 us.
        """
        cursor = psycopg.ClientCursor(self.conn, row_factory=dict_row)
        cursor.execute("; ".join(sql for sql, _ in queries), [p for _, params in queries for p in params])
        results = [cursor.fetchall() if cursor.description else []]
        while cursor.nextset():
            results.append(cursor.fetchall() if cursor.description else [])
        return results

    def publish(self, event_type: str, branch_id: str, **facts) -> dict:
        """Record an event in the outbox; it leaves for the broker only if this transaction commits."""
        event, writes, after = self._announce(event_type, branch_id, facts)
        self.write_together(*writes)
        after()
        return event

    def publish_recorded(self, *objects, along: tuple[str, tuple] | None = None) -> list[dict] | None:
        """Publish what domain objects recorded (shared/domain.py, Aggregate), in order, once: their
        outbox rows (and the SLA clocks they start) in one statement. With `along`, a statement of
        the command's own (positional parameters) goes in that same statement, last, and its rows
        are returned: one round trip for "take the slot, and announce the booking"."""
        writes, afters = [], []
        for obj in objects:
            for e in obj.take_events():
                _, event_writes, after = self._announce(e.type, e.branch_id, e.facts)
                writes += event_writes
                afters.append(after)
        rows = None
        if along is None:
            self.write_together(*writes)
        else:
            rows = self.all(*_with(writes, along))
        for after in afters:
            after()
        return rows

    def _announce(self, event_type, branch_id, facts):
        """(the event as it travels, the writes that record it, what to run once they are sent)."""
        from shared.contracts import events

        typed, event = events.build_typed(event_type, branch_id, source=self.source, **facts)
        # An event for the other sites too is marked crossing (the relay sends it to sites.outbound as well);
        # any other is written as before shared migration 012, so it is written as well to a schema
        # migrated to an earlier version (tests/integration/test_sla_totals.py migrates to 010 and publishes).
        if sites.crosses(event_type, event):
            writes = [("INSERT INTO outbox (event_id, event_type, payload, crossing) VALUES (%s, %s, %s, true)",
                       (event["event_id"], event_type, Jsonb(event)))]
        else:
            writes = [("INSERT INTO outbox (event_id, event_type, payload) VALUES (%s, %s, %s)",
                       (event["event_id"], event_type, Jsonb(event)))]
        after = _nothing
        if self.on_publish is not None:  # the service's own SLA clocks move in this transaction
            starts, after = self.on_publish(self, event_type, typed)
            writes += starts
        self.published.append(event)
        return event, writes, after

    def write_together(self, *writes: tuple[str, tuple]):
        """Several INSERT or UPDATE statements with positional (%s) parameters, sent now as one
        statement (data-modifying CTEs): for writes that do not read each other's rows, one round
        trip instead of one each."""
        if len(writes) == 1:
            self.execute(*writes[0])
        elif writes:
            self.execute(*_with(writes, ("SELECT 1", ())))

    def savepoint(self, name: str):
        """A point this unit of work can go back to with `undo_to(name)`."""
        self._marks[name] = (len(self.published), len(self.committed))
        self._command(f"SAVEPOINT {name}")

    def undo_to(self, name: str):
        """Undo what this unit of work did since `savepoint(name)`: its statements and the events
        it published; the unit of work goes on.

        Sent as psycopg sends its own transaction commands: through execute(), a ROLLBACK makes
        psycopg drop every prepared statement of the connection (DEALLOCATE ALL, one more round
        trip, then each statement unprepared for its next five runs), for fear of objects the
        undone part created; a unit of work of ours creates none.
        """
        published, committed = self._marks[name]
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


def _nothing():
    pass


def _with(writes, last: tuple[str, tuple]) -> tuple[str, tuple]:
    """`writes` as data-modifying CTEs before the statement `last` (which may have CTEs of its own)."""
    sql, params = last
    if not writes:
        return sql, params
    ctes = ", ".join(f"w{i} AS ({w})" for i, (w, _) in enumerate(writes))
    rest = sql[len("WITH "):] if sql.startswith("WITH ") else sql
    joined = f"WITH {ctes}, {rest}" if sql.startswith("WITH ") else f"WITH {ctes} {rest}"
    return joined, tuple(p for _, ps in writes for p in ps) + tuple(params)


class RpcReplies:
    """The answers of RPC commands that changed something, by correlation id (shared migration 004).

    A request expires with its caller's timeout; its answer is kept longer, then removed by the
    service's retention (shared/bus/outbox.py, Retention)."""

    KEEP = timedelta(minutes=10)

    def __init__(self, pool: Pool):
        self.pool = pool

    def lookup(self, correlation_id: str) -> tuple[bool, str | None]:
        """(whether a command with this correlation id committed, its kept answer or None)."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT reply FROM rpc_replies WHERE correlation_id = %s", (correlation_id,)).fetchone()
        return (row is not None, row["reply"] if row else None)

    def close(self):
        self.pool.close()


class CarriedOut(Exception):
    """The command this request names was carried out already (by an earlier request with the same
    command id, committed): it must not run again; its kept answer is the answer."""


class RpcRequest:
    """The RPC request a worker serves, and its write transaction waiting for the answer to commit.

    `correlation_id` keys the kept answer: the caller's correlation id, or the command id it
    gave (a retry of one command, e.g. one Idempotency-Key, is a new request with the same command
    id). With `claim`, the command's first write transaction claims that key before anything else,
    so a second request for the same command waits for the first and then runs nothing.
    """

    __slots__ = ("correlation_id", "claim", "pending")

    def __init__(self, correlation_id: str, claim: bool = False):
        self.correlation_id = correlation_id
        self.claim = claim
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
    `rpc_replies` in the same trip as the COMMIT (shared/bus/rpc.py). A command committed is thus
    never without its kept answer, and a redelivered request is answered from it. A second
    write transaction in one request commits the first before it starts.
    """

    def __init__(self, pool: Pool, source: str, on_commit=None, on_publish=None):
        self.pool = pool
        self.source = source
        self.on_commit = on_commit
        self.on_publish = on_publish
        self.request: RpcRequest | None = None

    def for_request(self, request: RpcRequest | None) -> "UnitOfWork":
        """This unit of work for a worker serving `request` (itself when there is none)."""
        if request is None:
            return self
        unit = copy.copy(self)
        unit.request = request
        return unit

    @contextmanager
    def command(self):
        """The transaction of an RPC command: it commits together with the answer the method
        returns, in one trip (the answer is kept in rpc_replies beside the change, so a request
        delivered again is answered from it, never run twice). Outside an RPC worker (an
        in-process test) it commits at the end of the block."""
        if self.request is None:
            with self.transaction() as tx:
                yield tx
            return
        with self._held_for_answer() as tx:
            yield tx

    @contextmanager
    def transaction(self):
        """A transaction that commits at the end of its block: event handlers and timers. An RPC
        method writes in `command()`, whose commit waits for the answer."""
        if self.request is not None:
            raise RuntimeError("an RPC method writes in `self.db.command()`: it commits with the answer")
        with self.pool.connection() as conn:
            with conn.transaction():
                tx = Transaction(conn, self.source, self.on_publish)
                yield tx
        self._committed(tx)

    @contextmanager
    def _held_for_answer(self):
        self.request.finish(None)  # an earlier transaction of this request commits first
        stack = ExitStack()
        conn = stack.enter_context(self.pool.connection())
        try:  # psycopg begins the transaction with its first statement; the COMMIT comes with the answer
            tx = Transaction(conn, self.source, self.on_publish)
            if self.request.claim:
                self.request.claim = False
                # Waits while another request of the same command is uncommitted; no row: it committed
                if tx.one("INSERT INTO rpc_replies (correlation_id) VALUES (%s) ON CONFLICT DO NOTHING"
                          " RETURNING correlation_id", (self.request.correlation_id,)) is None:
                    raise CarriedOut(self.request.correlation_id)
            yield tx
        except BaseException:
            if not stack.__exit__(*sys.exc_info()):  # the pool rolls back and names the error
                raise
            return
        self.request.pending = (self, stack, tx)

    def commit_with_reply(self, correlation_id, reply, stack, tx) -> bool:
        try:
            psycopg.ClientCursor(tx.conn).execute(
                "INSERT INTO rpc_replies (correlation_id, reply) VALUES (%s, %s) ON CONFLICT (correlation_id)"
                " DO UPDATE SET reply = EXCLUDED.reply; COMMIT", (correlation_id, reply))
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
                    except (errors.PitlaneError, DomainError) as exc:
                        # an answer (no such record, not in scope), not a fault: the read ends with a
                        # COMMIT like any other, since a ROLLBACK makes psycopg drop the connection's
                        # prepared statements (see Transaction.undo_to); the answer is raised below
                        answer = exc
            finally:
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    conn.read_only = False
                else:  # broken mid-read: never hand on a connection that would refuse writes
                    conn.close()
        if answer is not None:
            raise answer
