"""Parts' rules through the gateway: an order short of a part gets it when stock arrives (in order of
need, all or nothing, one unit never to two orders), a transfer received in parts, who acts on each
step of a transfer, and the repair order a transfer may name."""
import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.support import fixtures
from tests.support.bus import EventRecorder
from tests.support.gateway import Api
from tests.support.journey import until, vin

HIDDEN = {"error": {"code": "forbidden", "message": "not found in your scope", "fields": {}}}
_hours = itertools.count()


def new_part(admin) -> str:
    number = f"PR-{uuid.uuid4().hex[:8].upper()}"
    admin.ok("POST", "/parts", {"part_number": number, "description": "parts rule probe", "origin": "oem",
                                "price_cents": 5000, "warranty_months": 12}, status=201)
    return number


def opened_order(api, branch_id, priority="routine") -> str:
    """A repair order checked in at `branch_id`, its booking made with `priority`."""
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Parts Rule"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                           "plate": f"PR {uuid.uuid4().hex[:5].upper()}", "model": "Golf"})
    slot = fixtures.next_slot(10 + next(_hours) % 48)
    booking = until(lambda: api.post("/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], slot, priority=priority)),
        lambda r: r.status_code != 422 or "vehicle_id" not in r.json()["error"]["fields"],
        what="the vehicle copy in booking", first_after=0)
    if booking.status_code == 409:  # the shared branch's slot is full: the first of the slots it offers
        slot = booking.json()["error"]["fields"]["alternatives"][0]["slot_start"]
        booking = api.post("/bookings", fixtures.booking_request(
            branch_id, customer["customer_id"], vehicle["vehicle_id"], slot, priority=priority))
    assert booking.status_code == 201, booking.text
    booking_id = booking.json()["booking_id"]
    api.ok("POST", f"/bookings/{booking_id}/confirmation")
    api.ok("POST", f"/bookings/{booking_id}/check-in", {"odometer_km": 1000, "fault_description": "brakes",
                                                        "advisor": "sam"})
    return until(lambda: api.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"], bool,
                 what="the repair order")[0]["repair_order_id"]


def quoted_order(api, branch_id, part, quantity=1, priority="routine") -> tuple[str, dict]:
    """A repair order with an open quote for `quantity` of `part`, and that quote."""
    ro = opened_order(api, branch_id, priority)
    api.ok("POST", f"/repair-orders/{ro}/diagnosis", {
        "findings": [{"description": "pads worn", "status": "red"}]})
    quote = until(lambda: api.post(f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "part", "group": "must", "description": "the part", "part_number": part,
         "quantity": str(quantity)}]}), lambda r: r.status_code == 201, what="the part's price in workshop")
    return ro, quote.json()


def approve(api, ro, quote):
    api.ok("POST", f"/repair-orders/{ro}/approval", {
        "quote_id": quote["quote_id"], "consent": {"method": "signature", "by": "Ada Example"},
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})


def parts_status(api, ro, wanted) -> dict:
    return until(lambda: api.ok("GET", f"/repair-orders/{ro}"), lambda r: r["parts_status"] == wanted,
                 what=f"parts {wanted} for {ro}")


def held(api, ro) -> list:
    return [(r["part_number"], r["quantity"]) for r in
            api.ok("GET", "/reservations", repair_order_id=ro)["items"] if r["status"] == "held"]


def receive(api, branch_id, part, quantity):
    return api.ok("POST", "/stock/receipts", {"branch_id": branch_id, "part_number": part, "quantity": quantity})


def transfer(api, to_branch, from_branch, part, quantity, **extra) -> dict:
    return api.ok("POST", "/transfers", {"branch_id": to_branch, "from_branch_id": from_branch,
                                         "part_number": part, "quantity": quantity, **extra}, status=201)


def step(api, transfer_id, status, **extra):
    return api.post(f"/transfers/{transfer_id}/status", {"status": status, **extra})


def coordinator(gateway, region):
    return Api.as_role(gateway.url, "parts_coordinator", region_id=region)


