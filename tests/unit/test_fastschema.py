"""The compiled schema plans give marshmallow's answer, or step aside and let marshmallow give it."""
import decimal
import importlib
import inspect
import uuid
from datetime import date, datetime, timedelta, timezone

import marshmallow
import pytest
from marshmallow import EXCLUDE, RAISE, ValidationError, fields, validate, validates_schema

from shared.contracts import events, fastschema
from shared.contracts.fastschema import Schema

UTC = timezone.utc


class Part(Schema):
    class Meta:
        unknown = EXCLUDE

    number = fields.String(required=True, validate=validate.Length(min=1, max=5))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))


class Everything(Schema):
    """Every kind of field the plans compile, with the options that change their behaviour."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=10))
    code = fields.String(allow_none=True, validate=validate.OneOf(("a", "b")))
    id = fields.UUID(required=True)
    count = fields.Integer(load_default=7)
    strict_count = fields.Integer(strict=True)
    ok = fields.Boolean()
    amount = fields.Decimal(as_string=True)
    at = fields.AwareDateTime(default_timezone=UTC)
    at_strict = fields.AwareDateTime()
    naive_ok = fields.DateTime()
    day = fields.Date()
    tags = fields.List(fields.String(validate=validate.Length(max=3)), load_default=list)
    parts = fields.Nested(Part, many=True)
    part = fields.Nested(Part, allow_none=True)
    from_ = fields.AwareDateTime(data_key="from", attribute="from")
    extra = fields.Dict()  # not compiled: the field deserializes it itself
    secret = fields.String(load_only=True)
    shown = fields.String(dump_only=True)


class Twin(marshmallow.Schema):
    """The same fields on plain marshmallow, to compare with."""

    class Meta:
        unknown = RAISE


for _name, _field in Everything._declared_fields.items():
    Twin._declared_fields[_name] = _field

OURS, THEIRS = Everything(), Twin()

VALID = {
    "name": "Ada", "code": "a", "id": str(uuid.uuid4()), "count": 3, "strict_count": 4, "ok": True,
    "amount": "1.50", "at": "2026-11-25T10:00:00+01:00", "at_strict": "2026-11-25T10:00:00Z",
    "naive_ok": "2026-11-25T10:00:00", "day": "2026-11-25", "tags": ["x", "yz"],
    "parts": [{"number": "P1", "quantity": 2, "colour": "red"}], "part": None, "from": "2026-01-01T00:00:00+00:00",
    "extra": {"k": [1]}, "secret": "s",
}


def outcome(schema, method, value):
    try:
        return "ok", getattr(schema, method)(value)
    except ValidationError as exc:
        return "error", exc.messages


def test_a_plain_valid_input_is_answered_by_the_plan_with_marshmallows_result():
    plan = OURS._plans()[1]
    assert plan is not None
    loaded = plan(VALID)  # raises NotPlanned if the plan stepped aside
    assert loaded == THEIRS.load(VALID)
    assert loaded["at"] == datetime(2026, 11, 25, 9, tzinfo=UTC) and loaded["count"] == 3
    assert loaded["parts"] == [{"number": "P1", "quantity": 2}] and "from" in loaded and "shown" not in loaded


def test_defaults_and_absent_fields_match():
    minimal = {"name": "Ada", "id": str(uuid.uuid4())}
    assert OURS._plans()[1](minimal) == THEIRS.load(minimal) == {"name": "Ada", "id": uuid.UUID(minimal["id"]),
                                                                  "count": 7, "tags": []}


@pytest.mark.parametrize("change", [
    {"name": ""}, {"name": 5}, {"name": None}, {"name": b"Ada"}, {"code": "c"}, {"code": None},
    {"id": "not-a-uuid"}, {"id": 12}, {"id": uuid.uuid4()},
    {"count": "12"}, {"count": 1.0}, {"count": 1.5}, {"count": True}, {"count": None}, {"strict_count": "4"},
    {"ok": "yes"}, {"ok": 1}, {"ok": "maybe"},
    {"amount": "NaN"}, {"amount": "1e400000"}, {"amount": "abc"}, {"amount": 2}, {"amount": 2.5},
    {"amount": decimal.Decimal("3.10")}, {"amount": "Infinity"},
    {"at": "2026-11-25T10:00:00"}, {"at_strict": "2026-11-25T10:00:00"}, {"at": "tomorrow"}, {"at": 5},
    {"at": datetime(2026, 1, 1)}, {"at_strict": datetime(2026, 1, 1, tzinfo=UTC)}, {"naive_ok": "2026-11-25"},
    {"day": "2026-11-25T10:00:00"}, {"day": "25.11.2026"}, {"day": date(2026, 1, 1)},
    {"tags": "x"}, {"tags": ["toolong"]}, {"tags": [None]}, {"tags": ("x",)},
    {"parts": [{"number": "P1"}]}, {"parts": [{"number": "P123456", "quantity": 1}]}, {"parts": {"number": "P1"}},
    {"part": {"number": "P1", "quantity": 0}}, {"part": {"number": "P2", "quantity": 1}},
    {"from": "2026-01-01T00:00:00"}, {"shown": "x"}, {"unknown": 1}, {"extra": "x"},
])
def test_every_odd_or_bad_value_gets_marshmallows_own_answer(change):
    data = {**VALID, **change}
    assert outcome(OURS, "load", data) == outcome(THEIRS, "load", data)


@pytest.mark.parametrize("data", [None, [], "x", [VALID]])
def test_input_that_is_not_an_object_gets_marshmallows_error(data):
    assert outcome(OURS, "load", data) == outcome(THEIRS, "load", data)
    assert outcome(OURS, "load", data)[0] == "error"


def test_many_and_partial_loads():
    assert OURS.load([VALID, VALID], many=True) == THEIRS.load([VALID, VALID], many=True)
    assert outcome(OURS, "load", VALID) == outcome(THEIRS, "load", VALID)
    partial = {"code": "b"}
    assert OURS.load(partial, partial=True) == THEIRS.load(partial, partial=True)


def test_the_plan_steps_aside_rather_than_accept_what_marshmallow_refuses():
    plan = OURS._plans()[1]
    for change in ({"count": "12"}, {"name": ""}, {"unknown": 1}, {"at_strict": "2026-11-25T10:00:00"}):
        with pytest.raises((fastschema.NotPlanned, ValidationError)):
            plan({**VALID, **change})


ROW = {
    "name": "Ada", "code": None, "id": uuid.uuid4(), "count": 3, "strict_count": 4, "ok": 1,
    "amount": decimal.Decimal("1.50"), "at": datetime(2026, 11, 25, 9, tzinfo=UTC),
    "at_strict": datetime(2026, 11, 25, 9, tzinfo=timezone(timedelta(hours=2))), "naive_ok": datetime(2026, 1, 1),
    "day": date(2026, 11, 25), "tags": ["x"], "parts": [{"number": "P1", "quantity": 2, "cost": 5}],
    "part": {"number": "P2", "quantity": 1}, "from": datetime(2026, 1, 1, tzinfo=UTC), "extra": {"k": 1},
    "secret": "s", "shown": 12, "ignored": "column",
}


def test_a_row_is_dumped_by_the_plan_as_marshmallow_dumps_it():
    plan = OURS._plans()[2]
    assert plan is not None
    dumped = plan(ROW)
    assert dumped == THEIRS.dump(ROW)
    assert dumped["amount"] == "1.50" and dumped["ok"] == 1 and dumped["shown"] == "12" and "secret" not in dumped
    assert dumped["at"] == "2026-11-25T09:00:00+00:00" and dumped["day"] == "2026-11-25" and dumped["part"] == {
        "number": "P2", "quantity": 1}


@pytest.mark.parametrize("change", [
    {"count": None, "amount": None, "at": None, "tags": None, "parts": None, "part": None}, {"count": "5"},
    {"count": 2.7}, {"amount": 3}, {"amount": "2.50"}, {"name": 5}, {"id": "text"}, {"ok": "no"}, {"ok": 0},
    {"day": datetime(2026, 1, 1, 12)},
])
def test_odd_values_in_a_row_dump_as_marshmallow_dumps_them(change):
    row = {**ROW, **change}
    assert OURS.dump(row) == THEIRS.dump(row)


def test_a_row_without_a_field_leaves_it_out_and_objects_that_are_not_dicts_go_to_marshmallow():
    row = {k: v for k, v in ROW.items() if k not in ("count", "tags")}
    assert OURS.dump(row) == THEIRS.dump(row) and "count" not in OURS.dump(row)
    assert OURS.dump([ROW, ROW], many=True) == THEIRS.dump([ROW, ROW], many=True)

    class Row:
        name, id = "Ada", uuid.uuid4()

    assert OURS.dump(Row()) == THEIRS.dump(Row())
    with pytest.raises(fastschema.NotPlanned):
        OURS._plans()[2](Row())


def test_a_dict_without_a_field_named_like_a_dict_method_goes_to_marshmallow():
    class Listing(Schema):
        items = fields.String()

    class TwinListing(marshmallow.Schema):
        items = fields.String()

    row = {}
    assert Listing().dump(row) == TwinListing().dump(row)  # marshmallow finds row.items here; so do we
    with pytest.raises(fastschema.NotPlanned):
        Listing()._plans()[2](row)


def test_schemas_with_hooks_are_left_to_marshmallow():
    class Window(Schema):
        start = fields.Integer()
        end = fields.Integer()

        @validates_schema
        def ordered(self, data, **kwargs):
            if data["start"] >= data["end"]:
                raise ValidationError("must be after start", "end")

    assert Window()._plans()[1] is None and Window()._plans()[2] is not None
    with pytest.raises(ValidationError, match="must be after start"):
        Window().load({"start": 2, "end": 1})


def test_nested_only_gets_a_plan_of_its_own_fields():
    class Holder(Schema):
        part = fields.Nested(Part, only=("number",))

    assert Holder().dump({"part": {"number": "P1", "quantity": 2}}) == {"part": {"number": "P1"}}
    assert Holder().load({"part": {"number": "P1", "quantity": 2}}) == {"part": {"number": "P1"}}


def test_shadow_mode_catches_a_plan_that_differs(monkeypatch):
    monkeypatch.setattr(fastschema, "SHADOW", True)

    class Broken(Schema):
        n = fields.Integer()

    schema = Broken()
    fields_, load, dump = schema._plans()
    schema._pitlane_plans = (fields_, lambda data: {"n": data["n"] + 1}, dump)
    with pytest.raises(fastschema.PlanDiffers, match="plan"):
        schema.load({"n": 1})
    schema._pitlane_plans = (fields_, lambda data: {"n": "1"}, dump)
    with pytest.raises(fastschema.PlanDiffers):  # equal text, another type
        schema.load({"n": "1"})


def _schemas_of(module_name):
    module = importlib.import_module(module_name)
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if issubclass(cls, marshmallow.Schema) and cls.__module__ == module.__name__:
            yield cls


@pytest.mark.parametrize("module_name", [
    "shared.contracts.api.booking", "shared.contracts.api.workshop", "shared.contracts.api.parts",
    "shared.contracts.api.billing", "shared.contracts.api.crm", "shared.contracts.api.messages",
    "shared.contracts.schemas", "shared.sla.clocks", "gateway.routes",
])
def test_every_schema_of_ours_has_the_fast_path_and_a_plan_unless_it_has_hooks(module_name):
    for cls in _schemas_of(module_name):
        assert issubclass(cls, Schema), f"{cls.__name__} is a plain marshmallow schema"
        schema = cls()
        _, load, dump = schema._plans()
        hooks = schema._hooks
        assert (load is None) == any(hooks[h] for h in fastschema._LOAD_HOOKS), cls.__name__
        assert dump is not None, cls.__name__


def test_every_catalogued_event_has_a_plan_and_builds_as_marshmallow_builds_it():
    for name, schema in events._SCHEMAS.items():
        assert isinstance(schema, Schema) and schema._plans()[1] is not None, name
    event = events.build("booking.cancelled", "N1", "booking", booking_id=uuid.uuid4(), reason="ill")
    twin = marshmallow.Schema.from_dict(dict(events._SCHEMAS["booking.cancelled"].fields))()
    assert events.load("booking.cancelled", event) == twin.load(event)

