"""Throwaway RabbitMQ nodes and PostgreSQL clusters for the fault tests, bounded in time.

A fault test that stops or restarts a broker or a database starts one of its own (own node name,
ports and data directory; own `initdb` cluster on its own port) and restarts only that: the
machine's RabbitMQ (127.0.0.1:5672) and PostgreSQL (127.0.0.1:5432) are never touched. `remove()`
stops the instance, keeps its logs in `.test-logs/` and deletes its directory.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import requests

from tests.support.infra import ROOT

LOGS = ROOT / ".test-logs"
RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # not /usr/sbin's wrapper, which switches user
DIR_PREFIXES = ("pitlane-rabbit-", "pitlane-pg-")
CREATED: list[Path] = []  # every data directory this process made, for the test that none is left


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _keep_logs(source: Path, name: str):
    target = LOGS / name
    target.mkdir(parents=True, exist_ok=True)
    for path in source.rglob("*.log"):
        shutil.copy(path, target / path.name)


class PrivateRabbit:
    """A RabbitMQ node of its own: node name pitlane-test-<id>@localhost, its own AMQP,
    distribution and management ports, its config, plugins, data and logs in a temp dir; `plugins`
    are the ones its enabled_plugins file names (the sites' tests add rabbitmq_shovel and
    rabbitmq_shovel_management)."""

    def __init__(self, plugins=("rabbitmq_management",)):
        self.id = uuid.uuid4().hex[:8]
        self.node = f"pitlane-test-{self.id}@localhost"
        self.port, self.dist_port, self.management_port = free_ports(3)
        self.dir = Path(tempfile.mkdtemp(prefix=f"pitlane-rabbit-{self.id}-"))
        CREATED.append(self.dir)
        (self.dir / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's (it names the machine's node)
        (self.dir / "rabbitmq.conf").write_text(
            f"management.tcp.port = {self.management_port}\nmanagement.tcp.ip = 127.0.0.1\n")
        self.plugins = tuple(plugins)
        (self.dir / "enabled_plugins").write_text(f"[{','.join(self.plugins)}].\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        self.env = {
            **env,
            "HOME": str(self.dir),  # its Erlang cookie is made here, not in the user's home
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        self.amqp_base = f"amqp://guest:guest@127.0.0.1:{self.port}"
        self.api = f"http://guest:guest@127.0.0.1:{self.management_port}"
        self.proc = None

    def start(self, timeout: float = 90.0):
        self._out = open(self.dir / "server.log", "ab")
        self.proc = subprocess.Popen([RABBITMQ_SERVER], cwd=self.dir, env=self.env, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"RabbitMQ {self.node} exited: "
                                   + (self.dir / "server.log").read_text(errors="replace")[-3000:])
            if self.up() and self._api_up():
                return self
            time.sleep(0.3)
        raise RuntimeError(f"RabbitMQ {self.node} did not start in {timeout} s")

    def up(self) -> bool:
        """AMQP accepts connections."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                return True
        except OSError:
            return False

    def _api_up(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.management_port}/api/overview",
                                auth=("guest", "guest"), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, timeout: float = 60.0):
        """A full, graceful shutdown of the node (SIGTERM, as `rabbitmqctl shutdown` would)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._signal(signal.SIGKILL)  # whatever of its process group is left
        self.proc.wait()
        self._out.close()
        self.proc = None

    def _signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def restart(self, down_for: float = 1.0, timeout: float = 90.0):
        """Stop the node entirely, then start it again and wait for AMQP to accept connections."""
        self.stop()
        time.sleep(down_for)
        self.start(timeout)

    def remove(self):
        try:
            self.stop()
        finally:
            _keep_logs(self.dir, f"rabbitmq-{self.id}")
            shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster of its own from `initdb` in a temp dir, on its own port, trust auth;
    run as the postgres user when the tests run as root."""

    def __init__(self):
        initdbs = glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if initdbs:
            self.bindir = Path(max(initdbs, key=lambda p: int(p.split("/")[4]))).parent
        else:
            self.bindir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                              check=True).stdout.strip())
        self.id = uuid.uuid4().hex[:8]
        (self.port,) = free_ports(1)
        self.dir = Path(tempfile.mkdtemp(prefix=f"pitlane-pg-{self.id}-"))
        CREATED.append(self.dir)
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.as_owner = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.base = f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, program, *args, timeout=90.0):
        result = subprocess.run([*self.as_owner, str(self.bindir / program), *args], cwd=self.dir,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
                               + (self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""))

    def start(self):
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                      "--locale", "C", "--no-sync")
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                           f"unix_socket_directories = '{self.dir}'\nfsync = off\n")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        return self

    def restart(self, timeout: float = 60.0):
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", str(int(timeout)),
                  "restart", timeout=timeout + 30)
        with psycopg.connect(f"{self.base}/postgres", connect_timeout=5):
            pass

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def remove(self):
        try:
            self.stop()
        finally:
            _keep_logs(self.dir, f"postgres-{self.id}")
            shutil.rmtree(self.dir, ignore_errors=True)


def machine_services() -> dict[str, list[int]]:
    """Process ids of the machine's own RabbitMQ nodes and PostgreSQL postmasters (pgrep), leaving
    out the throwaway ones of the fault tests (their command lines name their temp dirs)."""
    found = {}
    for name, pattern in (("rabbitmq", "beam.smp"), ("postgresql", "bin/postgres ")):
        result = subprocess.run(["pgrep", "-a", "-f", pattern], capture_output=True, text=True)
        found[name] = sorted(int(line.split()[0]) for line in result.stdout.splitlines()
                             if not any(prefix in line for prefix in DIR_PREFIXES))
    return found


def leftovers() -> list[str]:
    """What the throwaway instances of this process left: data directories or processes."""
    left = [str(path) for path in CREATED if path.exists()]
    for path in CREATED:
        result = subprocess.run(["pgrep", "-a", "-f", str(path)], capture_output=True, text=True)
        left += [line for line in result.stdout.splitlines() if "pgrep" not in line]
    return left
