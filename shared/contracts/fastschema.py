"""marshmallow schemas with a fast path for the plain cases, and marshmallow itself for the rest.

marshmallow walks every field through several layers of calls, closures and an error store;
for a repair order with its children, or an event validated where it is published and again
where it is handled, that walk was a tenth of a service's CPU. `Schema` here compiles each
schema, once, into a plan: per field, its key, its defaults and a converter for its type, run
by one loop.

The plan only ever vouches for input it is sure of. Any value it is not sure of (a string
where an integer is declared, a missing required field, a failed validator, a type it has no
converter for) raises `NotPlanned`, and marshmallow then loads the same data from the start: so
every error, and every result the plan does not produce, is exactly marshmallow's. Schemas
with hooks (`pre_load`, `validates_schema`, `post_dump`, ...) are left to marshmallow whole;
fields of a kind the plan does not know are handed to the field itself.
`tests/unit/test_fastschema.py` holds the plan to marshmallow's results, schema by schema.
"""
import decimal
import os
import uuid
from datetime import date, datetime

import marshmallow
from marshmallow import INCLUDE, RAISE, ValidationError, fields, missing
from marshmallow.decorators import POST_DUMP, POST_LOAD, PRE_DUMP, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

_LOAD_HOOKS = (PRE_LOAD, POST_LOAD, VALIDATES, VALIDATES_SCHEMA)
_DUMP_HOOKS = (PRE_DUMP, POST_DUMP)
_ISO = (None, "iso", "iso8601")


class NotPlanned(Exception):
    """The plan cannot vouch for this input (or the schema has no plan): marshmallow decides."""


MISS = NotPlanned()


# -- loading ---------------------------------------------------------------------------------------


def _load_value(field):
    """A function value -> loaded value for a present value of `field`, or None if the plan
    does not know the field's kind (the caller then lets the field deserialize it)."""
    if field.pre_load or field.post_load:
        return None
    convert = _load_converter(field)
    if convert is None:
        return None
    allow_none, validators = field.allow_none, tuple(field.validators)

    def load(value):
        if value is None:
            if allow_none:
                return None
            raise MISS
        value = convert(value)
        for validator in validators:
            validator(value)  # a ValidationError sends the whole load to marshmallow
        return value

    return load


def _load_converter(field):
    kind = type(field)
    if kind is fields.String:
        def string(value):
            if type(value) is str:
                return value
            raise MISS
        return string
    if kind is fields.UUID:
        def uuid_(value):
            if type(value) is str:
                try:
                    return uuid.UUID(value)
                except ValueError:
                    raise MISS from None
            if type(value) is uuid.UUID:
                return value
            raise MISS
        return uuid_
    if kind is fields.Integer:
        def integer(value):
            if type(value) is int:
                return value
            raise MISS
        return integer
    if kind is fields.Boolean and field.truthy is fields.Boolean.truthy and field.falsy is fields.Boolean.falsy:
        def boolean(value):
            if value is True or value is False:
                return value
            raise MISS
        return boolean
    if kind is fields.Decimal and field.places is None and not field.allow_nan:
        def decimal_(value):
            if type(value) is str or type(value) is int or type(value) is decimal.Decimal:
                try:
                    number = decimal.Decimal(str(value))
                except decimal.InvalidOperation:
                    raise MISS from None
                if number.is_finite():
                    return number
            raise MISS
        return decimal_
    if kind in (fields.DateTime, fields.AwareDateTime) and field.format in _ISO:
        aware_only = kind is fields.AwareDateTime
        default_timezone = field.default_timezone if aware_only else None

        def datetime_(value):
            if type(value) is str:
                try:
                    value = datetime.fromisoformat(value)
                except ValueError:
                    raise MISS from None
            elif not isinstance(value, datetime):
                raise MISS
            if aware_only and (value.tzinfo is None or value.tzinfo.utcoffset(value) is None):
                if default_timezone is None:
                    raise MISS
                value = value.replace(tzinfo=default_timezone)
            return value
        return datetime_
    if kind is fields.Date and field.format in _ISO:
        def date_(value):
            if type(value) is str:
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    raise MISS from None
            if isinstance(value, date):
                return value
            raise MISS
        return date_
    if kind is fields.List:
        inner = _load_value(field.inner)
        if inner is None:
            return None

        def list_(value):
            if type(value) is list:
                return [inner(each) for each in value]
            raise MISS
        return list_
    if kind is fields.Nested and isinstance(field.nested, (type, marshmallow.Schema)):
        schema = field.schema
        plan = _load_plan(schema, field.unknown)
        if plan is None:
            return None
        if schema.many:  # Nested sets its schema's `many` from its own
            def nested_many(value):
                if type(value) is list:
                    return [plan(each) for each in value]
                raise MISS
            return nested_many
        return plan
    return None


