"""The ledger and the stock rows always agree: a randomized concurrent run through the gateway of
every movement kind (receipts, reservations by approval, releases by cancelling, issue to job on delivery,
transfers dispatched, received in part, written off or cancelled, adjustments, counts, purchase orders
placed, received and cancelled, and races on the last unit), then every stock row of the run's parts is
replayed from its movements (GET /stock-movements, paged), and the held reservations add up to reserved."""
import os
import random
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

from services.parts import ledger
from tests.api.test_parts_donors import branch, region
from tests.api.test_parts_rules import new_part, quoted_order
from tests.support.journey import until

# a failure names its seed: PITLANE_LEDGER_SEED=<seed> runs the same mix again (the interleaving differs)
SEED = int(os.environ.get("PITLANE_LEDGER_SEED") or random.randrange(1_000_000))


def pages(api, path, **params):
    """Every item of a paged list."""
    items, cursor = [], None
    while True:
        page = api.ok("GET", path, limit=200, **({"cursor": cursor} if cursor else {}), **params)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_every_stock_row_is_what_its_movements_add_up_to_after_a_concurrent_run(admin, world, colleague):
    rng = random.Random(SEED)
    started = time.monotonic()
    home = world["branch"]  # repair orders need a branch booking and crm know: the world's, with new parts
    own_region = region()
    east, west = branch(admin, own_region, "rp-east"), branch(admin, own_region, "rp-west")
    branches, parts = [home, east, west], [new_part(admin), new_part(admin)]
    p1, p2 = parts
    for b in branches:
        for p in parts:
            # at home enough of p1 for every order to be reserved whatever else takes units: those cancelled
            # and delivered then release and issue (the run asserts that every kind happened)
            quantity = 40 if (b, p) == (home, p1) else 3
            until(lambda: admin.post("/stock/receipts", {"branch_id": b, "part_number": p, "quantity": quantity}),
                  lambda r: r.status_code == 201, what=f"parts to know {b}")
    # the last unit: the one unit of a third part, at west, that six callers race for (and nothing else moves)
    last_part = new_part(admin)
    admin.ok("POST", "/stock/receipts", {"branch_id": west, "part_number": last_part, "quantity": 1}, status=201)
    with ThreadPoolExecutor(6) as pool:
        orders = list(pool.map(lambda q: quoted_order(admin, home, p1, quantity=q), [2, 1, 1, 1, 3, 2]))

    codes: Counter = Counter()
    purchase_orders: list = []

    def call(what, response, ok=(200, 201), refused=(409, 422)):
        codes[(what, response.status_code)] += 1
        assert response.status_code in ok + refused, f"{what}: {response.status_code} {response.text[:300]}"
        return response.json() if response.status_code in ok else None

    def receipt(r):
        call("receipt", admin.post("/stock/receipts", {"branch_id": r.choice(branches), "part_number": r.choice(parts),
                                                       "quantity": r.randint(1, 3)}))

    def adjustment(r):
        quantity = r.choice([-2, -1, -1, 1])
        call("adjustment", admin.post("/stock/adjustments", {
            "branch_id": r.choice(branches), "part_number": r.choice(parts), "quantity": quantity,
            "reason": "found" if quantity > 0 else r.choice(["damaged", "lost", "correction"])}))

    def count(r):
        b, p = r.choice(branches), r.choice(parts)
        on_hand = admin.ok("GET", f"/stock/{b}/{p}")["on_hand"]
        call("count", admin.post("/stock/counts", {"branch_id": b, "part_number": p,
                                                   "counted_quantity": max(0, on_hand + r.choice([-2, -1, 1, 2]))}))

    def a_transfer(r):
        to_branch, from_branch = r.sample(branches, 2)
        t = call("transfer", admin.post("/transfers", {"branch_id": to_branch, "from_branch_id": from_branch,
                                                       "part_number": r.choice(parts), "quantity": r.randint(1, 3)}))
        tid = t["transfer_id"]
        for status in ("approved", "picked"):
            call("transfer step", admin.post(f"/transfers/{tid}/status", {"status": status}))
        if r.random() < 0.2:
            call("transfer cancelled", admin.post(f"/transfers/{tid}/status", {"status": "cancelled"}))
            return
        if call("dispatch", admin.post(f"/transfers/{tid}/status", {"status": "dispatched"})) is None:
            return  # the sender had not that many free: a conflict, nothing moved
        if t["quantity"] > 1:
            call("received in part", admin.post(f"/transfers/{tid}/status", {"status": "received",
                                                                              "received_quantity": 1}))
        if r.random() < 0.3:
            call("written off", admin.post(f"/transfers/{tid}/write-off", {"reason": "lost_in_transit"}))
        else:
            call("received", admin.post(f"/transfers/{tid}/status", {"status": "received"}))

    def purchase(r, cancel):
        b, p, quantity = r.choice(branches), r.choice(parts), r.randint(2, 4)
        po = call("purchase order", admin.post("/purchase-orders", {"branch_id": b, "part_number": p,
                                                                     "quantity": quantity}))
        purchase_orders.append(po["purchase_order_id"])
        pid = po["purchase_order_id"]
        call("purchase receipt", admin.post("/stock/receipts", {"branch_id": b, "part_number": p, "quantity": 1,
                                                                "purchase_order_id": pid}))
        if cancel:
            call("purchase cancelled", admin.post(f"/purchase-orders/{pid}/cancellation", {"reason": "late"}))
        else:  # one more than is outstanding is refused, then the rest
            call("purchase over", admin.post("/stock/receipts", {"branch_id": b, "part_number": p, "quantity": quantity,
                                                                 "purchase_order_id": pid}), ok=())
            call("purchase rest", admin.post("/stock/receipts", {"branch_id": b, "part_number": p,
                                                                 "quantity": quantity - 1, "purchase_order_id": pid}))

    def last_unit(r):
        r.choice([
            lambda: call("last unit adjusted", admin.post("/stock/adjustments", {
                "branch_id": west, "part_number": last_part, "quantity": -1, "reason": "damaged"})),
            lambda: send_last(),
        ])()

    def send_last():
        t = call("last unit sent", admin.post("/transfers", {"branch_id": east, "from_branch_id": west,
                                                             "part_number": last_part, "quantity": 1}))
        for status in ("approved", "picked", "dispatched"):
            if call(f"last unit {status}", admin.post(f"/transfers/{t['transfer_id']}/status",
                                                      {"status": status})) is None:
                return

    def approval(r, ro_quote, fate):
        ro, quote = ro_quote
        call("approval", admin.post(f"/repair-orders/{ro}/approval", {
            "quote_id": quote["quote_id"], "consent": {"method": "signature", "by": "Ada Example"},
            "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]}))
        status = until(lambda: admin.ok("GET", f"/repair-orders/{ro}"),
                       lambda o: o["parts_status"] in ("reserved", "short"), what="parts to answer the approval")
        if fate == "cancel":
            call("cancel order", admin.post(f"/repair-orders/{ro}/cancellation", {"reason": "customer withdrew"}))
        elif fate == "deliver" and status["parts_status"] == "reserved":
            technician, inspector = colleague(f"rp-work-{ro[:8]}"), colleague(f"rp-check-{ro[:8]}")
            job = call("job", technician.post(f"/repair-orders/{ro}/jobs", {}))
            call("finish", technician.post(f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {}))
            call("quality check", inspector.post(f"/repair-orders/{ro}/quality-check",
                                                 {"passed": True, "notes": "fine"}))
            call("delivery", admin.post(f"/repair-orders/{ro}/delivery", {}))

    fates = ["cancel", "cancel", "deliver", "deliver", "keep", "keep"]
    tasks = [lambda r, o=o, f=f: approval(r, o, f) for o, f in zip(orders, fates)]
    tasks += [receipt] * 8 + [adjustment] * 10 + [count] * 6 + [a_transfer] * 10 + [last_unit] * 6
    tasks += [lambda r, c=c: purchase(r, c) for c in (True, False) * 3]  # half of them cancelled
    rng.shuffle(tasks)
    seeds = [rng.randrange(1 << 30) for _ in tasks]
    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(task, random.Random(seed)) for task, seed in zip(tasks, seeds)]:
            future.result()

    # what events do next (releases and their waiting orders served) settles: then rows and ledger agree
    cancelled = [ro for (ro, _), fate in zip(orders, fates) if fate == "cancel"]
    until(lambda: [r for ro in cancelled for r in admin.ok("GET", "/reservations", repair_order_id=ro)["items"]
                   if r["status"] == "held"], lambda found: found == [], what="the cancelled orders' releases")

    def compare():
        rows = [r for p in parts + [last_part] for r in pages(admin, "/stock", part_number=p)]
        moves = [m for p in parts + [last_part] for m in pages(admin, "/stock-movements", part_number=p)]
        held = defaultdict(int)
        for ro, _ in orders:
            for r in admin.ok("GET", "/reservations", repair_order_id=ro, limit=200)["items"]:
                if r["status"] == "held":
                    held[(r["branch_id"], r["part_number"])] += r["quantity"]
        reserved = {(r["branch_id"], r["part_number"]): r["reserved"] for r in rows if r["reserved"]}
        return rows, moves, ledger.disagreements(rows, moves), dict(held), reserved

    rows, moves, wrong, held, reserved = until(compare, lambda c: c[2] == [] and c[3] == c[4], timeout=15,
                                               what=f"the ledger to agree with the stock rows (seed {SEED})")
    assert wrong == [] and held == reserved
    assert {(r["branch_id"], r["part_number"]) for r in rows if r["part_number"] in parts} == \
        {(b, p) for b in branches for p in parts}
    for row in rows:  # never less than nothing, and available is on hand less reserved
        assert min(row["on_hand"], row["reserved"], row["available"], row["in_transit"], row["on_order"]) >= 0, row
        assert row["available"] == row["on_hand"] - row["reserved"], row
    for row in rows[:3]:  # the service's own check of a row says the same
        assert admin.ok("GET", f"/stock/{row['branch_id']}/{row['part_number']}/ledger")["agrees"], row
    kinds = Counter(m["kind"] for m in moves)
    for kind in ("receipt", "reservation", "release", "transfer_out", "in_transit", "transfer_in", "adjustment",
                 "count", "purchase_ordered", "purchase_received", "purchase_cancelled"):
        assert kinds[kind] > 0, (kind, kinds, SEED)
    assert kinds["issue_to_job"] == codes[("delivery", 200)] + codes[("delivery", 201)] > 0, (kinds, codes)
    assert kinds["transit_written_off"] == codes[("written off", 200)] + codes[("written off", 201)], (kinds, codes)
    # the last unit went once: to one adjustment or one dispatch, never to two
    assert codes[("last unit adjusted", 201)] + codes[("last unit dispatched", 200)] == 1, codes
    last = {r["branch_id"]: (r["on_hand"], r["in_transit"]) for r in rows if r["part_number"] == last_part}
    assert last[west] == (0, 0) and last.get(east, (0, 0)) == (0, codes[("last unit dispatched", 200)])
    assert time.monotonic() - started < 90, f"the run took {time.monotonic() - started:.0f} s"
    print(f"seed {SEED}: {len(moves)} movements, {dict(kinds)}; calls {dict(codes)}")
