"""Helpers that talk to the real broker and database for tests: vhosts, processes, waiting."""
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import requests

from shared import config

ROOT = Path(__file__).resolve().parents[2]


def _api(path):
    base = config.management_uri()
    scheme, rest = base.split("://", 1)
    creds, host = rest.split("@", 1)
    user, password = creds.split(":", 1)
    return f"{scheme}://{host}/api{path}", (user, password)


def create_vhost(name: str):
    url, auth = _api(f"/vhosts/{quote(name, safe='')}")
    requests.put(url, auth=auth, timeout=10).raise_for_status()
    url, auth = _api(f"/permissions/{quote(name, safe='')}/guest")
    requests.put(url, json={"configure": ".*", "write": ".*", "read": ".*"}, auth=auth,
                 timeout=10).raise_for_status()


def delete_vhost(name: str):
    url, auth = _api(f"/vhosts/{quote(name, safe='')}")
    requests.delete(url, auth=auth, timeout=10)


def queue_info(name: str, vhost: str | None = None) -> dict:
    vhost = vhost or os.environ["PITLANE_TEST_VHOST"]
    url, auth = _api(f"/queues/{quote(vhost, safe='')}/{quote(name, safe='')}")
    response = requests.get(url, auth=auth, timeout=10)
    response.raise_for_status()
    return response.json()


def wait_for(predicate, timeout=15.0, interval=0.05, message="condition"):
    """Poll until `predicate()` returns something truthy; return it, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except AssertionError as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}" + (f": {last_error}" if last_error else ""))


class ServiceProcess:
    """One nameko service running as its own OS process, as in production."""

    def __init__(self, *names: str, env: dict | None = None):
        self.names = names
        self.env = {**os.environ, **(env or {})}
        self.proc = None
        self.log_path = ROOT / ".test-logs" / f"{'+'.join(names)}-{os.getpid()}-{time.time_ns()}.log"

    def start(self):
        self.log_path.parent.mkdir(exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pitlane.serve", *self.names],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        return self

    def wait_ready(self, timeout=30.0):
        """Ready when the log says so (migrations done, consumers declared)."""
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.names} exited: {self.log_path.read_text()[-3000:]}")
            return b"serving " in self.log_path.read_bytes()
        wait_for(ready, timeout=timeout, interval=0.1, message=f"{self.names} to start")
        return self

    def stop(self, timeout=20.0):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()

    @staticmethod
    def stop_all(processes, timeout=20.0):
        """Stop several at once: each is told first, then each is waited for (one after the other, a
        process takes a few seconds to finish its work in flight)."""
        for process in processes:
            if process.proc and process.proc.poll() is None:
                process.proc.terminate()
        for process in processes:
            process.stop(timeout)

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def own_vhost(vhost: str, database: str | None = None, **env):
    """A vhost (and a database) of their own, in the environment of this process and the processes it
    starts while inside, with `env` set too; all put back and removed afterwards. For tests whose queues
    or tables must not meet the run's own (a queue keeps its type; a service consumes all it can)."""
    import kombu.pools

    from shared.storage.migrate import drop_database, ensure_database

    saved = {k: os.environ.get(k) for k in ("PITLANE_AMQP_URI", "PITLANE_DSN", *env)}
    uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    dsn = os.environ["PITLANE_DSN"].rsplit("/", 1)[0] + f"/{database}" if database else None
    create_vhost(vhost)
    os.environ.update({"PITLANE_AMQP_URI": uri, **({"PITLANE_DSN": dsn} if dsn else {}), **env})
    try:
        if dsn:
            ensure_database(dsn)
        yield uri
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        kombu.pools.reset()  # the proxies' pooled connections to this vhost go with it
        delete_vhost(vhost)
        if dsn:
            drop_database(dsn)
