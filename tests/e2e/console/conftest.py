"""The console in a real browser: Debian's Chromium driven by Playwright against the real stack.

`browser` is one headless Chromium per run; `sign_in(login)` is a new browser context (its own
cookies) signed in as that member of staff through the sign-in form. `shot(page, name)` saves a
screenshot of the screen to .test-logs/screenshots (the README's pictures come from there), and
`accessible(page)` runs axe-core (the copy the axe-playwright-python package carries) and fails
on any serious or critical violation.
"""
import shutil
from pathlib import Path

import pytest

from tests.support.infra import ROOT

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "console-test-password"
SHOTS = ROOT / ".test-logs" / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: run `make setup` as root (it installs it)")
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):  # Playwright's sync API then hangs instead of failing
        pytest.fail("this test process was monkey-patched by eventlet (an import of pitlane.serve?):"
                    " Playwright cannot drive the browser from it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def staff(gateway, world):
    """Members of staff of the test branches, added as `pitlane staff add` adds them."""
    from gateway.store import GatewayStore
    from pitlane import staff as people

    store = GatewayStore(pool_size=1)
    members = {
        "advisor": ("console-advisor", "Alex Advisor", "advisor", world["branch"], None),
        "other_advisor": ("console-advisor-b2", "Olga Other", "advisor", world["other_branch"], None),
        "technician": ("console-tech", "Tara Tech", "technician", world["branch"], None),
        "coordinator": ("console-parts", "Paul Parts", "parts_coordinator", None, world["region"]),
        "operations": ("console-ops", "Otto Ops", "operations", None, None),
    }
    for login, name, role, branch_id, region_id in members.values():
        people.add(store, login, name, PASSWORD, role, branch_id, region_id)
    store.pool.close()
    return {key: value[0] for key, value in members.items()}


@pytest.fixture
def sign_in(browser, gateway, staff):
    contexts = []

    def open_as(who: str, phone: bool = False):
        context = browser.new_context(base_url=gateway.url, viewport=PHONE if phone else {"width": 1440, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto("/console/sign-in")
        page.get_by_label("Login").fill(staff.get(who, who))
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def anonymous(browser, gateway):
    """A browser with no staff session (a customer's phone)."""
    context = browser.new_context(base_url=gateway.url, viewport=PHONE)
    yield context.new_page()
    context.close()


def shot(page, name: str, full_page: bool = True):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def accessible(page):
    """No serious or critical axe-core violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at "
                              f"{[n['target'] for n in v['nodes']][:3]}" for v in bad)


def checked_in_order(advisor, branch_id, slot_hours: int, name="Cora Console", fault="rattle from the front left"):
    """A customer, their car, a booking in `slot_hours`' slot, checked in: the repair order."""
    import uuid

    from tests.support import fixtures
    from tests.support.journey import _created, until, vin

    customer = advisor.ok("POST", "/customers", {"branch_id": branch_id, "name": name, "email": "cora@example.com",
                                                 "phone": "+49 40 1234567"})
    plate = f"HH C {uuid.uuid4().hex[:4].upper()}"
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(), "plate": plate,
                                               "model": "Golf"})
    booking = _created(until(lambda: advisor.post("/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], fixtures.next_slot(slot_hours))),
        lambda r: r.status_code != 422 or "vehicle_id" not in r.json()["error"]["fields"], what="the vehicle copy"))
    advisor.ok("POST", f"/bookings/{booking['booking_id']}/check-in", {"odometer_km": 31000, "fault_description": fault})
    order = until(lambda: advisor.get("/repair-orders", customer_id=customer["customer_id"]).json().get("items"),
                  bool, what="the repair order")[0]
    return {"customer": customer, "vehicle": vehicle, "booking": booking, "order": order, "plate": plate}
