"""The shared machinery under broker and database restarts, with the probe service.

The broker and the database restarted are the test's own (`private_env`, tests/faults/conftest.py)."""
import uuid

import pytest

from tests.support.bus import rpc_proxy
from tests.support.infra import wait_for
from tests.support.probe import running_probe

@pytest.fixture
def probe(private_env):
    """The probe on this test's own broker and database."""
    with running_probe(private_env.amqp) as process:
        yield process


def _effects(booking_id):
    with rpc_proxy(timeout=5) as proxy:
        return proxy.probe.effects(str(booking_id))


def test_outbox_and_consumers_resume_after_a_broker_restart(probe, private_env):
    before = [str(uuid.uuid4()) for _ in range(20)]
    with rpc_proxy() as proxy:
        for booking_id in before:
            proxy.probe.announce(booking_id, "before restart")
    private_env.rabbit.restart()
    after = [str(uuid.uuid4()) for _ in range(20)]
    pending = list(after)
    wait_for(lambda: _announce_all(pending), timeout=60, interval=1, message="RPC to work again")
    for booking_id in before + after:
        wait_for(lambda: _effects(booking_id) == 1, timeout=60, interval=0.5,
                 message=f"effect of {booking_id}")
    assert all(_effects(b) == 1 for b in before + after)
    assert probe.proc.poll() is None, "the service had to be restarted: " + probe.log()[-2000:]


def _announce_all(ids):
    try:
        with rpc_proxy(timeout=5) as proxy:
            while ids:
                proxy.probe.announce(ids[0], "after restart")
                ids.pop(0)  # only once it is committed
        return True
    except Exception:
        return False


def test_service_recovers_from_a_database_restart_without_a_restart_of_its_own(probe, private_env):
    booking_id = str(uuid.uuid4())
    private_env.postgres.restart()
    wait_for(lambda: _try_announce(booking_id), timeout=30, interval=0.5, message="writes to work again")
    wait_for(lambda: _effects(booking_id) == 1, timeout=30, message="the effect")
    assert probe.proc.poll() is None


def _try_announce(booking_id):
    try:
        with rpc_proxy(timeout=5) as proxy:
            proxy.probe.announce(booking_id, "after db restart")
        return True
    except Exception:
        return False


def test_a_service_whose_vhost_is_gone_still_stops_on_sigterm_after_its_grace(run_env):
    """Its consumers retry a vhost that no longer exists, so a graceful stop never finishes: after
    PITLANE_SHUTDOWN_GRACE seconds the containers are killed and the process exits (status 1)."""
    import time

    from shared.bus.messaging import declare_topology
    from tests.support import infra
    from tests.support.probe import PROBE, ProbeService

    vhost = f"pitlane-gone-{uuid.uuid4().hex[:6]}"
    amqp = run_env["amqp"].rsplit("/", 1)[0] + "/" + vhost
    infra.create_vhost(vhost)
    try:
        declare_topology(amqp, [ProbeService])
        process = infra.ServiceProcess(PROBE, env={"PITLANE_AMQP_URI": amqp, "PITLANE_SHUTDOWN_GRACE": "2"})
        process.start().wait_ready()
    finally:
        infra.delete_vhost(vhost)
    try:
        time.sleep(1)  # its consumers now retry the missing vhost
        started = time.monotonic()
        process.proc.terminate()
        assert process.proc.wait(20) == 1, process.log()[-2000:]
        assert time.monotonic() - started < 10
        assert "killing the containers" in process.log()
    finally:
        if process.proc.poll() is None:
            process.kill()
