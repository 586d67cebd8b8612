"""Transfers through the gateway, beyond the steps themselves (test_parts_rules.py): who did each step
and when, the carrier's tracking reference within 30 minutes of dispatch (to the receiving branch and
the repair order), units that never came written off with a reason, delivery due within the lead time
between the branches, a transfer sent for a repair order serving that order first, and a supplement's
parts reserved like a quote's."""
import uuid

from tests.api.test_parts_rules import (
    approve, coordinator, held, new_part, parts_status, quoted_order, receive, step, transfer)
from tests.api.test_workshop_rules import CONSENT, approved
from tests.support.gateway import Api
from tests.support.journey import until


def clock(api, policy, subject) -> dict | None:
    found = api.ok("GET", "/sla/clocks", service="parts", policy=policy, subject_id=str(subject))["items"]
    return found[0] if found else None


def dispatched(admin, to_branch, from_branch, part, quantity, **extra) -> str:
    tid = transfer(admin, to_branch, from_branch, part, quantity, **extra)["transfer_id"]
    for status in ("approved", "picked", "dispatched"):
        assert step(admin, tid, status).status_code == 200, status
    return tid


def test_every_step_of_a_transfer_is_kept_with_who_did_it_and_when(gateway, admin, world):
    part, north_branch, south_branch = new_part(admin), world["branch"], world["far_branch"]
    nina = Api.as_role(gateway.url, "parts_coordinator", f"nina-{uuid.uuid4().hex[:6]}", region_id=world["region"])
    sven = Api.as_role(gateway.url, "parts_coordinator", f"sven-{uuid.uuid4().hex[:6]}", region_id=world["far_region"])
    receive(admin, south_branch, part, 4)
    tid = transfer(nina, north_branch, south_branch, part, 3)["transfer_id"]
    for status in ("approved", "picked"):
        assert step(sven, tid, status).status_code == 200
    assert step(sven, tid, "dispatched", tracking_reference="DHL-7781").status_code == 200
    assert step(nina, tid, "received", received_quantity=2).status_code == 200
    named = step(nina, tid, "received", received_quantity=1, acted_by=sven.subject)  # a coordinator may name a colleague
    assert named.status_code == 200 and named.json()["status"] == "received"

    seen = nina.ok("GET", f"/transfers/{tid}")
    assert [(s["step"], s["acted_by"], s["quantity"]) for s in seen["steps"]] == [
        ("requested", nina.subject, None), ("approved", sven.subject, None), ("picked", sven.subject, None),
        ("dispatched", sven.subject, None), ("tracking_sent", sven.subject, None),
        ("partly_received", nina.subject, 2), ("received", sven.subject, 1)]
    times = [s["at"] for s in seen["steps"]]
    assert times == sorted(times) and all(times)
    assert seen["dispatched_at"] is not None and seen["tracking_reference"] == "DHL-7781"
    assert sven.ok("GET", f"/transfers/{tid}")["steps"] == seen["steps"]  # both sides see the transfer


def test_the_tracking_reference_reaches_the_branch_and_the_repair_order_within_30_minutes(gateway, admin, world):
    part, branch, far = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, far, part, 3)
    ro, quote = quoted_order(admin, branch, part, quantity=1)
    approve(admin, ro, quote)
    parts_status(admin, ro, "short")
    tid = dispatched(admin, branch, far, part, 1, repair_order_id=ro)
    running = until(lambda: clock(admin, "transfer_tracking", tid), lambda c: c is not None, what="the tracking clock")
    assert running["state"] == "running" and running["target_seconds"] == 1800

    north, south = coordinator(gateway, world["region"]), coordinator(gateway, world["far_region"])
    refused = north.post(f"/transfers/{tid}/tracking", {"tracking_reference": "DHL-1"})
    assert refused.status_code == 403 and "sending branch" in refused.json()["error"]["message"]
    missing = south.post(f"/transfers/{tid}/tracking", {})
    assert missing.status_code == 400 and "tracking_reference" in missing.json()["error"]["fields"]
    sent = south.post(f"/transfers/{tid}/tracking", {"tracking_reference": "DHL-1"})
    assert sent.status_code == 200 and sent.json()["tracking_reference"] == "DHL-1"
    assert until(lambda: clock(admin, "transfer_tracking", tid), lambda c: c["state"] == "stopped",
                 what="the tracking clock to stop")["outcome"] == "met"
    wanted = f"1 x {part} on its way from another branch: tracking DHL-1"
    until(lambda: admin.ok("GET", f"/repair-orders/{ro}"),
          lambda r: wanted in [line["note"] for line in r["timeline"]], what="the tracking note for the advisor")