def _load_plan(schema, unknown=None):
    """A function data -> loaded dict for one object of `schema`, or None if it has hooks."""
    if any(schema._hooks[hook] for hook in _LOAD_HOOKS) or schema.partial:
        return None
    unknown = schema.unknown if unknown is None else unknown
    if unknown == INCLUDE:
        return None
    steps, keys = [], set()
    for attr_name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        target = field.attribute or attr_name
        if "." in target:
            return None
        keys.add(key)
        steps.append((key, target, field.required, field.load_default, _load_value(field), field))
    refuse_unknown = unknown == RAISE

    def plan(data):
        if type(data) is not dict or (refuse_unknown and not keys.issuperset(data)):
            raise MISS
        out = {}
        for key, target, required, default, load, field in steps:
            value = data.get(key, missing)
            if value is missing:
                if required:
                    raise MISS
                if default is not missing:
                    out[target] = default() if callable(default) else default
                continue
            if load is None:
                value = field.deserialize(value, key, data)
                if value is missing:
                    continue
            else:
                value = load(value)
            out[target] = value
        return out

    return plan


# -- dumping ---------------------------------------------------------------------------------------


def _dump_value(field):
    """A function value -> dumped value for `field`, or None if the plan does not know its kind."""
    kind = type(field)
    if kind is fields.String:
        def string(value):
            if value is None or type(value) is str:
                return value
            return field._serialize(value, None, None)
        return string
    if kind is fields.UUID:
        def uuid_(value):
            return None if value is None else str(value)
        return uuid_
    if kind is fields.Integer:
        as_string = field.as_string

        def integer(value):
            if value is None:
                return None
            value = value if type(value) is int else int(value)
            return str(value) if as_string else value
        return integer
    if kind is fields.Decimal and field.places is None and field.as_string and not field.allow_nan:
        def decimal_(value):
            if value is None:
                return None
            if type(value) is not decimal.Decimal:
                value = decimal.Decimal(str(value))
            return format(value, "f")
        return decimal_
    if kind is fields.Boolean or kind is fields.Raw:  # dumped as they are
        def as_is(value):
            return value
        return as_is
    if kind in (fields.DateTime, fields.AwareDateTime, fields.Date) and field.format in _ISO:
        isoformat = date.isoformat if kind is fields.Date else datetime.isoformat  # as marshmallow calls it

        def temporal(value):
            return None if value is None else isoformat(value)
        return temporal
    if kind is fields.List:
        inner = _dump_value(field.inner)
        if inner is None:
            return None

        def list_(value):
            return None if value is None else [inner(each) for each in value]
        return list_
    if kind is fields.Nested and isinstance(field.nested, (type, marshmallow.Schema)):
        schema = field.schema
        plan = _dump_plan(schema)
        if plan is None:
            return None
        if schema.many:
            def nested_many(value):
                return None if value is None else [plan(each) for each in value]
            return nested_many

        def nested(value):
            return None if value is None else plan(value)
        return nested
    return None