# -- 1. an order short of a part is served when stock arrives ----------------------------------------------------
def test_a_short_order_gets_its_part_when_stock_arrives(admin, world):
    part, branch = new_part(admin), world["branch"]
    ro, quote = quoted_order(admin, branch, part)
    approve(admin, ro, quote)
    assert parts_status(admin, ro, "short")["status"] == "waiting_for_parts"

    receive(admin, branch, part, 20)
    ro_now = parts_status(admin, ro, "reserved")
    assert ro_now["status"] == "approved"  # workshop resumed it on parts.reserved
    assert held(admin, ro) == [(part, 1)]
    stock = admin.ok("GET", f"/stock/{branch}/{part}")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (20, 1, 19)
    clock = until(lambda: admin.ok("GET", "/sla/clocks", service="parts", policy="parts_shortage_local",
                                   subject_id=ro)["items"],
                  lambda found: found and found[0]["state"] == "stopped", what="the shortage clock to stop")[0]
    assert clock["outcome"] == "met"


def test_a_short_order_gets_its_part_when_a_transfer_for_it_is_received(admin, world):
    part, branch, far = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, far, part, 5)
    ro, quote = quoted_order(admin, branch, part, quantity=2)
    approve(admin, ro, quote)
    parts_status(admin, ro, "short")

    t = transfer(admin, branch, far, part, 2, repair_order_id=ro)
    for status in ("approved", "picked", "dispatched", "received"):
        assert step(admin, t["transfer_id"], status).status_code == 200
    assert parts_status(admin, ro, "reserved")["status"] == "approved"
    assert held(admin, ro) == [(part, 2)]


def test_arriving_stock_goes_to_the_most_needed_order_first(admin, world):
    part, branch = new_part(admin), world["branch"]
    orders = {}
    for priority in ("routine", "cosmetic", "safety_critical"):  # approved in this order
        ro, quote = quoted_order(admin, branch, part, priority=priority)
        approve(admin, ro, quote)
        parts_status(admin, ro, "short")
        orders[priority] = ro

    served = []
    for _ in range(3):
        receive(admin, branch, part, 1)
        served.append(until(lambda: [p for p, ro in orders.items() if p not in served and held(admin, ro)],
                            bool, what="the next order served")[0])
        assert admin.ok("GET", f"/stock/{branch}/{part}")["available"] == 0
    # safety first; then, of the routine and the cosmetic one, the routine one though approved earlier
    assert served == ["safety_critical", "routine", "cosmetic"]


def test_a_cancelled_order_gives_its_parts_to_the_next_and_waits_no_more(admin, world):
    part, branch = new_part(admin), world["branch"]
    receive(admin, branch, part, 1)
    holder, quote = quoted_order(admin, branch, part)
    approve(admin, holder, quote)
    parts_status(admin, holder, "reserved")
    waiting = []
    for _ in range(2):
        ro, quote = quoted_order(admin, branch, part)
        approve(admin, ro, quote)
        parts_status(admin, ro, "short")
        waiting.append(ro)

    admin.ok("POST", f"/repair-orders/{holder}/cancellation", {"reason": "customer withdrew"})
    assert parts_status(admin, waiting[0], "reserved")["status"] == "approved"  # the released unit, to the first
    admin.ok("POST", f"/repair-orders/{waiting[1]}/cancellation", {"reason": "customer withdrew"})
    until(lambda: admin.ok("GET", "/sla/clocks", service="parts", policy="parts_shortage_local",
                           subject_id=waiting[1])["items"],
          lambda items: any(c["state"] != "running" for c in items),
          what="parts to see the cancellation")
    time.sleep(0.5)  # the clock's handler and the shortage's take the same event on their own queues
    receive(admin, branch, part, 1)
    assert held(admin, waiting[1]) == [] and held(admin, holder) == []
    moves = admin.ok("GET", "/stock-movements", part_number=part, limit=200)["items"]
    assert [m["kind"] for m in moves if m["repair_order_id"] == waiting[1]] == []  # never served, not released
    stock = admin.ok("GET", f"/stock/{branch}/{part}")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (2, 1, 1)


