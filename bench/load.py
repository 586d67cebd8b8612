"""A small HTTP/1.1 load generator on asyncio: keep-alive connections, closed or open loop.

Closed loop: N clients each send the next request when the last answered (throughput).
Open loop: requests start on a fixed schedule whatever the answers (latency at an offered rate),
so a slow server cannot hide its queueing by slowing the generator down (coordinated omission).
"""
import asyncio
import http.client
import json
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
    """The journey's HTTP client for benchmarks: tests.support.gateway.Api's interface on
    http.client with one keep-alive connection per thread, so the load generator's own CPU
    (requests costs about a millisecond a call) is not charged to pitlane on a shared machine."""

    def __init__(self, base_url, token):
        parsed = urlparse(base_url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._local = threading.local()

    def _send(self, method, path, body=None, params=None, headers=None):
        if params:
            path += "?" + urlencode(params)
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
            conn = getattr(self._local, "conn", None) or http.client.HTTPConnection(self.host, self.port, timeout=30)
            self._local.conn = conn
            try:
                conn.request(method, "/api/v1" + path, body=payload, headers={**self.headers, **(headers or {})})
                response = conn.getresponse()
                return LeanResponse(response.status, response.read())
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise

    def get(self, path, **params):
        return self._send("GET", path, params=params)

    def post(self, path, body=None, headers=None):
        return self._send("POST", path, body=body, headers=headers)


class LeanResponse:
    def __init__(self, status, body):
        self.status_code, self.content = status, body

    @property
    def text(self):
        return self.content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)
