"""The gateway as a real HTTP server (gunicorn) for tests, and an HTTP client with a token."""
import os
import socket
import subprocess
import sys
import time

import requests

from gateway.auth import issue_token
from tests.support.infra import ROOT, wait_for


def metric(gateway, name, **labels) -> float:
    """One sample of the gateway's /metrics whose labels include `labels` (0 when there is none)."""
    text = requests.get(gateway.url + "/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayProcess:
    def __init__(self, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PITLANE_GATEWAY_PORT": str(self.port), "PITLANE_GATEWAY_WORKERS": "2",
                    "PITLANE_GATEWAY_THREADS": "8", **(env or {})}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log_path = ROOT / ".test-logs" / f"gateway-{self.port}.log"

    def start(self):
        self.log_path.parent.mkdir(exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_path.read_text()[-3000:])
            try:
                return requests.get(self.url + "/healthz", timeout=2).status_code in (200, 503)
            except (requests.ConnectionError, requests.Timeout):
                # gunicorn listens before its workers have loaded the app: a first request waits
                # in the accept queue meanwhile (0.6 to 4 s on a slow machine), which is not up yet
                return False

        wait_for(up, timeout=30, interval=0.2, message="the gateway to listen")
        return self

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


class ApiCalls:
    """`ok`: a call that must succeed, on top of a client's `get` and `post`."""

    def ok(self, method, path, body=None, status=None, **params):
        response = self.get(path, **params) if method == "GET" else self.post(path, body)
        expected = status or (200 if method == "GET" else (200, 201))
        assert response.status_code in (expected if isinstance(expected, tuple) else (expected,)), \
            f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json()


class Api(ApiCalls):
    """requests against /api/v1 as one caller; raises nothing, returns the response."""

    def __init__(self, base_url, token=None):
        self.base = base_url.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def as_role(cls, base_url, role, subject=None, **scope):
        """A caller with `role`; `subject` is the name it acts under (who did it comes from the token)."""
        subject = subject or f"test-{role}-{time.time_ns()}"
        api = cls(base_url, issue_token(role, subject, **scope))
        api.subject, api.role, api.scope = subject, role, scope
        return api

    def another(self, subject=None):
        """A colleague with the same role and scope: journeys run side by side each need their own
        technician, since one technician's clock runs on one job at a time."""
        return Api.as_role(self.base.removesuffix("/api/v1"), self.role, subject, **self.scope)

    def get(self, path, **params):
        return self.session.get(self.base + path, params=params, timeout=30)

    def post(self, path, body=None, headers=None):
        return self.session.post(self.base + path, json=body, headers=headers or {}, timeout=30)
