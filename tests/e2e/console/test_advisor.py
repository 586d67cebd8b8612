"""The advisor's day board, the customer search and the repair order page: in Chromium against the real stack.

Each test uses slots 200 to 230 hours ahead (other console tests use other slots), so its arrivals are on a
day of their own; the walk-in queue and the workshop are the branch's, shared with other tests, so rows
are found by their plate or number.
"""
import re
import uuid
from datetime import datetime

from playwright.sync_api import expect

from tests.e2e.console.conftest import accessible, checked_in_order, shot
from tests.support import fixtures
from tests.support.journey import until, vin

LIVE = 20000  # ms: a board refreshes within a poll (2 s) of the event that moved it


def _customer_and_car(advisor, branch_id, name):
    customer = advisor.ok("POST", "/customers", {"branch_id": branch_id, "name": name, "phone": "+49 40 7654321"})
    plate = f"HH A {uuid.uuid4().hex[:4].upper()}"
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(), "plate": plate,
                                               "model": "Passat"})
    return customer, vehicle, plate


def _choose_slot(page, slot_start: str):
    """The slot select's option for this instant (the API's ISO form may differ from the test's)."""
    wanted = datetime.fromisoformat(slot_start)
    values = page.locator("#book-slot option").evaluate_all("options => options.map(o => o.value)")
    value = next(v for v in values if v and datetime.fromisoformat(v) == wanted)
    page.get_by_label("Slot", exact=True).select_option(value)


def test_an_advisor_books_checks_in_and_quotes(sign_in, advisor, world):
    customer, _vehicle, plate = _customer_and_car(advisor, world["branch"], "Bea Booker")
    slot = fixtures.next_slot(210)
    day = slot[:10]  # the test branch keeps UTC
    page = sign_in("advisor")
    page.goto("/console/day")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Day board")
    accessible(page)

    # the customer from the search, then the booking form on the slot's day
    page.get_by_label("Find a customer").fill(plate.replace(" ", "").lower())
    page.get_by_label("Find a customer").press("Enter")
    expect(page.locator("tr.customer")).to_contain_text("Bea Booker")
    page.get_by_role("link", name=f"Book {plate}").click()
    expect(page.locator("#book")).to_contain_text("Bea Booker")
    page.locator("#book-day").fill(day)
    page.get_by_label("Work", exact=True).select_option("annual_service")
    page.get_by_role("button", name="Show free slots").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(datetime.fromisoformat(slot).strftime("%d %b"))
    _choose_slot(page, slot)
    page.get_by_label("Symptoms").fill("squeal when braking, only when cold")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("booked for")

    # the arrival appears on the board (the live region refreshed), with what it needs
    arrival = page.locator(f"tr.arrival[data-plate='{plate}']")
    expect(arrival).to_contain_text("annual service", timeout=LIVE)
    expect(arrival).to_contain_text("Bea Booker")
    expect(arrival).to_contain_text("FLT-OIL-01")  # the service type's kit to pick

    # check in through the form: the repair order opens and the row links to it
    arrival.get_by_label(re.compile("Odometer")).fill("31234")
    arrival.get_by_label(re.compile("Fault as agreed")).fill("squeal when braking, only when cold")
    arrival.get_by_role("button", name=f"Check in {plate}").click()
    expect(arrival).to_contain_text("Checked in", timeout=LIVE)
    order_link = arrival.get_by_role("link", name=re.compile(r"\S+-\d+"))
    expect(order_link).to_be_visible(timeout=LIVE)
    number = order_link.inner_text()
    row = page.locator(f"#in-workshop tr[data-number='{number}']")
    expect(row).to_contain_text(plate, timeout=LIVE)
    expect(row.locator(".badge")).not_to_have_text("no clock", timeout=LIVE)  # the diagnosis clock runs
    expect(row).to_contain_text("diagnosis deadline")  # no promise yet: the SLA clock's deadline shows
    shot(page, "day-board")
    accessible(page)

    # the repair order page: issue a quote with lines and prices
    order_link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    page.get_by_label("Description of line 1").fill("replace front brake pads")
    page.get_by_label("Quantity of line 1").fill("1.5")
    page.get_by_label("Kind of line 2").select_option("part")
    page.get_by_label("Description of line 2").fill("front brake pads")
    page.get_by_label("Part number of line 2").fill(world["part"])
    page.get_by_label("Quantity of line 2").fill("1")
    page.get_by_label("Group of line 3").select_option("recommended")
    page.get_by_label("Description of line 3").fill("replace wiper blades")
    page.get_by_label("Quantity of line 3").fill("0.3")
    page.get_by_role("button", name="Issue the quote").click()
    lines = page.locator("table.quote-lines tbody tr.line")
    expect(lines).to_have_count(3)
    expect(lines.nth(0)).to_contain_text("€142.50")  # 1.5 h at the branch's €95.00 an hour
    expect(lines.nth(1)).to_contain_text("€89.00")  # the catalogue's price
    expect(page.locator("table.quote-lines tfoot")).to_contain_text("€260.00")
    expect(page.locator(".advisor-page")).to_have_attribute("data-status", "awaiting_approval")
    shot(page, "repair-order")
    accessible(page)

    # the day board lists the quote as waiting for the customer
    page.get_by_role("link", name="← Day board").click()
    waiting = page.locator("#quotes tr.quote", has_text=number)
    expect(waiting).to_contain_text("€260.00")
    waiting.get_by_role("link", name=number).click()

    # the customer approves the first line only, by signature
    page.get_by_label("Approve replace front brake pads").check()
    page.get_by_label("Consent given by").select_option("signature")
    page.get_by_label("Customer's name").fill("Bea Booker")
    page.get_by_role("button", name="Record the customer's decision").click()
    expect(page.locator(".advisor-page")).to_have_attribute("data-status", "approved")
    expect(lines.nth(0)).to_contain_text("approved")
    expect(lines.nth(1)).to_contain_text("declined")
    expect(lines.nth(2)).to_contain_text("declined")
    expect(page.locator("dl.facts")).to_contain_text("€142.50")  # the approved total
    order = advisor.ok("GET", f"/repair-orders/{_order_id(advisor, customer)}")
    assert order["approved_total_cents"] == 14250 and order["quote"]["consent_by"] == "Bea Booker"


