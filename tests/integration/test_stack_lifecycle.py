"""`pitlane run` as an operator meets it: Ctrl-C in its terminal stops it cleanly in seconds, and a
second `pitlane run` beside it says in one line what is wrong instead of starting anything."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from pitlane import SERVICE_CLASSES

from shared.storage.migrate import drop_database
from tests.support import infra

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_stack_env(tmp_path):
    """A vhost, a database and a state folder of this test's own, removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    vhost = f"pitlane-test-stack-{suffix}"
    dsn = os.environ["PITLANE_DSN"].rsplit("/", 1)[0] + f"/pitlane_test_stack_{suffix}"
    infra.create_vhost(vhost)
    env = {k: v for k, v in os.environ.items() if not (k.startswith("PITLANE_") and k.endswith("_DSN"))}
    env.update({
        "PITLANE_DSN": dsn,
        "PITLANE_AMQP_URI": os.environ["PITLANE_AMQP_URI"].rsplit("/", 1)[0] + f"/{vhost}",
        "PITLANE_STATE_DIR": str(tmp_path / "state"),
        "PITLANE_GATEWAY_PORT": str(_free_port()),
        "PITLANE_GATEWAY_WORKERS": "1",
        "PITLANE_DB_POOL": os.environ.get("PITLANE_DB_POOL", "3"),
    })
    yield env
    infra.delete_vhost(vhost)
    drop_database(dsn)


class Run:
    """`pitlane run --no-demo` in a session of its own, as in a terminal: its output collected."""

    def __init__(self, env):
        self.lines = []
        self.proc = subprocess.Popen([sys.executable, "-m", "pitlane.cli", "run", "--no-demo"], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self):
        return "".join(self.lines)

    def wait_up(self, timeout=120):
        infra.wait_for(lambda: "Ctrl-C stops" in self.output or self.proc.poll() is not None,
                       timeout=timeout, interval=0.2, message="the stack to come up")
        assert "Ctrl-C stops" in self.output, self.output

    def ctrl_c(self):
        """What a terminal does on Ctrl-C: SIGINT to every process of its foreground group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def end(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _processes_of(vhost_uri: str) -> list[int]:
    """Processes still running with this stack's broker URI in their environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"PITLANE_AMQP_URI={vhost_uri}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _refused_start(env) -> tuple[int, str]:
    """A `pitlane run` expected to refuse at once: its exit status and output (whatever it started is
    killed with it if it did not refuse)."""
    proc = subprocess.Popen([sys.executable, "-m", "pitlane.cli", "run", "--no-demo"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"a second `pitlane run` did not refuse within 30 s:\n{out.decode(errors='replace')}")
    return proc.returncode, out.decode(errors="replace").strip()


def test_ctrl_c_stops_the_stack_in_seconds_without_a_traceback_and_a_second_run_says_why_not(own_stack_env):
    env = own_stack_env
    first = Run(env)
    try:
        first.wait_up()
        # a second `pitlane run` beside it: one line, what is wrong and what to do, non-zero, nothing started
        code, said = _refused_start(env)
        assert code != 0 and "Traceback" not in said and len(said.splitlines()) == 1, said
        assert "already running" in said and "Ctrl-C" in said, said
        # the same without the pid file (another checkout, say): the gateway's port is taken
        other_state = {**env, "PITLANE_STATE_DIR": env["PITLANE_STATE_DIR"] + "-other"}
        code, said = _refused_start(other_state)
        assert code != 0 and "Traceback" not in said and len(said.splitlines()) == 1, said
        assert f"port {env['PITLANE_GATEWAY_PORT']}" in said and "PITLANE_GATEWAY_PORT" in said, said

        time.sleep(2)  # every process past its start-up
        began = time.monotonic()
        first.ctrl_c()
        first.proc.wait(timeout=60)
        took = time.monotonic() - began
    finally:
        first.end()
    logs = {path.name: path.read_text(errors="replace") for path in (Path(env["PITLANE_STATE_DIR"]) / "logs").glob("*.log")}
    assert took < 10, f"stopping took {took:.1f} s\n{first.output}"
    assert first.proc.returncode == 0, first.output
    assert "Traceback" not in first.output, first.output
    assert sorted(logs) == sorted([f"{name}.log" for name in SERVICE_CLASSES] + ["gateway.log"])
    for name, text in logs.items():
        assert "Traceback" not in text, f"{name}:\n{text[-4000:]}"
    assert _processes_of(env["PITLANE_AMQP_URI"]) == []
    assert not (Path(env["PITLANE_STATE_DIR"]) / "run.pid").exists()
