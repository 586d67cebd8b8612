"""Scale-out as a dealer group grows into it: two processes of every service consuming the same quorum
queues, every pool through PgBouncer in transaction mode, journeys under load, and one process of a
service killed with SIGKILL in the middle. Nothing doubled, nothing lost: one repair order per check-in,
one invoice, one follow-up and one consumption of the part per delivered repair order, each SLA clock's
event once, every invoice delivered once to a webhook receiver, signature verified.

On a vhost, a database and a PgBouncer of its own (a queue keeps its type; the run's own stack runs
classic queues), removed afterwards; the machine's broker and database are only used, never restarted."""
import os
import signal
import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from pitlane import SERVICE_CLASSES, all_service_classes
from shared.bus.messaging import declare_topology
from tests.conftest import RUN_ID
from tests.support import fixtures, infra, pgbouncer, stack_fixtures
from tests.support.effects import assert_effects_once, assert_outboxes_drained, rows, run_journeys, scalar
from tests.support.gateway import Api, GatewayProcess
from shared.storage.migrate import SHARED_MIGRATIONS
from tests.support.infra import ROOT, ServiceProcess, queue_info, wait_for
from tests.support.journey import until, vin
from tests.support.receiver import Receiver

PROCESSES = 2
JOURNEYS = 40


@pytest.fixture
def scaled_stack(run_env):
    if not pgbouncer.available():
        pytest.fail("pgbouncer is missing: `make test` installs it (apt-get install -y pgbouncer)")
    with infra.own_vhost(f"pitlane-test-{RUN_ID}-scaled", f"pitlane_test_{RUN_ID}_scaled",
                         PITLANE_QUEUE_TYPE="quorum", PITLANE_PROCESSES=str(PROCESSES)) as uri:
        bouncer = pgbouncer.PrivatePgBouncer(os.environ["PITLANE_DSN"], pool_size=3).start()
        os.environ.update(bouncer.env)  # every process started from here on goes through it
        running, gateway, receiver = [], None, Receiver()
        try:
            declare_topology(uri, all_service_classes())
            running = [ServiceProcess(name).start() for name in SERVICE_CLASSES for _ in range(PROCESSES)]
            for process in running:
                process.wait_ready(timeout=60)
            gateway = GatewayProcess().start()
            admin = Api.as_role(gateway.url, "admin")
            subscription = admin.ok("POST", "/webhooks/subscriptions", {"url": receiver.url,
                                                                       "event_types": ["invoice.issued"]}, status=201)
            receiver.secret = subscription["secret"]
            world = stack_fixtures.make_world(admin, far=False)
            yield SimpleNamespace(running=running, gateway=gateway, bouncer=bouncer, world=world, admin=admin,
                                  receiver=receiver, subscription=subscription,
                                  advisor=Api.as_role(gateway.url, "advisor", branch_id=world["branch"]),
                                  technician=Api.as_role(gateway.url, "technician", branch_id=world["branch"]),
                                  inspector=Api.as_role(gateway.url, "technician", branch_id=world["branch"]))
        finally:
            if gateway is not None:
                gateway.stop()
            ServiceProcess.stop_all(running)
            receiver.close()
            bouncer.remove()
            os.environ.pop("PITLANE_PGBOUNCER", None)


