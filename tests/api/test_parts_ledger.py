"""The parts ledger through the gateway: adjustments with a reason, stock counts, purchase
orders placed, received in parts and cancelled, the desk's outlook, and bad units refused with the field."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from tests.api.test_parts_donors import branch, region
from tests.api.test_parts_rules import (approve, coordinator, held, new_part, parts_status, quoted_order, step,
                                        transfer)
from tests.support.bus import EventRecorder
from tests.support.gateway import Api
from tests.support.journey import until


def shelf(api, branch_id, part):
    return api.ok("GET", f"/stock/{branch_id}/{part}")


def receive(api, branch_id, part, quantity, **extra):
    """A receipt, once parts knows the branch (a new branch reaches it by event)."""
    response = until(lambda: api.post("/stock/receipts", {"branch_id": branch_id, "part_number": part,
                                                          "quantity": quantity, **extra}),
                     lambda r: r.status_code != 404 or "branch_id" not in r.text, what=f"parts to know {branch_id}")
    assert response.status_code == 201, response.text
    return response.json()


def fields_of(response) -> dict:
    return response.json()["error"]["fields"]


def quantities(row) -> tuple:
    return row["on_hand"], row["reserved"], row["available"], row["in_transit"], row["on_order"]


def order(api, branch_id, part, quantity, **extra):
    return api.ok("POST", "/purchase-orders", {"branch_id": branch_id, "part_number": part, "quantity": quantity,
                                               **extra}, status=201)


# -- adjustments ----------------------------------------------------------------------------------------------------
def test_an_adjustment_adds_or_takes_units_for_a_reason_and_is_a_movement(gateway, admin, world):
    part, home = new_part(admin), branch(admin, region(), "la")
    receive(admin, home, part, 5)
    with EventRecorder("stock.adjusted") as recorder:
        taken = admin.ok("POST", "/stock/adjustments", {"branch_id": home, "part_number": part, "quantity": -2,
                                                        "reason": "damaged", "note": "dropped"}, status=201)
        assert quantities(taken) == (3, 0, 3, 0, 0)
        event = recorder.wait_for("stock.adjusted", part_number=part)
        assert (event["branch_id"], event["quantity"], event["reason"], event["on_hand"]) == (home, -2, "damaged", 3)
    found = admin.ok("POST", "/stock/adjustments", {"branch_id": home, "part_number": part, "quantity": 1,
                                                    "reason": "found"}, status=201)
    assert found["on_hand"] == 4
    moves = admin.ok("GET", "/stock-movements", part_number=part)["items"]
    assert [(m["kind"], m["quantity"], m["reference"]) for m in moves] == [
        ("receipt", 5, ""), ("adjustment", -2, "damaged: dropped"), ("adjustment", 1, "found")]

    wrong_way = admin.post("/stock/adjustments", {"branch_id": home, "part_number": part, "quantity": 1,
                                                  "reason": "damaged"})
    assert wrong_way.status_code == 422 and "quantity" in fields_of(wrong_way), wrong_way.text
    for bad in ({"quantity": 1.5}, {"quantity": "2"}, {"quantity": 0}, {"reason": "whim"}, {"quantity": None}):
        body = {"branch_id": home, "part_number": part, "quantity": -1, "reason": "lost", **bad}
        response = admin.post("/stock/adjustments", body)
        assert response.status_code in (400, 422), (bad, response.text)
        assert set(bad) & set(fields_of(response)), (bad, response.text)
    assert shelf(admin, home, part)["on_hand"] == 4  # nothing half-written


def test_a_negative_adjustment_cannot_take_reserved_units(admin, world):
    part, home = new_part(admin), world["branch"]
    receive(admin, home, part, 3)
    ro, quote = quoted_order(admin, home, part, quantity=2)
    approve(admin, ro, quote)
    parts_status(admin, ro, "reserved")
    refused = admin.post("/stock/adjustments", {"branch_id": home, "part_number": part, "quantity": -2,
                                                "reason": "lost"})
    assert refused.status_code == 409 and "quantity" in fields_of(refused), refused.text
    assert quantities(shelf(admin, home, part))[:3] == (3, 2, 1)
    admin.ok("POST", "/stock/adjustments", {"branch_id": home, "part_number": part, "quantity": -1,
                                            "reason": "lost"}, status=201)
    assert quantities(shelf(admin, home, part))[:3] == (2, 2, 0)


def test_two_adjustments_racing_for_the_last_free_unit_take_it_once(admin, world):
    part, home = new_part(admin), branch(admin, region(), "lr")
    receive(admin, home, part, 1)
    body = {"branch_id": home, "part_number": part, "quantity": -1, "reason": "damaged"}
    with ThreadPoolExecutor(6) as pool:
        codes = sorted(r.status_code for r in pool.map(lambda _: admin.post("/stock/adjustments", body), range(6)))
    assert codes == [201] + [409] * 5
    assert quantities(shelf(admin, home, part)) == (0, 0, 0, 0, 0)


# -- counts ---------------------------------------------------------------------------------------------------------
def test_a_count_sets_on_hand_by_a_movement_of_the_difference(admin, world):
    part, home = new_part(admin), branch(admin, region(), "lc")
    receive(admin, home, part, 5)
    with EventRecorder("stock.counted") as recorder:
        counted = admin.ok("POST", "/stock/counts", {"branch_id": home, "part_number": part,
                                                     "counted_quantity": 3}, status=201)
        assert (counted["on_hand"], counted["difference"], counted["counted_quantity"]) == (3, -2, 3)
        assert recorder.wait_for("stock.counted", part_number=part)["difference"] == -2
    same = admin.ok("POST", "/stock/counts", {"branch_id": home, "part_number": part, "counted_quantity": 3},
                    status=201)
    assert (same["on_hand"], same["difference"]) == (3, 0)
    more = admin.ok("POST", "/stock/counts", {"branch_id": home, "part_number": part, "counted_quantity": 8},
                    status=201)
    assert (more["on_hand"], more["difference"]) == (8, 5)
    moves = admin.ok("GET", "/stock-movements", part_number=part)["items"]
    assert [(m["kind"], m["quantity"]) for m in moves] == [("receipt", 5), ("count", -2), ("count", 5)]
    for bad in (-1, 2.5, "3", None):
        response = admin.post("/stock/counts", {"branch_id": home, "part_number": part, "counted_quantity": bad})
        assert response.status_code == 400 and "counted_quantity" in fields_of(response), (bad, response.text)


def test_a_count_below_what_is_reserved_is_refused(admin, world):
    part, home = new_part(admin), world["branch"]
    receive(admin, home, part, 4)
    ro, quote = quoted_order(admin, home, part, quantity=3)
    approve(admin, ro, quote)
    parts_status(admin, ro, "reserved")
    refused = admin.post("/stock/counts", {"branch_id": home, "part_number": part, "counted_quantity": 2})
    assert refused.status_code == 409 and "counted_quantity" in fields_of(refused), refused.text
    assert admin.ok("POST", "/stock/counts", {"branch_id": home, "part_number": part, "counted_quantity": 3},
                    status=201)["available"] == 0


def test_only_the_branchs_coordinator_adjusts_and_counts_it(gateway, admin, world):
    # the world's regions: each gateway worker keeps its branch directory a minute, so a coordinator
    # may not act for a branch made a moment ago
    part, mine, other = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, mine, part, 2)
    receive(admin, other, part, 2)
    me = coordinator(gateway, world["region"])
    me.ok("POST", "/stock/counts", {"branch_id": mine, "part_number": part, "counted_quantity": 1}, status=201)
    assert me.post("/stock/counts", {"branch_id": other, "part_number": part, "counted_quantity": 1}).status_code == 403
    assert me.post("/stock/adjustments", {"branch_id": other, "part_number": part, "quantity": -1,
                                          "reason": "lost"}).status_code == 403
    desk = Api.as_role(gateway.url, "advisor", branch_id=mine)
    count = {"branch_id": mine, "part_number": part, "counted_quantity": 1}
    assert desk.post("/stock/counts", count).status_code == 403


# -- purchase orders ------------------------------------------------------------------------------------------------
def test_a_purchase_order_is_on_order_until_received_in_parts_or_cancelled(gateway, admin, world):
    part, home = new_part(admin), world["branch"]
    receive(admin, home, part, 1)
    me = coordinator(gateway, world["region"])
    expected = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    with EventRecorder("purchase.*") as recorder:
        po = order(me, home, part, 5, expected_at=expected.isoformat(), supplier_reference="SUP-1")
        pid = po["purchase_order_id"]
        assert (po["status"], po["outstanding"], po["repair_order_id"]) == ("open", 5, None)
        assert datetime.fromisoformat(po["expected_at"]) == expected
        placed = recorder.wait_for("purchase.ordered", purchase_order_id=pid)
        assert (placed["branch_id"], placed["part_number"], placed["quantity"], placed["repair_order_id"]) == \
            (home, part, 5, None)
        assert quantities(shelf(me, home, part)) == (1, 0, 1, 0, 5)

        two = receive(me, home, part, 2, purchase_order_id=pid)
        assert quantities(two) == (3, 0, 3, 0, 3)
        assert recorder.wait_for("purchase.received", purchase_order_id=pid)["outstanding"] == 3
        too_many = me.post("/stock/receipts", {"branch_id": home, "part_number": part, "quantity": 4,
                                               "purchase_order_id": pid})
        assert too_many.status_code == 422 and "quantity" in fields_of(too_many), too_many.text
        other_part = new_part(admin)
        wrong = me.post("/stock/receipts", {"branch_id": home, "part_number": other_part, "quantity": 1,
                                            "purchase_order_id": pid})
        assert wrong.status_code == 422 and "purchase_order_id" in fields_of(wrong), wrong.text

        cancelled = me.ok("POST", f"/purchase-orders/{pid}/cancellation", {"reason": "supplier out of stock"})
        assert (cancelled["status"], cancelled["received_quantity"], cancelled["cancelled_quantity"],
                cancelled["outstanding"]) == ("cancelled", 2, 3, 0)
        assert recorder.wait_for("purchase.cancelled", purchase_order_id=pid)["quantity"] == 3
    assert quantities(shelf(me, home, part)) == (3, 0, 3, 0, 0)
    checked = me.ok("GET", f"/stock/{home}/{part}/ledger")
    assert checked["agrees"] and checked["ledger"] == checked["stock"] == {
        "on_hand": 3, "reserved": 0, "available": 3, "in_transit": 0, "on_order": 0}
    assert coordinator(gateway, world["far_region"]).get(f"/stock/{home}/{part}/ledger").status_code == 403
    again = me.post(f"/purchase-orders/{pid}/cancellation", {})
    assert again.status_code == 409, again.text
    late = me.post("/stock/receipts", {"branch_id": home, "part_number": part, "quantity": 1, "purchase_order_id": pid})
    assert late.status_code == 409, late.text

    listed = me.ok("GET", "/purchase-orders", part_number=part)["items"]
    assert [(p["purchase_order_id"], p["status"]) for p in listed] == [(pid, "cancelled")]
    assert me.ok("GET", f"/purchase-orders/{pid}")["supplier_reference"] == "SUP-1"
    moves = me.ok("GET", "/stock-movements", part_number=part)["items"]
    assert [(m["kind"], m["quantity"], m["purchase_order_id"]) for m in moves] == [
        ("receipt", 1, None), ("purchase_ordered", 5, pid), ("purchase_received", 2, pid),
        ("purchase_cancelled", 3, pid)]


def test_a_purchase_order_without_a_date_is_expected_after_the_purchase_lead_time(admin, world):
    part, home = new_part(admin), branch(admin, region(), "le")
    receive(admin, home, part, 1)
    before = datetime.now(timezone.utc)
    po = order(admin, home, part, 1)
    hours = next((e["hours"] for e in admin.ok("GET", "/lead-times") if e["kind"] == "purchase"), 48)
    expected = datetime.fromisoformat(po["expected_at"])
    assert before + timedelta(hours=hours) - timedelta(seconds=5) <= expected <= \
        datetime.now(timezone.utc) + timedelta(hours=hours) + timedelta(seconds=5)


def test_a_purchase_order_for_a_repair_order_serves_it_on_receipt(admin, world):
    part, home = new_part(admin), world["branch"]
    ro, quote = quoted_order(admin, home, part, quantity=2)
    approve(admin, ro, quote)
    parts_status(admin, ro, "short")
    with EventRecorder("purchase.ordered") as recorder:
        po = until(lambda: admin.post("/purchase-orders", {"branch_id": home, "part_number": part, "quantity": 2,
                                                           "repair_order_id": ro}),
                   lambda r: r.status_code == 201, what="workshop to answer for the repair order").json()
        assert po["repair_order_id"] == ro
        assert recorder.wait_for("purchase.ordered", purchase_order_id=po["purchase_order_id"])["repair_order_id"] == ro
    receive(admin, home, part, 2, purchase_order_id=po["purchase_order_id"])
    parts_status(admin, ro, "reserved")
    assert held(admin, ro) == [(part, 2)]
    assert admin.ok("GET", f"/purchase-orders/{po['purchase_order_id']}")["status"] == "received"


def test_a_purchase_order_names_only_a_repair_order_of_its_branch(gateway, admin, world):
    part = new_part(admin)
    ro, _ = quoted_order(admin, world["branch"], part)
    other = admin.post("/purchase-orders", {"branch_id": world["other_branch"], "part_number": part, "quantity": 1,
                                            "repair_order_id": ro})
    assert other.status_code == 422 and "repair_order_id" in fields_of(other), other.text
    unknown = admin.post("/purchase-orders", {"branch_id": world["branch"], "part_number": part, "quantity": 1,
                                              "repair_order_id": str(uuid.uuid4())})
    assert unknown.status_code == 422 and "repair_order_id" in fields_of(unknown), unknown.text


def test_purchase_orders_are_the_business_of_their_branch(gateway, admin, world):
    part, mine, other = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, mine, part, 1)
    receive(admin, other, part, 1)
    me, them = coordinator(gateway, world["region"]), coordinator(gateway, world["far_region"])
    pid = order(me, mine, part, 2)["purchase_order_id"]
    assert them.post("/purchase-orders", {"branch_id": mine, "part_number": part, "quantity": 1}).status_code == 403
    hidden = {"error": {"code": "forbidden", "message": "not found in your scope", "fields": {}}}
    assert them.post(f"/purchase-orders/{pid}/cancellation", {}).json() == hidden  # foreign looks missing
    assert them.post(f"/purchase-orders/{uuid.uuid4()}/cancellation", {}).json() == hidden
    assert them.get(f"/purchase-orders/{pid}").status_code == 403
    assert them.ok("GET", "/purchase-orders", part_number=part)["items"] == []
    assert them.post("/stock/receipts", {"branch_id": other, "part_number": part, "quantity": 1,
                                         "purchase_order_id": pid}).status_code == 403
    desk = Api.as_role(gateway.url, "advisor", branch_id=mine)
    assert [p["purchase_order_id"] for p in desk.ok("GET", "/purchase-orders", part_number=part)["items"]] == [pid]
    assert desk.post("/purchase-orders", {"branch_id": mine, "part_number": part, "quantity": 1}).status_code == 403
    assert me.get("/purchase-orders/not-an-id").status_code in (403, 404)
    for bad in (0, -2, 1.5, "2"):
        response = me.post("/purchase-orders", {"branch_id": mine, "part_number": part, "quantity": bad})
        assert response.status_code == 400 and "quantity" in fields_of(response), (bad, response.text)
    naive = me.post("/purchase-orders", {"branch_id": mine, "part_number": part, "quantity": 1,
                                         "expected_at": "2027-01-01T10:00:00"})
    assert naive.status_code == 400 and "expected_at" in fields_of(naive), naive.text


# -- the service desk's outlook -------------------------------------------------------------------------------------
def test_the_desk_sees_when_a_branch_will_have_the_units(gateway, admin, world):
    part, desk_region, far_region = new_part(admin), region(), region()
    home, near, far = (branch(admin, desk_region, "lo-home"), branch(admin, desk_region, "lo-near"),
                       branch(admin, far_region, "lo-far"))
    receive(admin, home, part, 1)
    receive(admin, near, part, 4)
    receive(admin, far, part, 6)
    tid = transfer(admin, home, near, part, 2)["transfer_id"]
    for status in ("approved", "picked", "dispatched"):
        assert step(admin, tid, status).status_code == 200
    assert step(admin, tid, "received", received_quantity=1).status_code == 200  # 1 still on the road
    expected = (datetime.now(timezone.utc) + timedelta(days=5)).replace(microsecond=0)
    pid = order(admin, home, part, 3, expected_at=expected.isoformat())["purchase_order_id"]
    moves = admin.ok("GET", "/stock-movements", part_number=part, limit=200)["items"]
    dispatched_at = datetime.fromisoformat(next(m["created_at"] for m in moves if m["kind"] == "in_transit"))

    desk = Api.as_role(gateway.url, "advisor", branch_id=home)
    outlook = desk.ok("GET", "/stock/outlook", part_number=part, quantity=3)
    by_branch = {b["branch_id"]: b for b in outlook["branches"]}
    assert set(by_branch) == {home, near, far}  # the whole group, figures only
    mine = by_branch[home]
    assert (mine["available"], mine["in_transit_quantity"], mine["on_order_quantity"]) == (2, 1, 3)
    [road] = mine["in_transit"]
    assert (road["transfer_id"], road["from_branch_id"], road["quantity"]) == (tid, near, 1)
    assert datetime.fromisoformat(road["eta"]) == dispatched_at + timedelta(hours=24)  # same region
    assert [(o["purchase_order_id"], o["quantity"]) for o in mine["on_order"]] == [(pid, 3)]
    assert datetime.fromisoformat(mine["earliest_at"]) == dispatched_at + timedelta(hours=24)  # 2 free + 1 on the road
    assert datetime.fromisoformat(by_branch[far]["earliest_at"]) <= datetime.now(timezone.utc)  # 6 free now
    assert set(by_branch[far]) == {"branch_id", "region_id", "available", "in_transit_quantity", "on_order_quantity",
                                   "in_transit", "on_order", "earliest_at"}

    six = desk.ok("GET", "/stock/outlook", part_number=part, quantity=6, branch_id=home)
    [only] = six["branches"]
    assert datetime.fromisoformat(only["earliest_at"]) == expected  # 2 + 1 on the road + 3 on order
    assert desk.ok("GET", "/stock/outlook", part_number=part, quantity=7, branch_id=home)["branches"][0][
        "earliest_at"] is None
    assert desk.get("/stock/outlook", part_number=part, quantity="-1").status_code == 400
    assert desk.get("/stock/outlook", part_number=part, quantity="1.5").status_code == 400
    assert desk.get("/stock/outlook").status_code == 400
    assert desk.get("/stock/outlook", part_number="NO-SUCH-PART").status_code == 404


# -- bad units anywhere a part is counted -------------------------------------------------------------------------
def test_negative_or_fractional_units_are_refused_with_the_field(admin, world):
    part, home, other = new_part(admin), world["branch"], world["other_branch"]
    for bad in (-1, 0, 1.5, "1", True):
        for path, body, field in (
                ("/stock/receipts", {"branch_id": home, "part_number": part, "quantity": bad}, "quantity"),
                ("/transfers", {"branch_id": other, "from_branch_id": home, "part_number": part, "quantity": bad},
                 "quantity"),
                ("/stock/thresholds", {"branch_id": home, "part_number": part, "reorder_point": bad,
                                       "safety_stock": 0}, "reorder_point"),
                ("/purchase-orders", {"branch_id": home, "part_number": part, "quantity": bad}, "quantity")):
            if path == "/stock/thresholds" and bad == 0:
                continue  # a reorder point of 0 is a level, not a count of units moved
            response = admin.post(path, body)
            assert response.status_code == 400 and field in fields_of(response), (path, bad, response.text)
    assert admin.ok("GET", "/stock-movements", part_number=part)["items"] == []


def test_dispatching_more_than_is_available_is_a_conflict(admin, world):
    part, home, other = new_part(admin), world["branch"], world["other_branch"]
    receive(admin, other, part, 2)
    tid = transfer(admin, home, other, part, 3)["transfer_id"]
    for status in ("approved", "picked"):
        assert step(admin, tid, status).status_code == 200
    refused = step(admin, tid, "dispatched")
    assert refused.status_code == 409 and "quantity" in fields_of(refused), refused.text
    assert quantities(shelf(admin, other, part)) == (2, 0, 2, 0, 0)
    assert admin.ok("GET", f"/transfers/{tid}")["status"] == "picked"
