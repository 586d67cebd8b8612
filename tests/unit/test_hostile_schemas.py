"""Hostile input meets the schemas every RPC validates with: a field error, never a 500 later on."""
import decimal
import json
import uuid

import pytest
from flask import Flask

from gateway import openapi
from shared.bus.rpc import load
from shared.contracts import errors
from shared.contracts.api import billing, booking, crm, parts, workshop

INT4_MAX = 2**31 - 1
SLOT = "2027-01-04T10:00:00+00:00"


def refused(schema, data) -> dict:
    with pytest.raises(errors.ValidationFailed) as caught:
        load(schema, data)
    return caught.value.fields


def booking_request(**change):
    return {"branch_id": "N1", "customer_id": str(uuid.uuid4()), "vehicle_id": str(uuid.uuid4()),
            "slot_start": SLOT, "service_type": "brakes", "channel": "web", **change}


def approval(approved):
    return {"quote_id": str(uuid.uuid4()), "consent": {"method": "signature", "by": "Ada"},
            "decisions": [{"line_id": str(uuid.uuid4()), "approved": approved}]}


def test_a_lone_surrogate_in_any_text_is_refused_naming_the_field():
    assert "name" in refused(crm.NewCustomer, {"branch_id": "N1", "name": "Ada \ud800"})
    nested = refused(workshop.Diagnosis, {"diagnosed_by": "anna", "findings": [
        {"description": "fine", "status": "green"}, {"description": "pads \udfff", "status": "red"}]})
    assert "description" in nested["findings"][1]
    assert "what_happened" in refused(crm.NewComplaint, {
        "branch_id": "N1", "customer_id": str(uuid.uuid4()), "what_happened": "\ud800", "category": "price"})
    assert "name" in refused(crm.NewCustomer, {"branch_id": "N1", "name": "nul \x00 inside"})
    assert load(crm.NewCustomer, {"branch_id": "N1", "name": "Zoë 😀 Ünal"})["name"] == "Zoë 😀 Ünal"


def test_input_nested_deeper_than_any_body_needs_is_refused():
    deep = []
    for _ in range(500):
        deep = [deep]
    fields = refused(crm.NewCustomer, {"branch_id": "N1", "name": deep})
    assert "nested" in json.dumps(fields)


@pytest.mark.parametrize("moment", ["9999-12-31T10:00:00+00:00", "9999-12-31T23:00:00-05:00",
                                    "0001-01-01T00:00:00+05:00", "2350-01-01T10:00:00+00:00"])
def test_datetimes_outside_what_is_stored_safely_are_refused(moment):
    assert "slot_start" in refused(booking.BookingRequest, booking_request(slot_start=moment))
    assert "slot_start" in refused(booking.Reschedule, {"slot_start": moment})


@pytest.mark.parametrize("moment", ["2027-01-04T10:00:00", "2027-01-04"])
def test_a_datetime_without_a_time_zone_is_refused(moment):
    fields = refused(booking.BookingRequest, booking_request(slot_start=moment))
    assert "time zone" in " ".join(fields["slot_start"])
    assert "from" in refused(booking.BookingQuery, {"from": moment})
    assert load(booking.BookingRequest, booking_request(slot_start="2027-01-04T10:00:00Z"))["slot_start"].tzinfo


def test_integers_are_bounded_to_what_their_column_holds():
    assert "price_cents" in refused(parts.NewPart, {"part_number": "P-1", "description": "x", "origin": "oem",
                                                    "price_cents": INT4_MAX + 1, "warranty_months": 1})
    assert "amount_cents" in refused(billing.Payment, {"amount_cents": 2**31, "method": "card"})
    assert load(billing.Payment, {"amount_cents": INT4_MAX, "method": "card"})["amount_cents"] == INT4_MAX
    line = {"kind": "labour", "description": "x", "quantity": "1", "unit_price_cents": 2**40}
    assert "unit_price_cents" in refused(workshop.NewQuote, {"lines": [line]})["lines"][0]


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "on", None])
def test_booleans_are_json_booleans_only(value):
    assert "consent_marketing" in refused(crm.NewCustomer, {"branch_id": "N1", "name": "Ada",
                                                            "consent_marketing": value})
    assert "approved" in refused(workshop.Approval, approval(value))["decisions"][0]
    assert "passed" in refused(workshop.QualityCheck, {"checked_by": "ben", "passed": value})
    assert load(workshop.Approval, approval(False))["decisions"][0]["approved"] is False


@pytest.mark.parametrize("quantity", ["1.999", "0.001", 1.999, "2.0000001"])
def test_a_quantity_more_precise_than_stored_is_refused(quantity):
    line = {"kind": "labour", "description": "x", "quantity": quantity}
    messages = refused(workshop.NewQuote, {"lines": [line]})["lines"][0]["quantity"]
    assert "at most 2 decimal places" in " ".join(messages)


@pytest.mark.parametrize("quantity, stored", [("1.5", "1.50"), ("1.990", "1.99"), (2, "2.00"), ("0.01", "0.01"),
                                              ("9999", "9999.00")])
def test_a_quantity_within_the_stored_precision_is_kept(quantity, stored):
    line = {"kind": "labour", "description": "x", "quantity": quantity}
    assert load(workshop.NewQuote, {"lines": [line]})["lines"][0]["quantity"] == decimal.Decimal(stored)


@pytest.mark.parametrize("schema, allowed", [
    (booking.BookingQuery, "confirmed"), (workshop.RepairOrderQuery, "awaiting_approval"),
    (workshop.QuoteQuery, "withdrawn"), (parts.ReservationQuery, "held"), (parts.TransferQuery, "dispatched"),
    (billing.InvoiceQuery, "paid"), (billing.ClaimQuery, "draft"), (crm.FollowUpQuery, "due"),
    (crm.ComplaintQuery, "open"),
])
def test_an_unknown_status_filter_lists_the_allowed_ones(schema, allowed):
    message = " ".join(refused(schema, {"status": "bogus"})["status"])
    assert allowed in message
    assert load(schema, {"status": allowed})["status"] == allowed


def test_the_openapi_document_states_the_same_bounds_as_numbers():
    app = Flask(__name__)
    with app.app_context():
        document = json.loads(app.json.dumps(openapi.document()))
    schemas = document["components"]["schemas"]
    quantity = schemas["workshop.NewLine"]["properties"]["quantity"]
    assert quantity["minimum"] == 0.01 and quantity["maximum"] == 9999
    assert schemas["billing.Payment"]["properties"]["amount_cents"]["maximum"] == INT4_MAX
    assert schemas["parts.NewPart"]["properties"]["price_cents"]["maximum"] == INT4_MAX
    assert schemas["crm.NewCustomer"]["properties"]["consent_marketing"]["type"] == "boolean"
    status = [p for p in document["paths"]["/api/v1/bookings"]["get"]["parameters"] if p["name"] == "status"]
    assert "no_show" in status[0]["schema"]["enum"]
