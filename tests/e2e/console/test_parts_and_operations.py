"""The parts coordinator's and the operations screens, in Chromium against the real stack: a part's
stock across the group, a donor and a replenishment proposal each taken in one click, and the SLA
compliance rows and the clocks at risk or breached now."""
import re
import uuid

from playwright.sync_api import expect

from tests.e2e.console.conftest import accessible, checked_in_order, shot
from tests.support import fixtures
from tests.support.journey import until, vin

CONSENT = {"method": "signature", "by": "Cora Console"}


def new_part(admin, prefix="CP") -> str:
    number = f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
    admin.ok("POST", "/parts", {"part_number": number, "description": "console parts probe", "origin": "oem",
                                "price_cents": 4200, "warranty_months": 12}, status=201)
    return number


def shelf(admin, branch_id, part, on_hand, reorder_point, safety_stock):
    admin.ok("POST", "/stock/receipts", {"branch_id": branch_id, "part_number": part, "quantity": on_hand}, status=201)
    admin.ok("POST", "/stock/thresholds", {"branch_id": branch_id, "part_number": part,
                                           "reorder_point": reorder_point, "safety_stock": safety_stock})


def short_order(advisor, technician, branch_id, part, quantity, slot_hours):
    """A checked-in order approved with `quantity` of `part` the branch does not have: it waits."""
    made = checked_in_order(advisor, branch_id, slot_hours=slot_hours, fault="grinding when braking")
    ro = made["order"]["repair_order_id"]
    technician.ok("POST", f"/repair-orders/{ro}/diagnosis", {
        "findings": [{"description": "rear discs scored", "status": "red"}]})
    quote = until(lambda: advisor.post(f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "part", "group": "must", "description": "rear discs", "part_number": part,
         "quantity": str(quantity)}]}), lambda r: r.status_code == 201, what="the part's price in workshop").json()
    advisor.ok("POST", f"/repair-orders/{ro}/approval", {
        "quote_id": quote["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})
    until(lambda: advisor.ok("GET", f"/repair-orders/{ro}"), lambda o: o["parts_status"] == "short",
          what="the order short of the part")
    return made


def test_a_coordinator_sees_a_parts_stock_across_branches_and_takes_a_donor_in_one_click(
        sign_in, admin, advisor, technician, world):
    part = new_part(admin)
    shelf(admin, world["other_branch"], part, 6, 2, 2)  # the same region's donor: can give 4
    shelf(admin, world["far_branch"], part, 3, 0, 0)  # another region's
    made = short_order(advisor, technician, world["branch"], part, 2, slot_hours=252)
    ro, number = made["order"]["repair_order_id"], made["order"]["number"]
    until(lambda: admin.ok("GET", "/shortages", limit=200)["items"],
          lambda items: any(s["repair_order_id"] == ro for s in items), what="the shortage listed")

    page = sign_in("coordinator")
    page.goto(f"/console/parts?part_number={part}")
    group = page.locator("#group-stock")
    expect(group.locator(f"tr[data-branch='{world['other_branch']}']")).to_contain_text("6")
    expect(group.locator(f"tr[data-branch='{world['far_branch']}']")).to_contain_text(world["far_region"])
    shortage = page.locator(f"article.shortage[data-number='{number}']")
    expect(shortage).to_contain_text(f"2 × {part}")
    donor = shortage.locator(f"tr[data-donor='{world['other_branch']}']")
    expect(donor).to_be_visible()
    shot(page, "parts")
    accessible(page)

    donor.get_by_role("button", name=f"Request 2 from {world['other_branch']}").click()
    expect(page.locator("#flash")).to_contain_text("transfer requested")
    moved = page.locator(f"#transfers tr[data-part='{part}']")
    expect(moved).to_contain_text("requested")
    [transfer] = admin.ok("GET", "/transfers", part_number=part)["items"]
    assert (transfer["from_branch_id"], transfer["branch_id"], transfer["quantity"], transfer["repair_order_id"]) == (
        world["other_branch"], world["branch"], 2, ro)
    acted = until(lambda: next(s for s in admin.ok("GET", "/shortages", limit=200)["items"]
                               if s["repair_order_id"] == ro), lambda s: s["actions"], what="the action recorded")
    assert [(a["kind"], a["reference"]) for a in acted["actions"]] == [("transfer", transfer["transfer_id"])]


def test_a_coordinator_accepts_a_replenishment_proposal_in_one_click(sign_in, admin, world):
    part = new_part(admin, "CR")
    shelf(admin, world["other_branch"], part, 20, 0, 0)
    shelf(admin, world["branch"], part, 1, 4, 2)  # below safety stock: a transfer from the region's donor
    lower = new_part(admin, "CL")
    shelf(admin, world["branch"], lower, 3, 4, 2)  # below the reorder point only
    [proposal] = until(lambda: admin.ok("GET", "/replenishments", part_number=part)["items"], bool,
                       what="the proposal")
    assert proposal["kind"] == "transfer"

    page = sign_in("coordinator")
    page.goto("/console/parts")
    expect(page.locator(f"#low-stock tr[data-part='{part}'][data-branch='{world['branch']}']")).to_contain_text(
        "below safety stock")
    expect(page.locator(f"#low-stock tr[data-part='{lower}'][data-branch='{world['branch']}']")).to_contain_text(
        "below reorder point")
    order = page.locator("#low-stock tbody tr").evaluate_all("rows => rows.map(r => r.dataset.part)")
    assert order.index(part) < order.index(lower), order  # below safety stock first
    row = page.locator(f"#proposals tr[data-replenishment='{proposal['replenishment_id']}']")
    expect(row).to_contain_text(world["other_branch"])
    row.get_by_role("button", name="Accept transfer").click()
    expect(row).to_have_count(0)
    taken = admin.ok("GET", "/replenishments", part_number=part)["items"][0]
    assert taken["status"] == "accepted" and taken["accepted_by"] == "console-parts", taken
    moved = admin.ok("GET", f"/transfers/{taken['transfer_id']}")
    assert (moved["status"], moved["from_branch_id"], moved["branch_id"]) == ("requested", world["other_branch"],
                                                                              world["branch"])
    expect(page.locator(f"#transfers tr[data-transfer='{taken['transfer_id']}']")).to_contain_text("requested")


def test_operations_sees_compliance_rows_and_the_clocks_at_risk_now(sign_in, admin, world):
    tag = uuid.uuid4().hex[:5].upper()
    branch_id, region_id = f"E2E-OPS-{tag}", f"E2E-RO-{tag}"  # a branch of its own for its short target
    admin.ok("POST", "/branches", fixtures.branch(branch_id, region_id=region_id, bays=4), status=201)
    admin.ok("POST", "/sla/targets", {"policy": "booking_first_response", "branch_id": branch_id,
                                      "target_seconds": 1})
    customer = until(lambda: admin.post("/customers", {"branch_id": branch_id, "name": "Otto Waiting"}),
                     lambda r: r.status_code == 201, what=f"crm to know {branch_id}").json()
    vehicle = admin.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                             "plate": f"OP {tag}", "model": "Zoe"})
    booking = until(lambda: admin.post("/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], fixtures.next_slot(255))),
        lambda r: r.status_code != 422, what="the vehicle copy in booking").json()
    booking_id = booking["booking_id"]
    until(lambda: admin.ok("GET", "/sla/summary", branch_id=branch_id)["at_risk"],
          lambda clocks: any(c["subject_id"] == booking_id for c in clocks), what="the first response breached")

    page = sign_in("operations")
    page.goto("/console/operations")
    risky = page.locator(f"#at-risk tr[data-subject='{booking_id}']")
    expect(risky).to_contain_text("booking_first_response")
    expect(risky).to_contain_text("breached")
    expect(page.locator(f"#breaches tr[data-subject='{booking_id}']")).to_contain_text("still open")
    expect(page.locator("#by-policy tr[data-key='booking_first_response']")).to_be_visible()
    expect(page.locator(f"#by-branch tr[data-key='{branch_id}']")).to_be_visible()
    expect(page.locator(f"#by-region tr[data-key='{region_id}']")).to_be_visible()
    assert page.locator("#compliance tbody tr").count() >= 1
    dead = page.locator("section[aria-labelledby='h-dead']")
    expect(dead.get_by_role("heading", name=re.compile("Dead letters"))).to_be_visible()
    expect(dead).to_contain_text(re.compile("None: every event was handled|pitlane dlq replay"))
    shot(page, "operations")
    accessible(page)

    page.get_by_label("Region").select_option(region_id)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#by-region tbody tr")).to_have_count(1)
    expect(page.locator(f"#by-region tr[data-key='{region_id}']")).to_contain_text("1")  # the one open clock
    expect(page.locator(f"#at-risk tr[data-subject='{booking_id}']")).to_be_visible()

    admin.ok("POST", f"/bookings/{booking_id}/confirmation")  # answered at last: off the list on its own
    expect(page.locator(f"#at-risk tr[data-subject='{booking_id}']")).to_have_count(0, timeout=20000)
    expect(page.locator(f"#breaches tr[data-subject='{booking_id}']")).to_contain_text("answered")
