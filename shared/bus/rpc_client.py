"""An RPC client that speaks nameko's protocol over one AMQP connection shared by a process's threads.

nameko's standalone proxy holds a connection per thread, builds a publisher per call, waits
for the broker to confirm each request and then polls for the reply. Here one reader thread
takes every reply off one exclusive queue and hands it to the thread that waits for it, and a
request is one frame written under a lock:
- requests are transient and expire when the caller stops waiting, so a request stuck behind
  an outage is dropped by the broker rather than run after its caller got a 503;
- they are published `mandatory`: a service with no queue is reported at once (UnknownService),
  not after the timeout;
- a lost connection fails the calls waiting on it at once, and the next call connects again.
"""
import logging
import os
import threading
import time
import uuid

import amqp
from kombu.utils import json as wire_json
from nameko.exceptions import RpcTimeout, UnknownService, deserialize

from shared.bus.broker import Connection, connection_params

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"  # nameko's default; services declare it


class Disconnected(ConnectionError):
    """The broker connection broke while the call waited; the call may or may not have run."""


class _Pending:
    """One call's reply slot: a lock held from the start and released once the answer is in.

    A bare lock, not a threading.Event: Event.set and Event.wait go through a Condition in
    Python code, which was a tenth of a gateway worker's CPU; a lock is one C call each way.
    """

    __slots__ = ("done", "settled", "body", "error")

    def __init__(self):
        self.done = threading.Lock()
        self.done.acquire()
        self.settled = False
        self.body = None
        self.error = None

    def settle(self, body=None, error=None):
        if self.settled:  # the first answer counts (a reply, a return, a lost connection)
            return
        self.settled = True
        self.body, self.error = body, error
        try:
            self.done.release()
        except RuntimeError:  # settled twice at the same instant from two threads
            pass

    def wait(self, timeout: float) -> bool:
        return self.done.acquire(timeout=timeout)


class RpcClient:
    """nameko's RPC protocol on one connection that every thread of the process shares (see above).

    Heartbeats (every `heartbeat` seconds each way) show a broker that went silent: a
    connection that stops answering without closing (a dead host, a dropped route) fails its
    waiting calls with Disconnected after two missed heartbeats, and the next call connects
    anew, instead of every call timing out for as long as the process lives."""

    def __init__(self, uri: str, timeout: float = 5.0, exchange: str = RPC_EXCHANGE, name: str = "gateway",
                 heartbeat: int = 10):
        self.uri, self.timeout, self.exchange, self.name = uri, timeout, exchange, name
        self.heartbeat = heartbeat
        self._lock = threading.Lock()  # connecting and writing frames
        self._pending: dict[str, _Pending] = {}
        self._link = None  # (connection, channel, reply routing key), replaced after a failure
        self._reader = None

    def call(self, service: str, method: str, *args, context_data: dict | None = None, **kwargs):
        """service.method(*args, **kwargs); its typed errors are raised here as the service raised them.

        `context_data` travels as nameko's context headers ("nameko.<key>"): the service reads
        it as its worker's context data (the caller's branch scope, shared/scope.py).
        """
        correlation_id = str(uuid.uuid4())
        pending = self._pending[correlation_id] = _Pending()
        try:
            body = wire_json.dumps({"args": args, "kwargs": kwargs})
            with self._lock:
                conn, channel, reply_key = self._connected()
                message = amqp.Message(
                    body, content_type="application/json", content_encoding="utf-8", delivery_mode=1,
                    correlation_id=correlation_id, reply_to=reply_key,
                    expiration=str(int(self.timeout * 1000)),
                    application_headers={f"nameko.{k}": v for k, v in context_data.items()} if context_data else None,
                )
                try:
                    channel.basic_publish(message, exchange=self.exchange, routing_key=f"{service}.{method}",
                                          mandatory=True)
                except Exception:
                    self._drop(conn)
                    raise
            if not pending.wait(self.timeout):
                raise RpcTimeout(self.timeout)
        finally:
            self._pending.pop(correlation_id, None)
        if pending.error is not None:
            raise pending.error
        reply = wire_json.loads(pending.body)
        if reply.get("error"):
            raise deserialize(reply["error"])
        return reply.get("result")

    def close(self):
        """Close the connection; its reader thread says goodbye to the broker and ends."""
        with self._lock:
            self._link = None
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(timeout=3)

    # -- the connection and its reader --------------------------------------------------------------
    def _connected(self):
        if self._link is None:
            conn = Connection(**connection_params(self.uri), heartbeat=self.heartbeat, connect_timeout=5,
                              client_properties={"connection_name": f"{self.name} rpc client (pid {os.getpid()})"})
            conn.connect()
            try:
                channel = conn.channel()
                # as nameko declares it: a gateway that starts before any service still binds its queue
                channel.exchange_declare(self.exchange, "topic", durable=True, auto_delete=False)
                reply_key = str(uuid.uuid4())
                queue = f"rpc.reply-{self.name}-{reply_key}"
                channel.queue_declare(queue, exclusive=True, auto_delete=True)
                channel.queue_bind(queue, self.exchange, routing_key=reply_key)
                channel.basic_consume(queue, no_ack=True, callback=self._on_reply)
                channel.events["basic_return"].add(self._on_return)
            except BaseException:
                conn.collect()  # half set up: do not leave the connection open
                raise
            self._link = (conn, channel, reply_key)
            self._reader = threading.Thread(target=self._read, args=(conn,), name="rpc-replies", daemon=True)
            self._reader.start()
        return self._link

    def _current(self, conn) -> bool:
        return self._link is not None and self._link[0] is conn

    def _read(self, conn):
        """Hand each reply to its caller until the connection breaks or is closed."""
        ticked = time.monotonic()
        try:
            while self._current(conn):
                try:
                    conn.drain_events(timeout=0.5)
                except TimeoutError:
                    pass
                if time.monotonic() - ticked >= 0.5:
                    ticked = time.monotonic()
                    with self._lock:  # a heartbeat is a frame write, like a call's publish
                        conn.heartbeat_tick()  # raises ConnectionForced after two missed heartbeats
        except Exception as exc:
            if self._current(conn):
                log.warning("RPC connection lost: %s", exc)
            self._drop(conn)
        else:  # closed on purpose: part from the broker politely
            try:
                conn.close()
            except Exception:  # it broke meanwhile; nothing left to release
                conn.collect()

    def _drop(self, conn):
        """Forget a broken connection and fail whatever was waiting on it."""
        if self._current(conn):
            self._link = None
            for pending in list(self._pending.values()):
                pending.settle(error=Disconnected("the broker connection was lost"))
        try:
            conn.collect()
        except Exception:  # a socket already closed by the broker
            pass

    def _on_reply(self, message):
        pending = self._pending.get(message.properties.get("correlation_id"))
        if pending is not None:
            pending.settle(body=message.body)

    def _on_return(self, exc, exchange, routing_key, message):
        pending = self._pending.get(message.properties.get("correlation_id"))
        if pending is not None:
            pending.settle(error=UnknownService(routing_key.split(".")[0]))
