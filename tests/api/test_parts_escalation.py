"""Shortage escalation through the gateway: an order that waits is offered a loaner once and shows,
with its tier, deadline and proposal, in its region's GET /shortages; a tier that runs out escalates to the
next (its own clock, its own proposal); an action taken for the order stops the tier's clock and is recorded;
a cancelled order cancels the clocks."""
import time

import pytest

from tests.api.test_parts_donors import branch, region
from tests.api.test_parts_rules import approve, coordinator, new_part, parts_status, quoted_order
from tests.support.bus import EventRecorder
from tests.support.journey import until


def shop(admin, region_id, prefix):
    """A branch of the test's own region that crm knows (a customer can be made there)."""
    branch_id = branch(admin, region_id, prefix)
    until(lambda: admin.post("/customers", {"branch_id": branch_id, "name": "Branch Probe"}),
          lambda r: r.status_code == 201, what=f"crm to know {branch_id}")
    return branch_id


def received(admin, branch_id, part, quantity):
    """A receipt at a fresh branch, once parts knows the branch."""
    until(lambda: admin.post("/stock/receipts", {"branch_id": branch_id, "part_number": part, "quantity": quantity}),
          lambda r: r.status_code == 201, what=f"parts to know {branch_id}")


def target(admin, policy, branch_id, seconds):
    admin.ok("POST", "/sla/targets", {"policy": policy, "branch_id": branch_id, "target_seconds": seconds})


def shortage(api, ro, **query):
    answer = api.get("/shortages", limit=200, **query)  # (?status= is not ok()'s expected status)
    assert answer.status_code == 200, answer.text
    return next((s for s in answer.json()["items"] if s["repair_order_id"] == ro), None)


def clock(admin, policy, ro):
    found = [c for c in admin.ok("GET", "/sla/clocks", service="parts", policy=policy, limit=200)["items"]
             if c["subject_id"] == ro]
    return found[0] if found else None


def waiting_order(admin, branch_id, part, quantity=2):
    ro, quote = quoted_order(admin, branch_id, part, quantity=quantity)
    approve(admin, ro, quote)
    parts_status(admin, ro, "short")
    return ro


def test_an_order_that_waits_is_offered_a_loaner_once_and_listed_for_its_region(gateway, admin, world):
    part, the_region = new_part(admin), region()
    home = shop(admin, the_region, "es-home")
    with EventRecorder("parts.loaner_suggested") as recorder:
        ro = waiting_order(admin, home, part)
        loaner = recorder.wait_for("parts.loaner_suggested", repair_order_id=ro)
        time.sleep(1)
    assert (loaner["branch_id"], loaner["tier"], loaner["lines"]) == (home, "local", [{"part_number": part,
                                                                                      "quantity": 2}])
    assert len([e for e in recorder.seen if e.get("repair_order_id") == ro]) == 1
    north = coordinator(gateway, the_region)
    waiting = until(lambda: shortage(north, ro), bool, what="the shortage listed")
    assert (waiting["tier"], waiting["status"], waiting["branch_id"], waiting["needs"]) == ("local", "open", home,
                                                                                          {part: 2})
    assert waiting["deadline"] and waiting["clock_state"] == "running" and waiting["actions"] == []
    assert [(p["part_number"], p["kind"], p["quantity"]) for p in waiting["proposal"]] == [(part, "purchase", 2)]
    assert shortage(coordinator(gateway, region()), ro) is None  # another region's coordinator

    admin.ok("POST", f"/repair-orders/{ro}/cancellation", {"reason": "customer went elsewhere"})
    until(lambda: shortage(north, ro, status="cancelled"), bool, what="the shortage cancelled")
    assert until(lambda: clock(admin, "parts_shortage_local", ro), lambda c: c["state"] == "stopped",
                 what="the clock cancelled")["outcome"] == "cancelled"


def test_a_tier_that_runs_out_escalates_and_the_action_taken_stops_its_clock(gateway, admin, world):
    part, the_region = new_part(admin), region()
    home, donor = shop(admin, the_region, "ee-home"), branch(admin, the_region, "ee-donor")
    received(admin, donor, part, 6)
    target(admin, "parts_shortage_local", home, 1)
    target(admin, "parts_shortage_region", home, 8)
    with EventRecorder("parts.*") as recorder:
        ro = waiting_order(admin, home, part)
        escalated = recorder.wait_for("parts.escalated_region", timeout=30, repair_order_id=ro)
        assert escalated["proposal"] == [{"part_number": part, "quantity": 2, "kind": "transfer",
                                          "from_branch_id": donor, "lead_time_hours": 24}]
        north = coordinator(gateway, the_region)
        listed = until(lambda: shortage(north, ro), lambda s: s and s["tier"] == "region", what="the region tier")
        assert listed["clock_state"] == "running" and listed["proposal"][0]["from_branch_id"] == donor
        assert clock(admin, "parts_shortage_local", ro)["outcome"] == "breached"

        moved = until(lambda: north.post("/transfers", {"branch_id": home, "from_branch_id": donor, "part_number": part,
                                                         "quantity": 2, "repair_order_id": ro}),
                      lambda r: r.status_code == 201, what="parts' copy of the repair order").json()
        acted = until(lambda: shortage(north, ro), lambda s: s["actions"], what="the action recorded")
        assert [(a["kind"], a["reference"], a["tier"]) for a in acted["actions"]] == [
            ("transfer", moved["transfer_id"], "region")]
        assert clock(admin, "parts_shortage_region", ro)["outcome"] == "met"  # sourced in time
        with pytest.raises(AssertionError):  # past the region tier's target: sourced, it escalates no further
            recorder.wait_for("parts.escalated_group", timeout=10, repair_order_id=ro)
    assert clock(admin, "parts_shortage_group", ro) is None
    assert shortage(north, ro)["tier"] == "region"
