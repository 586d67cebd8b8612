"""Test isolation: every test run gets its own RabbitMQ vhost and its own PostgreSQL database."""
import os
import uuid

import pytest

RUN_ID = uuid.uuid4().hex[:8]


def pytest_configure(config):
    # Set before any test module imports shared.config, and inherited by service processes.
    base_dsn = os.environ.get("PITLANE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
    os.environ["PITLANE_DSN"] = f"{base_dsn}/pitlane_test_{RUN_ID}"
    os.environ["PITLANE_TEST_VHOST"] = f"pitlane-test-{RUN_ID}"
    os.environ["PITLANE_AMQP_URI"] = f"amqp://guest:guest@127.0.0.1:5672/pitlane-test-{RUN_ID}"
    os.environ.setdefault("PITLANE_RETRY_DELAYS", "0.2,0.5")
    os.environ.setdefault("PITLANE_SLA_CHECK_INTERVAL", "1")
    os.environ.setdefault("PITLANE_SCHEMA_SHADOW", "1")  # every schema plan checked against marshmallow
    from tests.support import channels  # messages to customers: SMTP and SMS addresses for the crm process

    channels.configure()


@pytest.fixture(scope="session")
def run_env():
    """The vhost and database of this run, created on first use and removed at the end."""
    from tests.support import infra

    infra.create_vhost(os.environ["PITLANE_TEST_VHOST"])
    from shared.storage.migrate import ensure_database

    ensure_database(os.environ["PITLANE_DSN"])
    yield {"dsn": os.environ["PITLANE_DSN"], "amqp": os.environ["PITLANE_AMQP_URI"]}
    infra.delete_vhost(os.environ["PITLANE_TEST_VHOST"])
    from shared.storage.migrate import drop_database

    drop_database(os.environ["PITLANE_DSN"])


@pytest.fixture(scope="session")
def stack(run_env):
    """Start services as real processes, once per run: `stack("booking", "crm")`."""
    from pitlane import all_service_classes
    from shared.bus.messaging import declare_topology
    from tests.support.infra import ServiceProcess

    declare_topology(run_env["amqp"], all_service_classes())
    from tests.support import channels

    channels.start()  # the real SMTP server and the SMS receiver, before crm may send
    running = {}

    def start(*names):
        for name in names:
            if name not in running:
                running[name] = ServiceProcess(name).start()
        for name in names:
            running[name].wait_ready()
        return running

    yield start
    ServiceProcess.stop_all(running.values())
    channels.stop()


@pytest.fixture
def rpc(run_env):
    from tests.support.bus import rpc_proxy

    with rpc_proxy() as proxy:
        yield proxy


# The whole-stack fixtures, shared by tests/api and tests/e2e (one stack per run).
from tests.support.stack_fixtures import (  # noqa: E402,F401
    admin, advisor, colleague, gateway, inspector, technician, world)
