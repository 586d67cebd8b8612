"""marshmallow pieces every service's schemas use: list queries, pages, money, time."""
from datetime import timezone

from marshmallow import EXCLUDE, RAISE, ValidationError, fields, validate, validates_schema

from shared.contracts.fastschema import Schema

from shared.storage.paging import MAX_LIMIT


class Strict(Schema):
    """Input schemas refuse fields they do not know, so a typo is an error, not silently lost."""

    class Meta:
        unknown = RAISE


class Out(Schema):
    """Output schemas dump what they declare and ignore the rest of a row."""

    class Meta:
        unknown = EXCLUDE


def aware_datetime(**kwargs):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kwargs)


def money(**kwargs):
    """An amount in integer cents."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=10**11), **kwargs)


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