def _dump_plan(schema):
    """A function dict -> dumped dict for one object of `schema`, or None if it has hooks."""
    if any(schema._hooks[hook] for hook in _DUMP_HOOKS) or schema.dict_class is not dict \
            or type(schema).get_attribute is not marshmallow.Schema.get_attribute:
        return None
    steps = []
    for attr_name, field in schema.dump_fields.items():
        source = field.attribute or attr_name
        dump = _dump_value(field) if field._CHECK_ATTRIBUTE and type(field).get_value is fields.Field.get_value \
            and "." not in source else None
        # a dict without the key makes marshmallow look for an attribute: for "items" it finds one
        odd_name = hasattr(dict, source)
        key = field.data_key if field.data_key is not None else attr_name
        steps.append((key, attr_name, source, field.dump_default, dump, odd_name, field))
    accessor = schema.get_attribute

    def plan(obj):
        if type(obj) is not dict:
            raise MISS
        out = {}
        for key, attr_name, source, default, dump, odd_name, field in steps:
            if dump is None:
                value = field.serialize(attr_name, obj, accessor=accessor)
                if value is not missing:
                    out[key] = value
                continue
            value = obj.get(source, missing)
            if value is missing:
                if odd_name:
                    raise MISS
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = dump(value)
        return out

    return plan


# -- the schema ------------------------------------------------------------------------------------

# With PITLANE_SCHEMA_SHADOW=1 (the test suite sets it) every load and dump the plan answers is
# done by marshmallow as well, and a difference fails loudly: the whole suite's traffic then
# checks the plans against marshmallow.
SHADOW = os.environ.get("PITLANE_SCHEMA_SHADOW") == "1"


class PlanDiffers(AssertionError):
    pass


def _shadow(what, schema, given, fast, slow):
    try:
        expected = slow()
    except ValidationError as exc:
        raise PlanDiffers(f"{type(schema).__name__}.{what} took {given!r} that marshmallow refuses: "
                          f"{exc.messages}") from None
    if fast != expected or _types(fast) != _types(expected):
        raise PlanDiffers(f"{type(schema).__name__}.{what} of {given!r}: plan {fast!r}, marshmallow {expected!r}")


def _types(value):
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)


class Schema(marshmallow.Schema):
    """A marshmallow Schema whose plain loads and dumps take the compiled plan."""

    def _plans(self):
        plans = self.__dict__.get("_pitlane_plans")
        if plans is None or plans[0] is not self.fields:  # a copy whose fields were re-made (Nested only=)
            plans = self._pitlane_plans = (self.fields, _load_plan(self), _dump_plan(self))
        return plans

    def load_planned(self, data) -> dict:
        """One object loaded by the plan alone; NotPlanned when the plan cannot vouch for it."""
        plan = self._plans()[1]
        if plan is None:
            raise MISS
        try:
            result = plan(data)
        except NotPlanned:
            raise
        except Exception:
            raise MISS from None
        if SHADOW:
            _shadow("load", self, data, result, lambda: super(Schema, self).load(data))
        return result

    def load(self, data, *, many=None, partial=None, unknown=None):
        if partial is None and unknown is None:
            plan = self._plans()[1]
            if plan is not None:
                try:
                    if many or (many is None and self.many):
                        if type(data) is not list:
                            raise MISS
                        result = [plan(each) for each in data]
                    else:
                        result = plan(data)
                except Exception:  # NotPlanned, a validator's ValidationError, anything odd: marshmallow decides
                    pass
                else:
                    if SHADOW:
                        _shadow("load", self, data, result, lambda: super(Schema, self).load(data, many=many))
                    return result
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def dump(self, obj, *, many=None):
        plan = self._plans()[2]
        if plan is not None:
            try:
                if many or (many is None and self.many):
                    result = [plan(each) for each in obj]
                else:
                    result = plan(obj)
            except Exception:
                pass
            else:
                if SHADOW:
                    _shadow("dump", self, obj, result, lambda: super(Schema, self).dump(obj, many=many))
                return result
        return super().dump(obj, many=many)
