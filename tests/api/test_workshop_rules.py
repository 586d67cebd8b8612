"""The repair order's rules through the gateway: hold and resume, a finding after the quote, cancelling."""
import uuid
from datetime import datetime, timedelta, timezone

from tests.support import fixtures
from tests.support.journey import until, vin

CONSENT = {"method": "signature", "by": "Rule Checker"}


def checked_in(advisor, world, hours_ahead):
    """A repair order just opened by a check-in at the test branch."""
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Rule Checker"})
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": f"WR {uuid.uuid4().hex[:5]}", "model": "Polo"})
    booking = until(lambda: advisor.post("/bookings", fixtures.booking_request(
        world["branch"], customer["customer_id"], vehicle["vehicle_id"],
        slot_start=fixtures.next_slot(hours_ahead=hours_ahead))),
        lambda r: r.status_code != 422 or "vehicle_id" not in r.json()["error"]["fields"],
        what="the vehicle copy in booking", first_after=0)
    assert booking.status_code == 201, booking.text
    booking_id = booking.json()["booking_id"]
    advisor.ok("POST", f"/bookings/{booking_id}/check-in",
               {"odometer_km": 51000, "fault_description": "knock from the front axle"})
    return until(lambda: advisor.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"],
                 bool, what="the repair order")[0]["repair_order_id"]


def diagnose(api, ro, description="front lower arm bush worn"):
    return api.post(f"/repair-orders/{ro}/diagnosis", {
        "findings": [{"description": description, "status": "amber"}]})


def quote(advisor, ro, part=None):
    lines = [{"kind": "labour", "group": "must", "description": "replace the bush", "quantity": "1"}]
    if part:
        lines.append({"kind": "part", "group": "must", "description": "brake pads", "part_number": part,
                      "quantity": "1"})
    return advisor.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": lines})


