"""The gateway's RPC client against a real nameko service on the real broker."""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
import requests
from nameko.exceptions import RpcTimeout, UnknownService

from shared.contracts import errors
from shared.bus.rpc_client import Disconnected, RpcClient
from tests.support.infra import _api, wait_for
from tests.support.probe import running_probe

@pytest.fixture(scope="module")
def probe(run_env):
    with running_probe(run_env["amqp"]) as process:
        yield process


@pytest.fixture
def client(run_env):
    rpc = RpcClient(run_env["amqp"], timeout=5, name="test")
    yield rpc
    rpc.close()


def test_calls_from_many_threads_each_get_their_own_answer(probe, client):
    def one(i):
        return client.call("probe", "echo", {"n": i, "text": "ü" * (i % 5)}, delay=0.001 * (i % 7))

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(400)))
    assert answers == [{"n": i, "text": "ü" * (i % 5)} for i in range(400)]


def test_a_typed_error_arrives_as_the_service_raised_it(probe, client):
    with pytest.raises(errors.Conflict) as raised:
        client.call("probe", "refuse", "the slot is fully booked")
    assert raised.value.message == "the slot is fully booked"
    assert raised.value.fields == {"slot_start": ["no capacity left in this slot"]}
    assert client.call("probe", "echo", "after an error") == "after an error"


def test_a_service_with_no_queue_is_reported_at_once(probe, client):
    started = time.monotonic()
    with pytest.raises(UnknownService):
        client.call("no_such_service", "anything")
    assert time.monotonic() - started < 1.0


def test_a_late_reply_times_out_and_does_not_reach_the_next_call(probe, run_env):
    rpc = RpcClient(run_env["amqp"], timeout=0.3, name="test")
    try:
        with pytest.raises(RpcTimeout):
            rpc.call("probe", "echo", "late", delay=0.6)
        time.sleep(0.5)  # the late reply arrives meanwhile and is dropped
        assert rpc.call("probe", "echo", "on time") == "on time"
    finally:
        rpc.close()


def _close_connections(client_name):
    """Have the broker close the client's connection, as a broker restart would."""
    url, auth = _api("/connections")
    closed = 0
    for conn in requests.get(url, auth=auth, timeout=10).json():
        if conn.get("vhost") == os.environ["PITLANE_TEST_VHOST"] and \
                conn.get("user_provided_name", "").startswith(f"{client_name} rpc client"):
            url_one, _ = _api(f"/connections/{quote(conn['name'], safe='')}")
            requests.delete(url_one, auth=auth, timeout=10)
            closed += 1
    return closed


def test_a_lost_connection_fails_the_waiting_call_at_once_and_the_next_call_reconnects(probe, run_env):
    rpc = RpcClient(run_env["amqp"], timeout=20, name="lost")
    try:
        assert rpc.call("probe", "echo", "before") == "before"
        outcome = {}

        def slow_call():
            started = time.monotonic()
            try:
                rpc.call("probe", "echo", "never seen", delay=10)
            except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
                outcome["error"] = exc
            outcome["seconds"] = time.monotonic() - started

        waiter = threading.Thread(target=slow_call)
        waiter.start()
        time.sleep(0.3)
        wait_for(lambda: _close_connections("lost") == 1, timeout=10, message="the broker to list the connection")
        waiter.join(10)
        assert isinstance(outcome.get("error"), Disconnected), outcome
        assert outcome["seconds"] < 10
        assert rpc.call("probe", "echo", "after") == "after"
    finally:
        rpc.close()


def test_arguments_that_do_not_fit_the_method_are_refused_before_it_runs(probe, client):
    from nameko.exceptions import IncorrectSignature

    with pytest.raises(IncorrectSignature):
        client.call("probe", "echo")  # `value` is required
    with pytest.raises(IncorrectSignature):
        client.call("probe", "echo", 1, unknown=2)
    assert client.call("probe", "echo", "fits", delay=0) == "fits"


def test_a_client_started_before_any_service_binds_its_queue_and_reports_the_service_missing(run_env):
    """On a broker where no service has declared nameko's exchange yet: no crash, a clear answer."""
    from tests.support import infra

    vhost = f"pitlane-rpc-empty-{os.getpid()}"
    infra.create_vhost(vhost)
    try:
        rpc = RpcClient(run_env["amqp"].rsplit("/", 1)[0] + "/" + vhost, timeout=2, name="early")
        with pytest.raises(UnknownService):
            rpc.call("booking", "list_branches")
        rpc.close()
    finally:
        infra.delete_vhost(vhost)


class SilentProxy:
    """A TCP relay to the broker whose connections can go silent: kept open, nothing forwarded,
    as when the broker's host dies or a route drops without a reset."""

    def __init__(self, target=("127.0.0.1", 5672)):
        import socket

        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.silent: set = set()  # connections that forward nothing any more
        self.open: list = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        import socket

        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return
            far = socket.create_connection(self.target)
            self.open += [near, far]
            for source, sink in ((near, far), (far, near)):
                self.threads.append(threading.Thread(target=self._pump, args=(near, source, sink), daemon=True))
                self.threads[-1].start()

    def _pump(self, key, source, sink):
        try:
            while data := source.recv(65536):
                while key in self.silent:  # hold it: the peer sees neither data nor a close
                    time.sleep(0.05)
                sink.sendall(data)
        except (OSError, EOFError):  # closed by close(); eventlet's green socket says EOFError
            pass

    def silence_existing(self):
        self.silent.update(self.open[0::2])

    def close(self):
        """Shut every socket down, let the threads blocked on them see it and end, then close.

        Closed at once instead, a socket leaves the green threads blocked on it waiting on
        eventlet's hub for ever, listening on a number the next file this process opens gets
        (a later subprocess' pipe then finds "a second simultaneous read" on it)."""
        import socket

        self.silent.clear()
        for sock in (self.listener, *self.open):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self.threads:
            thread.join(timeout=5)
        for sock in (self.listener, *self.open):
            sock.close()


def test_a_broker_that_goes_silent_is_noticed_by_heartbeats_and_the_next_call_reconnects(probe, run_env):
    proxy = SilentProxy()
    uri = run_env["amqp"].replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    assert uri != run_env["amqp"]
    rpc = RpcClient(uri, timeout=30, name="silent", heartbeat=1)
    try:
        assert rpc.call("probe", "echo", "before") == "before"
        proxy.silence_existing()
        started = time.monotonic()
        with pytest.raises(Disconnected):
            rpc.call("probe", "echo", "into the silence")
        assert time.monotonic() - started < 8  # two missed 1 s heartbeats, not the 30 s timeout
        assert rpc.call("probe", "echo", "after") == "after"  # a new connection, through the proxy
    finally:
        rpc.close()
        proxy.close()