def test_one_unit_never_goes_to_two_orders_when_approvals_and_receipts_race(admin, world):
    part, branch = new_part(admin), world["branch"]
    receive(admin, branch, part, 1)
    orders = [quoted_order(admin, branch, part) for _ in range(4)]

    with ThreadPoolExecutor(4) as pool:  # four approvals at once: four quote.approved events at once
        list(pool.map(lambda order: approve(admin, *order), orders))
    statuses = until(lambda: [admin.ok("GET", f"/repair-orders/{ro}")["parts_status"] for ro, _ in orders],
                     lambda s: all(x in ("reserved", "short") for x in s), what="every order reserved or short")
    assert sorted(statuses) == ["reserved", "short", "short", "short"]

    with ThreadPoolExecutor(2) as pool:  # two receipts of one unit at once, three orders waiting
        list(pool.map(lambda _: receive(admin, branch, part, 1), range(2)))
    until(lambda: [admin.ok("GET", f"/repair-orders/{ro}")["parts_status"] for ro, _ in orders],
          lambda s: s.count("reserved") == 3, what="three orders served")
    holdings = [held(admin, ro) for ro, _ in orders]
    assert sorted(map(len, holdings)) == [0, 1, 1, 1] and all(h in ([], [(part, 1)]) for h in holdings)
    stock = admin.ok("GET", f"/stock/{branch}/{part}")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (3, 3, 0)
    moves = admin.ok("GET", "/stock-movements", part_number=part, limit=200)["items"]
    assert sum(m["quantity"] for m in moves if m["kind"] == "reservation") == 3


def delivery_clock(api, transfer_id):
    [clock] = api.ok("GET", "/sla/clocks", service="parts", policy="transfer_delivery",
                     subject_id=str(transfer_id))["items"]
    return clock


# -- 2. a transfer received in parts ----------------------------------------------------------------------------------
def test_a_partial_receipt_keeps_the_rest_in_transit_until_all_is_received(admin, world):
    part, branch, far = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, far, part, 5)
    t = transfer(admin, branch, far, part, 2)
    tid = t["transfer_id"]
    for status in ("approved", "picked", "dispatched"):
        assert step(admin, tid, status).status_code == 200
    assert admin.ok("GET", f"/stock/{branch}/{part}")["in_transit"] == 2

    with EventRecorder("transfer.*") as recorder:
        first = step(admin, tid, "received", received_quantity=1)
        assert first.status_code == 200, first.text
        assert (first.json()["status"], first.json()["received_quantity"]) == ("dispatched", 1)
        stock = admin.ok("GET", f"/stock/{branch}/{part}")
        assert (stock["on_hand"], stock["in_transit"]) == (1, 1)
        assert recorder.wait_for("transfer.partly_received", transfer_id=tid, received_quantity=1)
        assert delivery_clock(admin, tid)["state"] == "running"  # a unit is still on its way

        too_many = step(admin, tid, "received", received_quantity=2)
        assert too_many.status_code == 422 and "received_quantity" in too_many.json()["error"]["fields"]

        rest = step(admin, tid, "received")
        assert rest.status_code == 200, rest.text
        assert (rest.json()["status"], rest.json()["received_quantity"]) == ("received", 2)
        assert recorder.wait_for("transfer.received", transfer_id=tid, received_quantity=2)
    assert until(lambda: delivery_clock(admin, tid), lambda c: c["state"] == "stopped",
                 what="the delivery clock to stop")["outcome"] == "met"
    stock = admin.ok("GET", f"/stock/{branch}/{part}")
    assert (stock["on_hand"], stock["in_transit"]) == (2, 0)
    assert step(admin, tid, "received", received_quantity=1).status_code == 409
    assert step(admin, tid, "closed").json()["status"] == "closed"
    moves = admin.ok("GET", "/stock-movements", part_number=part, branch_id=branch, limit=200)["items"]
    assert [(m["kind"], m["quantity"]) for m in moves] == [("in_transit", 2), ("transfer_in", 1), ("transfer_in", 1)]


