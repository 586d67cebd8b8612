"""Thresholds and replenishment through the gateway: the louder alert below safety stock, once
per crossing; a proposal made with the alert (up to reorder point + safety stock, less what is coming;
the best donor, else a purchase); the lists of purchasing, the warehouse and the desk; one-call
acceptance (a transfer request or a purchase order), once however many callers race for it."""
from concurrent.futures import ThreadPoolExecutor

from tests.api.test_parts_donors import branch, region
from tests.api.test_parts_rules import coordinator, new_part, receive, transfer
from tests.support.bus import EventRecorder
from tests.support.gateway import Api
from tests.support.journey import until


def shelf(admin, branch_id, part, on_hand, reorder_point, safety_stock):
    """`on_hand` of the part at the branch (once parts knows the branch), then its levels."""
    until(lambda: admin.post("/stock/receipts", {"branch_id": branch_id, "part_number": part, "quantity": on_hand}),
          lambda r: r.status_code == 201, what=f"parts to know {branch_id}")
    return levels(admin, branch_id, part, reorder_point, safety_stock)


def levels(admin, branch_id, part, reorder_point, safety_stock):
    return admin.ok("POST", "/stock/thresholds", {"branch_id": branch_id, "part_number": part,
                                                  "reorder_point": reorder_point, "safety_stock": safety_stock})


def proposals(api, part, **query):
    return [r for r in api.ok("GET", "/replenishments", part_number=part, limit=200, **query)["items"]]


def test_falling_below_the_reorder_point_proposes_a_transfer_from_the_best_donor(gateway, admin, world, advisor):
    part, north_region, south_region = new_part(admin), region(), region()
    short, near = branch(admin, north_region, "rp-short"), branch(admin, north_region, "rp-near")
    far = branch(admin, south_region, "rp-far")
    shelf(admin, near, part, 10, 2, 2)  # can give 8
    shelf(admin, far, part, 30, 0, 0)
    with EventRecorder("stock.*") as recorder:
        stock = shelf(admin, short, part, 4, 6, 3)  # 4 available, below the reorder point, above safety
        proposed = recorder.wait_for("stock.replenishment_proposed", part_number=part)
    assert stock["below_reorder"] and not stock["below_safety"]
    assert (proposed["branch_id"], proposed["kind"], proposed["from_branch_id"], proposed["quantity"]) == (
        short, "transfer", near, 5)  # up to 6 + 3, from the same region's donor
    north = coordinator(gateway, north_region)
    [desk] = proposals(north, part, audience="desk", branch_id=short)
    assert (desk["status"], desk["alert"], desk["quantity"], desk["target"], desk["available"], desk["incoming"]) == (
        "proposed", "reorder_point", 5, 9, 4, 0)
    assert [r["replenishment_id"] for r in proposals(north, part, audience="warehouse", branch_id=near)] == [
        desk["replenishment_id"]]  # the giving branch's warehouse sees what it is to give
    assert proposals(north, part, audience="purchasing") == []  # a transfer is not purchasing's
    assert proposals(coordinator(gateway, south_region), part) == []  # another region's coordinator
    assert north.get("/replenishments", audience="sales").status_code == 400


def test_the_safety_alert_is_louder_once_per_crossing_and_keeps_the_one_proposal(gateway, admin, world):
    part, short = new_part(admin), branch(admin, region(), "rs-short")
    with EventRecorder("stock.*") as recorder:
        shelf(admin, short, part, 4, 6, 3)
        recorder.wait_for("stock.replenishment_proposed", part_number=part)
        stock = levels(admin, short, part, 8, 5)  # 4 is now below the safety stock
        assert stock["below_safety"]
        alert = recorder.wait_for("stock.below_safety_stock", part_number=part)
        assert (alert["available"], alert["safety_stock"], alert["reorder_point"]) == (4, 5, 8)
        levels(admin, short, part, 8, 6)  # still below: no second alert
        receive(admin, short, part, 20)  # recovered: the open proposal is superseded
        recorder.wait_for("stock.recovered", part_number=part)
    assert [e["_type"] for e in recorder.seen if e.get("part_number") == part].count("stock.below_safety_stock") == 1
    [only] = proposals(admin, part, branch_id=short)
    assert (only["kind"], only["status"]) == ("purchase", "superseded")  # no donor in its region: a purchase
    assert not admin.ok("GET", f"/stock/{short}/{part}")["below_safety"]