def approve(advisor, ro, issued):
    return advisor.post(f"/repair-orders/{ro}/approval", {
        "quote_id": issued["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in issued["lines"]]})


def approved(advisor, technician, world, hours_ahead, part=None):
    """A repair order with its quote approved (and its part reserved, if it has one)."""
    ro = checked_in(advisor, world, hours_ahead)
    assert diagnose(technician, ro).status_code == 200
    response = approve(advisor, ro, quote(advisor, ro, part))
    assert response.status_code == 200, response.text
    if part:
        until(lambda: advisor.ok("GET", f"/repair-orders/{ro}")["parts_status"], lambda s: s == "reserved",
              what="the part reserved")
    return ro


def promise_clock(admin, ro, since):
    """The repair-promise SLA clock of one repair order, as GET /sla/clocks shows it."""
    cursor = None
    while True:
        params = {"service": "workshop", "policy": "repair_promise", "from": since, "limit": 200}
        page = admin.ok("GET", "/sla/clocks", **params, **({"cursor": cursor} if cursor else {}))
        found = [c for c in page["items"] if c["subject_id"] == ro]
        if found:
            return found[0]
        cursor = page["next_cursor"]
        assert cursor, f"no repair_promise clock for {ro}"


def status(advisor, ro):
    return advisor.ok("GET", f"/repair-orders/{ro}")["status"]


def since():
    return (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()


def test_starting_a_job_on_an_order_on_hold_resumes_it_and_its_promise_clock(
        advisor, technician, colleague, admin, world):
    started = since()
    ro = approved(advisor, technician, world, hours_ahead=11)
    first = technician.ok("POST", f"/repair-orders/{ro}/jobs", {})
    advisor.ok("POST", f"/repair-orders/{ro}/hold", {"reason": "sublet"})
    assert promise_clock(admin, ro, started)["state"] == "paused"

    colleague("tech-32").ok("POST", f"/repair-orders/{ro}/jobs", {})

    assert status(advisor, ro) == "in_progress"
    clock = promise_clock(admin, ro, started)
    assert clock["state"] == "running" and clock["pause_reason"] is None, clock
    technician.ok("POST", f"/repair-orders/{ro}/jobs/{first['job_id']}/finish", {})


def test_an_order_whose_last_job_finished_on_hold_resumes_into_the_quality_check(
        advisor, technician, inspector, admin, world):
    started = since()
    ro = approved(advisor, technician, world, hours_ahead=11)
    job = technician.ok("POST", f"/repair-orders/{ro}/jobs", {})
    advisor.ok("POST", f"/repair-orders/{ro}/hold", {"reason": "approval"})
    technician.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})  # the technician clocks off
    assert status(advisor, ro) == "on_hold"

    resumed = advisor.ok("POST", f"/repair-orders/{ro}/resumption")

    assert resumed["status"] == "quality_check"
    assert promise_clock(admin, ro, started)["state"] == "running"
    checked = inspector.ok("POST", f"/repair-orders/{ro}/quality-check", {"passed": True})
    assert checked["status"] == "ready"


def test_a_new_finding_while_the_quote_awaits_approval_withdraws_it(advisor, technician, world):
    ro = checked_in(advisor, world, hours_ahead=12)
    assert diagnose(technician, ro).status_code == 200
    first = quote(advisor, ro)

    rediagnosed = diagnose(technician, ro, "the track rod end has play too")

    assert rediagnosed.status_code == 200, rediagnosed.text
    assert rediagnosed.json()["status"] == "diagnosed"
    quotes = advisor.ok("GET", "/quotes", repair_order_id=ro)["items"]
    assert [(q["quote_id"], q["status"]) for q in quotes] == [(first["quote_id"], "withdrawn")]
    assert approve(advisor, ro, first).status_code == 409
    second = quote(advisor, ro)
    assert approve(advisor, ro, second).json()["status"] == "approved"

    after = diagnose(technician, ro, "a third finding after approval")
    assert after.status_code == 409
    assert "supplement" in after.json()["error"]["message"]
    assert status(advisor, ro) == "approved"


def test_an_order_is_cancelled_at_any_point_before_work_and_never_after(advisor, technician, world):
    ro = approved(advisor, technician, world, hours_ahead=12, part=world["part"])
    cancelled = advisor.ok("POST", f"/repair-orders/{ro}/cancellation", {"reason": "customer changed their mind"})
    assert cancelled["status"] == "cancelled"
    until(lambda: advisor.ok("GET", "/reservations", repair_order_id=ro)["items"],
          lambda items: [r["status"] for r in items] == ["released"], what="the part released")

    worked = approved(advisor, technician, world, hours_ahead=12)
    job = technician.ok("POST", f"/repair-orders/{worked}/jobs", {})
    refused = advisor.post(f"/repair-orders/{worked}/cancellation", {"reason": "too late"})
    assert refused.status_code == 409 and "work has started" in refused.json()["error"]["message"]
    assert status(advisor, worked) == "in_progress"
    technician.ok("POST", f"/repair-orders/{worked}/jobs/{job['job_id']}/finish", {})  # one running clock each


def test_a_technician_is_clocked_on_one_order_once_at_a_time(advisor, technician, colleague, world):
    ro = approved(advisor, technician, world, 35)
    first = technician.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    assert first["technician_id"] == technician.subject  # who clocked on is the token's subject
    twice = technician.post(f"/repair-orders/{ro}/jobs", {})
    assert twice.status_code == 409 and "technician_id" in twice.json()["error"]["fields"], twice.text
    colleague("tech-41").ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)  # a colleague may
    technician.ok("POST", f"/repair-orders/{ro}/jobs/{first['job_id']}/finish", {})
    again = technician.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)  # clocked off, on again
    technician.ok("POST", f"/repair-orders/{ro}/jobs/{again['job_id']}/finish", {})


def test_a_technician_acts_only_as_themself(advisor, technician, colleague, admin, world):
    ro = approved(advisor, technician, world, 36)
    as_colleague = technician.post(f"/repair-orders/{ro}/jobs", {"technician_id": "tech-42"})
    assert as_colleague.status_code == 403 and "technician_id" in as_colleague.json()["error"]["fields"]
    assert advisor.ok("GET", "/jobs", repair_order_id=ro)["items"] == []  # nothing was written
    own_name = technician.ok("POST", f"/repair-orders/{ro}/jobs", {"technician_id": technician.subject})
    assert own_name["technician_id"] == technician.subject
    technician.ok("POST", f"/repair-orders/{ro}/jobs/{own_name['job_id']}/finish", {})
    recorded = admin.ok("POST", f"/repair-orders/{ro}/jobs", {"technician_id": "tech-42"})  # for a colleague
    assert recorded["technician_id"] == "tech-42"
    findings = advisor.ok("GET", f"/repair-orders/{ro}")["findings"]
    assert {f["diagnosed_by"] for f in findings} == {technician.subject}