def test_units_that_never_came_are_written_off_with_a_reason_and_the_transfer_closes(admin, world):
    part, branch, far = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, far, part, 5)
    tid = dispatched(admin, branch, far, part, 3)
    assert step(admin, tid, "received", received_quantity=1).status_code == 200

    unnamed = admin.post(f"/transfers/{tid}/write-off", {"reason": "gone"})
    assert unnamed.status_code == 400 and "reason" in unnamed.json()["error"]["fields"]
    too_many = admin.post(f"/transfers/{tid}/write-off", {"reason": "lost_in_transit", "quantity": 3})
    assert too_many.status_code == 422 and "quantity" in too_many.json()["error"]["fields"]
    fractional = admin.post(f"/transfers/{tid}/write-off", {"reason": "lost_in_transit", "quantity": 1.5})
    assert fractional.status_code == 400 and "quantity" in fractional.json()["error"]["fields"]
    assert step(admin, tid, "closed").status_code == 409  # two units are still on the road

    lost = admin.post(f"/transfers/{tid}/write-off", {"reason": "damaged_in_transit"})
    assert lost.status_code == 200, lost.text
    body = lost.json()
    assert (body["status"], body["received_quantity"], body["written_off_quantity"], body["in_transit"]) == (
        "received", 1, 2, 0)
    stock = admin.ok("GET", f"/stock/{branch}/{part}")
    assert (stock["on_hand"], stock["in_transit"]) == (1, 0)
    moves = admin.ok("GET", "/stock-movements", part_number=part, branch_id=branch, limit=200)["items"]
    assert [(m["kind"], m["quantity"], m["reference"]) for m in moves][-1] == (
        "transit_written_off", 2, "damaged_in_transit")
    assert admin.post(f"/transfers/{tid}/write-off", {"reason": "lost_in_transit"}).status_code == 409
    assert step(admin, tid, "closed").json()["status"] == "closed"


def test_a_delivery_is_due_within_the_lead_time_between_the_branches(admin, world):
    part, branch, far = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, far, part, 2)
    hours = {(e["kind"], e["from_id"], e["to_id"]): e["hours"] for e in admin.ok("GET", "/lead-times")}
    expected = hours.get(("branch", far, branch)) or hours.get(("region", world["far_region"], world["region"])) or 72
    tid = dispatched(admin, branch, far, part, 1)
    delivery = until(lambda: clock(admin, "transfer_delivery", tid), lambda c: c is not None, what="the delivery clock")
    assert delivery["target_seconds"] == expected * 3600


def test_a_transfer_sent_for_a_repair_order_serves_that_order_first(admin, world):
    part, branch, far = new_part(admin), world["branch"], world["far_branch"]
    receive(admin, far, part, 4)
    urgent, urgent_quote = quoted_order(admin, branch, part, quantity=2, priority="safety_critical")
    approve(admin, urgent, urgent_quote)
    parts_status(admin, urgent, "short")
    routine, routine_quote = quoted_order(admin, branch, part, quantity=2)
    approve(admin, routine, routine_quote)
    parts_status(admin, routine, "short")

    tid = dispatched(admin, branch, far, part, 2, repair_order_id=routine)
    assert step(admin, tid, "received").status_code == 200
    parts_status(admin, routine, "reserved")  # the units were found and sent for it
    assert held(admin, routine) == [(part, 2)] and held(admin, urgent) == []
    receive(admin, branch, part, 2)
    parts_status(admin, urgent, "reserved")


def test_a_supplements_parts_are_reserved_like_a_quotes_and_its_work_waits_for_them(
        admin, advisor, technician, colleague, inspector, world):
    part = new_part(admin)
    tech = colleague(f"tech-sp-{uuid.uuid4().hex[:6]}")
    ro = approved(advisor, technician, world, 71)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    quote = tech.ok("POST", f"/repair-orders/{ro}/supplements", {
        "findings": [{"description": "brake disc scored", "status": "red"}],
        "lines": [{"kind": "part", "group": "must", "description": "brake disc", "part_number": part,
                   "quantity": "2"}]}, status=201)
    advisor.ok("POST", f"/repair-orders/{ro}/approval", {
        "quote_id": quote["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})
    parts_status(admin, ro, "short")  # none at the branch
    early = tech.post(f"/repair-orders/{ro}/jobs/{job['job_id']}/resumption")
    assert early.status_code == 409 and "parts_status" in early.json()["error"]["fields"], early.text

    receive(admin, world["branch"], part, 3)
    parts_status(admin, ro, "reserved")
    assert held(admin, ro) == [(part, 2)]
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/resumption")
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
    inspector.ok("POST", f"/repair-orders/{ro}/quality-check", {"passed": True})
    advisor.ok("POST", f"/repair-orders/{ro}/delivery", {})
    until(lambda: admin.ok("GET", "/reservations", repair_order_id=ro)["items"],
          lambda rs: [r["status"] for r in rs if r["part_number"] == part] == ["consumed"], what="consumed on delivery")
