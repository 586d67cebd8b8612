"""The gateway's own rules with a fake `call`: authentication, roles, scope, errors, OpenAPI."""
import time

import jwt
import pytest

from gateway import auth
from gateway.app import create_app
from gateway.routes import ROUTES
from shared import config
from shared.contracts import errors

BRANCHES = [{"branch_id": "N1", "region_id": "NORTH"}, {"branch_id": "N2", "region_id": "NORTH"},
            {"branch_id": "S1", "region_id": "SOUTH"}]
BOOKING_N1 = {"booking_id": "11111111-1111-1111-1111-111111111111", "branch_id": "N1", "status": "requested"}
BOOKING_S1 = {"booking_id": "22222222-2222-2222-2222-222222222222", "branch_id": "S1", "status": "requested"}


class FakeStore:
    def __init__(self):
        self.audited = []

    def audit(self, principal, method, path, status, record_id):
        self.audited.append((principal.subject, principal.role, method, path, status, record_id))

    def ping(self):
        pass


class FakeServices:
    def __init__(self):
        self.calls = []
        self.contexts = []

    def __call__(self, service, method, *args, context_data=None):
        self.calls.append((service, method, args))
        self.contexts.append(context_data)
        if method == "list_branches":
            return BRANCHES
        if method == "get_booking":
            found = {b["booking_id"]: b for b in (BOOKING_N1, BOOKING_S1)}.get(args[0])
            if found is None:
                raise errors.NotFound("no such booking", {"booking_id": ["unknown booking"]})
            return found
        if method == "confirm_booking":
            branches = (context_data or {}).get("branch_scope")
            booking = {b["booking_id"]: b for b in (BOOKING_N1, BOOKING_S1)}.get(args[0])
            if booking is None:
                raise errors.NotFound("no such booking", {"booking_id": ["unknown booking"]})
            if branches is not None and booking["branch_id"] not in branches:
                raise errors.Forbidden("not found in your scope", {})  # what shared/scope.py answers
            return {**booking, "status": "confirmed"}
        if method == "create_booking":
            return {**args[0], "booking_id": BOOKING_N1["booking_id"], "status": "requested"}
        if method == "list_bookings":
            return {"items": [], "next_cursor": None}
        if method == "list_stock":
            return {"items": [], "next_cursor": None}
        if method == "get_customer":
            raise errors.Unavailable("crm did not answer in time", {})
        raise AssertionError(f"unexpected call {service}.{method}")


@pytest.fixture
def services():
    return FakeServices()


@pytest.fixture
def store():
    return FakeStore()


@pytest.fixture
def client(services, store):
    return create_app(call=services, store=store, collectors=[]).test_client()


def bearer(role, **scope):
    return {"Authorization": "Bearer " + auth.issue_token(role, f"u-{role}", **scope)}


BOOKING_BODY = {"branch_id": "N1", "customer_id": "33333333-3333-3333-3333-333333333333",
                "vehicle_id": "44444444-4444-4444-4444-444444444444", "slot_start": "2026-11-24T08:00:00+00:00",
                "service_type": "annual service", "channel": "web"}


