"""RPC helpers: entrypoints that declare our typed errors and reply cheaply, and schema validation."""
import inspect
import logging
import sys
import uuid

import amqp
import kombu.exceptions
from kombu.utils import json as wire_json
from marshmallow import Schema, ValidationError
from nameko.exceptions import IncorrectSignature, UnserializableValueError, serialize
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from shared import errors
from shared.broker import PublishFailed, ReplyPublisher

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


class PitlaneRpcConsumer(RpcConsumer):
    """nameko's RPC consumer with a leaner reply: one long-lived channel, transient, unconfirmed.

    nameko builds a publisher per reply, takes a pooled producer and waits for the broker to
    confirm a message that only a waiting caller cares about. Here a reply costs one frame
    write. A reply lost to a broker outage does not kill the service either (nameko lets that
    publish error escape and the container dies): the work is done or rolled back by then, and
    the caller times out with a 503.
    """

    def setup(self):
        super().setup()
        self.exchange_name = get_rpc_exchange(self.container.config).name
        self.replies = ReplyPublisher(self.container.config["AMQP_URI"])

    def stop(self):
        super().stop()  # returns once every worker has replied
        self.replies.close()

    def kill(self):
        self.replies.close()

    def handle_result(self, message, result, exc_info):
        body, result, exc_info = reply_body(result, exc_info)
        properties = message.properties
        try:
            self.replies.publish(self.exchange_name, properties["reply_to"], body, properties.get("correlation_id"))
        except PublishFailed as exc:
            log.warning("could not reply to %s: %s; the caller will time out", properties.get("correlation_id"), exc)
        try:
            self.queue_consumer.ack_message(message)
        except BROKER_GONE as exc:
            log.warning("could not ack an RPC request (%s); the broker will redeliver it", exc)
        return result, exc_info


class PitlaneRpc(Rpc):
    """nameko's RPC entrypoint on the lean consumer above.

    The arguments are checked against the method's signature as nameko does, but with the
    signature read once: nameko's inspect.getcallargs rebuilds it on every call.
    """

    rpc_consumer = PitlaneRpcConsumer()

    def check_signature(self, args, kwargs):
        signature = self.__dict__.get("_signature")
        if signature is None:
            signature = self._signature = inspect.signature(getattr(self.container.service_cls, self.method_name))
        try:
            signature.bind(None, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


# Every @rpc of ours names the errors it raises on purpose, so nameko logs them as expected.
rpc = PitlaneRpc.decorator(expected_exceptions=errors.EXPECTED)


def record_id(value, name: str) -> uuid.UUID:
    """The UUID of a record named in a call; anything else is no such record (404), not a crash."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        label = name.replace("_", " ")
        raise errors.NotFound(f"no such {label}", {f"{name}_id": [f"not a {label} id"]}) from None


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
