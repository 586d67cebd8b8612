"""The broker's names and a publisher that pipelines messages and waits for the broker's confirms."""
import json
import logging
import socket
import threading
import time
from typing import NamedTuple
from urllib.parse import unquote, urlparse

import amqp

from shared import config

log = logging.getLogger(__name__)

EVENTS_EXCHANGE = "pitlane.events"
DEAD_LETTER_QUEUE = "pitlane.dead_letters"
RETRY_PREFIX = "pitlane.retry"
# Sites (docs/sites.md): events for the other sites leave through sites.outbound, whose queue per linked
# site (pitlane.sites.to.<site>) a shovel empties into that site's sites.events.
SITES_OUTBOUND = "sites.outbound"
SITES_INBOUND_OWNER = "sites"  # nameko names the exchange "<owner>.events": sites.events
SITES_INBOUND = f"{SITES_INBOUND_OWNER}.events"


def site_queue(site: str) -> str:
    """The queue where events for `site` wait for the shovel (and through a cut of the link)."""
    return f"pitlane.sites.to.{site}"


def retry_queue(delay: float) -> str:
    return f"{RETRY_PREFIX}.{int(delay * 1000)}ms"


def queue_arguments(dead_letters: bool = True) -> dict:
    """The arguments of a durable event queue of the configured type (config.queue_type).

    A quorum queue is replicated across a cluster's nodes and counts deliveries: a message redelivered
    `config.delivery_limit()` times (its consumer died with it, again and again) is dead-lettered to
    pitlane.dead_letters instead of looping. A handler's failure never counts: the consumer acks it
    once its copy waits in a retry queue (Redelivery)."""
    if config.queue_type() != "quorum":
        return {}
    arguments = {"x-queue-type": "quorum"}
    if dead_letters:
        arguments.update({"x-delivery-limit": config.delivery_limit(), "x-dead-letter-exchange": "",
                          "x-dead-letter-routing-key": DEAD_LETTER_QUEUE})
    return arguments


def connection_params(uri: str) -> dict:
    url = urlparse(uri)
    vhost = unquote(url.path[1:]) if url.path and url.path != "/" else "/"
    return {
        "host": f"{url.hostname or '127.0.0.1'}:{url.port or 5672}",
        "userid": unquote(url.username or "guest"),
        "password": unquote(url.password or "guest"),
        "virtual_host": vhost,
    }


class PublishFailed(Exception):
    """The broker refused (nack) or did not confirm the batch in time; nothing may be marked sent."""


class Connection(amqp.Connection):
    """py-amqp's connection without `connection.blocked`.

    With that capability py-amqp reads the socket inside every publish (a drain with a zero
    timeout): a syscall per message for a publisher, and a corrupted stream for a connection
    that another thread reads. A broker that blocks publishers is seen instead as confirms or
    replies that do not come in time.
    """

    negotiate_capabilities = {**amqp.Connection.negotiate_capabilities, "connection.blocked": False}


class _Channel:
    """One AMQP connection and channel that publishes, made on first use and again after a failure."""

    def __init__(self, uri: str):
        self.uri = uri
        self._conn = None
        self._channel = None
        self._lock = threading.Lock()

    def _open(self):
        conn = Connection(**connection_params(self.uri), heartbeat=0, connect_timeout=5)
        conn.connect()
        return conn, conn.channel()

    def close(self):
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # the connection is already gone; nothing to release
                pass

    def _peer_closed(self) -> bool:
        """True when the broker closed our socket (it restarted): a write would vanish unseen."""
        sock = getattr(self._conn.transport, "sock", None)
        if sock is None:
            return True
        sock = getattr(sock, "fd", sock)  # under eventlet, the real socket: a green recv would wait for data
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True


class ReplyPublisher(_Channel):
    """Publishes RPC replies: transient, unconfirmed, on one long-lived channel.

    A reply is worth nothing once its caller has given up, so it is neither written to disk nor
    confirmed; if it is lost the caller times out, exactly as it would if the broker lost a
    confirmed one. Safe to share between a process's (green) threads.
    """

    def publish(self, exchange: str, routing_key: str, body: str, correlation_id: str | None):
        msg = amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                           delivery_mode=1, correlation_id=correlation_id)
        with self._lock:
            try:
                if self._conn is None or self._peer_closed():
                    self.close()
                    self._conn, self._channel = self._open()
                self._channel.basic_publish(msg, exchange=exchange, routing_key=routing_key)
            except Exception as exc:
                self.close()
                raise PublishFailed(f"{exc.__class__.__name__}: {exc}") from exc


class JsonText(NamedTuple):
    """A message body that is JSON already (an outbox row's payload as stored), and its id."""

    text: str
    message_id: str | None


class ConfirmingPublisher(_Channel):
    """Publishes a batch, then waits for the broker's acks of the whole batch.

    One persistent publish waited on at a time runs near 900 msg/s here; a pipelined batch
    confirmed together runs an order of magnitude faster. Not thread-safe: one per relay.
    """

    def __init__(self, uri: str, confirm_timeout: float = 10.0):
        super().__init__(uri)
        self.confirm_timeout = confirm_timeout
        self._pending: set[int] = set()
        self._nacked = False
        self._next_tag = 1

    def _connect(self):
        conn, channel = self._open()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True, auto_delete=False)
        channel.exchange_declare(SITES_OUTBOUND, "topic", durable=True, auto_delete=False)
        self._conn, self._channel, self._next_tag = conn, channel, 1
        self._pending.clear()

    def _on_ack(self, delivery_tag, multiple):
        if multiple:
            self._pending = {t for t in self._pending if t > delivery_tag}
        else:
            self._pending.discard(delivery_tag)

    def _on_nack(self, delivery_tag, multiple):
        self._nacked = True
        self._on_ack(delivery_tag, multiple)

    def publish(self, messages: list[tuple[str, str, dict | JsonText, dict]]):
        """Publish (exchange, routing_key, body, headers) tuples; return once all are confirmed.

        A body is a dict (sent as JSON, its "event_id" as the message id) or JsonText."""
        with self._lock:
            try:
                self._publish(messages)
            except PublishFailed:
                self.close()
                raise
            except Exception as exc:
                self.close()
                raise PublishFailed(f"{exc.__class__.__name__}: {exc}") from exc

    def _publish(self, messages):
        if self._conn is None:
            self._connect()
        self._nacked = False
        for exchange, routing_key, body, headers in messages:
            if isinstance(body, JsonText):
                text, message_id = body
            else:
                text, message_id = json.dumps(body), body.get("event_id") if isinstance(body, dict) else None
            msg = amqp.Message(
                text,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                application_headers=headers or None,
                message_id=message_id,
            )
            self._channel.basic_publish(msg, exchange=exchange, routing_key=routing_key)
            self._pending.add(self._next_tag)
            self._next_tag += 1
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishFailed(f"{len(self._pending)} messages unconfirmed")
            try:
                self._conn.drain_events(timeout=remaining)
            except TimeoutError:
                continue
        if self._nacked:
            raise PublishFailed("broker refused a message")
