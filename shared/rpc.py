"""RPC helpers: entrypoints that declare our typed errors, and schema validation at the edge."""
from marshmallow import Schema, ValidationError
from nameko.rpc import rpc as nameko_rpc

from shared import errors

# Every @rpc of ours names the errors it raises on purpose, so nameko logs them as expected.
rpc = nameko_rpc(expected_exceptions=errors.EXPECTED)


def load(schema: Schema, data, **kwargs):
    """Validate input with a marshmallow schema; bad input raises ValidationFailed with fields."""
    if data is None or not isinstance(data, (dict, list)):
        raise errors.ValidationFailed("invalid input", {"_schema": ["expected a JSON object"]})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise errors.from_marshmallow(exc) from exc
