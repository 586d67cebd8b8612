"""The console's way to the API: every read and every action is a request to the same routes an
integrator calls, with the signed-in person's own token, inside this process.

So a screen can show only what the API answers that person (the same role, scope and branch
checks), and every action is audited, idempotent where a key is sent, and refused with the same
message as over HTTP. Nothing here reaches a service on its own.
"""
from dataclasses import dataclass, field

from flask import current_app

from gateway.routes import API


@dataclass
class Refused(Exception):
    """The API said no: its status, message and field messages, shown on the screen as they are."""

    status: int
    message: str
    fields: dict = field(default_factory=dict)

    def __str__(self):
        return self.message

    @property
    def reasons(self) -> list[str]:
        out = []
        for name, messages in (self.fields or {}).items():
            for message in messages if isinstance(messages, list) else [messages]:
                out.append(f"{name}: {message}" if isinstance(message, str) else f"{name}: {message!r}")
        return out


class Api:
    """The API as one caller: a signed-in person's token, or none for the customer's public routes."""

    def __init__(self, token: str | None, client_address: str | None = None):
        self.token = token
        self.client_address = client_address

    def get(self, path: str, root: bool = False, **query):
        return self.call("GET", path, query={k: v for k, v in query.items() if v is not None}, root=root)

    def post(self, path: str, body=None, key: str | None = None, root: bool = False, **query):
        return self.call("POST", path, body=body if body is not None else {}, key=key, query=query or None, root=root)

    def delete(self, path: str, **query):
        return self.call("DELETE", path, query=query or None)

    def call(self, method: str, path: str, body=None, query=None, key: str | None = None, root: bool = False):
        """`root`: the path is outside /api/v1 (the customer's signed link)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key:
            headers["Idempotency-Key"] = key
        environ = {"REMOTE_ADDR": self.client_address or "127.0.0.1"}
        with current_app.test_client() as client:
            response = client.open(path if root else API + path, method=method, json=body, query_string=query or None,
                                   headers=headers, environ_base=environ)
        data = response.get_json(silent=True)
        if response.status_code >= 400:
            error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
            raise Refused(response.status_code, error.get("message") or response.status, error.get("fields") or {})
        return data

    def pages(self, path: str, limit: int = 200, most: int = 1000, **query):
        """Every item of a paged list, page by page, up to `most` items."""
        items, cursor = [], None
        while len(items) < most:
            page = self.get(path, limit=limit, cursor=cursor, **query)
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return items[:most]
