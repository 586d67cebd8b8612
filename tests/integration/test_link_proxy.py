"""The WAN link of the sites' tests (tests/support/sites.py): a TCP proxy that forwards, can be cut
(open connections dropped on both sides, new ones refused) and restored on the same port.
Sockets on 127.0.0.1 only; no broker, no database."""
import socket
import threading

import pytest

from tests.support.infra import wait_for
from tests.support.sites import LinkProxy


class EchoServer:
    """Sends back what it receives; counts the connections it had and notices each one ending."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.ended = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn):
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass
        with self.lock:
            self.ended += 1

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def proxy(echo):
    with LinkProxy(("127.0.0.1", echo.port), name="test-link") as link:
        yield link


def connect(proxy) -> socket.socket:
    return socket.create_connection(proxy.address, timeout=5)


def round_trip(sock, payload: bytes) -> bytes:
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_data_flows_both_ways_through_the_proxy(proxy, echo):
    with connect(proxy) as sock:
        assert round_trip(sock, b"hello") == b"hello"
        big = bytes(range(256)) * 4096  # 1 MiB, many segments each way
        assert round_trip(sock, big) == big
    assert proxy.address[0] == "127.0.0.1" and proxy.port != echo.port
    assert echo.connections == 1


def test_a_cut_drops_open_connections_on_both_sides_and_refuses_new_ones(proxy, echo):
    client = connect(proxy)
    assert round_trip(client, b"before") == b"before"
    wait_for(lambda: proxy.open_connections == 1, message="the connection to be proxied")

    proxy.cut()

    # the client's side: the connection ends (closed, or reset)
    try:
        assert client.recv(1024) == b""
    except ConnectionResetError:
        pass
    client.close()
    # the target's side: its connection ended too
    wait_for(lambda: echo.ended == 1, timeout=5, message="the target to see its connection end")
    assert proxy.open_connections == 0 and not proxy.listening
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.address, timeout=5)


def test_restore_listens_on_the_same_port_and_data_flows_again(proxy, echo):
    port = proxy.port
    with connect(proxy) as sock:
        assert round_trip(sock, b"one") == b"one"
        proxy.cut()
    proxy.cut()  # twice is fine
    proxy.restore()
    proxy.restore()  # and so is restoring what is up
    assert proxy.port == port and proxy.listening
    with connect(proxy) as sock:
        assert round_trip(sock, b"two") == b"two"
    assert echo.connections == 2
    assert proxy.accepted == 2


def test_a_connection_through_the_proxy_to_a_target_that_is_down_is_closed():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with LinkProxy(("127.0.0.1", dead)) as proxy, connect(proxy) as sock:
        try:
            assert sock.recv(1024) == b""
        except ConnectionResetError:
            pass


def test_close_leaves_no_thread_and_no_listener(echo):
    before = set(threading.enumerate())
    proxy = LinkProxy(("127.0.0.1", echo.port), name="closing-link")
    socks = [connect(proxy) for _ in range(3)]
    for n, sock in enumerate(socks):
        assert round_trip(sock, b"x%d" % n) == b"x%d" % n
    proxy.close()
    for sock in socks:
        sock.close()
    wait_for(lambda: not [t for t in set(threading.enumerate()) - before if t.name.startswith("closing-link")],
             timeout=5, message="the proxy's threads to end")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.address, timeout=5)
    with pytest.raises(RuntimeError):
        proxy.restore()
