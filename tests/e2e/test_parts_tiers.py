"""A repair order at a branch with no stock of its part, served through the shortage tiers: the
local tier runs out, the region has no donor and runs out, the group tier proposes a branch of another
region; the transfer for the order is requested (the tier's clock met), sent and received in two parts,
the order gets its parts and is delivered. Short SLA targets for the test's own branch make the tiers
run out in seconds."""
import uuid

from tests.api.test_parts_donors import branch, region
from tests.api.test_parts_escalation import clock, received, shortage
from tests.api.test_parts_rules import approve, coordinator, new_part, opened_order, parts_status, step
from tests.support.bus import EventRecorder
from tests.support.gateway import Api
from tests.support.journey import until



def test_an_order_with_no_stock_is_served_through_the_tiers_by_a_cross_region_transfer(gateway, admin, world):
    part, home_region, far_region = new_part(admin), region(), region()
    home, neighbour = branch(admin, home_region, "tier-home"), branch(admin, home_region, "tier-nb")
    far = branch(admin, far_region, "tier-far")
    until(lambda: admin.post("/customers", {"branch_id": home, "name": "Branch Probe"}),
          lambda r: r.status_code == 201, what="crm to know the branch")
    received(admin, neighbour, part, 1)  # the region has the part, but not enough for the order
    received(admin, far, part, 9)
    for policy, seconds in (("parts_shortage_local", 1), ("parts_shortage_region", 1),
                            ("parts_shortage_group", 3600)):
        admin.ok("POST", "/sla/targets", {"policy": policy, "branch_id": home, "target_seconds": seconds})
    advisor = Api.as_role(gateway.url, "advisor", branch_id=home)
    tech = Api.as_role(gateway.url, "technician", subject=f"tier-tech-{uuid.uuid4().hex[:4]}", branch_id=home)
    inspector = Api.as_role(gateway.url, "technician", subject=f"tier-qc-{uuid.uuid4().hex[:4]}", branch_id=home)
    north, south = coordinator(gateway, home_region), coordinator(gateway, far_region)

    ro = opened_order(advisor, home)
    advisor.ok("POST", f"/repair-orders/{ro}/diagnosis", {"findings": [{"description": "pads worn", "status": "red"}]})
    quote = until(lambda: advisor.post(f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "fit the pads", "quantity": "1"},
        {"kind": "part", "group": "must", "description": "the pads", "part_number": part, "quantity": "2"}]}),
        lambda r: r.status_code == 201, what="the part's price in workshop").json()
    with EventRecorder("parts.*") as recorder:
        approve(advisor, ro, quote)
        assert parts_status(advisor, ro, "short")["status"] == "waiting_for_parts"
        assert recorder.wait_for("parts.loaner_suggested", repair_order_id=ro)["tier"] == "local"
        region_tier = recorder.wait_for("parts.escalated_region", timeout=30, repair_order_id=ro)
        assert [p["kind"] for p in region_tier["proposal"]] == ["purchase"]  # the neighbour cannot give 2
        group_tier = recorder.wait_for("parts.escalated_group", timeout=30, repair_order_id=ro)
    [proposal] = group_tier["proposal"]
    assert (proposal["kind"], proposal["from_branch_id"], proposal["quantity"]) == ("transfer", far, 2)

    listed = until(lambda: shortage(north, ro), lambda s: s and s["tier"] == "group", what="the group tier listed")
    assert listed["clock_state"] == "running" and listed["deadline"]
    for policy in ("parts_shortage_local", "parts_shortage_region"):
        assert clock(admin, policy, ro)["outcome"] == "breached"

    moved = until(lambda: north.post("/transfers", {"branch_id": home, "from_branch_id": far, "part_number": part,
                                                     "quantity": 2, "repair_order_id": ro}),
                  lambda r: r.status_code == 201, what="parts' copy of the repair order").json()
    assert until(lambda: clock(admin, "parts_shortage_group", ro), lambda c: c["state"] == "stopped",
                 what="the group clock stopped")["outcome"] == "met"
    for status in ("approved", "picked", "dispatched"):
        assert step(south, moved["transfer_id"], status).status_code == 200
    assert step(north, moved["transfer_id"], "received", received_quantity=1).status_code == 200
    assert parts_status(advisor, ro, "short")  # one of two: it still waits
    assert shortage(north, ro)["status"] == "open"
    assert step(north, moved["transfer_id"], "received", received_quantity=1).status_code == 200
    assert parts_status(advisor, ro, "reserved")["status"] == "approved"
    served = until(lambda: shortage(north, ro, status="served"), bool, what="the shortage served")
    assert [(a["kind"], a["reference"], a["tier"]) for a in served["actions"]] == [
        ("transfer", moved["transfer_id"], "group")]

    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {})
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
    inspector.ok("POST", f"/repair-orders/{ro}/quality-check", {"passed": True, "notes": "road test fine"})
    advisor.ok("POST", f"/repair-orders/{ro}/delivery", {})
    assert until(lambda: advisor.ok("GET", f"/repair-orders/{ro}"), lambda r: r["status"] in ("delivered", "closed"),
                 what="the order delivered")
    stock = until(lambda: admin.ok("GET", f"/stock/{home}/{part}"), lambda s: s["reserved"] == 0,
                  what="the parts consumed")
    assert (stock["on_hand"], stock["in_transit"]) == (0, 0)