def test_a_proposal_counts_what_is_already_coming_so_nothing_is_ordered_twice(gateway, admin, world):
    part, the_region = new_part(admin), region()
    short, donor = branch(admin, the_region, "rc-short"), branch(admin, the_region, "rc-donor")
    shelf(admin, donor, part, 20, 0, 0)
    shelf(admin, short, part, 4, 0, 0)  # no alert yet: the reorder point is 0
    transfer(admin, short, donor, part, 3)  # requested, not on the road yet
    admin.ok("POST", "/purchase-orders", {"branch_id": short, "part_number": part, "quantity": 1})
    levels(admin, short, part, 6, 3)
    [proposal] = until(lambda: proposals(admin, part, branch_id=short), bool, what="the proposal")
    assert (proposal["incoming"], proposal["quantity"]) == (4, 1)  # 9 - 4 available - 3 requested - 1 on order


def test_a_coordinator_takes_a_transfer_proposal_with_one_call_and_only_once(gateway, admin, world, advisor):
    part, the_region = new_part(admin), region()
    short, donor = branch(admin, the_region, "ra-short"), branch(admin, the_region, "ra-donor")
    shelf(admin, donor, part, 20, 0, 0)
    shelf(admin, short, part, 1, 4, 2)
    [proposal] = until(lambda: proposals(admin, part, branch_id=short), bool, what="the proposal")
    url = f"/replenishments/{proposal['replenishment_id']}/acceptance"
    north = coordinator(gateway, the_region)
    assert Api.as_role(gateway.url, "advisor", branch_id=short).post(url, {}).status_code == 403  # reads only
    assert coordinator(gateway, region()).post(url, {}).status_code == 403  # not its region's
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: north.post(url, {}), range(4)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409], [r.text[:300] for r in answers if r.status_code != 409]
    taken = next(r.json() for r in answers if r.status_code == 200)
    assert taken["status"] == "accepted" and taken["accepted_by"]
    moved = admin.ok("GET", f"/transfers/{taken['transfer_id']}")
    assert (moved["status"], moved["branch_id"], moved["from_branch_id"], moved["quantity"]) == (
        "requested", short, donor, 5)
    assert len(admin.ok("GET", "/transfers", part_number=part)["items"]) == 1  # one transfer, not four
    assert north.post(f"/replenishments/{proposal['replenishment_id']}/dismissal", {}).status_code == 409


def test_a_purchase_proposal_becomes_a_purchase_order_and_shows_in_purchasings_list(gateway, admin, world):
    part, the_region = new_part(admin), region()
    short = branch(admin, the_region, "rb-short")
    shelf(admin, short, part, 2, 5, 1)  # nobody else has the part: a purchase of 4
    north = coordinator(gateway, the_region)
    [proposal] = until(lambda: proposals(north, part, audience="purchasing"), bool, what="the purchase proposal")
    assert (proposal["kind"], proposal["from_branch_id"], proposal["quantity"]) == ("purchase", None, 4)
    assert proposals(north, part, audience="warehouse") == []
    taken = north.ok("POST", f"/replenishments/{proposal['replenishment_id']}/acceptance", {})
    order = admin.ok("GET", f"/purchase-orders/{taken['purchase_order_id']}")
    assert (order["branch_id"], order["quantity"], order["status"]) == (short, 4, "open")
    assert admin.ok("GET", f"/stock/{short}/{part}")["on_order"] == 4


def test_a_coordinator_turns_a_proposal_down(gateway, admin, world):
    part, the_region = new_part(admin), region()
    short = branch(admin, the_region, "rd-short")
    shelf(admin, short, part, 1, 3, 1)
    [proposal] = until(lambda: proposals(admin, part, branch_id=short), bool, what="the proposal")
    north = coordinator(gateway, the_region)
    assert north.ok("POST", f"/replenishments/{proposal['replenishment_id']}/dismissal", {})["status"] == "dismissed"
    assert north.post(f"/replenishments/{proposal['replenishment_id']}/acceptance", {}).status_code == 409
    assert north.post("/replenishments/not-an-id/acceptance", {}).status_code in (403, 404)
