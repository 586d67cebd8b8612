"""The customer's page, no staff token: the signed link from a message, or number and plate; gross
prices as the invoice will charge them; a decision per line recorded as online consent."""
import re

from playwright.sync_api import expect

from shared import links
from tests.e2e.console.conftest import accessible, checked_in_order, shot
from tests.support.journey import until


def _quoted(advisor, technician, world, slot_hours):
    made = checked_in_order(advisor, world["branch"], slot_hours=slot_hours, name="Petra Phone")
    order_id = made["order"]["repair_order_id"]
    technician.ok("POST", f"/repair-orders/{order_id}/diagnosis", {"findings": [
        {"code": "C1234", "description": "front pads worn", "status": "red", "reading": "2 mm", "standard": "3 mm"}]})
    quote = advisor.ok("POST", f"/repair-orders/{order_id}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "replace front brake pads", "quantity": "1.5"},
        {"kind": "labour", "group": "recommended", "description": "replace wiper blades", "quantity": "0.3"}]})
    return made, quote


def test_the_customer_approves_one_line_and_declines_another_from_the_link_in_their_message(
        anonymous, advisor, technician, world):
    made, quote = _quoted(advisor, technician, world, slot_hours=281)
    order = made["order"]
    page = anonymous
    token = links.customer_token(order["repair_order_id"], order["number"])
    page.goto(f"/customer/{token}")
    expect(page.get_by_role("heading", name=f"Repair {order['number']}")).to_be_visible()
    must, recommended = quote["lines"]
    branch = advisor.ok("GET", f"/branches/{world['branch']}")
    gross = lambda net: net + (net * branch["tax_rate_bp"] + 5000) // 10000  # tax per line, half up
    must_line = page.locator(f"fieldset[data-line='{must['line_id']}']")
    expect(must_line).to_contain_text(f"{gross(must['net_cents']) / 100:,.2f}")
    shot(page, "customer-page")
    accessible(page)
    must_line.get_by_label("Approve").check()
    page.locator(f"fieldset[data-line='{recommended['line_id']}']").get_by_label("Decline").check()
    page.get_by_label("Your name").fill("Petra Phone")
    page.get_by_role("button", name="Send my decision").click()
    expect(page.get_by_role("status")).to_contain_text("1 of 2 lines approved")
    expect(page.get_by_role("heading", name="Work you approved")).to_be_visible()
    decided = until(lambda: advisor.ok("GET", f"/repair-orders/{order['repair_order_id']}"),
                    lambda ro: ro["status"] == "approved", what="the approval")
    assert decided["approved_total_cents"] == must["net_cents"]
    quotes = advisor.ok("GET", "/quotes", repair_order_id=order["repair_order_id"])["items"]
    assert quotes[0]["consent_method"] == "online" and quotes[0]["consent_by"] == "Petra Phone"
    assert quotes[0]["decided_at"]
    # the same link again: nothing waits any more, and the work shows at its gross price
    page.goto(f"/customer/{token}")
    expect(page.locator("fieldset")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(f"{gross(must['net_cents']) / 100:,.2f}")


def test_a_customer_finds_their_repair_by_number_and_plate_and_a_wrong_plate_finds_nothing(
        anonymous, advisor, technician, world):
    made, _ = _quoted(advisor, technician, world, slot_hours=284)
    page = anonymous
    page.goto("/console/customer")
    page.get_by_label("Repair order number").fill(made["order"]["number"])
    page.get_by_label("Number plate").fill("XX 0000")
    page.get_by_role("button", name="Show my repair").click()
    expect(page.get_by_role("alert")).to_contain_text("no repair with that number and plate")
    page.get_by_label("Number plate").fill(made["plate"].lower().replace(" ", "-"))
    page.get_by_role("button", name="Show my repair").click()
    expect(page).to_have_url(re.compile("/console/customer/order"))
    expect(page.locator("fieldset")).to_have_count(2)
    assert made["plate"] not in page.url  # the plate stays in the session, not the address
    shot(page, "customer-lookup")


def test_a_changed_link_shows_no_repair(anonymous, advisor, world):
    anonymous.goto("/customer/not-a-real-token")
    expect(anonymous.get_by_role("alert")).to_contain_text("not valid")
