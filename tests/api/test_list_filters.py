"""The list filters the console screens ask for instead of filtering themselves: SLA clocks by
outcome and by when they breached (GET /sla/clocks), shelves below their safety stock (GET /stock).

The clocks are kept at a branch of its own, whose short target breaches no other test's clocks.
"""
import uuid
from datetime import datetime, timezone

import pytest

from tests.support import fixtures
from tests.support.journey import until, vin

BRANCH, REGION = "E2E-LF1", "E2E-RLF"
POLICY = "booking_first_response"


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def target(admin, seconds):
    admin.ok("POST", "/sla/targets", {"policy": POLICY, "branch_id": BRANCH, "target_seconds": seconds})


def booking(admin, hours_ahead) -> dict:
    customer = until(lambda: admin.post("/customers", {"branch_id": BRANCH, "name": "Fil Ter"}),
                     lambda r: r.status_code == 201, what=f"crm to know {BRANCH}", first_after=0).json()
    vehicle = admin.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                             "plate": f"LF {uuid.uuid4().hex[:5]}", "model": "Zoe"})
    response = until(lambda: admin.post("/bookings", fixtures.booking_request(
        BRANCH, customer["customer_id"], vehicle["vehicle_id"], slot_start=fixtures.next_slot(hours_ahead))),
        lambda r: r.status_code != 422, what="the vehicle copy in booking", first_after=0)
    assert response.status_code == 201, response.text
    return response.json()


def first_response(admin, booking_id) -> dict:
    [found] = admin.ok("GET", "/sla/clocks", service="booking", policy=POLICY, subject_id=booking_id)["items"]
    return found


def breached(admin, booking_id) -> dict:
    return until(lambda: first_response(admin, booking_id), lambda c: c["outcome"] == "breached",
                 what="the first response breached")


def subjects(admin, service="booking", **query) -> set[str]:
    items = admin.ok("GET", "/sla/clocks", service=service, branch_id=BRANCH, limit=200, **query)["items"]
    return {c["subject_id"] for c in items}


@pytest.fixture(scope="module")
def clocks(gateway, admin, world):
    """Booking first-response clocks: one breached and still running, one breached then answered
    (breached after `between`), one met; and a repair order's diagnosis clock cancelled."""
    admin.ok("POST", "/branches", fixtures.branch(BRANCH, region_id=REGION, bays=40), status=(200, 201))
    start = now()
    target(admin, 1)
    try:
        still_open = booking(admin, 3)["booking_id"]
        breached(admin, still_open)
        between = now()
        answered = booking(admin, 4)["booking_id"]
        breached(admin, answered)
    finally:
        target(admin, 900)
    admin.ok("POST", f"/bookings/{answered}/confirmation")
    met = booking(admin, 5)["booking_id"]
    admin.ok("POST", f"/bookings/{met}/confirmation")
    walk_in = booking(admin, 6)
    admin.ok("POST", f"/bookings/{walk_in['booking_id']}/check-in",
             {"odometer_km": 1000, "fault_description": "rattle at the back", "advisor": "fil"})
    [order] = until(lambda: admin.ok("GET", "/repair-orders", customer_id=walk_in["customer_id"])["items"], bool,
                    what="the repair order")
    ro = order["repair_order_id"]
    admin.ok("POST", f"/repair-orders/{ro}/cancellation", {"reason": "customer took the car away"})
    until(lambda: admin.ok("GET", "/sla/clocks", service="workshop", policy="diagnosis", subject_id=ro)["items"],
          lambda found: found and found[0]["outcome"] == "cancelled", what="the diagnosis clock cancelled")
    assert first_response(admin, answered)["state"] == "stopped"
    assert first_response(admin, met)["outcome"] == "met"
    return {"start": start, "between": between, "still_open": still_open, "answered": answered, "met": met,
            "cancelled": ro, "walk_in": walk_in["booking_id"]}


# -- SLA clocks by outcome ------------------------------------------------------------------------------------
def test_clocks_listed_by_outcome_are_those_that_ended_so_or_breached_while_open(admin, clocks):
    assert subjects(admin, outcome="breached") >= {clocks["still_open"], clocks["answered"]}
    assert not subjects(admin, outcome="breached") & {clocks["met"], clocks["walk_in"]}
    assert subjects(admin, outcome="met") >= {clocks["met"], clocks["walk_in"]}
    assert not subjects(admin, outcome="met") & {clocks["still_open"], clocks["answered"]}
    cancelled = admin.ok("GET", "/sla/clocks", service="workshop", branch_id=BRANCH, outcome="cancelled")["items"]
    assert clocks["cancelled"] in {c["subject_id"] for c in cancelled}
    assert {c["outcome"] for c in cancelled} == {"cancelled"}


def test_the_summary_counts_the_clocks_of_the_outcome_asked_for(admin, clocks):
    rows = admin.ok("GET", "/sla/summary", branch_id=BRANCH, outcome="met")["compliance"]
    mine = [r for r in rows if r["policy"] == POLICY]
    assert mine and all(r["breached"] == 0 and r["met"] >= 2 for r in mine), rows


