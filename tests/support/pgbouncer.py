"""A PgBouncer of a test's own, in transaction mode, in front of the machine's PostgreSQL.

    bouncer = PrivatePgBouncer(dsn, pool_size=3).start()
    try:
        ServiceProcess("booking", env=bouncer.env)...   # its pools connect through it
        bouncer.show("POOLS")                            # the admin console, rows as dicts
    finally:
        bouncer.remove()

It runs Debian's /usr/sbin/pgbouncer as a child process (not a daemon) with its configuration,
pid file and log in a fresh /tmp/pitlane-pgbouncer-<id>/ and a free port on 127.0.0.1 (TCP only,
no Unix socket). It never touches the machine's PostgreSQL configuration: it is one more client of
it, holding at most `limit` connections. Under root it runs as the postgres user (PgBouncer
refuses root; its own `-u postgres`). `remove()` stops it, keeps its log in .test-logs/ and deletes
its folder.
"""
import os
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from pitlane import SERVICE_CLASSES
from pitlane.cli import write_pgbouncer_config
from tests.support.gateway import free_port
from tests.support.infra import ROOT

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SCHEMAS = (*SERVICE_CLASSES, "gateway")  # every service's and the gateway's


def available() -> bool:
    return os.access(BINARY, os.X_OK)


class PrivatePgBouncer:
    """`dsn`: the PostgreSQL database every schema of the stack lives in (PITLANE_DSN);
    `pool_size`: connections to PostgreSQL at most per schema, so `limit` = schemas x pool_size."""

    def __init__(self, dsn: str, pool_size: int = 5, schemas=SCHEMAS):
        self.id = uuid.uuid4().hex[:8]
        self.dsn, self.pool_size, self.schemas = dsn, pool_size, tuple(schemas)
        self.limit = pool_size * len(self.schemas)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {"PITLANE_PGBOUNCER": self.address}  # what a service or gateway process needs to go through it
        self.dir = Path(f"/tmp/pitlane-pgbouncer-{self.id}")
        self.proc = None

    def start(self, timeout: float = 15.0) -> "PrivatePgBouncer":
        self.dir.mkdir()
        ini = write_pgbouncer_config(self.dir, self.port, self.pool_size, {s: self.dsn for s in self.schemas})
        as_user = []
        if os.geteuid() == 0:  # PgBouncer will not run as root; its files must be the postgres user's
            for path in (self.dir, *self.dir.iterdir()):
                shutil.chown(path, "postgres", "postgres")
            as_user = ["-u", "postgres"]
        self._out = open(self.dir / "stderr.log", "wb")  # what it says before its log file is open
        self.proc = subprocess.Popen([BINARY, *as_user, str(ini)], stdout=subprocess.DEVNULL, stderr=self._out)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited with {self.proc.returncode}: {self._log_tail()}")
            try:
                self.show("VERSION")
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not answer on {self.address}: {self._log_tail()}") from None
                time.sleep(0.1)

    def show(self, what: str) -> list[dict]:
        """`SHOW <what>` on the admin console (POOLS, SERVERS, CLIENTS, STATS, DATABASES...)."""
        host, port = self.address.rsplit(":", 1)
        with psycopg.connect(host=host, port=port, dbname="pgbouncer", user="postgres", autocommit=True,
                             prepare_threshold=None, connect_timeout=3, row_factory=dict_row) as conn:
            return conn.execute(f"SHOW {what}").fetchall()

    def _log_tail(self) -> str:
        return "".join((self.dir / name).read_text(errors="replace")[-2000:]
                       for name in ("stderr.log", "pgbouncer.log") if (self.dir / name).exists())

    def remove(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            if self.proc is not None:
                self._out.close()
            target = ROOT / ".test-logs" / f"pgbouncer-{self.id}"
            target.mkdir(parents=True, exist_ok=True)
            for path in self.dir.glob("*.log"):
                shutil.copy(path, target / path.name)
            shutil.rmtree(self.dir, ignore_errors=True)


class ConnectionWatch:
    """Samples, while journeys run, PgBouncer's server and client connections and every connection
    PostgreSQL has to the test's database, on one connection of its own (left out)."""

    def __init__(self, bouncer, dsn):
        self.bouncer, self.dsn = bouncer, dsn
        self.peak_servers, self.peak_per_schema, self.peak_clients = 0, {}, 0
        self.not_through_pgbouncer: set[int] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _server_pids(self) -> set[int]:
        servers = self.bouncer.show("SERVERS")
        self.peak_servers = max(self.peak_servers, len(servers))
        for database in {s["database"] for s in servers}:
            count = sum(1 for s in servers if s["database"] == database)
            self.peak_per_schema[database] = max(self.peak_per_schema.get(database, 0), count)
        return {s["remote_pid"] for s in servers}

    def _run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.wait(0.2):
                before = self._server_pids()
                backends = {row[0] for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")}
                after = self._server_pids()
                self.not_through_pgbouncer |= backends - before - after
                clients = [c for c in self.bouncer.show("CLIENTS") if c["database"] != "pgbouncer"]
                self.peak_clients = max(self.peak_clients, len(clients))
                self.samples += 1
