"""`pitlane run`: the whole stack on this machine, every service its own process, supervised."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pitlane import SERVICE_CLASSES
from shared import config

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("PITLANE_STATE_DIR", ROOT / ".pitlane"))
LOGS = STATE / "logs"


def _say(message):
    print(f"[pitlane] {message}", flush=True)


class Child:
    """One supervised process; restarted with backoff if it dies while the stack runs."""

    def __init__(self, name, argv):
        self.name, self.argv = name, argv
        self.proc = None
        self.restarts = 0

    def start(self):
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     env=os.environ.copy())
        log.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()

    def wait(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _gateway_url():
    return f"http://127.0.0.1:{os.environ.get('PITLANE_GATEWAY_PORT', '8080')}"


def _wait_healthy(timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(_gateway_url() + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def _wait_services(timeout=60):
    from nameko.standalone.rpc import ClusterRpcProxy

    deadline = time.monotonic() + timeout
    pending = set(SERVICE_CLASSES)
    with ClusterRpcProxy(config.nameko_config(), timeout=2) as proxy:
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                try:
                    getattr(proxy, name).sla_figures()
                    pending.discard(name)
                except Exception:
                    pass
            time.sleep(0.5)
    return not pending


def run(load_demo=True) -> int:
    python = sys.executable
    subprocess.run([python, "-m", "pitlane.cli", "migrate"], cwd=ROOT, check=True)
    subprocess.run([python, "-m", "pitlane.cli", "topology", "--no-list"], cwd=ROOT, check=True)
    children = [Child(name, [python, "-m", "pitlane.serve", name]) for name in SERVICE_CLASSES]
    children.append(Child("gateway", [python, "-m", "gateway"]))
    for child in children:
        child.start()
    _say(f"started {', '.join(c.name for c in children)}; logs in {LOGS}")

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    if not _wait_services() or not _wait_healthy():
        _say(f"the stack did not come up; see {LOGS}")
        stopping = True
    elif load_demo:
        from pitlane import demo

        demo.main()
        _print_tokens()
    if not stopping:
        _say(f"API {_gateway_url()}/api/v1  metrics {_gateway_url()}/metrics  (Ctrl-C stops)")

    while not stopping:
        for child in children:
            if not child.alive() and not stopping:
                child.restarts += 1
                _say(f"{child.name} exited ({child.proc.returncode}); restarting")
                time.sleep(min(2 ** child.restarts, 30))
                child.start()
        time.sleep(1)

    _say("stopping")
    for child in children:
        child.stop()
    for child in children:
        child.wait(20)
    return 0


def _print_tokens():
    from gateway.auth import issue_token

    samples = [
        ("advisor", {"branch_id": "N1"}), ("technician", {"branch_id": "N1"}),
        ("parts_coordinator", {"region_id": "NORTH"}), ("operations", {}), ("admin", {}),
    ]
    path = STATE / "tokens.env"
    lines = []
    for role, scope in samples:
        token = issue_token(role, f"demo-{role}", ttl_seconds=7 * 24 * 3600, **scope)
        lines.append(f"{role.upper()}_TOKEN={token}")
    path.write_text("\n".join(lines) + "\n")
    _say(f"demo tokens (also in {path}; `source` it):")
    for line in lines:
        print("  " + line, flush=True)
