"""RPC helpers: entrypoints that declare our typed errors, and schema validation at the edge."""
import logging
import uuid

import amqp
import kombu.exceptions
from marshmallow import Schema, ValidationError
from nameko.rpc import Rpc

from shared import errors

log = logging.getLogger(__name__)
BROKER_GONE = (OSError, kombu.exceptions.KombuError, amqp.exceptions.AMQPError)


class PitlaneRpc(Rpc):
    """nameko's RPC entrypoint, except that a reply lost to a broker outage does not kill the service.

    nameko lets the failed reply publish escape, and the container dies with it. The work is
    done (or rolled back) by then; the caller times out and gets a 503, so log and carry on.
    """

    def handle_result(self, message, worker_ctx, result, exc_info):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_GONE as exc:
            log.warning("could not reply to %s: %s; the caller will time out", worker_ctx.call_id, exc)
            return result, exc_info


# Every @rpc of ours names the errors it raises on purpose, so nameko logs them as expected.
rpc = PitlaneRpc.decorator(expected_exceptions=errors.EXPECTED)


def record_id(value, name: str) -> uuid.UUID:
    """The UUID of a record named in a call; anything else is no such record (404), not a crash."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        label = name.replace("_", " ")
        raise errors.NotFound(f"no such {label}", {f"{name}_id": [f"not a {label} id"]}) from None


def load(schema: Schema, data, **kwargs):
    """Validate input with a marshmallow schema; bad input raises ValidationFailed with fields."""
    if data is None or not isinstance(data, (dict, list)):
        raise errors.ValidationFailed("invalid input", {"_schema": ["expected a JSON object"]})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise errors.from_marshmallow(exc) from exc
