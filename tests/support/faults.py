"""Fault injection on this machine's real RabbitMQ and PostgreSQL, bounded in time."""
import glob
import subprocess
import time

import psycopg


def _pg_version():
    return sorted(p.split("/")[-1] for p in glob.glob("/etc/postgresql/*"))[-1]


def broker_up() -> bool:
    return subprocess.run(["rabbitmq-diagnostics", "-q", "check_port_connectivity"],
                          capture_output=True, timeout=30).returncode == 0


def restart_rabbitmq(down_for: float = 1.0, timeout: float = 90.0):
    """Stop the broker node entirely, then start it again and wait for AMQP to accept connections."""
    subprocess.run(["rabbitmqctl", "shutdown"], capture_output=True, timeout=60)
    time.sleep(down_for)
    subprocess.run(["rabbitmq-server", "-detached"], capture_output=True, timeout=30)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker_up():
            subprocess.run(["rabbitmqctl", "await_startup"], capture_output=True, timeout=60)
            return
        time.sleep(1)
    raise RuntimeError("RabbitMQ did not come back")


def restart_postgres(timeout: float = 60.0):
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", "restart",
                    "-m", "fast"], check=True, capture_output=True, timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
                return
        except psycopg.OperationalError:
            time.sleep(0.5)
    raise RuntimeError("PostgreSQL did not come back")
