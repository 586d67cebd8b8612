"""Fault tests: a test that stops or restarts a broker or a database gets a RabbitMQ node and a
PostgreSQL cluster of its own (tests/support/faults.py), and its services and gateway are pointed
at them; the machine's own RabbitMQ and PostgreSQL are never restarted."""
from types import SimpleNamespace

import pytest

from tests.support import faults

# Before any fault test runs: the machine's own broker and database, to compare at the end.
MACHINE_BEFORE = faults.machine_services()
LAST = "test_machine_untouched.py"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
    # the check that nothing of the machine's was touched runs after every other test
    items.sort(key=lambda item: str(item.fspath).endswith(LAST))


@pytest.fixture
def private_rabbit():
    rabbit = faults.PrivateRabbit()
    try:
        yield rabbit.start()
    finally:
        rabbit.remove()


@pytest.fixture
def private_postgres():
    postgres = faults.PrivatePostgres()
    try:
        yield postgres.start()
    finally:
        postgres.remove()


@pytest.fixture
def private_env(private_rabbit, private_postgres, monkeypatch):
    """This test's own broker and database in the environment (PITLANE_AMQP_URI, PITLANE_RABBIT_API,
    PITLANE_DSN), inherited by every process it starts; a vhost and a database created on them."""
    from shared.storage.migrate import ensure_database
    from tests.support import infra

    vhost = f"pitlane-test-{private_rabbit.id}"
    env = {"PITLANE_AMQP_URI": f"{private_rabbit.amqp_base}/{vhost}", "PITLANE_RABBIT_API": private_rabbit.api,
           "PITLANE_DSN": f"{private_postgres.base}/pitlane_test_{private_postgres.id}",
           "PITLANE_TEST_VHOST": vhost}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    infra.create_vhost(vhost)
    ensure_database(env["PITLANE_DSN"])
    try:
        yield SimpleNamespace(rabbit=private_rabbit, postgres=private_postgres, amqp=env["PITLANE_AMQP_URI"],
                              dsn=env["PITLANE_DSN"])
    finally:
        import kombu.pools

        kombu.pools.reset()  # the proxies' pooled connections to this broker go with it


@pytest.fixture
def private_stack(private_env):
    """Every service and the gateway as real processes on this test's own broker and database,
    with the same world as the shared stack's (tests/support/stack_fixtures.py)."""
    from pitlane import all_service_classes
    from shared.bus.messaging import declare_topology
    from shared.config import SERVICES
    from tests.support import stack_fixtures as shared
    from tests.support.gateway import Api, GatewayProcess
    from tests.support.infra import ServiceProcess

    declare_topology(private_env.amqp, all_service_classes())
    running, gateway = {}, None
    try:
        for name in SERVICES:
            running[name] = ServiceProcess(name).start()
        for process in running.values():
            process.wait_ready()
        gateway = GatewayProcess().start()
        admin = Api.as_role(gateway.url, "admin")
        yield SimpleNamespace(
            running=running, gateway=gateway, rabbit=private_env.rabbit, postgres=private_env.postgres,
            world=shared.make_world(admin, far=False),
            advisor=Api.as_role(gateway.url, "advisor", branch_id=shared.BRANCH),
            technician=Api.as_role(gateway.url, "technician", branch_id=shared.BRANCH),
            inspector=Api.as_role(gateway.url, "technician", branch_id=shared.BRANCH))
    finally:
        if gateway is not None:
            gateway.stop()
        ServiceProcess.stop_all(running.values())
