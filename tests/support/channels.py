"""The customer's channels for tests: a real SMTP server (aiosmtpd) and a local HTTP receiver standing in
for an SMS/chat provider ({to, text, reference} as JSON). The crm process reaches them through the
settings `configure()` puts in the environment before any service process starts (tests/conftest.py).

Both run in a child process of their own (`python -m tests.support.channels <dir> <smtp> <sms>`) that
writes what arrives to a directory the test reads: the test process may be monkey-patched by eventlet
(nameko's test helpers), under which an in-process asyncio loop or selector thread would block it."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SMS_TOKEN = "test-sms-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure():
    """Choose the ports and name them in the environment (inherited by every service process)."""
    os.environ.setdefault("PITLANE_TEST_SMTP_PORT", str(free_port()))
    os.environ.setdefault("PITLANE_TEST_SMS_PORT", str(free_port()))
    os.environ["PITLANE_SMTP_HOST"] = "127.0.0.1"
    os.environ["PITLANE_SMTP_PORT"] = os.environ["PITLANE_TEST_SMTP_PORT"]
    os.environ["PITLANE_SMTP_TLS"] = "none"
    os.environ["PITLANE_SMTP_FROM"] = "service@pitlane.test"
    os.environ["PITLANE_SMS_URL"] = f"http://127.0.0.1:{os.environ['PITLANE_TEST_SMS_PORT']}/sms"
    os.environ["PITLANE_SMS_TOKEN"] = SMS_TOKEN
    os.environ.setdefault("PITLANE_MESSAGE_RETRY_DELAYS", "0.3,0.3,0.3")
    os.environ.setdefault("PITLANE_MESSAGE_SEND_INTERVAL", "0.2")


def _records(folder: Path) -> list[dict]:
    """The JSON records in `folder`, in arrival order (files are named by a counter and written whole)."""
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"), key=lambda p: int(p.stem))]


class Mailbox:
    """What the SMTP server received, read from the child's directory."""

    def __init__(self, root: Path):
        self.folder = root / "mail"

    def to(self, address: str) -> list:
        return [message_from_bytes(bytes.fromhex(r["raw"]), policy=policy.default)
                for r in _records(self.folder) if address in r["rcpts"]]


class SmsReceiver:
    """The provider's requests, read from the child's directory; `fail(to, n)` makes it answer 500 to the
    next n requests for a number, then 200."""

    def __init__(self, root: Path):
        self.folder, self.failing = root / "sms", root / "fail"

    def fail(self, to: str, times: int):
        (self.failing / to.replace("/", "_")).write_text(str(times))

    def to(self, number: str) -> list[dict]:
        return [r for r in _records(self.folder) if r["body"].get("to") == number]


_started: dict = {}


def start() -> dict:
    """Start both (once per run) on the configured ports: {"mailbox", "sms"}."""
    if _started:
        return _started
    root = Path(tempfile.mkdtemp(prefix="pitlane-channels-"))
    smtp, sms = os.environ["PITLANE_TEST_SMTP_PORT"], os.environ["PITLANE_TEST_SMS_PORT"]
    child = subprocess.Popen([sys.executable, "-m", "tests.support.channels", str(root), smtp, sms],
                             cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 20
    for port in (int(smtp), int(sms)):
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    child.kill()
                    shutil.rmtree(root, ignore_errors=True)
                    raise RuntimeError(f"the test channels did not start (exit {child.poll()})")
                time.sleep(0.05)
    _started.update(mailbox=Mailbox(root), sms=SmsReceiver(root), child=child, root=root)
    return _started


def stop():
    if _started:
        _started["child"].terminate()
        try:
            _started["child"].wait(10)
        except subprocess.TimeoutExpired:
            _started["child"].kill()
        shutil.rmtree(_started["root"], ignore_errors=True)
        _started.clear()


# -- the child process ----------------------------------------------------------------------------------
class _Recorder:
    """Writes each arrival as <counter>.json, whole (written aside, then renamed)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.count, self.lock = folder, 0, threading.Lock()

    def write(self, record: dict):
        with self.lock:
            self.count += 1
            aside = self.folder / f".{self.count}.tmp"
            aside.write_text(json.dumps(record))
            aside.rename(self.folder / f"{self.count}.json")


def _sms_handler(recorder: _Recorder, failing: Path):
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            control = failing / str(body.get("to", "")).replace("/", "_")
            with lock:
                left = int(control.read_text()) if control.exists() else 0
                if left > 0:
                    control.write_text(str(left - 1))
            status = 500 if left > 0 else 200
            recorder.write({"body": body, "status": status, "authorization": self.headers.get("Authorization")})
            answer = json.dumps({"id": body.get("reference"), "status": "queued" if status == 200 else "error"})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args):
            pass

    return Handler


def _serve(root: Path, smtp_port: int, sms_port: int):
    import signal

    from aiosmtpd.controller import Controller

    mail = _Recorder(root / "mail")
    (root / "fail").mkdir(exist_ok=True)

    class MailHandler:
        async def handle_DATA(self, server, session, envelope):
            mail.write({"rcpts": list(envelope.rcpt_tos),
                        "raw": (envelope.original_content or envelope.content).hex()})
            return "250 Message accepted for delivery"

    controller = Controller(MailHandler(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    server = ThreadingHTTPServer(("127.0.0.1", sms_port), _sms_handler(_Recorder(root / "sms"), root / "fail"))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
