"""A small HTTP/1.1 load generator on asyncio: keep-alive connections, closed or open loop.

Closed loop: N clients each send the next request when the last answered (throughput).
Open loop: requests start on a fixed schedule whatever the answers (latency at an offered rate),
so a slow server cannot hide its queueing by slowing the generator down (coordinated omission).
"""
import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlparse

from tests.support.gateway import ApiCalls


@dataclass
class Result:
    latencies: list = field(default_factory=list)  # seconds, successful requests
    statuses: dict = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0

    def record(self, status, latency):
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.latencies.append(latency)

    @classmethod
    def merged(cls, results: list["Result"]) -> "Result":
        """One result of several runs: their answers together, their durations added."""
        out = cls()
        for r in results:
            out.latencies += r.latencies
            for status, n in r.statuses.items():
                out.statuses[status] = out.statuses.get(status, 0) + n
            out.errors += r.errors
            out.elapsed += r.elapsed
        return out

    @property
    def ok(self):
        return len(self.latencies)

    def summary(self) -> dict:
        return {"requests_per_s": round(self.ok / self.elapsed, 1) if self.elapsed else 0.0,
                "ok": self.ok, "statuses": self.statuses, "errors": self.errors,
                **percentiles(self.latencies)}


def percentiles(values, points=(50, 95, 99)) -> dict:
    if not values:
        return {f"p{p}_ms": None for p in points}
    ordered = sorted(values)
    out = {}
    for p in points:
        index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        out[f"p{p}_ms"] = round(ordered[index] * 1000, 2)
    return out


class Connection:
    def __init__(self, url):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.reader = self.writer = None

    async def request(self, method, path, body=None, headers=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Connection: keep-alive", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def closed_loop(url, make_request, clients, seconds) -> Result:
    """`make_request(i)` -> (method, path, body, headers); clients send back to back for `seconds`."""
    result = Result()
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def client():
        conn = Connection(url)
        while time.monotonic() < deadline:
            method, path, body, headers = make_request(next(counter))
            started = time.perf_counter()
            try:
                status, _ = await conn.request(method, path, body, headers)
                result.record(status, time.perf_counter() - started)
            except (OSError, ConnectionError, asyncio.IncompleteReadError):
                result.errors += 1
                conn.close()
        conn.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed = time.monotonic() - started
    return result


async def open_loop(url, make_request, rate, seconds, max_in_flight=256) -> Result:
    """Start `rate` requests per second on schedule for `seconds`; latency counts from the schedule."""
    result = Result()
    idle: list[Connection] = []
    in_flight = asyncio.Semaphore(max_in_flight)
    start = time.perf_counter()
    total = int(rate * seconds)

    async def one(i):
        scheduled = start + i / rate
        async with in_flight:
            conn = idle.pop() if idle else Connection(url)
            method, path, body, headers = make_request(i)
            try:
                status, _ = await conn.request(method, path, body, headers)
                result.record(status, time.perf_counter() - scheduled)
                idle.append(conn)
            except (OSError, ConnectionError, asyncio.IncompleteReadError):
                result.errors += 1
                conn.close()

    tasks = []
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    for conn in idle:
        conn.close()
    return result


class LeanApi(ApiCalls):
    """The journey's HTTP client for benchmarks: tests.support.gateway.Api's interface on a plain
    socket, one keep-alive connection per thread, so the load generator's own CPU is not charged
    to pitlane on a shared machine (requests costs about a millisecond a call; http.client, whose
    headers go through the email parser, 0.3 to 0.4 ms; this, about a tenth of a millisecond)."""

    def __init__(self, base_url, token):
        parsed = urlparse(base_url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.head = (f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\n")
        self._local = threading.local()

    def _send(self, method, path, body=None, params=None, headers=None):
        if params:
            path += "?" + urlencode(params)
        payload = json.dumps(body).encode() if body is not None else b""
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        request = (f"{method} /api/v1{path} HTTP/1.1\r\n{self.head}{extra}"
                   f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
        for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = _Socket(self.host, self.port)
            try:
                return conn.exchange(request)
            except OSError:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise

    def get(self, path, **params):
        return self._send("GET", path, params=params)

    def post(self, path, body=None, headers=None):
        return self._send("POST", path, body=body, headers=headers)


class _Socket:
    """One HTTP/1.1 keep-alive connection: a request out, its answer (Content-Length framed) in."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, request: bytes) -> "LeanResponse":
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split(None, 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if close:
            self.close()
        return LeanResponse(status, body)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self):
        self.sock.close()


class LeanResponse:
    def __init__(self, status, body):
        self.status_code, self.content = status, body

    @property
    def text(self):
        return self.content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)
