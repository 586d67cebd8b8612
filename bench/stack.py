"""A throwaway stack for one benchmark run: its own vhost and database, every process its own."""
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from pitlane import SERVICE_CLASSES, all_service_classes
from shared.storage.migrate import drop_database, ensure_database
from shared.bus.messaging import declare_topology

ROOT = Path(__file__).resolve().parents[1]
TEST_LOGS = ROOT / ".test-logs"  # where the README says the logs of the processes a test started are
RESULTS = ROOT / "bench" / "results"  # the figures (bench-*.json) and bench.cpu's profiles


class BenchStack:
    """`processes` of every service (as `pitlane run --processes N` starts them), each with its share
    of the connection budget."""

    def __init__(self, gateway_port=18080, processes=1):
        run = uuid.uuid4().hex[:6]
        self.vhost = f"pitlane-bench-{run}"
        base = os.environ.get("PITLANE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
        self.dsn = f"{base}/pitlane_bench_{run}"
        self.env = {**os.environ, "PITLANE_DSN": self.dsn, "PITLANE_LOG_LEVEL": "WARNING",
                    "PITLANE_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
                    "PITLANE_GATEWAY_PORT": str(gateway_port), "PITLANE_PROCESSES": str(processes)}
        self.replicas = processes
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.url = f"http://127.0.0.1:{gateway_port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs = TEST_LOGS / f"bench-{run}"  # one directory per run: runs side by side keep their own

    def __enter__(self):
        from tests.support import infra  # the same vhost helpers the tests use

        os.environ.update({k: self.env[k] for k in ("PITLANE_DSN", "PITLANE_AMQP_URI")})
        infra.create_vhost(self.vhost)
        ensure_database(self.dsn)
        declare_topology(self.env["PITLANE_AMQP_URI"], all_service_classes())
        self.logs.mkdir(parents=True, exist_ok=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        for name in self.service_processes():
            self._spawn(name, [sys.executable, "-m", "pitlane.serve", name.split("-")[0]])
        for name in self.service_processes():
            self._wait_log(name)
        self._spawn("gateway", [sys.executable, "-m", "gateway"])
        self._wait_http()
        return self

    def service_processes(self) -> list[str]:
        """The name of each service process: `booking`, or `booking-1`, `booking-2` ... with several."""
        return [name if self.replicas == 1 else f"{name}-{i}" for name in SERVICES for i in range(1, self.replicas + 1)]

    def _spawn(self, name, argv):
        log = open(self.logs / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def _wait_log(self, name):
        service = name.split("-")[0]
        wait_answering(lambda proxy: getattr(proxy, service).sla_figures(), name, self.processes[name], self.logs)

    def _wait_http(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the gateway did not start")

    def pids(self) -> dict:
        """Service name -> pid; the gateway's workers are children of its master."""
        pids = {name: p.pid for name, p in self.processes.items() if name != "gateway"}
        master = self.processes["gateway"].pid
        children = Path(f"/proc/{master}/task/{master}/children")
        workers = children.read_text().split() if children.exists() else []
        for i, pid in enumerate(workers):
            pids[f"gateway-worker-{i + 1}"] = int(pid)
        return pids

    def watched(self) -> dict[str, int | str]:
        """Every process of the stack for bench.baselines.ProcessCpu: services, gateway workers,
        RabbitMQ and PostgreSQL (the server's own processes and every backend)."""
        return {**self.pids(), "rabbitmq": "beam.smp", "postgres": "postgres"}

    def __exit__(self, *exc):
        from tests.support import infra

        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        # nameko's standalone proxies publish through kombu's pool of producers, which keeps
        # their connections open after the proxy is closed; close them before their vhost goes
        import kombu.pools

        kombu.pools.reset()
        infra.delete_vhost(self.vhost)
        drop_database(self.dsn)


SERVICES = list(SERVICE_CLASSES)


def wait_answering(call, name, process, logs=TEST_LOGS, timeout=60):
    """Until `call(proxy)` answers over a nameko proxy: a service logs at WARNING in benchmarks, so
    its readiness is its RPC answering. Fails at once if the process exits, else after `timeout`."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from shared import config

    deadline = time.monotonic() + timeout
    with ClusterRpcProxy(config.nameko_config(), timeout=2) as proxy:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                call(proxy)
                return
            except Exception:
                time.sleep(0.3)
    raise RuntimeError(f"{name} did not start; see {logs / name}.log")
