"""A service used only by tests of the shared machinery: it counts the effects of events it handles.

It fails on purpose when asked to (a switch row, or a reason of "poison"), so tests can watch
retries, dead letters and replays happen on the real broker.
"""
from contextlib import contextmanager
from pathlib import Path

import eventlet

from shared.contracts import errors
from shared.storage.dependencies import Database
from shared.bus.messaging import on_event
from shared.bus.rpc import rpc


class ProbeService:
    name = "probe"
    migrations = Path(__file__).parent / "probe_migrations"

    db = Database()

    @on_event("booking.cancelled")
    def count_cancellation(self, tx, event):
        switches = {r["name"]: r["failing"] for r in tx.all("SELECT name, failing FROM probe_switch")}
        if event["reason"] == "poison" or switches.get("cancellations"):
            raise RuntimeError(f"cannot apply {event['event_id']}")
        if switches.get("database"):  # as the pool reports PostgreSQL refusing connections
            raise errors.Unavailable("database unavailable: OperationalError")
        tx.execute(
            "INSERT INTO probe_effects (event_id, booking_id) VALUES (%s, %s)"
            " ON CONFLICT (event_id) DO UPDATE SET applied = probe_effects.applied + 1",
            (event["event_id"], event["booking_id"]),
        )

    # -- for the RPC client's tests --------------------------------------------------------------
    @rpc
    def echo(self, value, delay=0.0):
        eventlet.sleep(delay)
        return value

    @rpc
    def refuse(self, message):
        raise errors.Conflict(message, {"slot_start": ["no capacity left in this slot"]})

    @rpc
    def effects(self, booking_id):
        with self.db.read() as tx:
            row = tx.one("SELECT applied FROM probe_effects WHERE booking_id = %s", (booking_id,))
        return row["applied"] if row else 0

    @rpc
    def set_failing(self, failing: bool, what: str = "cancellations"):
        with self.db.command() as tx:
            tx.execute(
                "INSERT INTO probe_switch (name, failing) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET failing = EXCLUDED.failing",
                (what, failing),
            )

    @rpc
    def count_payment(self, key):
        """A command that must run once per request: how many times has it run for `key`?"""
        with self.db.command() as tx:
            return tx.one("INSERT INTO probe_payments (key, times) VALUES (%s, 1) ON CONFLICT (key)"
                          " DO UPDATE SET times = probe_payments.times + 1 RETURNING times", (key,))["times"]

    @rpc
    def announce(self, booking_id, reason):
        """Publish through the outbox like any service would."""
        with self.db.command() as tx:
            tx.source = "booking"  # the probe stands in for booking as the event's publisher
            return tx.publish("booking.cancelled", "PROBE", booking_id=booking_id, reason=reason)["event_id"]


PROBE = "tests.support.probe:ProbeService"


@contextmanager
def running_probe(amqp_uri: str):
    """The probe as its own process, its queues declared first; stopped afterwards."""
    from shared.bus.messaging import declare_topology
    from tests.support.infra import ServiceProcess

    declare_topology(amqp_uri, [ProbeService])
    process = ServiceProcess(PROBE).start().wait_ready()
    try:
        yield process
    finally:
        process.stop()
