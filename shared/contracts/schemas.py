"""marshmallow pieces every service's schemas use: list queries, pages, money, time.

The input rules every body and query meets (docs/api.md, "Input rules") live here: text holds no
lone surrogate or NUL and nests no deeper than MAX_DEPTH, a moment names its offset and lies in
EARLIEST..LATEST, an integer fits its column (int4), a boolean is a JSON boolean, a decimal has no
more places than its column stores, a status filter is one the records have.
"""
import decimal
from datetime import datetime, timezone

from marshmallow import EXCLUDE, RAISE, ValidationError, fields, validate, validates_schema

from shared.contracts.fastschema import Schema
from shared.storage.paging import MAX_LIMIT


INT4_MAX = 2**31 - 1  # PostgreSQL `integer`, the type of every counted or priced column
MAX_DEPTH = 32  # no body needs more than a handful of levels
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)  # far from Python's year 9999 and what is added to it


def unstorable(data) -> dict | None:
    """Field errors, shaped as marshmallow's, for text PostgreSQL cannot store (a lone surrogate
    such as \\ud800, or NUL) anywhere in `data`, or for nesting deeper than MAX_DEPTH; None if fine.
    A walk with its own stack: no recursion, whatever the depth."""
    stack = [(data, ())]
    while stack:
        value, path = stack.pop()
        if type(value) is str:
            if not _storable(value):
                return _at(path, "not valid text: a lone surrogate (\\ud800-\\udfff) or NUL character")
        elif isinstance(value, (dict, list)):
            if len(path) >= MAX_DEPTH:
                return _at(path[:1], f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    if type(key) is str and not _storable(key):
                        return _at(path + ("_schema",), "a field name is not valid text")
                    stack.append((item, path + (key,)))
            else:
                stack.extend((item, path + (index,)) for index, item in enumerate(value))
    return None


def _storable(text: str) -> bool:
    if text.isascii():
        return "\x00" not in text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _at(path, message) -> dict:
    errors = [message]
    for key in reversed(path or ("_schema",)):
        errors = {key: errors}
    return errors


class Strict(Schema):
    """Input schemas refuse fields they do not know, so a typo is an error, not silently lost;
    and text a column cannot hold, or input nested deeper than any body needs, before any field."""

    class Meta:
        unknown = RAISE

    def load(self, data, *, many=None, partial=None, unknown=None):
        problem = unstorable(data)
        if problem is not None:
            raise ValidationError(problem)
        return super().load(data, many=many, partial=partial, unknown=unknown)


class Out(Schema):
    """Output schemas dump what they declare and ignore the rest of a row."""

    class Meta:
        unknown = EXCLUDE


IN_RANGE = validate.Range(min=EARLIEST, max=LATEST, max_inclusive=False,
                          error=f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")


def aware_datetime(**kwargs):
    """A moment with its UTC offset (`Z` or `+01:00`): one without is refused, not read as UTC."""
    return fields.AwareDateTime(validate=IN_RANGE, error_messages={
        "invalid_awareness": "needs a time zone: an offset such as Z or +01:00"}, **kwargs)


def int4(minimum=0, maximum=INT4_MAX, **kwargs):
    """A JSON integer within an `integer` column."""
    return fields.Integer(strict=True, validate=validate.Range(min=minimum, max=min(maximum, INT4_MAX)), **kwargs)


def money(minimum=0, **kwargs):
    """An amount in integer cents, within the `integer` column it is stored in."""
    return int4(minimum, INT4_MAX, **kwargs)


class JsonBoolean(fields.Boolean):
    """true or false, and nothing else: not "yes", "true", 1 or "on"."""

    default_error_messages = {"invalid": "must be a JSON boolean: true or false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


def boolean(**kwargs):
    return JsonBoolean(**kwargs)


class FixedDecimal(fields.Decimal):
    """A decimal with at most `places` decimal places, as its numeric(p, places) column stores:
    more precision is refused, not rounded away. Loaded quantized to `places` ("1.5" -> 1.50)."""

    default_error_messages = {"too_precise": "at most {places} decimal places"}

    def __init__(self, places: int, **kwargs):
        super().__init__(places=places, **kwargs)
        self.max_places = places

    def _format_num(self, value):
        if type(value) is not bool:
            try:
                number = decimal.Decimal(str(value))
            except (decimal.InvalidOperation, ValueError, TypeError):
                number = None
            if number is not None and number.is_finite() and _places(number) > self.max_places:
                raise self.make_error("too_precise", places=self.max_places)
        return super()._format_num(value)


def _places(number: decimal.Decimal) -> int:
    _, digits, exponent = number.as_tuple()
    if exponent >= 0:
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing)


def decimal_quantity(places=2, minimum="0.01", maximum="9999", **kwargs):
    kwargs.setdefault("metadata", {"description": f"{minimum} to {maximum}, at most {places} decimal places"})
    return FixedDecimal(places, validate=validate.Range(min=decimal.Decimal(minimum), max=decimal.Decimal(maximum)),
                        **kwargs)


def status_filter(values):
    """?status= of a list: one of the statuses its records have, and the error lists them."""
    values = tuple(values)
    return fields.String(validate=validate.OneOf(values, error="one of: {choices}"),
                         metadata={"description": "one of: " + ", ".join(values)})


def text(max_length=200, **kwargs):
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class PricedLine(Out):
    """A line of a quote or an invoice: what, how much, at what price, who pays."""

    line_id = fields.UUID()
    kind = fields.String()
    description = fields.String()
    part_number = fields.String(allow_none=True)
    quantity = fields.Decimal(as_string=True)
    unit_price_cents = fields.Integer()
    net_cents = fields.Integer()
    pay_type = fields.String()


class ListQuery(Strict):
    """Filters every list accepts: scope, a time window, and a page."""

    branch_id = fields.String(validate=validate.Length(min=1, max=40))
    branch_ids = fields.List(fields.String(), load_default=None)  # set by the gateway from scope
    region_id = fields.String(validate=validate.Length(min=1, max=40))
    from_ = aware_datetime(data_key="from", attribute="from")
    to = aware_datetime()
    cursor = fields.String(validate=validate.Length(max=500), load_default=None)
    limit = fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_LIMIT), load_default=50)

    @validates_schema
    def window_in_order(self, data, **kwargs):
        if data.get("from") and data.get("to") and data["from"] >= data["to"]:
            raise ValidationError("must be after from", "to")


class StatusListQuery(ListQuery):
    """A list of records that have a status, filterable by it."""

    status = fields.String(validate=validate.Length(min=1, max=40))


def page_of(item_schema: Schema, page: dict) -> dict:
    return {"items": item_schema.dump(page["items"], many=True), "next_cursor": page["next_cursor"]}
