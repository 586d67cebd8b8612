"""The webhooks screen in Chromium against the real stack: an admin subscribes a real receiver (a tiny HTTP
server in this process), sees the secret once, watches an event the API caused arrive in the delivery log
with its latency and tries, sends it again, pauses, resumes and unsubscribes; operations read the same
pages without a form; an advisor is refused."""
import json
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from tests.e2e.console.conftest import PASSWORD, accessible, shot
from tests.support.infra import wait_for


class Receiver:
    """An integrator's endpoint: answers 204 to every POST and keeps what it got."""

    def __init__(self):
        self.got: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pitlane-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def of(self, event_type: str) -> list[tuple[dict, bytes]]:
        return [(h, b) for h, b in self.got if h.get("pitlane-event-type") == event_type]


@pytest.fixture
def receiver(admin):
    r = Receiver()
    r.thread.start()
    yield r
    for s in admin.ok("GET", "/webhooks/subscriptions", limit=200)["items"]:  # left behind by a failed test
        if s["url"] == r.url and s["status"] != "disabled":
            admin.session.delete(f"{admin.base}/webhooks/subscriptions/{s['subscription_id']}", timeout=30)
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(scope="module")
def admin_login(gateway):
    """An administrator who signs in to the console (the shared staff have none)."""
    from gateway.store import GatewayStore
    from pitlane import staff as people

    login = f"console-admin-{uuid.uuid4().hex[:6]}"
    store = GatewayStore(pool_size=1)
    people.add(store, login, "Ada Admin", PASSWORD, "admin")
    store.pool.close()
    return login


def _until_row(page, selector: str, timeout: float = 20):
    """Reload the page until `selector` is there (the log is not a live board)."""
    def there():
        page.reload()
        return page.locator(selector).count() > 0
    wait_for(there, timeout=timeout, interval=0.5, message=selector)
    return page.locator(selector)


def test_an_admin_subscribes_a_receiver_and_follows_its_deliveries(sign_in, admin_login, admin, world, receiver):
    page = sign_in(admin_login)
    expect(page.get_by_role("navigation", name="Screens").get_by_role("link", name="Webhooks")).to_be_visible()
    page.goto("/console/webhooks")
    form = page.locator("form.new")
    form.get_by_label("URL").fill(receiver.url)
    form.get_by_role("button", name="Subscribe").click()  # no event type: the API's refusal, what was typed kept
    expect(page.locator("form.new").locator("xpath=..").get_by_role("alert")).to_contain_text("event_types")
    expect(form.get_by_label("URL")).to_have_value(receiver.url)
    form.get_by_label("Description").fill("console test receiver")
    form.get_by_label("customer.*").check()
    form.get_by_role("button", name="Subscribe").click()

    shown = page.locator("#new-secret")
    expect(shown).to_contain_text("shown this once")
    secret = page.locator("#secret-value").inner_text()
    assert secret.startswith("whsec_")
    row = page.locator("#subscriptions tr", has_text=receiver.url)
    expect(row).to_contain_text("customer.*")
    expect(row.locator(".badge")).to_have_text("active")
    shot(page, "webhooks")
    accessible(page)
    page.reload()
    expect(page.locator("#new-secret")).to_have_count(0)  # once

    customer = admin.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Hook Probe"}, status=201)
    row.get_by_role("link", name=receiver.url).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(receiver.url)
    delivered = _until_row(page, f"#deliveries tr[data-status='delivered']:has-text('{customer['customer_id']}')")
    expect(delivered).to_contain_text("customer.registered")
    expect(delivered).to_contain_text("HTTP 204")
    expect(delivered).to_contain_text(re.compile(r"\d+ ms"))
    headers, body = next((h, b) for h, b in receiver.of("customer.registered")
                         if json.loads(b)["customer_id"] == customer["customer_id"])
    Webhook(secret).verify(body, headers)  # signed with the secret shown once

    delivered.get_by_role("link", name="customer.registered", exact=True).click()
    expect(page.locator("#tries-table")).to_contain_text("HTTP 204")
    expect(page.locator("#filter-delivered")).to_contain_text(re.compile(r"[1-9]"))
    shot(page, "webhook-subscription")
    accessible(page)

    before = len(receiver.of("customer.registered"))
    delivered.get_by_role("button", name=re.compile("Send again")).click()
    expect(page.locator("#flash")).to_contain_text("1 queued to send again")
    wait_for(lambda: len(receiver.of("customer.registered")) > before, timeout=15, message="the event sent again")

    again = page.locator("form", has=page.get_by_label("From (UTC)"))
    again.get_by_label("From (UTC)").fill((datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S"))
    again.get_by_role("button", name="Send again").click()
    expect(page.locator("#flash")).to_contain_text(re.compile(r"[1-9]\d* queued to send again"))

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#flash")).to_contain_text("paused")
    expect(page.locator(".facts .badge")).to_have_text("paused")
    expect(page.locator(".facts")).to_contain_text("paused by an admin")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".facts .badge")).to_have_text("active")

    page.goto("/console/webhooks")
    row = page.locator("#subscriptions tr", has_text=receiver.url)
    row.get_by_text("Unsubscribe…").click()
    row.get_by_role("button", name=re.compile("^Unsubscribe")).click()
    expect(page.locator("#flash")).to_contain_text("unsubscribed")
    expect(page.locator("#subscriptions tr", has_text=receiver.url).locator(".badge")).to_have_text("unsubscribed")


def test_operations_read_the_webhooks_without_a_form_and_an_advisor_is_refused(sign_in, admin, gateway):
    made = admin.ok("POST", "/webhooks/subscriptions", {
        "url": "http://127.0.0.1:9/ops-view", "event_types": ["invoice.*"], "description": "read by operations"},
        status=201)
    sid = made["subscription_id"]
    try:
        page = sign_in("operations")
        page.goto("/console/webhooks")
        row = page.locator(f"#subscriptions tr[data-subscription='{sid}']")
        expect(row).to_contain_text("invoice.*")
        expect(page.locator("main form")).to_have_count(0)  # reading only: no subscribe, pause or unsubscribe
        accessible(page)
        row.get_by_role("link", name="http://127.0.0.1:9/ops-view").click()
        expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
        expect(page.locator("main form[method=post]")).to_have_count(0)  # no send again
        accessible(page)

        advisor = sign_in("advisor")
        response = advisor.goto("/console/webhooks")
        assert response.status == 403
        expect(advisor.get_by_role("alert")).to_contain_text("may not read webhooks")
        expect(advisor.get_by_role("link", name="Webhooks")).to_have_count(0)
    finally:
        admin.session.delete(f"{admin.base}/webhooks/subscriptions/{sid}", timeout=30)