def _order_id(advisor, customer):
    return advisor.ok("GET", "/repair-orders", customer_id=customer["customer_id"])["items"][0]["repair_order_id"]


def test_the_day_board_searches_a_customer_by_plate(sign_in, advisor, world):
    made = checked_in_order(advisor, world["branch"], slot_hours=201, name="Sam Searcher")
    page = sign_in("advisor")
    page.goto("/console/day")
    search = page.get_by_label("Find a customer")
    search.fill(made["plate"].replace(" ", "-").lower())  # spaces, dashes and case do not matter
    search.press("Enter")
    expect(page).to_have_url(re.compile("/console/day/search"))
    found = page.locator(f"tr.customer[data-customer='{made['customer']['customer_id']}']")
    expect(found).to_contain_text("Sam Searcher")
    expect(found).to_contain_text("plate matches")
    expect(found).to_contain_text("+49 40 1234567")
    shot(page, "search")
    accessible(page)

    # the customer's repair orders, one click away, and on to the order
    found.get_by_role("link", name="Repair orders of Sam Searcher").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sam Searcher")
    order_row = page.locator(f"tr.ro[data-number='{made['order']['number']}']")
    expect(order_row).to_contain_text("Checked in")
    accessible(page)
    order_row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(made["order"]["number"])
    expect(page.locator("dl.facts")).to_contain_text("rattle from the front left")
    expect(page.locator("dl.facts")).to_contain_text("31,000 km")

    # a search too short is the API's refusal, said on the page
    page.goto("/console/day/search?q=ab")
    expect(page.get_by_role("alert").first).to_contain_text("q")