# -- 3. who acts on each step of a transfer ---------------------------------------------------------------------------
def test_the_sending_branch_approves_picks_and_dispatches_and_the_receiving_branch_receives(gateway, admin, world):
    part, north_branch, south_branch = new_part(admin), world["branch"], world["far_branch"]
    north, south = coordinator(gateway, world["region"]), coordinator(gateway, world["far_region"])
    receive(admin, south_branch, part, 5)

    with EventRecorder("transfer.*") as recorder:
        t = transfer(north, north_branch, south_branch, part, 3)  # the receiving side asks
        tid = t["transfer_id"]
        assert tid in [x["transfer_id"] for x in south.ok("GET", "/transfers", limit=200)["items"]]
        assert tid in [x["transfer_id"] for x in south.ok("GET", "/transfers", branch_id=south_branch)["items"]]
        assert south.ok("GET", f"/transfers/{tid}")["status"] == "requested"

        for status in ("approved", "picked", "dispatched"):
            refused = step(north, tid, status)
            assert refused.status_code == 403, (status, refused.text)
            assert "sending branch" in refused.json()["error"]["message"]
            assert step(south, tid, status).status_code == 200, status
        refused = step(south, tid, "received")
        assert refused.status_code == 403 and "receiving branch" in refused.json()["error"]["message"]
        assert step(north, tid, "received").json()["status"] == "received"
        assert step(south, tid, "closed").status_code == 403
        assert step(north, tid, "closed").json()["status"] == "closed"

        for event in ("requested", "approved", "picked", "dispatched", "received", "closed"):
            found = recorder.wait_for(f"transfer.{event}", transfer_id=tid)
            assert found["branch_id"] == north_branch and found["from_branch_id"] == south_branch

        other = transfer(north, north_branch, south_branch, part, 1)
        assert step(north, other["transfer_id"], "cancelled").status_code == 403
        assert step(south, other["transfer_id"], "cancelled").json()["status"] == "cancelled"
        recorder.wait_for("transfer.cancelled", transfer_id=other["transfer_id"])

    assert admin.ok("GET", f"/stock/{south_branch}/{part}")["on_hand"] == 2
    assert admin.ok("GET", f"/stock/{north_branch}/{part}")["on_hand"] == 3


def test_a_transfer_of_neither_of_your_branches_looks_missing(gateway, admin, world):
    part = new_part(admin)
    within_north = transfer(admin, world["branch"], world["other_branch"], part, 1)
    south = coordinator(gateway, world["far_region"])
    foreign = step(south, within_north["transfer_id"], "approved")
    missing = step(south, str(uuid.uuid4()), "approved")
    assert foreign.status_code == missing.status_code == 403
    assert foreign.json() == missing.json() == HIDDEN
    assert within_north["transfer_id"] not in [x["transfer_id"] for x in south.ok("GET", "/transfers", limit=200)["items"]]
    assert admin.ok("GET", f"/transfers/{within_north['transfer_id']}")["status"] == "requested"
    assert step(admin, str(uuid.uuid4()), "approved").status_code == 404


# -- 4. the repair order a transfer names ------------------------------------------------------------------------------
def test_a_transfer_may_name_only_a_repair_order_of_the_receiving_branch(gateway, admin, world):
    part, branch, far = new_part(admin), world["branch"], world["far_branch"]
    far_order = opened_order(admin, far)
    near_order = opened_order(admin, branch)
    north = coordinator(gateway, world["region"])
    body = {"branch_id": branch, "from_branch_id": far, "part_number": part, "quantity": 1}

    until(lambda: north.post("/transfers", {**body, "repair_order_id": near_order}),
          lambda r: r.status_code == 201, what="parts' copy of the repair order")
    for unknown in (far_order, str(uuid.uuid4())):
        scoped = north.post("/transfers", {**body, "repair_order_id": unknown})
        assert scoped.status_code == 403 and scoped.json() == HIDDEN, scoped.text
        unscoped = admin.post("/transfers", {**body, "repair_order_id": unknown})
        assert unscoped.status_code == 422 and "repair_order_id" in unscoped.json()["error"]["fields"], unscoped.text
    assert north.post("/transfers", {**body, "part_number": "NO-SUCH-PART"}).json() == HIDDEN  # as a missing record
    names = {x["repair_order_id"] for x in admin.ok("GET", "/transfers", part_number=part, limit=200)["items"]}
    assert names == {near_order}
