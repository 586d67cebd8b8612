"""RPC helpers: entrypoints that declare our typed errors and reply cheaply, and schema validation."""
import inspect
import logging
import sys
import time
import uuid
from contextlib import contextmanager
from functools import partial

import amqp
import kombu.exceptions
from kombu.utils import json as wire_json
from marshmallow import Schema, ValidationError
from nameko.exceptions import ContainerBeingKilled, IncorrectSignature, MalformedRequest, UnserializableValueError, serialize
from nameko.messaging import QueueConsumer
from nameko.rpc import ReplyListener, Rpc, RpcConsumer, RpcProxy, get_rpc_exchange

from shared.contracts import errors
from shared.bus.broker import PublishFailed, ReplyPublisher
from shared.domain import DomainError
from shared.storage.unit_of_work import CarriedOut, RpcRequest

log = logging.getLogger(__name__)
BROKER_GONE = (OSError, kombu.exceptions.KombuError, amqp.exceptions.AMQPError, PublishFailed)


def reply_body(result, exc_info):
    """nameko's reply payload as JSON; a result that cannot be sent becomes an error that can."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    try:
        return wire_json.dumps({"result": result, "error": error}), result, exc_info
    except Exception:
        exc_info = sys.exc_info()
        error = serialize(UnserializableValueError(result))
        return wire_json.dumps({"result": None, "error": error}), None, exc_info


class ReconnectingQueueConsumer(QueueConsumer):
    """nameko's queue consumer, reconnecting every 0.5 to 2 s: nameko's own uses kombu's default
    backoff (2 s, growing to 30 s), so a service could stay deaf for half a minute after the
    broker is back. Every consumer of ours (RPC requests, events, replies) declares this one."""

    @contextmanager
    def establish_connection(self):
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries,
                                   interval_start=0.5, interval_step=0.5, interval_max=2)
            yield conn


class ServiceReplies(ReplyListener):
    queue_consumer = ReconnectingQueueConsumer()


class ServiceRpcProxy(RpcProxy):
    """nameko's RpcProxy (one service asking another), on the reconnecting consumer above."""

    rpc_reply_listener = ServiceReplies()


class PitlaneRpcConsumer(RpcConsumer):
    """nameko's RPC consumer with a leaner reply: one long-lived channel, transient, unconfirmed.

    nameko builds a publisher per reply, takes a pooled producer and waits for the broker to
    confirm a message that only a waiting caller cares about. Here a reply costs one frame
    write. A reply lost to a broker outage does not kill the service either (nameko lets that
    publish error escape and the container dies): the work is done or rolled back by then, and
    the caller times out with a 503.
    """

    queue_consumer = ReconnectingQueueConsumer()

    def setup(self):
        super().setup()
        self.exchange_name = get_rpc_exchange(self.container.config).name
        self.replies = ReplyPublisher(self.container.config["AMQP_URI"])

    def stop(self):
        super().stop()  # returns once every worker has replied
        self.replies.close()

    def kill(self):
        self.replies.close()

    def handle_result(self, message, result, exc_info, request: RpcRequest | None = None):
        body, result, exc_info = reply_body(result, exc_info)
        if request is not None and not request.finish(body):  # the command commits with its answer
            failed = errors.Unavailable("the change could not be committed; nothing was changed, retry")
            body, result, exc_info = reply_body(None, (type(failed), failed, None))
        self.answer(message, body)
        return result, exc_info

    def answer(self, message, body: str):
        """Send `body` to the caller, then acknowledge the request."""
        properties = message.properties
        try:
            self.replies.publish(self.exchange_name, properties["reply_to"], body, properties.get("correlation_id"))
        except PublishFailed as exc:
            log.warning("could not reply to %s: %s; the caller will time out", properties.get("correlation_id"), exc)
        try:
            self.queue_consumer.ack_message(message)
        except BROKER_GONE as exc:
            log.warning("could not ack an RPC request (%s); the broker will redeliver it", exc)


def _stored_replies(container):
    """The service's RpcReplies (its Database dependency's), or None for a service without one."""
    return next((d.replies for d in container.dependencies if hasattr(d, "replies")), None)


# Context a caller may send with a command (nameko context data, AMQP headers "nameko.<key>"):
COMMAND = "command_id"  # one command however often it is sent (the gateway: the caller's Idempotency-Key)
DEADLINE = "deadline"  # epoch seconds after which the caller no longer waits: the command is not started

ANSWER_LOST = ("this request was carried out before the service restarted, and its answer was lost;"
               " read the record to see its state")