def test_no_token_bad_token_and_expired_token_are_401_before_anything_else(client, services):
    assert client.get("/api/v1/bookings").status_code == 401
    assert client.get("/api/v1/bookings", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    expired = jwt.encode({"sub": "x", "role": "admin", "exp": int(time.time()) - 10}, config.jwt_secret(),
                         algorithm="HS256")
    response = client.get(f"/api/v1/bookings/{BOOKING_S1['booking_id']}",
                          headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert services.calls == []  # nothing was looked up for an unauthenticated caller


def test_a_token_signed_with_another_secret_is_refused(client):
    forged = jwt.encode({"sub": "x", "role": "admin", "exp": int(time.time()) + 60}, "not-our-secret",
                        algorithm="HS256")
    assert client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_role_without_the_right_is_403(client):
    response = client.post("/api/v1/bookings", json=BOOKING_BODY, headers=bearer("operations"))
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert client.post("/api/v1/bookings", json=BOOKING_BODY,
                       headers=bearer("technician", branch_id="N1")).status_code == 403


def test_writes_in_scope_are_201_and_audited(client, store):
    response = client.post("/api/v1/bookings", json=BOOKING_BODY, headers=bearer("advisor", branch_id="N1"))
    assert response.status_code == 201
    assert store.audited == [("u-advisor", "advisor", "POST", "/api/v1/bookings", 201, BOOKING_N1["booking_id"])]


def test_a_write_for_another_branch_is_403(client, services):
    body = {**BOOKING_BODY, "branch_id": "S1"}
    assert client.post("/api/v1/bookings", json=body, headers=bearer("advisor", branch_id="N1")).status_code == 403
    assert not [c for c in services.calls if c[1] == "create_booking"]


def test_scoped_callers_cannot_tell_a_foreign_record_from_a_missing_one(client):
    headers = bearer("advisor", branch_id="N1")
    foreign = client.get(f"/api/v1/bookings/{BOOKING_S1['booking_id']}", headers=headers)
    missing = client.get("/api/v1/bookings/99999999-9999-9999-9999-999999999999", headers=headers)
    assert foreign.status_code == missing.status_code == 403
    assert foreign.json == missing.json
    own = client.get(f"/api/v1/bookings/{BOOKING_N1['booking_id']}", headers=headers)
    assert own.status_code == 200


def test_admin_and_operations_see_404_for_missing_records(client):
    for role in ("admin", "operations"):
        response = client.get("/api/v1/bookings/99999999-9999-9999-9999-999999999999", headers=bearer(role))
        assert response.status_code == 404 and response.json["error"]["fields"] == {"booking_id": ["unknown booking"]}


def test_a_command_on_a_record_carries_the_callers_branches_to_the_owning_service(client, services):
    """Scope "owner": one call, with the caller's branches; the service checks the record it locked."""
    confirm = f"/api/v1/bookings/{BOOKING_S1['booking_id']}/confirmation"
    response = client.post(confirm, headers=bearer("advisor", branch_id="N1"))
    assert response.status_code == 403 and response.json["error"]["message"] == "not found in your scope"
    assert services.calls == [("booking", "confirm_booking", (BOOKING_S1["booking_id"],))]
    [context] = services.contexts
    assert context["branch_scope"] == ["N1"]
    # admins carry no limit
    assert client.post(confirm, headers=bearer("admin")).status_code == 200
    assert "branch_scope" not in services.contexts[-1]
    missing = client.post("/api/v1/bookings/99999999-9999-9999-9999-999999999999/confirmation",
                          headers=bearer("advisor", branch_id="N1"))
    assert missing.status_code == 403 and missing.json == response.json  # missing looks like foreign
    assert client.post("/api/v1/bookings/99999999-9999-9999-9999-999999999999/confirmation",
                       headers=bearer("admin")).status_code == 404


def test_a_command_carries_the_time_its_caller_stops_waiting(client, services):
    """A command queued behind a stopped service is not started once its caller gave up
    (shared/bus/rpc.py, DEADLINE)."""
    confirm = f"/api/v1/bookings/{BOOKING_N1['booking_id']}/confirmation"
    before = time.time()
    assert client.post(confirm, headers=bearer("admin")).status_code == 200
    context = services.contexts[-1]
    assert before + 1 < context["deadline"] <= time.time() + config.rpc_timeout()
    assert "command_id" not in context  # no Idempotency-Key: no command id


def test_lists_of_scoped_callers_are_filtered_to_their_branches(client, services):
    client.get("/api/v1/stock", headers=bearer("parts_coordinator", region_id="NORTH"))
    _, _, (query,) = next(c for c in services.calls if c[1] == "list_stock")
    assert query["branch_ids"] == ["N1", "N2"]
    assert client.get("/api/v1/stock?branch_id=S1",
                      headers=bearer("parts_coordinator", region_id="NORTH")).status_code == 403


def test_a_client_cannot_widen_its_scope_through_the_query(client, services):
    client.get("/api/v1/bookings?branch_ids=S1", headers=bearer("advisor", branch_id="N1"))
    _, _, (query,) = next(c for c in services.calls if c[1] == "list_bookings")
    assert query["branch_ids"] == ["N1"]


def test_validation_errors_name_the_fields(client, services):
    response = client.post("/api/v1/bookings", json={"branch_id": "N1", "channel": "fax", "surprise": 1},
                           headers=bearer("advisor", branch_id="N1"))
    assert response.status_code == 400
    fields = response.json["error"]["fields"]
    assert {"customer_id", "vehicle_id", "slot_start", "channel", "surprise"} <= set(fields)
    assert not [c for c in services.calls if c[1] == "create_booking"]


@pytest.mark.parametrize("payload", [b"{not json", b"[]", b"null", b'"text"'])
def test_malformed_bodies_are_400(client, payload):
    response = client.post("/api/v1/bookings", data=payload, content_type="application/json",
                           headers=bearer("admin"))
    assert response.status_code == 400 and response.json["error"]["code"] == "validation_failed"


def test_a_service_that_does_not_answer_is_503_with_retry_after(client):
    response = client.get("/api/v1/customers/33333333-3333-3333-3333-333333333333", headers=bearer("admin"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"


def test_unknown_paths_and_methods_are_json(client):
    assert client.get("/api/v1/nowhere").json["error"]["code"] == "not_found"
    response = client.delete("/api/v1/bookings", headers=bearer("admin"))
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


def test_audit_is_admin_only(client):
    assert client.get("/api/v1/audit", headers=bearer("operations")).status_code == 403


def test_every_route_is_in_the_route_table_and_the_openapi_document(client):
    """The table (gateway/routes.py) is the whole API: the app serves no route outside it, the
    gateway's own routes (SLA, audit, events, self-service, health, metrics) included, and the
    document declares every one with its schemas, a summary and a description."""
    import re

    document = client.get("/api/v1/openapi.json").json
    rules = [rule for rule in client.application.url_map.iter_rules() if rule.endpoint != "static"]
    # the console's pages are the API's second client, not part of it: under /console, / leads there,
    # and the customer's page is at the address messages carry
    pages = [rule for rule in rules if rule.endpoint.startswith("console.") or rule.endpoint in ("root", "customer_page")]
    assert all(rule.rule.startswith("/console/") or rule.rule in ("/", "/customer/<token>") for rule in pages)
    served = {(rule.rule, method) for rule in rules if rule not in pages for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == {(route.url, route.method) for route in ROUTES}
    assert {"/healthz", "/metrics", "/api/v1/audit", "/api/v1/sla/summary"} <= {route.url for route in ROUTES}
    for route in ROUTES:
        operation = document["paths"][re.sub(r"<(\w+)>", r"{\1}", route.url)][route.method.lower()]
        assert operation["summary"] and operation["description"], route.url
        if route.body:
            assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        if route.response:
            assert "schema" in next(iter(operation["responses"][str(route.status)]["content"].values()))
        if not route.public:
            assert {"401", "405"} <= set(operation["responses"]), route.url
            assert operation["security"] == [{"bearer": []}]
        else:
            assert operation["security"] == []
    schemas = document["components"]["schemas"]
    assert "booking.BookingRequest" in schemas and "booking.BookingPage" in schemas


def test_a_kept_token_still_expires_and_only_the_identical_token_is_kept(client, monkeypatch):
    token = auth.issue_token("admin", "u-kept", ttl_seconds=60)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200  # kept
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get("/api/v1/bookings", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    response = client.get("/api/v1/bookings", headers=headers)
    assert response.status_code == 401 and response.json["error"]["fields"] == {"Authorization": ["expired"]}


def test_a_records_branch_is_asked_once_per_process_and_a_missing_record_every_time():
    """Scope "record" (a record of another service, e.g. the repair order a survey is about)."""
    from gateway.rpc import RecordBranches

    asked = []

    def call(service, getter, key):
        asked.append(key)
        if key == "missing":
            raise errors.NotFound("no such repair order", {})
        return {"repair_order_id": key, "branch_id": "N1"}

    records = RecordBranches()
    assert [records.branch_of(call, "workshop", "get_repair_order", "ro-1") for _ in range(3)] == ["N1"] * 3
    assert asked == ["ro-1"]  # a record never changes branch
    assert [records.branch_of(call, "workshop", "get_repair_order", "missing") for _ in range(2)] == [None, None]
    assert asked == ["ro-1", "missing", "missing"]  # it may be created a moment later
