"""Role x endpoint family: each role inside and outside its scope, against the real stack."""
import re
import uuid

import pytest

from gateway import policy
from gateway.routes import ROUTES
from tests.support import fixtures
from tests.support.gateway import Api
from tests.support.journey import Journey, until, vin

ROLES = ("advisor", "technician", "parts_coordinator", "operations", "admin")
# (family, list path): every list takes ?branch_id=, so one probe shows scope for reading
LISTS = [("customers", "/customers"), ("vehicles", "/vehicles"), ("bookings", "/bookings"),
         ("repair-orders", "/repair-orders"), ("quotes", "/quotes"), ("jobs", "/jobs"), ("stock", "/stock"),
         ("reservations", "/reservations"), ("transfers", "/transfers"), ("invoices", "/invoices"),
         ("payments", "/payments"), ("warranty-claims", "/warranty-claims"), ("follow-ups", "/follow-ups"),
         ("surveys", "/surveys"), ("complaints", "/complaints")]


def caller(gateway, role, world):
    scope = {"advisor": {"branch_id": world["branch"]}, "technician": {"branch_id": world["branch"]},
             "parts_coordinator": {"region_id": world["region"]}}.get(role, {})
    return Api.as_role(gateway.url, role, **scope)


def expected_read(role, family, inside):
    if not policy.allows(role, family, policy.READ):
        return 403
    if role in ("operations", "admin"):
        return 200
    return 200 if inside else 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("family,path", LISTS)
def test_reading_lists(gateway, world, role, family, path):
    api = caller(gateway, role, world)
    assert api.get(path, branch_id=world["branch"]).status_code == expected_read(role, family, True)
    assert api.get(path, branch_id=world["far_branch"]).status_code == expected_read(role, family, False)
    assert Api(gateway.url).get(path).status_code == 401


