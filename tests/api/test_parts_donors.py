"""Donors across the group through the gateway: ranked by what each branch can give above its safety
stock, same region first, then lead time (the group's table or its defaults); a purchase when no donor
can give enough; a proposal taken with one call; and the group-wide stock view every coordinator has."""
import uuid

from tests.api.test_parts_rules import coordinator, new_part, opened_order
from tests.support import fixtures
from tests.support.gateway import Api
from tests.support.journey import until


def region() -> str:
    """A region of the test's own: stock at the world's regions' new branches would show in the lists
    other tests read as a coordinator of that region."""
    return f"DR-{uuid.uuid4().hex[:6]}"


def branch(admin, region_id, prefix) -> str:
    branch_id = f"{prefix}-{uuid.uuid4().hex[:6]}"
    admin.ok("POST", "/branches", fixtures.branch(branch_id, region_id=region_id, bays=1), status=201)
    return branch_id


def stocked(admin, branch_id, part, quantity, safety_stock):
    """`quantity` of the part at the branch, once parts knows the branch, with its safety stock."""
    until(lambda: admin.post("/stock/receipts", {"branch_id": branch_id, "part_number": part, "quantity": quantity}),
          lambda r: r.status_code == 201, what=f"parts to know {branch_id}")
    admin.ok("POST", "/stock/thresholds", {"branch_id": branch_id, "part_number": part,
                                           "reorder_point": safety_stock, "safety_stock": safety_stock})


def ranking(api, branch_id, part, quantity):
    return api.ok("GET", "/donors", branch_id=branch_id, part_number=part, quantity=quantity)


def test_donors_rank_by_what_they_can_give_above_safety_stock_then_region_then_lead_time(gateway, admin, world):
    part = new_part(admin)
    north_region, south_region = region(), region()
    short, near = branch(admin, north_region, "dn-short"), branch(admin, north_region, "dn-near")
    far1, far2 = branch(admin, south_region, "dn-far1"), branch(admin, south_region, "dn-far2")
    stocked(admin, near, part, 5, 4)   # can give 1
    stocked(admin, far1, part, 6, 1)   # can give 5
    stocked(admin, far2, part, 10, 2)  # can give 8
    stocked(admin, short, part, 1, 1)  # can give nothing, and is not its own donor
    north = coordinator(gateway, north_region)

    one = ranking(north, short, part, 1)  # every donor gives enough: the same region first
    assert [(d["branch_id"], d["lead_time_hours"]) for d in one["donors"]] == [(near, 24), (far2, 72), (far1, 72)]
    assert one["proposal"] == {"kind": "transfer", "from_branch_id": near, "quantity": 1, "lead_time_hours": 24}
    assert [d["can_give"] for d in one["donors"]] == [1, 8, 5]

    three = ranking(north, short, part, 3)  # the near branch cannot give 3 above its safety stock
    assert [d["branch_id"] for d in three["donors"]] == [far2, far1, near]
    admin.ok("POST", "/lead-times", {"kind": "branch", "from_id": far1, "to_id": short, "hours": 12})
    three = ranking(north, short, part, 3)
    assert [d["branch_id"] for d in three["donors"]][:2] == [far1, far2]
    assert three["proposal"] == {"kind": "transfer", "from_branch_id": far1, "quantity": 3, "lead_time_hours": 12}

    nine = ranking(north, short, part, 9)  # nobody has 9 above safety stock
    assert nine["proposal"]["kind"] == "purchase" and nine["proposal"]["from_branch_id"] is None
    # the group's purchase time (other tests, the fuzzers among them, may have set one), else the default
    purchase = next((e["hours"] for e in admin.ok("GET", "/lead-times") if e["kind"] == "purchase"), 48)
    assert nine["proposal"]["lead_time_hours"] == purchase

    assert north.get("/donors", branch_id=far1, part_number=part).status_code == 403  # not a branch it acts for
    assert north.get("/donors", branch_id=short, part_number=part, quantity="-1").status_code == 400


def test_lead_times_are_set_by_admin_and_read_by_coordinators_and_advisors(gateway, admin, world, advisor):
    a, b = f"lt-{uuid.uuid4().hex[:6]}", f"lt-{uuid.uuid4().hex[:6]}"
    north = coordinator(gateway, world["region"])
    assert north.post("/lead-times", {"kind": "branch", "from_id": a, "to_id": b, "hours": 5}).status_code == 403
    assert admin.post("/lead-times", {"kind": "branch", "from_id": a, "to_id": a, "hours": 5}).status_code == 422
    assert admin.post("/lead-times", {"kind": "branch", "from_id": a, "to_id": b, "hours": 0}).status_code == 400
    admin.ok("POST", "/lead-times", {"kind": "branch", "from_id": a, "to_id": b, "hours": 5})
    admin.ok("POST", "/lead-times", {"kind": "branch", "from_id": a, "to_id": b, "hours": 7})
    for reader in (north, advisor):
        assert [e["hours"] for e in reader.ok("GET", "/lead-times") if (e["from_id"], e["to_id"]) == (a, b)] == [7]


def test_every_coordinator_sees_the_group_stock_figures_of_a_part(gateway, admin, world):
    part = new_part(admin)
    north_region, south_region = region(), region()
    near, far = branch(admin, north_region, "dg-near"), branch(admin, south_region, "dg-far")
    stocked(admin, near, part, 7, 3)
    stocked(admin, far, part, 2, 4)
    south = coordinator(gateway, south_region)
    shelves = {s["branch_id"]: s for s in south.ok("GET", "/stock/group", part_number=part)}
    assert shelves[near] == {"branch_id": near, "region_id": north_region, "available": 7, "safety_stock": 3,
                             "can_give": 4}
    assert shelves[far]["can_give"] == 0
    assert south.get("/stock/group").status_code == 400
    assert south.get("/stock/group", part_number="NO-SUCH-PART").status_code == 404


def test_a_coordinator_takes_a_donor_proposal_with_one_call(gateway, admin, world):
    part, home = new_part(admin), world["branch"]
    far = branch(admin, region(), "da-far")
    stocked(admin, far, part, 6, 2)  # can give 4
    north, south = coordinator(gateway, world["region"]), coordinator(gateway, world["far_region"])
    order = opened_order(admin, home)
    proposal = ranking(north, home, part, 3)["proposal"]
    assert proposal["from_branch_id"] == far
    body = {"branch_id": home, "from_branch_id": far, "part_number": part, "quantity": 3, "repair_order_id": order}

    taken = until(lambda: north.post("/donors/acceptance", body), lambda r: r.status_code == 201,
                  what="parts' copy of the repair order").json()
    assert (taken["status"], taken["from_branch_id"], taken["repair_order_id"]) == ("requested", far, order)
    assert admin.ok("GET", f"/transfers/{taken['transfer_id']}")["quantity"] == 3

    too_many = north.post("/donors/acceptance", {**body, "quantity": 5, "repair_order_id": None})
    assert too_many.status_code == 422 and "from_branch_id" in too_many.json()["error"]["fields"], too_many.text
    assert south.post("/donors/acceptance", body).status_code == 403  # not the south's branch that asks
    advisor = Api.as_role(gateway.url, "advisor", branch_id=home)
    assert advisor.post("/donors/acceptance", body).status_code == 403
    assert len(admin.ok("GET", "/transfers", part_number=part)["items"]) == 1
