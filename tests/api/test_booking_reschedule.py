"""Reschedule with alternatives through the real gateway: asked, offered within the reschedule_offer clock,
picked; the history keeps each step."""
import uuid
from datetime import datetime, timedelta

from tests.support import fixtures
from tests.support.journey import until, vin


def _booking(api, branch_id, hours_ahead):
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Reschedule Tester"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                           "plate": f"RS {uuid.uuid4().hex[:4]}", "model": "Clio"})
    return api.ok("POST", "/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], slot_start=fixtures.next_slot(hours_ahead)))


def _offer_clock(admin, booking):
    since = (datetime.fromisoformat(booking["requested_at"]) - timedelta(seconds=5)).isoformat()
    items = admin.ok("GET", "/sla/clocks", service="booking", policy="reschedule_offer", limit=200,
                     **{"from": since})["items"]
    return next((c for c in items if c["subject_id"] == booking["booking_id"]), None)


def test_the_customer_asks_the_branch_offers_morning_midday_evening_and_the_customer_picks(advisor, admin, world):
    booking = _booking(advisor, world["branch"], hours_ahead=17)
    path = f"/bookings/{booking['booking_id']}"
    asked = advisor.ok("POST", f"{path}/reschedule-request", {"note": "a later day suits better"})
    assert asked["reschedule_requested_at"] is not None and asked["reschedule_offer"] == []
    until(lambda: _offer_clock(admin, booking), lambda c: c is not None and c["state"] == "running", timeout=10,
          what="the reschedule_offer clock")
    again = advisor.post(f"{path}/reschedule-request", {})
    assert again.status_code == 409, again.text

    offered = advisor.ok("POST", f"{path}/reschedule-offer", {})
    offer = offered["reschedule_offer"]
    assert 2 <= len(offer) <= 3 and len({a["part_of_day"] for a in offer}) == len(offer), offer
    assert booking["slot_start"] not in [a["slot_start"] for a in offer]
    stopped = until(lambda: _offer_clock(admin, booking), lambda c: c["state"] != "running", timeout=10,
                    what="the reschedule_offer clock to stop")
    assert (stopped["state"], stopped["outcome"]) == ("stopped", "met"), stopped
    assert advisor.post(f"{path}/reschedule-offer", {}).status_code == 409  # nothing asked any more

    picked = advisor.ok("POST", f"{path}/reschedule", {"slot_start": offer[-1]["slot_start"]})
    assert datetime.fromisoformat(picked["slot_start"]) == datetime.fromisoformat(offer[-1]["slot_start"])
    notes = [h["note"] for h in picked["history"]]
    assert notes[0] == "requested" and "a later day suits better" in notes and notes[-1] == "rescheduled"
    assert any(n.startswith("offered ") for n in notes), notes


def test_the_branch_may_choose_the_alternatives_and_each_must_fit(advisor, world):
    booking = _booking(advisor, world["branch"], hours_ahead=18)
    path = f"/bookings/{booking['booking_id']}"
    advisor.ok("POST", f"{path}/reschedule-request", {})
    closed, first, second = (fixtures.next_slot(h) for h in (26, 27, 28))
    advisor.ok("POST", "/slots/capacity", {"branch_id": world["branch"], "slot_start": closed, "capacity": 0})
    refused = advisor.post(f"{path}/reschedule-offer", {"alternatives": [closed, first]})
    assert refused.status_code == 422 and "no bay" in refused.json()["error"]["fields"]["alternatives"][0], \
        refused.text
    one = advisor.post(f"{path}/reschedule-offer", {"alternatives": [first]})
    assert one.status_code == 400 and "alternatives" in one.json()["error"]["fields"], one.text
    offered = advisor.ok("POST", f"{path}/reschedule-offer", {"alternatives": [second, first]})
    assert [datetime.fromisoformat(a["slot_start"]) for a in offered["reschedule_offer"]] == [
        datetime.fromisoformat(first), datetime.fromisoformat(second)]
