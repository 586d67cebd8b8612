"""Hostile input through the real gateway: a 4xx in the documented shape, never a 500, nothing written."""
import json
import re
import uuid

import pytest

from gateway.routes import ROUTES
from tests.support import fixtures
from tests.support.journey import until, vin

BODY_ROUTES = [r for r in ROUTES if r.method == "POST" and r.body is not None]


def error_fields(response, status):
    assert response.status_code == status, response.text[:500]
    body = response.json()["error"]
    assert body["code"] and body["message"] and isinstance(body["fields"], dict)
    return body["fields"]


def raw_post(api, path, data, content_type="application/json", headers=None):
    return api.session.post(api.base + path, data=data, headers={"Content-Type": content_type, **(headers or {})},
                            timeout=60)


def concrete(path):
    return re.sub(r"<(\w+)>", lambda m: str(uuid.uuid4()), path)


def customers_named(api, world, name):
    return [c for c in api.ok("GET", "/customers", branch_id=world["branch"], q=name, limit=200)["items"]
            if c["name"] == name]


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_json_nested_thousands_deep_is_400_on_every_post_route(admin, world, depth):
    deep = "[" * depth + "]" * depth
    for route in BODY_ROUTES + [type("R", (), {"path": "/sla/targets"})]:
        response = raw_post(admin, concrete(route.path), '{"name": ' + deep + "}")
        assert "_body" in error_fields(response, 400), route.path


def test_a_lone_surrogate_is_400_naming_the_field_and_nothing_is_stored(admin, advisor, world):
    name = f"Surrogate {uuid.uuid4().hex[:6]}"
    body = json.dumps({"branch_id": world["branch"], "name": name + " \ud800"})
    assert '\\ud800' in body
    assert "name" in error_fields(raw_post(advisor, "/customers", body), 400)
    assert customers_named(advisor, world, name) == []
    part = json.dumps({"part_number": "SUR-1", "description": "\udfff pads", "origin": "oem", "price_cents": 1,
                       "warranty_months": 1})
    assert "description" in error_fields(raw_post(admin, "/parts", part), 400)
    assert admin.get("/parts/SUR-1").status_code == 404


def _customer_vehicle(advisor, world):
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Hostile Input"})
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": f"HI {uuid.uuid4().hex[:4]}", "model": "Up"})
    return customer, vehicle


@pytest.mark.parametrize("slot_start, says", [
    ("9999-12-31T10:00:00+00:00", "between"), ("9999-12-31T23:00:00-05:00", "between"),
    (fixtures.next_slot(hours_ahead=9).replace("+00:00", ""), "time zone")])
def test_a_booking_at_year_9999_or_without_a_time_zone_is_400(advisor, world, slot_start, says):
    customer, vehicle = _customer_vehicle(advisor, world)
    request = fixtures.booking_request(world["branch"], customer["customer_id"], vehicle["vehicle_id"],
                                       slot_start=slot_start)
    response = until(lambda: advisor.post("/bookings", request), lambda r: r.status_code != 422,
                     what="the vehicle copy")
    fields = error_fields(response, 400)
    assert says in " ".join(fields["slot_start"])
    assert advisor.ok("GET", "/bookings", customer_id=customer["customer_id"])["items"] == []


def test_integers_past_the_column_are_400_naming_the_field_and_the_document_says_so(admin, gateway):
    part = {"part_number": "BIG-1", "description": "x", "origin": "oem", "price_cents": 2**31, "warranty_months": 1}
    assert "price_cents" in error_fields(admin.post("/parts", part), 400)
    assert admin.get("/parts/BIG-1").status_code == 404
    document = admin.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["parts.NewPart"]["properties"]["price_cents"]["maximum"] == 2**31 - 1
    quantity = schemas["workshop.NewLine"]["properties"]["quantity"]
    assert quantity["minimum"] == 0.01 and quantity["maximum"] == 9999


def test_a_body_that_is_not_application_json_is_415_and_nothing_is_written(advisor, world):
    name = f"Plain Text {uuid.uuid4().hex[:6]}"
    body = json.dumps({"branch_id": world["branch"], "name": name})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "text/json"):
        response = raw_post(advisor, "/customers", body, content_type)
        assert response.status_code == 415, response.text
        assert response.json()["error"]["code"] == "unsupported_media_type"
    assert customers_named(advisor, world, name) == []
    assert raw_post(advisor, "/customers", body, "application/json; charset=utf-8").status_code == 201


def test_booleans_must_be_json_booleans(admin, advisor, world):
    name = f"Yes Please {uuid.uuid4().hex[:6]}"
    fields = error_fields(advisor.post("/customers", {"branch_id": world["branch"], "name": name,
                                                      "consent_marketing": "yes"}), 400)
    assert "consent_marketing" in fields
    assert customers_named(advisor, world, name) == []
    approval = {"quote_id": str(uuid.uuid4()), "consent": {"method": "signature", "by": "Ada"},
                "decisions": [{"line_id": str(uuid.uuid4()), "approved": "yes"}]}
    fields = error_fields(admin.post(f"/repair-orders/{uuid.uuid4()}/approval", approval), 400)
    assert "approved" in fields["decisions"]["0"]


def test_a_quantity_more_precise_than_stored_is_400(admin):
    quote = {"lines": [{"kind": "labour", "description": "check", "quantity": "1.999"}]}
    fields = error_fields(admin.post(f"/repair-orders/{uuid.uuid4()}/quotes", quote), 400)
    assert "at most 2 decimal places" in " ".join(fields["lines"]["0"]["quantity"])


def test_an_idempotency_key_over_200_characters_is_400_not_cut(advisor, world):
    name = f"Long Key {uuid.uuid4().hex[:6]}"
    response = advisor.post("/customers", {"branch_id": world["branch"], "name": name},
                            headers={"Idempotency-Key": "k" * 201})
    assert "Idempotency-Key" in error_fields(response, 400)
    assert customers_named(advisor, world, name) == []
    assert advisor.post("/customers", {"branch_id": world["branch"], "name": name},
                        headers={"Idempotency-Key": "k" * 168 + uuid.uuid4().hex}).status_code == 201


def test_an_unknown_or_repeated_status_filter_is_400(advisor, world):
    fields = error_fields(advisor.get("/bookings", status="bogus"), 400)
    assert "confirmed" in " ".join(fields["status"]) and "no_show" in " ".join(fields["status"])
    fields = error_fields(advisor.get("/bookings", status=["requested", "confirmed"]), 400)
    assert "once" in " ".join(fields["status"])
    fields = error_fields(advisor.get("/slots", branch_id=[world["branch"], world["branch"]], date="2027-01-04"), 400)
    assert "branch_id" in fields
    response = advisor.get("/bookings", status="confirmed")
    assert response.status_code == 200 and isinstance(response.json()["items"], list)


def test_admin_cannot_create_a_customer_at_a_branch_that_does_not_exist(admin, world):
    name = f"Nowhere {uuid.uuid4().hex[:6]}"
    fields = error_fields(admin.post("/customers", {"branch_id": "NO-SUCH-BRANCH", "name": name}), 422)
    assert "branch_id" in fields
    assert [c for c in admin.ok("GET", "/customers", q=name)["items"] if c["name"] == name] == []
    assert admin.ok("POST", "/customers", {"branch_id": world["branch"], "name": name})["branch_id"] == world["branch"]