class PitlaneRpc(Rpc):
    """nameko's RPC entrypoint on the lean consumer above, answering a redelivered command once.

    The broker delivers a request again when the service that had it died before acknowledging
    it, and the first delivery may have committed by then: run again, a payment would find its
    invoice paid and answer 409, a partial payment would be recorded twice. So a worker's write
    transaction commits only with the request's answer, kept in `rpc_replies` in the same trip
    as the COMMIT (shared/storage/unit_of_work.py, UnitOfWork), and a redelivered request whose answer is there is
    answered from it without running. A request that never committed runs as if new. (A request
    whose first of two write transactions committed, and no answer, gets a 409 saying so.)

    The arguments are checked against the method's signature as nameko does, but with the
    signature read once: nameko's inspect.getcallargs rebuilds it on every call.
    """

    rpc_consumer = PitlaneRpcConsumer()

    def handle_message(self, body, message):
        """nameko's, with the request handed to the worker (and a redelivery answered first)."""
        context_data = self.unpack_message_headers(message)
        deadline = context_data.get(DEADLINE)
        if isinstance(deadline, (int, float)) and time.time() > deadline:
            # the caller stopped waiting before the command started (it sat in a stopped service's
            # prefetch): it is not started; a retry with the same command id runs it once
            self._refuse(message, errors.Unavailable("the caller gave up before the command started;"
                                                     " nothing was done", {}))
            return
        command = context_data.get(COMMAND)
        key = f"command:{command}" if isinstance(command, str) and command else message.properties.get("correlation_id")
        if key and (command or message.delivery_info.get("redelivered")) and self._answered_again(message, key):
            return
        try:
            args, kwargs = body["args"], body["kwargs"]
        except KeyError:
            raise MalformedRequest("Message missing `args` or `kwargs`") from None
        self.check_signature(args, kwargs)
        try:
            worker_ctx = self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                                     handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.rpc_consumer.requeue_message(message)
            return
        # The worker is scheduled, not started (eventlet switches only when this thread waits):
        # it finds its request here when its dependencies are injected.
        worker_ctx.pitlane_request = RpcRequest(key, claim=bool(command)) if key else None

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and isinstance(exc_info[1], CarriedOut):
            # another request of the same command committed while this one waited for its claim
            if self._answered_again(message, str(exc_info[1])):
                return None, None
        exc_info = errors.at_the_edge(exc_info)  # a rule's plain refusal becomes its typed error here, once
        return self.rpc_consumer.handle_result(message, result, exc_info, getattr(worker_ctx, "pitlane_request", None))

    def _refuse(self, message, error: errors.PitlaneError):
        self.rpc_consumer.answer(message, reply_body(None, (type(error), error, None))[0])

    def _answered_again(self, message, correlation_id) -> bool:
        replies = _stored_replies(self.container)
        if replies is None:
            return False
        try:
            committed, body = replies.lookup(correlation_id)
        except Exception as exc:  # the database is away: run it, and let the command meet that
            log.warning("could not look up the answer to redelivered %s: %s", correlation_id, exc)
            return False
        if not committed:
            return False  # the first delivery did not commit: it runs now, once
        if body is None:
            lost = errors.Conflict(ANSWER_LOST, {"request": ["already carried out"]})
            body = reply_body(None, (type(lost), lost, None))[0]
        log.warning("%s.%s: request %s came again after it committed; answered without running it",
                    self.container.service_name, self.method_name, correlation_id)
        self.rpc_consumer.answer(message, body)
        return True

    def check_signature(self, args, kwargs):
        signature = self.__dict__.get("_signature")
        if signature is None:
            signature = self._signature = inspect.signature(getattr(self.container.service_cls, self.method_name))
        try:
            signature.bind(None, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


# Every @rpc of ours names the errors it raises on purpose, so nameko logs them as expected.
rpc = PitlaneRpc.decorator(expected_exceptions=errors.EXPECTED + (DomainError, CarriedOut))


def record_id(value, name: str) -> uuid.UUID:
    """The UUID of a record named in a call; anything else is no such record (404), not a crash."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        label = name.replace("_", " ")
        raise errors.NotFound(f"no such {label}", {f"{name}_id": [f"not a {label} id"]}) from None


def ask(owner: str, about: str, call, *args, none_for=(errors.NotFound,), seconds: float = 3.0):
    """`call(*args)` on another service, about a record `owner` keeps: its answer, None when it
    answers with one of `none_for`, Unavailable when it does not answer within `seconds`."""
    import eventlet

    try:
        with eventlet.Timeout(seconds):
            return call(*args)
    except none_for:
        return None
    except eventlet.Timeout:
        raise errors.Unavailable(f"{owner} did not answer about {about}") from None


_schemas: dict[type, Schema] = {}


def load(schema: type[Schema] | Schema, data, **kwargs):
    """Validate input with a marshmallow schema; bad input raises ValidationFailed with fields.

    Given a schema class, one instance of it serves every call: making a schema copies all its
    fields, which costs more than many a load.
    """
    if isinstance(schema, type):
        schema = _schemas.get(schema) or _schemas.setdefault(schema, schema())
    if data is None or not isinstance(data, (dict, list)):
        raise errors.ValidationFailed("invalid input", {"_schema": ["expected a JSON object"]})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise errors.from_marshmallow(exc) from exc
