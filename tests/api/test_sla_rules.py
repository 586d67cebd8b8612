"""The SLA clocks' rules through the gateway: /sla/clocks, /sla/summary, /sla/targets and /metrics.

The tests work at a branch of their own, in a region of its own, so the short targets they set
and the clocks they count meet no other test's.
"""
import queue
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import fixtures
from tests.support.bus import EventRecorder
from tests.support.gateway import Api, metric
from tests.support.journey import until, vin

BRANCH, REGION = "E2E-S1", "E2E-R3"
CONSENT = {"method": "signature", "by": "Clock Keeper"}


@pytest.fixture(scope="module")
def branch(gateway, admin, world):
    admin.ok("POST", "/branches", fixtures.branch(BRANCH, region_id=REGION, bays=40), status=(200, 201))
    return BRANCH


@pytest.fixture(scope="module")
def advisor(gateway, branch):
    return Api.as_role(gateway.url, "advisor", branch_id=branch)


@pytest.fixture(scope="module")
def technician(gateway, branch):
    return Api.as_role(gateway.url, "technician", branch_id=branch)


def since():
    return (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()


def booking(advisor, priority="routine", hours_ahead=3):
    customer = until(lambda: advisor.post("/customers", {"branch_id": BRANCH, "name": "Clock Keeper"}),
                     lambda r: r.status_code == 201, what="crm to know the branch", first_after=0).json()
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": f"SL {uuid.uuid4().hex[:5]}", "model": "Zoe"})
    response = until(lambda: advisor.post("/bookings", fixtures.booking_request(
        BRANCH, customer["customer_id"], vehicle["vehicle_id"], slot_start=fixtures.next_slot(hours_ahead),
        priority=priority)), lambda r: r.status_code != 422, what="the vehicle copy in booking", first_after=0)
    assert response.status_code == 201, response.text
    return response.json()


def check_in(advisor, booked):
    advisor.ok("POST", f"/bookings/{booked['booking_id']}/check-in",
               {"odometer_km": 61000, "fault_description": "brakes pull to the left", "advisor": "sam"})
    return until(lambda: advisor.ok("GET", "/repair-orders", customer_id=booked["customer_id"])["items"],
                 bool, what="the repair order")[0]["repair_order_id"]


def approved(advisor, technician, ro, part=None):
    """Diagnosed, quoted (labour, and a part if given) and approved."""
    technician.ok("POST", f"/repair-orders/{ro}/diagnosis", {
        "findings": [{"description": "front pads at 2 mm", "status": "red"}]})
    lines = [{"kind": "labour", "group": "must", "description": "replace front pads", "quantity": "1"}]
    if part:
        lines.append({"kind": "part", "group": "must", "description": "front pads", "part_number": part,
                      "quantity": "1"})
    issued = advisor.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": lines})
    advisor.ok("POST", f"/repair-orders/{ro}/approval", {
        "quote_id": issued["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in issued["lines"]]})


def clock(admin, service, policy, subject, started_since):
    """One subject's clock of one policy, as GET /sla/clocks shows it (None if it has none)."""
    found = admin.ok("GET", "/sla/clocks", service=service, policy=policy, branch_id=BRANCH, subject_id=str(subject),
                     **{"from": started_since})["items"]
    return found[0] if found else None


def clock_when(admin, service, policy, subject, started_since, done, what):
    return until(lambda: clock(admin, service, policy, subject, started_since), lambda c: c is not None and done(c),
                 what=what)


def counted(gateway, policy, outcome):
    return metric(gateway, "pitlane_sla_clocks_total", policy=policy, branch=BRANCH, outcome=outcome)


def short_target(admin, seconds):
    admin.ok("POST", "/sla/targets", {"policy": "booking_first_response", "branch_id": BRANCH,
                                      "target_seconds": seconds})


def diagnosis_compliance(advisor):
    rows = advisor.ok("GET", "/sla/summary", branch_id=BRANCH)["compliance"]
    return next((r for r in rows if r["policy"] == "diagnosis"), {"met": 0, "breached": 0, "cancelled": 0})


# -- 1. a cancelled subject ends its clocks cancelled --------------------------------------------------
def test_a_cancelled_repair_order_ends_its_clocks_cancelled_neither_met_nor_breached(
        gateway, admin, advisor, technician, world):
    started = since()
    before = {(p, o): counted(gateway, p, o) for p in ("diagnosis", "repair_promise", "parts_shortage_local")
              for o in ("met", "cancelled")}
    summary_before = diagnosis_compliance(advisor)
    # cancelled before its quote: the diagnosis clock was running
    early = check_in(advisor, booking(advisor, hours_ahead=3))
    advisor.ok("POST", f"/repair-orders/{early}/cancellation", {"reason": "customer took the car away"})
    # cancelled while waiting for a part the branch does not stock: the repair and shortage clocks were running
    late = check_in(advisor, booking(advisor, hours_ahead=4))
    approved(advisor, technician, late, part=world["part"])
    until(lambda: advisor.ok("GET", f"/repair-orders/{late}")["parts_status"], lambda s: s == "short",
          what="the shortage")
    clock_when(admin, "parts", "parts_shortage_local", late, started, lambda c: c["state"] == "running",
               "the shortage clock")
    advisor.ok("POST", f"/repair-orders/{late}/cancellation", {"reason": "customer declined to wait"})

    for service, policy, ro in (("workshop", "diagnosis", early), ("workshop", "repair_promise", late),
                                ("parts", "parts_shortage_local", late)):
        ended = clock_when(admin, service, policy, ro, started, lambda c: c["state"] == "stopped",
                           f"the {policy} clock to end")
        assert ended["outcome"] == "cancelled" and ended["standing"] == "cancelled", ended
    assert clock(admin, "workshop", "diagnosis", late, started)["outcome"] == "met"  # its quote was issued

    summary = diagnosis_compliance(advisor)
    assert (summary["met"], summary["breached"], summary["cancelled"]) == (
        summary_before["met"] + 1, summary_before["breached"], summary_before["cancelled"] + 1), summary
    assert summary["compliance"] == round(summary["met"] / (summary["met"] + summary["breached"]), 4)
    until(lambda: counted(gateway, "parts_shortage_local", "cancelled"),
          lambda n: n == before[("parts_shortage_local", "cancelled")] + 1, what="the cancelled counter")
    for policy, met, cancelled in (("diagnosis", 1, 1), ("repair_promise", 0, 1), ("parts_shortage_local", 0, 1)):
        assert counted(gateway, policy, "met") == before[(policy, "met")] + met, policy
        assert counted(gateway, policy, "cancelled") == before[(policy, "cancelled")] + cancelled, policy


# -- 2. a breached clock is never announced at risk afterwards -----------------------------------------
def test_a_breached_clock_is_never_announced_at_risk_afterwards(gateway, admin, advisor):
    short_target(admin, 1)  # the share (0.8 s) and the deadline (1 s) come due at one look of the watch
    try:
        with EventRecorder("sla.*") as recorder:
            unanswered = []
            for n in range(6):  # started across a second, so most meet both at one look
                unanswered.append(booking(advisor, hours_ahead=5 + n)["booking_id"])
                time.sleep(0.1)
            for booking_id in unanswered:
                recorder.wait_for("sla.breached", timeout=20, subject_id=booking_id)
            time.sleep(2.5)  # two more looks of the watch
            while True:
                try:
                    recorder.seen.append(recorder.received.get_nowait())
                except queue.Empty:
                    break
    finally:
        short_target(admin, 900)
    for booking_id in unanswered:
        told = [e["_type"] for e in recorder.seen if e.get("subject_id") == booking_id]
        assert told.count("sla.breached") == 1, told
        assert "sla.at_risk" not in told[told.index("sla.breached"):], (booking_id, told)


# -- 3. no target for an inactive policy ----------------------------------------------------------------
def test_a_target_for_an_inactive_policy_is_refused(gateway, admin, branch):
    refused = admin.post("/sla/targets", {"policy": "p1_response", "branch_id": branch, "target_seconds": 300})
    assert refused.status_code == 422, refused.text
    assert "policy" in refused.json()["error"]["fields"]
    admin.ok("POST", "/sla/targets", {"policy": "diagnosis", "branch_id": branch, "target_seconds": 1800})


# -- 4. the pause reason is the event's ------------------------------------------------------------------
def test_a_repair_on_hold_pauses_its_clock_with_the_holds_reason(gateway, admin, advisor, technician):
    started = since()
    ro = check_in(advisor, booking(advisor, hours_ahead=12))
    approved(advisor, technician, ro)
    technician.ok("POST", f"/repair-orders/{ro}/jobs", {})
    advisor.ok("POST", f"/repair-orders/{ro}/hold", {"reason": "sublet"})
    paused = clock(admin, "workshop", "repair_promise", ro, started)
    assert (paused["state"], paused["pause_reason"]) == ("paused", "sublet"), paused


# -- 5. a safety-critical repair's clock, and breached told from at risk ----------------------------------
def test_a_safety_critical_booking_makes_a_safety_critical_repair_promise(gateway, admin, advisor, technician):
    started = since()
    ro = check_in(advisor, booking(advisor, priority="safety_critical", hours_ahead=13))
    approved(advisor, technician, ro)
    promise = clock(admin, "workshop", "repair_promise", ro, started)
    assert promise["safety_critical"] is True, promise
    assert clock(admin, "workshop", "diagnosis", ro, started)["safety_critical"] is True


def test_a_breached_clock_still_open_is_shown_breached_not_at_risk(gateway, admin, advisor):
    started = since()
    short_target(admin, 1)
    try:
        late = booking(advisor, hours_ahead=14)["booking_id"]
    finally:
        short_target(admin, 900)
    breached = clock_when(admin, "booking", "booking_first_response", late, started,
                          lambda c: c["outcome"] == "breached", "the breach")
    assert (breached["state"], breached.get("standing")) == ("running", "breached"), breached
    listed = [c for c in advisor.ok("GET", "/sla/summary", branch_id=BRANCH)["at_risk"] if c["subject_id"] == late]
    assert [c.get("standing") for c in listed] == ["breached"], listed
    until(lambda: metric(gateway, "pitlane_sla_open", policy="booking_first_response", branch=BRANCH,
                         state="breached"), lambda n: n >= 1, what="the open breached gauge")
    advisor.ok("POST", f"/bookings/{late}/confirmation")  # answered at last: no longer open
    assert clock(admin, "booking", "booking_first_response", late, started)["standing"] == "breached"


# -- 6. a walk-in checked in without confirmation has been answered ---------------------------------------
def test_a_booking_checked_in_without_confirmation_stops_its_first_response_clock(gateway, admin, advisor):
    started = since()
    walk_in = booking(advisor, hours_ahead=15)
    check_in(advisor, walk_in)
    answered = clock(admin, "booking", "booking_first_response", walk_in["booking_id"], started)
    assert (answered["state"], answered["outcome"]) == ("stopped", "met"), answered