def test_a_full_slot_is_refused_in_place_with_the_next_slots_that_fit(sign_in, browser, gateway, advisor, world):
    customer, vehicle, _plate = _customer_and_car(advisor, world["branch"], "Fay Full")
    slot = fixtures.next_slot(215)
    form = (f"/console/day?date={slot[:10]}&customer_id={customer['customer_id']}"
            f"&vehicle_id={vehicle['vehicle_id']}&service_type=oil_change#book")
    page = sign_in("advisor")
    page.goto(form)
    _choose_slot(page, slot)
    # the same form in a browser without JavaScript, signed in as the same advisor
    bare_context = browser.new_context(base_url=gateway.url, java_script_enabled=False)
    try:
        bare_context.add_cookies(page.context.cookies())
        bare = bare_context.new_page()
        bare.goto(form)
        _choose_slot(bare, slot)

        # another desk takes the slot's last place while the forms are open
        advisor.ok("POST", "/slots/capacity", {"branch_id": world["branch"], "slot_start": slot, "capacity": 0})
        page.get_by_role("button", name="Book", exact=True).click()
        refusal = page.locator("#book .refusal")
        expect(refusal).to_contain_text("fully booked")
        expect(refusal).to_contain_text("next slots that fit")
        assert advisor.ok("GET", "/bookings", customer_id=customer["customer_id"])["items"] == []

        # without JavaScript the refusal comes back with the alternatives offered in the form
        bare.get_by_role("button", name="Book", exact=True).click()
        expect(bare.locator("#flash")).to_contain_text("fully booked")
        offered = bare.locator("#book-slot optgroup[label^='Offered'] option")
        expect(offered.first).to_be_attached()
        assert bare.locator("#book-slot").input_value() == offered.first.get_attribute("value")
        bare.get_by_role("button", name="Book", exact=True).click()  # the first alternative, chosen for them
        expect(bare.locator("#flash")).to_contain_text("booked for")
    finally:
        bare_context.close()
    [booked] = advisor.ok("GET", "/bookings", customer_id=customer["customer_id"])["items"]
    assert datetime.fromisoformat(booked["slot_start"]) > datetime.fromisoformat(slot)


def test_a_walk_in_joins_the_queue_with_an_estimated_wait_and_is_checked_in(sign_in, advisor, world):
    customer, _vehicle, plate = _customer_and_car(advisor, world["branch"], "Walt Walker")
    page = sign_in("advisor")
    page.goto(f"/console/day/search?customer_id={customer['customer_id']}")
    car = page.locator(f"tr.car[data-plate='{plate}']")
    car.get_by_label(re.compile("^Work")).select_option("oil_change")
    car.get_by_role("button", name=f"Add {plate} to the walk-in queue").click()
    expect(page.locator("#flash")).to_contain_text("walk-in queue")

    page.goto("/console/day")
    waiting = page.locator(f"tr.walk-in[data-plate='{plate}']")
    expect(waiting).to_contain_text("Walt Walker")
    expect(waiting).to_contain_text(re.compile(r"about \d+ min"))
    accessible(page)
    waiting.get_by_label(re.compile("Odometer")).fill("88000")
    waiting.get_by_label(re.compile("Fault as agreed")).fill("oil change due")
    waiting.get_by_role("button", name=f"Check in {plate}").click()
    expect(waiting).to_have_count(0, timeout=LIVE)  # out of the queue
    expect(page.locator("#in-workshop tr.ro", has_text=plate)).to_contain_text("Checked in", timeout=LIVE)


def test_a_ready_car_is_handed_over_from_the_day_board(sign_in, advisor, technician, inspector, world):
    made = checked_in_order(advisor, world["branch"], slot_hours=222, name="Hal Handover")
    ro = made["order"]["repair_order_id"]
    issued = advisor.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "fix the rattle", "quantity": "1"}]})
    advisor.ok("POST", f"/repair-orders/{ro}/approval", {
        "quote_id": issued["quote_id"], "consent": {"method": "signature", "by": "Hal Handover"},
        "decisions": [{"line_id": issued["lines"][0]["line_id"], "approved": True}]})
    job = technician.ok("POST", f"/repair-orders/{ro}/jobs", {})
    technician.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
    inspector.ok("POST", f"/repair-orders/{ro}/quality-check", {"passed": True})
    until(lambda: advisor.ok("GET", f"/repair-orders/{ro}")["status"], lambda s: s == "ready", what="ready")

    page = sign_in("advisor")
    page.goto("/console/day")
    ready = page.locator(f"#ready tr[data-number='{made['order']['number']}']")
    expect(ready).to_contain_text("Hal Handover")
    expect(ready).to_contain_text("€95.00")
    ready.get_by_role("button", name=re.compile("Hand over")).click()
    expect(ready).to_have_count(0, timeout=LIVE)
    assert advisor.ok("GET", f"/repair-orders/{ro}")["status"] == "delivered"
    assert advisor.ok("GET", f"/repair-orders/{ro}")["delivered_at"]


def test_another_branchs_repair_order_is_not_shown(sign_in, advisor, world):
    made = checked_in_order(advisor, world["branch"], slot_hours=228, name="Ola Other")
    page = sign_in("other_advisor")
    response = page.goto(f"/console/repair-orders/{made['order']['repair_order_id']}")
    assert response.status in (403, 404)
    expect(page.get_by_role("alert")).to_be_visible()
