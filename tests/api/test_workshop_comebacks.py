"""Comebacks through the gateway: the same vehicle back for the same fault family within 7 days of
delivery is a comeback, counted against first-time-fix per branch (GET and a Prometheus gauge)."""
from datetime import datetime, timezone

import requests

from tests.support import fixtures
from tests.support.journey import Journey, until


def back_again(advisor, world, state, hours_ahead, fault):
    """The journey's vehicle booked and checked in again: its new repair order."""
    booking = advisor.ok("POST", "/bookings", fixtures.booking_request(
        world["branch"], state["customer"]["customer_id"], state["vehicle"]["vehicle_id"],
        fixtures.next_slot(hours_ahead=hours_ahead)), status=201)
    advisor.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")
    advisor.ok("POST", f"/bookings/{booking['booking_id']}/check-in",
               {"odometer_km": 42100, "fault_description": fault})
    first = state["ro"]["repair_order_id"]
    orders = until(lambda: advisor.ok("GET", "/repair-orders", vehicle_id=state["vehicle"]["vehicle_id"])["items"],
                   lambda items: len([o for o in items if o["repair_order_id"] != first]) >= 1, what="the new order")
    (new,) = [o for o in orders if o["repair_order_id"] != first]
    return new


def test_the_same_fault_again_within_7_days_is_a_comeback_against_first_time_fix(
        gateway, advisor, technician, inspector, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                    slot_start=fixtures.next_slot(hours_ahead=90)).run(pay=False)
    first = advisor.ok("GET", f"/repair-orders/{state['ro']['repair_order_id']}")
    assert first["fault_family"] == "brakes" and first["comeback_of"] is None
    today = datetime.now(timezone.utc).date().isoformat()
    before = advisor.ok("GET", "/first-time-fix", branch_id=world["branch"], **{"from": today, "to": today})

    again = back_again(advisor, world, state, 91, "brakes squeal again when cold")

    assert again["comeback_of"] == first["repair_order_id"] and again["fault_family"] == "brakes"
    assert any(s["note"].startswith("comeback: brakes again") for s in
               advisor.ok("GET", f"/repair-orders/{again['repair_order_id']}")["timeline"])
    after = advisor.ok("GET", "/first-time-fix", branch_id=world["branch"], **{"from": today, "to": today})
    assert after["came_back"] == before["came_back"] + 1 and after["delivered"] == before["delivered"]
    assert after["first_time_fix"] == round(1 - after["came_back"] / after["delivered"], 3)

    def gauge():
        text = requests.get(gateway.url + "/metrics", timeout=30).text
        return [l for l in text.splitlines() if l.startswith("pitlane_comebacks{") and world["branch"] in l]

    (line,) = until(gauge, bool, what="the comebacks gauge")
    assert float(line.rsplit(" ", 1)[1]) >= 1


def test_another_fault_on_the_same_vehicle_is_no_comeback(advisor, technician, inspector, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                    slot_start=fixtures.next_slot(hours_ahead=92)).run(pay=False)
    other = back_again(advisor, world, state, 93, "battery flat every morning")
    assert other["fault_family"] == "electrical" and other["comeback_of"] is None
    refused = advisor.get("/first-time-fix", branch_id=world["far_branch"],
                          **{"from": "2026-01-01", "to": "2026-01-02"})
    assert refused.status_code == 403