def _writes(world, branch_id):
    """(family, path, body) of writes whose scope is the branch in the body."""
    return [
        ("customers", "/customers", {"branch_id": branch_id, "name": f"Matrix {uuid.uuid4().hex[:6]}"}),
        ("stock", "/stock/receipts", {"branch_id": branch_id, "part_number": world["part"], "quantity": 1}),
        ("slots", "/slots/capacity", {"branch_id": branch_id, "slot_start": "2027-01-04T10:00:00+00:00",
                                      "capacity": 40}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_writing_inside_and_outside_the_scope(gateway, world, role):
    api = caller(gateway, role, world)
    for inside, branch_id in ((True, world["branch"]), (False, world["far_branch"])):
        for family, path, body in _writes(world, branch_id):
            response = api.post(path, body)
            if not policy.allows(role, family, policy.WRITE):
                expected = (403,)
            elif role == "admin" or inside:
                expected = (200, 201)
            else:
                expected = (403,)
            assert response.status_code in expected, (role, family, inside, response.status_code, response.text)
            assert Api(gateway.url).post(path, body).status_code == 401


@pytest.mark.parametrize("role,status", [("advisor", 403), ("technician", 403), ("parts_coordinator", 201),
                                         ("operations", 403), ("admin", 201)])
def test_the_catalogue_is_kept_by_parts_coordinators_and_admins(gateway, world, role, status):
    body = {"part_number": f"MX-{uuid.uuid4().hex[:6].upper()}", "description": "matrix part", "origin": "oem",
            "price_cents": 100, "warranty_months": 6}
    assert caller(gateway, role, world).post("/parts", body).status_code == status


@pytest.mark.parametrize("role,status", [("advisor", 403), ("operations", 403), ("admin", 200)])
def test_the_audit_trail_is_for_admins(gateway, world, role, status):
    assert caller(gateway, role, world).get("/audit").status_code == status


def test_a_record_outside_the_scope_and_a_missing_one_look_the_same(gateway, world, admin):
    far_customer = admin.ok("POST", "/customers", {"branch_id": world["far_branch"], "name": "Far Away"})
    advisor = caller(gateway, "advisor", world)
    foreign = advisor.get(f"/customers/{far_customer['customer_id']}")
    missing = advisor.get(f"/customers/{uuid.uuid4()}")
    assert foreign.status_code == missing.status_code == 403 and foreign.json() == missing.json()
    assert admin.get(f"/customers/{uuid.uuid4()}").status_code == 404


def test_a_parts_coordinator_sees_every_branch_of_the_region_and_no_other(gateway, world):
    api = caller(gateway, "parts_coordinator", world)
    assert api.get("/stock", branch_id=world["other_branch"]).status_code == 200
    assert api.get(f"/stock/{world['branch']}/{world['part']}").status_code == 200
    items = api.ok("GET", "/stock", limit=200)["items"]
    assert items and {s["branch_id"] for s in items} <= {world["branch"], world["other_branch"]}


def _owner_command_bodies(ids):
    """A valid body for every scope-"owner" command, so only the scope can refuse it."""
    return {
        "/vehicles": {"customer_id": ids["customer_id"], "vin": vin(), "plate": "SC 1", "model": "Golf"},
        "/bookings/<booking_id>/confirmation": None,
        "/bookings/<booking_id>/reschedule": {"slot_start": fixtures.next_slot(9)},
        "/bookings/<booking_id>/cancellation": {"reason": "scope probe"},
        "/bookings/<booking_id>/check-in": {"odometer_km": 1, "fault_description": "probe"},
        "/bookings/<booking_id>/arrival": None,
        "/bookings/<booking_id>/reschedule-request": {"note": "probe"},
        "/bookings/<booking_id>/reschedule-offer": {},
        "/walk-ins/<walk_in_id>/check-in": {"odometer_km": 1, "fault_description": "probe"},
        "/repair-orders/<repair_order_id>/diagnosis": {
            "findings": [{"description": "probe", "status": "green"}]},
        "/repair-orders/<repair_order_id>/quotes": {"lines": [
            {"kind": "labour", "group": "must", "description": "probe", "quantity": "1"}]},
        "/repair-orders/<repair_order_id>/approval": {
            "quote_id": str(uuid.uuid4()), "consent": {"method": "signature", "by": "probe"},
            "decisions": [{"line_id": str(uuid.uuid4()), "approved": True}]},
        "/repair-orders/<repair_order_id>/jobs": {},
        "/repair-orders/<repair_order_id>/jobs/<job_id>/finish": {},
        "/repair-orders/<repair_order_id>/jobs/<job_id>/pause": {},
        "/repair-orders/<repair_order_id>/supplements": {
            "findings": [{"description": "probe", "status": "amber"}],
            "lines": [{"kind": "labour", "description": "probe", "quantity": "1"}]},
        "/repair-orders/<repair_order_id>/jobs/<job_id>/resumption": None,
        "/repair-orders/<repair_order_id>/hold": {"reason": "sublet"},
        "/repair-orders/<repair_order_id>/resumption": None,
        "/repair-orders/<repair_order_id>/quality-check": {"passed": True, "notes": ""},
        "/repair-orders/<repair_order_id>/delivery": {},
        "/repair-orders/<repair_order_id>/cancellation": {"reason": "scope probe"},
        "/invoices/<invoice_id>/payments": {"amount_cents": 1, "method": "card"},
        # billing in depth
        "/repair-orders/<repair_order_id>/discounts": {"amount_cents": 100, "reason": "scope probe"},
        "/repair-orders/<repair_order_id>/warranty-checks": {"line_id": str(uuid.uuid4()), "odometer_km": 1},
        "/credit-notes": {"invoice_id": ids["invoice_id"], "complaint_id": str(uuid.uuid4()), "amount_cents": 1,
                          "kind": "refund", "reason": "scope probe"},
        "/follow-ups/<follow_up_id>/completion": {"outcome": "reached", "notes": "probe"},
        "/transfers/<transfer_id>/status": {"status": "approved"},
        "/purchase-orders/<purchase_order_id>/cancellation": {"reason": "scope probe"},  # parts ledger
        "/transfers/<transfer_id>/tracking": {"tracking_reference": "PROBE-1"},
        "/transfers/<transfer_id>/write-off": {"reason": "lost_in_transit"},
        "/replenishments/<replenishment_id>/acceptance": {},
        "/replenishments/<replenishment_id>/dismissal": {},
    }


def _path(template, ids):
    return re.sub(r"<(\w+)>", lambda m: str(ids[m.group(1)]), template)


def test_commands_on_a_record_of_another_branch_are_refused_by_its_service_and_change_nothing(
        gateway, world, admin):
    """Scope "owner": the gateway sends the caller's branches with the command and the owning
    service refuses a record of another branch in the command's own transaction."""
    far = world["far_branch"]
    admin.ok("POST", "/stock/receipts", {"branch_id": far, "part_number": world["part"], "quantity": 1})
    # a transfer between two branches of the far region: neither side is the near coordinator's
    far_second = "E2E-C2"
    admin.ok("POST", "/branches", fixtures.branch(far_second, region_id=world["far_region"], bays=4), status=201)
    transfer = until(lambda: admin.post("/transfers", {"branch_id": far_second, "from_branch_id": far,
                                                       "part_number": world["part"], "quantity": 1}),
                     lambda r: r.status_code == 201, what="parts to know the new branch").json()
    # a replenishment proposal at the far branch: a part of its own falls below its reorder point there
    part = f"RL-{uuid.uuid4().hex[:8].upper()}"
    admin.ok("POST", "/parts", {"part_number": part, "description": "scope probe", "origin": "oem",
                                "price_cents": 100}, status=201)
    admin.ok("POST", "/stock/receipts", {"branch_id": far, "part_number": part, "quantity": 1})
    admin.ok("POST", "/stock/thresholds", {"branch_id": far, "part_number": part, "reorder_point": 5,
                                           "safety_stock": 1})
    replenishment = until(lambda: admin.ok("GET", "/replenishments", branch_id=far, part_number=part)["items"],
                          bool, what="the replenishment proposal")[0]
    second_admin = Api.as_role(gateway.url, "admin")  # the peer check: another person
    state = Journey(admin, admin, second_admin, far, part_number=world["part"], slot_start=fixtures.next_slot(8)).run()
    ro_id = state["ro"]["repair_order_id"]
    ids = {"customer_id": state["customer"]["customer_id"], "booking_id": state["booking"]["booking_id"],
           "repair_order_id": ro_id, "job_id": admin.ok("GET", "/jobs", repair_order_id=ro_id)["items"][0]["job_id"],
           "invoice_id": state["invoice"]["invoice_id"], "follow_up_id": state["follow_up"]["follow_up_id"],
           "transfer_id": transfer["transfer_id"], "replenishment_id": replenishment["replenishment_id"],
           "purchase_order_id": admin.ok("POST", "/purchase-orders", {  # parts ledger: an open order at far
               "branch_id": far, "part_number": world["part"], "quantity": 1})["purchase_order_id"],
           "walk_in_id": admin.ok("POST", "/walk-ins", {  # booking: a walk-in waiting at the far branch
               "branch_id": far, "customer_id": state["customer"]["customer_id"],
               "vehicle_id": state["vehicle"]["vehicle_id"], "service_type": "probe"})["walk_in_id"]}
    missing = {name: str(uuid.uuid4()) for name in ids}
    records = {"booking": f"/bookings/{ids['booking_id']}", "repair order": f"/repair-orders/{ro_id}",
               "invoice": f"/invoices/{ids['invoice_id']}", "follow-up": f"/follow-ups/{ids['follow_up_id']}",
               "transfer": f"/transfers/{ids['transfer_id']}",
               "replenishment": f"/replenishments?branch_id={far}&part_number={part}",
               "purchase order": f"/purchase-orders/{ids['purchase_order_id']}"}
    before = {name: admin.ok("GET", path) for name, path in records.items()}
    vehicles_before = admin.ok("GET", "/vehicles", customer_id=ids["customer_id"])["items"]

    bodies = _owner_command_bodies(ids)
    owner_routes = [r for r in ROUTES if r.scope == "owner"]
    assert {r.path for r in owner_routes} == set(bodies)  # a new scope-"owner" route needs a probe here
    for route in owner_routes:
        role = next(r for r in ("advisor", "technician", "parts_coordinator")
                    if policy.allows(r, route.family, route.access))
        near = caller(gateway, role, world)
        foreign = near.post(_path(route.path, ids), bodies[route.path])
        unknown = near.post(_path(route.path, missing), bodies[route.path])
        assert foreign.status_code == 403, (route.path, foreign.status_code, foreign.text)
        assert foreign.json() == unknown.json() == {"error": {"code": "forbidden", "message": "not found in your scope",
                                                              "fields": {}}}, route.path

    assert {name: admin.ok("GET", path) for name, path in records.items()} == before
    assert admin.ok("GET", "/vehicles", customer_id=ids["customer_id"])["items"] == vehicles_before
    # the branch's own advisor passes the same check
    far_advisor = Api.as_role(gateway.url, "advisor", branch_id=far)
    far_advisor.ok("POST", _path("/follow-ups/<follow_up_id>/completion", ids),
                   bodies["/follow-ups/<follow_up_id>/completion"])
