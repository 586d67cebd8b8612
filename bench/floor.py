"""The floor under pitlane on this machine: a bare nameko RPC doing two inserts.

The benchmark issue gives the scale its targets were set on: this call, made from pooled nameko
proxies with 10 to 30 calls in flight, ran at 440 to 480 calls/s "on this kind of machine".
Measured in every run beside the scenarios, it says how the machine of the run compares with
that one: a machine that gives half the floor gives about half of every scenario too.

The service is nameko's own `@rpc` (not pitlane's leaner entrypoint), a pool of psycopg
connections that waits on eventlet's hub, and the insert pair of `postgres_insert_pair`; no
outbox, no audit, no gateway.
"""
import threading
import time
import uuid

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from bench.baselines import PAIR_TABLES, TAKE_SLOT, WRITE_ROW
from shared import config
from shared.storage.db import Pool, psycopg

SCHEMA = "bench_floor"
SERVICE = "bench.floor:FloorService"


class Connections(DependencyProvider):
    def setup(self):
        self.pool = Pool(config.dsn(), SCHEMA, size=config.db_pool_size())

    def get_dependency(self, worker_ctx):
        return self.pool


class FloorService:
    name = "bench_floor"
    pool = Connections()

    @rpc
    def book(self, key, row_id):
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(TAKE_SLOT, (key,))
            conn.execute(WRITE_ROW, (row_id, key))
        return row_id


def create_schema(dsn):
    with psycopg.connect(dsn, autocommit=True, options=f"-c search_path={SCHEMA}") as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for create in PAIR_TABLES:
            conn.execute(create)


def drop_schema(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def call_rate(seconds: float, in_flight: int) -> dict:
    """`in_flight` threads, each with its own nameko proxy (a pool of proxies), calling for `seconds`."""
    from nameko.standalone.rpc import ClusterRpcProxy

    latencies: list[list[float]] = [[] for _ in range(in_flight)]
    failures = [0] * in_flight
    start = threading.Barrier(in_flight + 1)
    deadline = [0.0]

    def caller(i):
        with ClusterRpcProxy(config.nameko_config(), timeout=10) as proxy:
            start.wait()
            while time.monotonic() < deadline[0]:
                began = time.perf_counter()
                try:
                    proxy.bench_floor.book(f"slot-{uuid.uuid4().hex[:2]}", str(uuid.uuid4()))
                except Exception:
                    failures[i] += 1
                    continue
                latencies[i].append(time.perf_counter() - began)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(in_flight)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    from bench.load import percentiles

    done = [x for per_thread in latencies for x in per_thread]
    return {"calls_per_s": round(len(done) / elapsed, 1), "in_flight": in_flight, "calls": len(done),
            "failures": sum(failures), **percentiles(done, (50, 99))}
