"""The after-sales journey through HTTP only, every service a real process; final state asserted everywhere."""
from datetime import datetime

from tests.support.journey import Journey, expected_follow_up, until


def test_the_whole_journey_over_http(advisor, technician, inspector, admin, world):
    before = advisor.ok("GET", f"/stock/{world['branch']}/{world['part']}")
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"]).run()
    ro_id = state["ro"]["repair_order_id"]

    ro = until(lambda: advisor.ok("GET", f"/repair-orders/{ro_id}"), lambda r: r["status"] == "closed",
               what="the paid repair order closed")  # closed once its invoice is paid
    assert [s["status"] for s in ro["timeline"]][-2:] == ["delivered", "closed"]
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


def test_the_journey_runs_its_sla_clocks(advisor, technician, inspector, admin, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"]).run()
    ro_id, booking_id = state["ro"]["repair_order_id"], state["booking"]["booking_id"]

    def clock(service, policy, subject):
        items = admin.ok("GET", "/sla/clocks", service=service, policy=policy, limit=200)["items"]
        return next(c for c in items if c["subject_id"] == subject)

    assert clock("booking", "booking_first_response", booking_id)["outcome"] == "met"
    for policy in ("diagnosis", "repair_promise"):  # started and stopped by workshop's own events
        found = clock("workshop", policy, ro_id)
        assert found["state"] == "stopped" and found["outcome"] == "met", found
    follow_up = clock("crm", "follow_up", ro_id)  # started by workshop's delivery, in crm
    assert follow_up["state"] == "running" and follow_up["target_seconds"] == 72 * 3600
    admin.ok("POST", f"/follow-ups/{state['follow_up']['follow_up_id']}/completion", {"outcome": "reached"})
    from tests.support.infra import wait_for

    wait_for(lambda: clock("crm", "follow_up", ro_id)["outcome"] == "met", message="the follow-up clock to stop")
