"""A webhook receiver for tests: a real HTTP server on a free port that verifies each delivery with the
`standardwebhooks` package, as an integrator's would, and misbehaves when told to."""
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    """An HTTP receiver on a free port. `behave(event_id, tries_so_far)` says what it does with a request:
    "ok" (verify, keep, 200), "500", "hang" (answer after the sender's timeout) or "drop" (close unanswered)."""

    def __init__(self, behave=lambda event_id, tries: "ok", hang_seconds=3.0):
        self.behave = behave
        self.secret = None
        self.refused = 0  # requests whose signature did not verify
        self.accepted: list[dict] = []  # verified and answered 200, in the order they came
        self.tries: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                event_id = self.headers.get("webhook-id")
                with receiver.lock:
                    tries = receiver.tries.get(event_id, 0)
                    receiver.tries[event_id] = tries + 1
                what = receiver.behave(event_id, tries)
                if what == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if what == "hang":
                    time.sleep(hang_seconds)
                if what in ("500", "hang"):
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    event = Webhook(receiver.secret).verify(body, dict(self.headers))
                except WebhookVerificationError as exc:
                    with receiver.lock:
                        receiver.refused += 1
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(str(exc).encode())
                    return
                with receiver.lock:
                    receiver.accepted.append({**event, "_type": self.headers["pitlane-event-type"],
                                              "_id": event_id, "_at": time.monotonic()})
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def counts(self) -> dict:
        """How many times each event was accepted."""
        with self.lock:
            return dict(Counter(e["_id"] for e in self.accepted))

    def ids(self) -> set:
        with self.lock:
            return {e["_id"] for e in self.accepted}

    def close(self):
        self.server.shutdown()
        self.server.server_close()
