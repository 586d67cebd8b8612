"""Baselines measured in the same run: PostgreSQL's own insert rate, and the direct Flask app."""
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from shared.storage.db import psycopg

ROOT = Path(__file__).resolve().parents[1]


# The booking insert pair (a slot row taken, a booking row written), for PostgreSQL's own rate and
# the nameko floor (bench/floor.py)
PAIR_TABLES = ("CREATE TABLE IF NOT EXISTS bench_slots (k text PRIMARY KEY, booked int NOT NULL)",
               "CREATE TABLE IF NOT EXISTS bench_rows (id uuid PRIMARY KEY, k text, at timestamptz)")
TAKE_SLOT = "INSERT INTO bench_slots AS s VALUES (%s, 1) ON CONFLICT (k) DO UPDATE SET booked = s.booked + 1"
WRITE_ROW = "INSERT INTO bench_rows VALUES (%s, %s, now())"


def postgres_insert_rate(dsn: str, seconds: float = 5.0, clients: int = 4) -> dict:
    """Transactions of the booking insert pair (slot row + booking row), from plain psycopg threads."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for create in PAIR_TABLES:
            conn.execute(create)
    done = [0] * clients
    deadline = time.monotonic() + seconds

    def client(i):
        with psycopg.connect(dsn) as conn:
            while time.monotonic() < deadline:
                with conn.transaction():
                    key = f"slot-{uuid.uuid4().hex[:2]}"
                    conn.execute(TAKE_SLOT, (key,))
                    conn.execute(WRITE_ROW, (uuid.uuid4(), key))
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
    COPIED = ("branches", "branch_capacity", "slot_overrides", "vehicles", "technicians", "technician_shifts",
              "branch_service_types")

    def __init__(self, port: int, workers: int = 2, threads: int = 8):
        self.port, self.workers, self.threads = port, workers, threads
        self.proc = None

    def __enter__(self):
        from shared.storage.migrate import migrate

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


class NamekoFloor:
    """bench/floor.py's bare nameko service as a process of its own, in the run's vhost and database."""

    def __init__(self, env: dict, logs):
        self.env = env
        self.logs = logs  # the run's log folder (BenchStack.logs)
        self.proc = None

    def __enter__(self):
        from bench import floor
        from bench.stack import wait_answering

        floor.create_schema(self.env["PITLANE_DSN"])
        self.proc = subprocess.Popen([sys.executable, "-m", "pitlane.serve", floor.SERVICE], cwd=ROOT, env=self.env,
                                     stdout=open(self.logs / "bench_floor.log", "wb"), stderr=subprocess.STDOUT)
        wait_answering(lambda proxy: proxy.bench_floor.book("warm-up", str(uuid.uuid4())), "bench_floor", self.proc,
                       self.logs)
        return self

    def __exit__(self, *exc):
        from bench import floor

        self.proc.terminate()
        self.proc.wait(20)
        floor.drop_schema(self.env["PITLANE_DSN"])


def cpu_ticks(pid: int) -> int:
    """User + system clock ticks a process has used, from /proc (0 for one that is gone)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def pids_of(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class ProcessCpu:
    """The CPU time (user + system, from /proc) that named processes used while a block ran.

    `processes` maps a name to a pid, or to a `pgrep -f` pattern for a group (RabbitMQ's
    beam.smp, PostgreSQL's backends) that is looked up again at the end: a process that started
    meanwhile counts whole. This process itself, the load generator, is "load generator".
    CPU per unit of work moves with the machine far less than a rate does, though not at all
    with the cores it waited for: it is the figure to compare code by.
    """

    OWN = "load generator"

    def __init__(self, processes: dict[str, int | str]):
        self.processes = processes
        self.ms: dict[str, float] = {}

    def __enter__(self):
        self._before, self._own = self._ticks(), os.times()
        return self

    def __exit__(self, *exc):
        after, own = self._ticks(), os.times()
        hz = os.sysconf("SC_CLK_TCK")
        self.ms = {name: sum(t - self._before[name].get(pid, 0) for pid, t in ticks.items()) * 1000 / hz
                   for name, ticks in after.items()}
        self.ms[self.OWN] = ((own.user - self._own.user) + (own.system - self._own.system)) * 1000

    def _ticks(self) -> dict[str, dict[int, int]]:
        return {name: {pid: cpu_ticks(pid) for pid in ([target] if isinstance(target, int) else pids_of(target))}
                for name, target in self.processes.items()}

    def per_unit(self, units: int) -> dict:
        """Milliseconds of CPU per unit of work, each process and all of them together."""
        per = {name: round(ms / max(units, 1), 3) for name, ms in self.ms.items()}
        per["all"] = round(sum(self.ms.values()) / max(units, 1), 3)
        return per


class MachineWatch:
    """What the machine itself did while a block ran, to read a scenario's figures by.

    `cores`, from /proc/stat: `busy_pct` (not idle, not waiting for I/O), of it `softirq_pct`
    (loopback traffic, charged to no process) and `steal_pct` (time the virtual machine's host
    gave to someone else). A scenario with the cores near 100 % busy is bound by CPU; one well
    below, by waiting.

    `disk`: a probe thread writes 4 kB and waits for fdatasync every 20 ms in bench/results/ (the
    disk under the checkout; on a one-disk machine the disk of PostgreSQL's WAL and RabbitMQ's
    message store too). Every commit waits for such a sync, so a sync that stalls stalls every
    commit with it: `stalls` counts syncs over 50 ms, `longest_ms` is the slowest.
    """

    PROBE = Path(__file__).resolve().parent / "results" / ".disk-probe"

    def __init__(self, probe_interval: float = 0.02, processes: dict[str, int | str] | None = None):
        self.probe_interval = probe_interval
        self.cpu = ProcessCpu(processes) if processes else None  # and `cpu`: each process's share
        self._syncs: list[float] = []
        self._stop = threading.Event()

    def __enter__(self):
        if self.cpu is not None:
            self.cpu.__enter__()
        self._before = self.read()
        self._probe = threading.Thread(target=self._probe_disk, daemon=True)
        self._probe.start()
        return self

    def __exit__(self, *exc):
        after = self.read()
        if self.cpu is not None:
            self.cpu.__exit__(*exc)
        self._stop.set()
        self._probe.join()
        self.figures = {"cores": self.share(self._before, after), "disk": self.stalls(self._syncs)}

    def cpu_per(self, units: int) -> dict:
        """{"cpu_ms_per_unit": ...} for a scenario's figures, when processes were watched."""
        return {"cpu_ms_per_unit": self.cpu.per_unit(units)} if self.cpu is not None else {}

    def _probe_disk(self):
        self.PROBE.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.PROBE, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.pwrite(fd, b"\0" * 4096, 0)
                began = time.perf_counter()
                os.fdatasync(fd)
                self._syncs.append(time.perf_counter() - began)
                if self._stop.wait(self.probe_interval):
                    break
        finally:
            os.close(fd)
            self.PROBE.unlink(missing_ok=True)

    @staticmethod
    def read(line: str | None = None) -> list[int]:
        """The aggregate `cpu` line's counters: user nice system idle iowait irq softirq steal ..."""
        if line is None:
            with open("/proc/stat") as stat:
                line = stat.readline()
        return [int(v) for v in line.split()[1:9]]

    @staticmethod
    def share(before: list[int], after: list[int]) -> dict:
        delta = [b - a for a, b in zip(before, after)]
        total = sum(delta)
        idle, iowait, softirq, steal = delta[3], delta[4], delta[6], delta[7]

        def pct(ticks):
            return round(100 * ticks / total, 1) if total else 0.0

        return {"busy_pct": pct(total - idle - iowait), "softirq_pct": pct(softirq), "steal_pct": pct(steal)}

    @staticmethod
    def stalls(syncs: list[float], over: float = 0.05) -> dict:
        return {"syncs": len(syncs), "stalls": sum(1 for s in syncs if s > over),
                "longest_ms": round(max(syncs, default=0.0) * 1000, 1)}


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0
