"""`pitlane run`: the whole stack on this machine, every service its own process, supervised."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from pitlane import SERVICE_CLASSES
from shared import config

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("PITLANE_STATE_DIR", ROOT / ".pitlane"))
LOGS = STATE / "logs"


FIRST_DELAY, MAX_DELAY = 1.0, 30.0  # seconds before restarting a process that died: doubling, capped
HEALTHY_RUN = 30.0  # a process that ran this long before it died starts again at the first delay


def _say(message):
    print(f"[pitlane] {message}", flush=True)


class NotStarted(Exception):
    """The stack cannot start; the message says what is wrong and what to do, in one line."""


def restart_delay(failures_in_a_row: int) -> float:
    """Seconds before the restart after the `failures_in_a_row`-th quick death in a row: 1, 2, 4, ... 30."""
    return min(FIRST_DELAY * 2 ** max(failures_in_a_row - 1, 0), MAX_DELAY)


class Child:
    """One supervised process; restarted with backoff if it dies while the stack runs.

    Each child runs in a process group of its own: Ctrl-C in the terminal reaches only `pitlane
    run`, which then stops every child once (with SIGTERM), instead of each getting the signal twice."""

    def __init__(self, name, argv):
        self.name, self.argv = name, argv
        self.proc = None
        self.restarts = 0
        self.failures = 0  # deaths in a row, each after less than HEALTHY_RUN
        self.started_at = None
        self.restart_at = None

    def start(self, now=None):
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     env=os.environ.copy(), process_group=0, stdin=subprocess.DEVNULL)
        log.close()
        self.started_at = time.monotonic() if now is None else now
        self.restart_at = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def died(self, now) -> float:
        """It exited while the stack runs: schedule its restart; the delay. A run of HEALTHY_RUN
        or more was healthy, so the backoff starts over."""
        if now - self.started_at >= HEALTHY_RUN:
            self.failures = 0
        self.failures += 1
        self.restarts += 1
        delay = restart_delay(self.failures)
        self.restart_at = now + delay
        return delay

    def stop(self):
        if self.alive():
            self.proc.terminate()

    def kill(self):
        if self.alive():
            self.proc.kill()

    def wait(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _gateway_url():
    return f"http://127.0.0.1:{_gateway_port()}"


def _gateway_port() -> int:
    return int(os.environ.get("PITLANE_GATEWAY_PORT", "8080"))


def _wait_healthy(timeout=60, stopping=lambda: False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping():
        try:
            with urllib.request.urlopen(_gateway_url() + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def _wait_services(timeout=60, stopping=lambda: False):
    from nameko.standalone.rpc import ClusterRpcProxy

    deadline = time.monotonic() + timeout
    pending = set(SERVICE_CLASSES)
    with ClusterRpcProxy(config.nameko_config(), timeout=2) as proxy:
        while pending and time.monotonic() < deadline and not stopping():
            for name in list(pending):
                if stopping():
                    break
                try:
                    getattr(proxy, name).sla_figures()
                    pending.discard(name)
                except Exception:
                    pass
            time.sleep(0.5)
    return not pending


# -- before anything starts: one clear line instead of a traceback --------------------------------------
PID_FILE = STATE / "run.pid"


def _running_pid():
    """The pid of a `pitlane run` still running from the pid file, or None."""
    try:
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if b"pitlane" in cmdline and pid != os.getpid() else None


def preflight():
    """Refuse to start a second stack, or one whose port, PostgreSQL or RabbitMQ is not usable."""
    pid = _running_pid()
    if pid:
        raise NotStarted(f"pitlane is already running (pid {pid}, {PID_FILE}): use that one, or stop it "
                         f"with Ctrl-C in its terminal (or `kill {pid}`) before starting another")
    bind, port = os.environ.get("PITLANE_GATEWAY_BIND", "127.0.0.1"), _gateway_port()
    probe = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
    try:
        probe.bind((bind, port))
    except OSError as exc:
        raise NotStarted(f"port {port} on {bind} is in use ({exc.strerror}): is pitlane already running? "
                         f"Stop it with Ctrl-C in its terminal, or set PITLANE_GATEWAY_PORT to a free port") from None
    finally:
        probe.close()
    _check_postgresql()
    _check_rabbitmq()


def _check_postgresql():
    import psycopg

    from shared.storage.migrate import ensure_database

    for dsn in sorted({config.dsn(name) for name in (*SERVICE_CLASSES, "gateway")}):
        try:
            ensure_database(dsn)
        except psycopg.Error as exc:
            url = urlparse(dsn)
            reason = " ".join(str(exc).split())[:200]
            raise NotStarted(f"PostgreSQL at {url.hostname or 'localhost'}:{url.port or 5432} refuses connections "
                             f"({reason}): start it (`make run` starts it) or point PITLANE_DSN at one that runs") from None


def _check_rabbitmq():
    from kombu import Connection

    uri = config.amqp_uri()
    try:
        with Connection(uri, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        url = urlparse(uri)
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise NotStarted(f"RabbitMQ at {url.hostname}:{url.port or 5672}{url.path} refuses connections ({reason}): "
                         f"start it (`make run` starts it) or point PITLANE_AMQP_URI at one that runs") from None


def run(load_demo=True, processes=1) -> int:
    stopping = []  # a signal arrived (one entry per signal)

    def stop(signum, frame):
        stopping.append(signum)
        if len(stopping) > 1:
            _say("stopping now: killing what is left")
            for child in children:
                child.kill()

    children = []
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    preflight()
    STATE.mkdir(parents=True, exist_ok=True)
    PID_FILE.write_text(f"{os.getpid()}\n")
    try:
        return _run(children, stopping, load_demo, processes)
    finally:
        try:
            if PID_FILE.read_text().strip() == str(os.getpid()):
                PID_FILE.unlink()
        except OSError:
            pass


def _step(argv, stopping, what):
    """A one-shot command in a process group of its own (Ctrl-C stops it through us, once)."""
    proc = subprocess.Popen(argv, cwd=ROOT, process_group=0)
    while proc.poll() is None:
        if stopping:
            proc.terminate()
        try:
            proc.wait(0.2)
        except subprocess.TimeoutExpired:
            pass
    if proc.returncode != 0 and not stopping:
        raise NotStarted(f"{what} failed (exit status {proc.returncode}, see above)")


def service_children(processes: int, python: str = sys.executable) -> list[Child]:
    """`processes` processes of every service, each told how many it shares the work with
    (PITLANE_PROCESSES: its share of the connection budget, shared/config.py)."""
    os.environ["PITLANE_PROCESSES"] = str(processes)
    return [Child(name if processes == 1 else f"{name}-{i}", [python, "-m", "pitlane.serve", name])
            for name in SERVICE_CLASSES for i in range(1, processes + 1)]


def _run(children, stopping, load_demo, processes=1) -> int:
    python = sys.executable
    _step([python, "-m", "pitlane.cli", "migrate"], stopping, "pitlane migrate")
    if not stopping:
        _step([python, "-m", "pitlane.cli", "topology", "--no-list"], stopping, "pitlane topology")
    if stopping:
        return 0
    children += service_children(processes, python)
    children.append(Child("gateway", [python, "-m", "gateway"]))
    for child in children:
        child.start()
    _say(f"started {', '.join(c.name for c in children)}; logs in {LOGS}")

    came_up = _wait_services(stopping=lambda: bool(stopping)) and _wait_healthy(stopping=lambda: bool(stopping))
    if not stopping and not came_up:
        _say(f"the stack did not come up; see {LOGS}")
        stopping.append(None)
    elif not stopping and load_demo:
        from pitlane import demo

        demo.main()
        _print_tokens()
    if not stopping:
        _say(f"API {_gateway_url()}/api/v1  metrics {_gateway_url()}/metrics  (Ctrl-C stops)")

    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.restart_at is None and not child.alive():
                delay = child.died(now)
                _say(f"{child.name} exited ({child.proc.returncode}); restarting in {delay:g} s")
            elif child.restart_at is not None and now >= child.restart_at:
                child.start()
        time.sleep(0.2)

    _say("stopping")
    for child in children:
        child.stop()
    deadline = time.monotonic() + config.shutdown_grace() + 5
    for child in children:
        if child.proc is not None:
            child.wait(max(deadline - time.monotonic(), 0.1))
    _say("stopped")
    return 0 if stopping[0] is not None else 1


def _print_tokens():
    from gateway.auth import issue_token
    from pitlane.demo_day import ADVISORS, TECHNICIANS

    # who did it comes from the token: the demo's people at N1, two technicians for the peer check
    samples = [
        ("ADVISOR", "advisor", ADVISORS["N1"], {"branch_id": "N1"}),
        ("TECHNICIAN", "technician", TECHNICIANS["N1"][0], {"branch_id": "N1"}),
        ("SECOND_TECHNICIAN", "technician", TECHNICIANS["N1"][1], {"branch_id": "N1"}),
        ("PARTS_COORDINATOR", "parts_coordinator", "demo-parts-coordinator", {"region_id": "NORTH"}),
        ("OPERATIONS", "operations", "demo-operations", {}), ("ADMIN", "admin", "demo-admin", {}),
    ]
    path = STATE / "tokens.env"
    lines = []
    for name, role, subject, scope in samples:
        token = issue_token(role, subject, ttl_seconds=7 * 24 * 3600, **scope)
        lines.append(f"{name}_TOKEN={token}")
    path.write_text("\n".join(lines) + "\n")
    _say(f"demo tokens (also in {path}; `source` it):")
    for line in lines:
        print("  " + line, flush=True)