def test_two_processes_per_service_on_quorum_queues_through_pgbouncer_one_killed_mid_run(scaled_stack):
    s = scaled_stack
    assert queue_info("evt-pitlane-repair_order.delivered--billing.issue_invoice",
                      os.environ["PITLANE_AMQP_URI"].rsplit("/", 1)[1])["type"] == "quorum"
    billing = [p for p in s.running if p.names == ("billing",)]
    killed = threading.Event()

    def kill_one_billing(completed):
        if completed == JOURNEYS // 3 and not killed.is_set():
            killed.set()
            billing[0].proc.send_signal(signal.SIGKILL)  # its unacked deliveries go to the other one
            billing[0].proc.wait()

    started = time.monotonic()
    reminded = []  # bookings within a day, booked while the journeys run: both booking processes remind
    booker = threading.Thread(target=lambda: reminded.extend(book_within_a_day(s.advisor, s.world["branch"], 12)))
    booker.start()
    with pgbouncer.ConnectionWatch(s.bouncer, os.environ["PITLANE_DSN"]) as watch:
        done, failed = run_journeys(JOURNEYS, s.advisor, s.technician, s.inspector, s.world, workers=8,
                                    on_progress=kill_one_billing, hours_ahead=30)
        booker.join()
    took = time.monotonic() - started
    assert killed.is_set() and billing[0].proc.poll() == -signal.SIGKILL
    assert not failed, failed[:5]
    assert len(done) == JOURNEYS and all(j["paid"]["status"] == "paid" for j in done)
    assert_outboxes_drained()
    assert_effects_once()

    orders = [j["ro"]["repair_order_id"] for j in done]
    # the part each journey fitted was taken off the shelf once, by one of parts' two processes
    wait_for(lambda: scalar("SELECT count(*) FROM parts.movements WHERE kind = 'issue_to_job'"
                            " AND repair_order_id = ANY(%s::uuid[])", (orders,)) == len(orders),
             timeout=60, message="one consumption per delivered repair order")
    assert scalar("SELECT count(*) FROM (SELECT repair_order_id FROM parts.movements WHERE kind = 'issue_to_job'"
                  " GROUP BY repair_order_id, part_number HAVING count(*) > 1) d") == 0
    # timers ran in both processes of each service: each clock's outcome was announced once
    for schema in ("booking", "workshop", "parts", "billing", "crm"):
        assert scalar(f"SELECT count(*) FROM (SELECT payload->>'clock_id', event_type FROM {schema}.outbox"
                      " WHERE left(event_type, 4) = 'sla.' GROUP BY 1, 2 HAVING count(*) > 1) d") == 0, schema

    # each booking within a day was reminded once, by one of booking's two processes
    assert len(reminded) == 12
    wait_for(lambda: scalar("SELECT count(DISTINCT payload->>'booking_id') FROM booking.outbox"
                            " WHERE event_type = 'booking.reminder_due' AND payload->>'booking_id' = ANY(%s)",
                            (reminded,)) == 12, timeout=30, message="a reminder for every booking within a day")
    assert scalar("SELECT count(*) FROM booking.outbox WHERE event_type = 'booking.reminder_due'"
                  " AND payload->>'booking_id' = ANY(%s)", (reminded,)) == 12

    # every invoice reached the webhook receiver, verified, and was delivered once
    invoices = {r[0] for r in rows("SELECT payload->>'event_id' FROM billing.outbox WHERE event_type = 'invoice.issued'")}
    assert len(invoices) == JOURNEYS
    wait_for(lambda: invoices <= s.receiver.ids(), timeout=60, message="every invoice at the receiver")
    assert s.receiver.refused == 0
    # (the receiver answers before the sender records the try: the record follows within moments)
    wait_for(lambda: scalar("SELECT count(*) FROM webhooks.deliveries WHERE status = 'delivered'"
                            " AND event_type = 'invoice.issued'") == JOURNEYS, timeout=30,
             message="every invoice's delivery recorded as delivered")
    assert set(s.receiver.counts().values()) == {1}  # none sent twice

    # every pool went through PgBouncer in transaction mode (no statement prepared: it would be lost),
    # PostgreSQL saw no connection to the database but PgBouncer's, never more than its limit, fewer
    # than the clients it served; the migrations, which go straight to PostgreSQL, all ran
    dbname = os.environ["PITLANE_DSN"].rsplit("/", 1)[1]
    stats = {r["database"]: r for r in s.bouncer.show("STATS")}
    for schema in (*SERVICE_CLASSES, "gateway"):
        assert stats[f"{dbname}__{schema}"]["total_xact_count"] > 0, f"no transaction of {schema} went through"
    assert dbname not in stats  # nothing connected to the plain database through PgBouncer
    assert watch.samples > 5
    assert watch.not_through_pgbouncer == set(), "connections to the database that PgBouncer did not make"
    assert 0 < watch.peak_servers <= s.bouncer.limit, (watch.peak_servers, s.bouncer.limit)
    assert max(watch.peak_per_schema.values()) <= s.bouncer.pool_size, watch.peak_per_schema
    assert watch.peak_clients > watch.peak_servers, (watch.peak_clients, watch.peak_servers)  # it multiplexed
    for schema in (*SERVICE_CLASSES, "gateway"):
        folder = ROOT / ("gateway" if schema == "gateway" else f"services/{schema}") / "migrations"
        shared = 0 if schema == "gateway" else len(list(SHARED_MIGRATIONS.glob("*.sql")))
        assert scalar(f"SELECT count(*) FROM {schema}.schema_migrations") == shared + len(list(folder.glob("*.sql")))
    print(f"{JOURNEYS} journeys in {took:.1f} s with {PROCESSES} processes per service; at most"
          f" {watch.peak_servers} server connections behind PgBouncer for {watch.peak_clients} clients")


def book_within_a_day(advisor, branch_id, count) -> list[str]:
    """`count` bookings in the next hours, each of its own customer's car; their ids."""
    booked = []
    for n in range(count):
        customer = advisor.ok("POST", "/customers", {"branch_id": branch_id, "name": f"Soon {n}"})
        vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                                   "plate": f"S {uuid.uuid4().hex[:5].upper()}", "model": "Polo"})
        booking = until(lambda: advisor.post("/bookings", fixtures.booking_request(
            branch_id, customer["customer_id"], vehicle["vehicle_id"], fixtures.next_slot(hours_ahead=4 + n))),
            lambda r: r.status_code == 201, what="a booking once booking knows the vehicle").json()
        booked.append(booking["booking_id"])
    return booked

