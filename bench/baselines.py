"""Baselines measured in the same run: PostgreSQL's own insert rate, and the direct Flask app."""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from shared.db import psycopg

ROOT = Path(__file__).resolve().parents[1]


def postgres_insert_rate(dsn: str, seconds: float = 5.0, clients: int = 4) -> dict:
    """Transactions of the booking insert pair (slot row + booking row), from plain psycopg threads."""
    import threading

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_slots (k text PRIMARY KEY, booked int NOT NULL)")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (id uuid PRIMARY KEY, k text, at timestamptz)")
    done = [0] * clients
    deadline = time.monotonic() + seconds

    def client(i):
        with psycopg.connect(dsn) as conn:
            while time.monotonic() < deadline:
                with conn.transaction():
                    key = f"slot-{uuid.uuid4().hex[:2]}"
                    conn.execute("INSERT INTO bench_slots AS s VALUES (%s, 1) ON CONFLICT (k)"
                                 " DO UPDATE SET booked = s.booked + 1", (key,))
                    conn.execute("INSERT INTO bench_rows VALUES (%s, %s, now())", (uuid.uuid4(), key))
                done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    [t.start() for t in threads]
    [t.join() for t in threads]
    elapsed = time.monotonic() - started
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_slots, bench_rows")
    return {"transactions_per_s": round(sum(done) / elapsed, 1), "clients": clients}


class DirectApp:
    """bench/direct_app.py served the way the gateway is (gunicorn gthread), on its own port.

    It writes to a schema of its own, built by booking's migrations and holding a copy of
    booking's branches, capacities and vehicles: in booking's schema its outbox rows would be
    published by the running booking service's relay, whose CPU would then be charged to the
    baseline (and its backlog to whatever scenario runs next).
    """

    SCHEMA = "bench_direct"
    COPIED = ("branches", "branch_capacity", "slot_overrides", "vehicles")

    def __init__(self, port: int, workers: int = 2, threads: int = 8):
        self.port, self.workers, self.threads = port, workers, threads
        self.proc = None

    def __enter__(self):
        from shared.migrate import migrate

        dsn = os.environ["PITLANE_DSN"]
        migrate(dsn, self.SCHEMA, ROOT / "services" / "booking" / "migrations")
        with psycopg.connect(dsn, autocommit=True) as conn:
            for table in self.COPIED:
                conn.execute(f"INSERT INTO {self.SCHEMA}.{table} SELECT * FROM booking.{table} ON CONFLICT DO NOTHING")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(self.workers),
             "--threads", str(self.threads), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "bench.direct_app:app"],
            cwd=ROOT, env={**os.environ, "BENCH_DIRECT_SCHEMA": self.SCHEMA},
        )
        import urllib.request

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1)
            except urllib.error.HTTPError:
                return self  # it answers (404 on /): up
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the direct baseline app did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(15)
        with psycopg.connect(os.environ["PITLANE_DSN"], autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.SCHEMA} CASCADE")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0
