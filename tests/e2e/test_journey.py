"""The after-sales journey through HTTP only, every service a real process; final state asserted everywhere."""
from datetime import datetime

from tests.support.journey import Journey, expected_follow_up


def test_the_whole_journey_over_http(advisor, technician, admin, world):
    before = advisor.ok("GET", f"/stock/{world['branch']}/{world['part']}")
    state = Journey(advisor, technician, world["branch"], part_number=world["part"]).run()
    ro_id = state["ro"]["repair_order_id"]

    ro = advisor.ok("GET", f"/repair-orders/{ro_id}")
    assert ro["status"] == "delivered"
    assert [s["status"] for s in ro["timeline"]][-1] == "delivered"
    assert ro["approved_total_cents"] == 14250 + 8900  # 1.5 h at 95.00 + the pads; wipers declined

    booking = advisor.ok("GET", f"/bookings/{state['booking']['booking_id']}")
    assert booking["status"] == "checked_in"

    after = advisor.ok("GET", f"/stock/{world['branch']}/{world['part']}")
    assert after["on_hand"] == before["on_hand"] - 1 and after["reserved"] == before["reserved"]
    reservations = advisor.ok("GET", "/reservations", repair_order_id=ro_id)["items"]
    assert [(r["part_number"], r["quantity"], r["status"]) for r in reservations] == [(world["part"], 1, "consumed")]

    invoice = advisor.ok("GET", f"/invoices/{state['invoice']['invoice_id']}")
    assert invoice["subtotal_cents"] == 23150
    assert invoice["tax_cents"] == 4399  # 19 % of 231.50, rounded half up
    assert invoice["total_cents"] == 27549
    assert invoice["status"] == "paid" and invoice["balance_cents"] == 0
    assert len(admin.ok("GET", "/invoices", repair_order_id=ro_id)["items"]) == 1

    follow_up = state["follow_up"]
    assert datetime.fromisoformat(follow_up["due_at"]) == expected_follow_up(state["delivered"]["delivered_at"])
    assert follow_up["status"] == "due"

    view = advisor.session.get(f"{advisor.base}/self-service/repair-orders/{ro['number']}",
                               params={"plate": state["plate"].lower()}, headers={"Authorization": ""})
    assert view.status_code == 200
    assert view.json()["stage"] == "Handed over" and "note" not in view.json()["timeline"][0]
