"""The stack through PgBouncer in transaction mode (docs/scaling.md, "PgBouncer"): every service
(SERVICE_CLASSES) and the gateway as real processes whose pools connect through a PgBouncer of this test's own, on a
vhost and a database of this test's own; migrations still go straight to PostgreSQL."""
import os
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from pitlane import SERVICE_CLASSES
from shared.storage.migrate import SHARED_MIGRATIONS, drop_database, ensure_database
from tests.support import infra, pgbouncer

pytestmark = pytest.mark.skipif(not pgbouncer.available(),
                                reason="pgbouncer is not installed (scripts/setup.sh installs it as root)")
ROOT = Path(__file__).resolve().parents[2]
POOL_SIZE = 2  # connections to PostgreSQL per schema: fewer than the clients the stack opens to PgBouncer


@pytest.fixture
def own_run(monkeypatch):
    """A vhost and a database of this test's own in the environment, removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    vhost = f"pitlane-test-pgb-{suffix}"
    dsn = os.environ["PITLANE_DSN"].rsplit("/", 1)[0] + f"/pitlane_test_pgb_{suffix}"
    for name in [k for k in os.environ if k.startswith("PITLANE_") and k.endswith("_DSN")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PITLANE_DSN", dsn)
    monkeypatch.setenv("PITLANE_AMQP_URI", os.environ["PITLANE_AMQP_URI"].rsplit("/", 1)[0] + f"/{vhost}")
    monkeypatch.setenv("PITLANE_TEST_VHOST", vhost)
    infra.create_vhost(vhost)
    ensure_database(dsn)
    try:
        yield dsn
    finally:
        import kombu.pools

        kombu.pools.reset()
        infra.delete_vhost(vhost)
        drop_database(dsn)


@pytest.fixture
def bouncer(own_run):
    bouncer = pgbouncer.PrivatePgBouncer(own_run, pool_size=POOL_SIZE)
    try:
        yield bouncer.start()
    finally:
        bouncer.remove()


class Watch:
    """Samples, while journeys run, PgBouncer's server and client connections and every connection
    PostgreSQL has to the test's database, on one connection of its own (left out)."""

    def __init__(self, bouncer, dsn):
        self.bouncer, self.dsn = bouncer, dsn
        self.peak_servers, self.peak_per_schema, self.peak_clients = 0, {}, 0
        self.not_through_pgbouncer: set[int] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _server_pids(self) -> set[int]:
        servers = self.bouncer.show("SERVERS")
        self.peak_servers = max(self.peak_servers, len(servers))
        for database in {s["database"] for s in servers}:
            count = sum(1 for s in servers if s["database"] == database)
            self.peak_per_schema[database] = max(self.peak_per_schema.get(database, 0), count)
        return {s["remote_pid"] for s in servers}

    def _run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.wait(0.2):
                before = self._server_pids()
                backends = {row[0] for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")}
                after = self._server_pids()
                self.not_through_pgbouncer |= backends - before - after
                clients = [c for c in self.bouncer.show("CLIENTS") if c["database"] != "pgbouncer"]
                self.peak_clients = max(self.peak_clients, len(clients))
                self.samples += 1


def migrations_in(folder: Path) -> int:
    return len(list(folder.glob("*.sql")))


def test_the_stack_runs_through_pgbouncer_in_transaction_mode_and_its_connections_stay_within_its_limit(
        own_run, bouncer):
    """Journeys through the gateway complete with their effects once (which also shows no statement
    was prepared: PgBouncer 1.18 in transaction mode would lose it), every schema's traffic went
    through PgBouncer, PostgreSQL saw no connection to the database but PgBouncer's, never more than
    its limit, and the migrations, which go straight to PostgreSQL, all ran."""
    from pitlane import all_service_classes
    from shared.bus.messaging import declare_topology
    from tests.faults.test_journey_faults import assert_effects_once, run_journeys, scalar
    from tests.support import fixtures, stack_fixtures as shared
    from tests.support.gateway import Api, GatewayProcess

    declare_topology(os.environ["PITLANE_AMQP_URI"], all_service_classes())
    through = {**bouncer.env, "PITLANE_DB_POOL": "3"}
    running, gateway = {}, None
    try:
        for name in SERVICE_CLASSES:
            running[name] = infra.ServiceProcess(name, env=through).start()
        for process in running.values():
            process.wait_ready()
        gateway = GatewayProcess(env=bouncer.env).start()
        admin = Api.as_role(gateway.url, "admin")
        admin.ok("POST", "/branches", fixtures.branch(shared.BRANCH, region_id=shared.REGION, bays=40), status=201)
        admin.ok("POST", "/parts", {"part_number": shared.PART, "description": "front brake pads", "origin": "oem",
                                    "price_cents": 8900, "warranty_months": 36, "warranty_km": 50000}, status=201)
        infra.wait_for(lambda: admin.post("/stock/receipts", {"branch_id": shared.BRANCH, "part_number": shared.PART,
                                                              "quantity": 50}).status_code == 201,
                       message="parts to know the branch")
        world = {"branch": shared.BRANCH, "part": shared.PART}
        advisor = Api.as_role(gateway.url, "advisor", branch_id=shared.BRANCH)
        technician = Api.as_role(gateway.url, "technician", branch_id=shared.BRANCH)
        inspector = Api.as_role(gateway.url, "technician", branch_id=shared.BRANCH)

        with Watch(bouncer, own_run) as watch:
            done, failed = run_journeys(8, advisor, technician, inspector, world, workers=8)
        assert not failed, failed[:3]
        assert len(done) == 8 and all(s["paid"]["status"] == "paid" for s in done)
        assert_effects_once()
        assert scalar("SELECT count(*) FROM billing.invoices") == 8
    finally:
        if gateway is not None:
            gateway.stop()
        for process in running.values():
            process.stop()

    dbname = own_run.rsplit("/", 1)[1]
    stats = {row["database"]: row for row in bouncer.show("STATS")}
    for schema in (*SERVICE_CLASSES, "gateway"):
        assert stats[f"{dbname}__{schema}"]["total_xact_count"] > 0, f"no transaction of {schema} went through"
    assert dbname not in stats  # nothing connected to the plain database through PgBouncer
    assert watch.samples > 5
    assert watch.not_through_pgbouncer == set(), "connections to the database that PgBouncer did not make"
    assert 0 < watch.peak_servers <= bouncer.limit, (watch.peak_servers, bouncer.limit)
    assert max(watch.peak_per_schema.values()) <= POOL_SIZE, watch.peak_per_schema
    assert watch.peak_clients > watch.peak_servers, (watch.peak_clients, watch.peak_servers)  # it multiplexed

    for schema in SERVICE_CLASSES:  # the migrations went straight to PostgreSQL, every one of them
        own = ROOT / "services" / schema / "migrations"
        assert scalar(f"SELECT count(*) FROM {schema}.schema_migrations") == (
            migrations_in(SHARED_MIGRATIONS) + migrations_in(own)), schema
    assert scalar("SELECT count(*) FROM gateway.schema_migrations") == migrations_in(ROOT / "gateway" / "migrations")
