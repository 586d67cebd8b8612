"""The repair order's whole life cycle through the gateway: closed after payment or a set time
after delivery (the branch's setting), and illegal steps named with the allowed next ones."""
import uuid

from tests.api.test_workshop_rules import approved
from tests.support import fixtures
from tests.support.gateway import Api
from tests.support.journey import Journey, until


def closed(api, ro):
    return until(lambda: api.ok("GET", f"/repair-orders/{ro}"), lambda r: r["status"] == "closed",
                 what="the repair order closed", timeout=60)


def test_a_paid_repair_order_is_closed(advisor, technician, inspector, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                    slot_start=fixtures.next_slot(hours_ahead=50)).run()
    ro = closed(advisor, state["ro"]["repair_order_id"])
    assert ro["closed_at"] and [s["status"] for s in ro["timeline"]][-2:] == ["delivered", "closed"]
    assert ro["timeline"][-1]["note"] == "closed: paid"
    refused = advisor.post(f"/repair-orders/{ro['repair_order_id']}/hold", {"reason": "parts"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["fields"]["status"] == ["is closed; allowed next: none"]


def test_a_delivered_order_closes_the_branchs_set_time_after_delivery(gateway, admin, advisor, world):
    branch = f"WSC{uuid.uuid4().hex[:6]}"  # a branch and region of its own: other tests count theirs
    admin.ok("POST", "/branches", fixtures.branch(branch, region_id=f"{branch}-R", bays=4), status=201)
    until(lambda: admin.post("/stock/receipts", {"branch_id": branch, "part_number": world["part"], "quantity": 5}),
          lambda r: r.status_code == 201, what="parts to know the branch")
    until(lambda: admin.post("/customers", {"branch_id": branch, "name": "Branch Probe"}),
          lambda r: r.status_code == 201, what="crm to know the branch")
    assert admin.ok("GET", f"/branches/{branch}/workshop-settings")["close_after_delivery_seconds"] == 7 * 86400
    assert advisor.post(f"/branches/{branch}/workshop-settings", {"close_after_delivery_seconds": 0}).status_code == 403
    bad = admin.post(f"/branches/{branch}/workshop-settings", {"close_after_delivery_seconds": -1})
    assert bad.status_code == 400 and "close_after_delivery_seconds" in bad.json()["error"]["fields"], bad.text
    changed = admin.ok("POST", f"/branches/{branch}/workshop-settings", {"close_after_delivery_seconds": 0})
    assert (changed["branch_id"], changed["close_after_delivery_seconds"]) == (branch, 0)
    assert changed["promise_buffer_pct"] == 25  # the others keep their defaults

    second_admin = Api.as_role(gateway.url, "admin")  # the peer check: another person
    state = Journey(admin, admin, second_admin, branch, part_number=world["part"],
                    slot_start=fixtures.next_slot(hours_ahead=51)).run(pay=False)

    ro = closed(admin, state["ro"]["repair_order_id"])
    assert ro["timeline"][-1]["note"] == "closed: 0 s after delivery"
    invoice = admin.ok("GET", f"/invoices/{state['invoice']['invoice_id']}")
    assert invoice["status"] == "issued"  # closing does not settle the bill
    admin.ok("POST", f"/branches/{branch}/workshop-settings", {"close_after_delivery_seconds": None})
    assert admin.ok("GET", f"/branches/{branch}/workshop-settings")["close_after_delivery_seconds"] == 7 * 86400


def test_an_illegal_step_is_409_naming_the_current_status_and_the_allowed_next_ones(
        advisor, technician, colleague, world):
    tech = colleague(f"tech-lc-{uuid.uuid4().hex[:6]}")
    ro = approved(advisor, technician, world, 52)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    refused = advisor.post(f"/repair-orders/{ro}/delivery", {})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert "in_progress" in error["message"] and "allowed next: on_hold, quality_check" in error["message"]
    assert error["fields"]["status"] == ["is in_progress; allowed next: on_hold, quality_check"]
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