def test_a_stack_of_one_site_lists_itself_alone_in_the_group_view_as_of_now(admin, clocks):
    (site,) = admin.ok("GET", "/sla/summary", policy=POLICY)["sites"]
    assert (site["site"], site["local"], site["age_seconds"]) == ("local", True, 0)
    assert [p["policy"] for p in site["compliance"]] == [POLICY] and site["compliance"][0]["met"] >= 2


# -- SLA clocks by when they breached -------------------------------------------------------------------------
def test_clocks_breached_in_the_window_are_listed_open_or_ended_and_no_others(admin, clocks):
    since_start = admin.ok("GET", "/sla/clocks", service="booking", branch_id=BRANCH, breached_from=clocks["start"],
                           limit=200)["items"]
    assert {c["subject_id"] for c in since_start} >= {clocks["still_open"], clocks["answered"]}
    assert not {c["subject_id"] for c in since_start} & {clocks["met"], clocks["walk_in"]}
    states = {c["subject_id"]: c["state"] for c in since_start}
    assert (states[clocks["still_open"]], states[clocks["answered"]]) == ("running", "stopped")
    assert all(moment(c["breached_at"]) >= moment(clocks["start"]) for c in since_start)

    later = subjects(admin, breached_from=clocks["between"])
    assert clocks["answered"] in later and clocks["still_open"] not in later
    earlier = subjects(admin, breached_from=clocks["start"], breached_to=clocks["between"])
    assert clocks["still_open"] in earlier and clocks["answered"] not in earlier


def test_a_breach_window_starting_now_lists_none_of_the_earlier_breaches(admin, clocks):
    assert not subjects(admin, breached_from=now()) & {clocks["still_open"], clocks["answered"]}


# -- refused filters -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query,field", [
    ({"outcome": "late"}, "outcome"),
    ({"outcome": ""}, "outcome"),
    ({"breached_from": "2025-03-01T08:00:00"}, "breached_from"),  # no time zone
    ({"breached_from": "yesterday"}, "breached_from"),
    ({"breached_to": "2025-03-01"}, "breached_to"),
    ({"breached_from": "2025-03-02T00:00:00Z", "breached_to": "2025-03-01T00:00:00Z"}, "breached_to"),
])
def test_a_bad_clock_filter_is_refused_naming_its_field(admin, world, query, field):
    for path in ("/sla/clocks", "/sla/summary"):
        refused = admin.get(path, service="booking", **query)
        assert refused.status_code == 400, (path, refused.text)
        assert field in refused.json()["error"]["fields"], (path, refused.text)


# -- shelves below their safety stock --------------------------------------------------------------------------
def new_part(admin) -> str:
    number = f"LF-{uuid.uuid4().hex[:8].upper()}"
    admin.ok("POST", "/parts", {"part_number": number, "description": "list filter probe", "origin": "oem",
                                "price_cents": 1200, "warranty_months": 12}, status=201)
    return number


def shelf(admin, branch_id, on_hand, reorder_point, safety_stock) -> str:
    part = new_part(admin)
    until(lambda: admin.post("/stock/receipts", {"branch_id": branch_id, "part_number": part, "quantity": on_hand}),
          lambda r: r.status_code == 201, what=f"parts to know {branch_id}")
    admin.ok("POST", "/stock/thresholds", {"branch_id": branch_id, "part_number": part,
                                           "reorder_point": reorder_point, "safety_stock": safety_stock})
    return part


def stock(api, **query) -> list[dict]:
    return api.ok("GET", "/stock", limit=200, **query)["items"]


def test_stock_below_safety_lists_the_shelves_under_their_safety_stock_and_no_others(admin, advisor, world):
    home = world["branch"]
    under = shelf(admin, home, 1, 4, 2)  # 1 available: below safety stock, and so below the reorder point
    reorder_only = shelf(admin, home, 3, 4, 2)
    above = shelf(admin, home, 10, 4, 2)
    no_safety = shelf(admin, home, 1, 4, 0)  # a safety stock of 0 protects nothing

    [row] = stock(advisor, part_number=under, below_safety="true")
    assert (row["branch_id"], row["available"], row["safety_stock"], row["below_safety"]) == (home, 1, 2, True)
    for part in (reorder_only, above, no_safety):
        assert stock(advisor, part_number=part, below_safety="true") == [], part
        assert len(stock(advisor, part_number=part)) == 1, part  # the shelf is there, only filtered out
    assert [s["part_number"] for s in stock(advisor, part_number=reorder_only, below_reorder="true")] == [reorder_only]
    # false asks for no filter, as below_reorder=false does
    assert len(stock(advisor, part_number=above, below_safety="false")) == 1

    listed = {s["part_number"] for s in stock(advisor, branch_id=home, below_safety="true")}
    assert under in listed and not listed & {reorder_only, above, no_safety}
    assert all(s["available"] < s["safety_stock"] for s in stock(advisor, branch_id=home, below_safety="true"))


@pytest.mark.parametrize("value", ["maybe", "2", ""])
def test_a_bad_below_safety_is_refused_naming_its_field(advisor, value):
    refused = advisor.get("/stock", below_safety=value)
    assert refused.status_code == 400, refused.text
    assert "below_safety" in refused.json()["error"]["fields"], refused.text
