"""Sign-in, the workshop board, scope and refusals, the API page: in Chromium against the real stack."""
import re

from playwright.sync_api import expect

from tests.e2e.console.conftest import accessible, checked_in_order, shot


def test_a_wrong_password_is_refused_without_saying_which_half_was_wrong(browser, gateway, staff):
    context = browser.new_context(base_url=gateway.url)
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile("/console/sign-in"))
    shot(page, "sign-in")
    accessible(page)
    page.get_by_label("Login").fill(staff["advisor"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    context.close()


def test_the_workshop_board_shows_a_checked_in_car_and_the_api_refusal_of_an_illegal_move(sign_in, advisor, world):
    made = checked_in_order(advisor, world["branch"], slot_hours=61)
    page = sign_in("advisor")
    page.goto("/console/workshop")
    card = page.locator(f"article[data-number='{made['order']['number']}']")
    expect(card).to_be_visible()
    expect(card).to_contain_text(made["plate"])
    expect(page.locator("section[data-status='checked_in']")).to_contain_text(made["plate"])
    shot(page, "workshop-board")
    accessible(page)
    card.get_by_label(re.compile("Move .* to")).select_option("ready")
    card.get_by_role("button", name="Move").click()
    expect(card.locator(".refusal")).to_contain_text("quality")  # the API's own reason, shown in place
    expect(page.locator("section[data-status='checked_in']")).to_contain_text(made["plate"])
    # the branch moves on meanwhile (a new order): the board waits while its refusal is being read
    checked_in_order(advisor, world["branch"], slot_hours=63, fault="a change elsewhere on the board")
    page.wait_for_timeout(4000)  # two polls of the change feed
    expect(card.locator(".refusal")).to_contain_text("quality")


def test_an_advisor_cannot_open_another_branchs_board(sign_in, world):
    page = sign_in("other_advisor")
    response = page.goto(f"/console/workshop?branch={world['branch']}")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("not yours")


def test_the_api_page_renders_the_openapi_document(browser, gateway):
    context = browser.new_context(base_url=gateway.url)
    page = context.new_page()
    page.goto("/console/api")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("pitlane", timeout=20000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    shot(page, "api", full_page=False)  # the whole document is many screens long
    context.close()


def test_the_workshop_board_shows_a_card_move_by_itself_within_five_seconds(sign_in, advisor, technician, world):
    made = checked_in_order(advisor, world["branch"], slot_hours=62, fault="knock over bumps")
    page = sign_in("advisor")
    page.goto("/console/workshop")
    checked_in = page.locator("section[data-status='checked_in']")
    diagnosed = page.locator("section[data-status='diagnosed']")
    expect(checked_in).to_contain_text(made["plate"])
    # someone else records the diagnosis through the API; this page is not reloaded
    technician.ok("POST", f"/repair-orders/{made['order']['repair_order_id']}/diagnosis", {
        "findings": [{"code": "C0500", "description": "front strut mount worn", "status": "amber"}]})
    expect(diagnosed).to_contain_text(made["plate"], timeout=5000)
    expect(checked_in).not_to_contain_text(made["plate"])
