"""What the console needs of the API, as any client gets it: staff sign-in, the dead letters,
the open lists of a board, a branch's currency, and the customer's own decisions."""
import uuid

import requests

from gateway.store import GatewayStore
from pitlane import staff as people
from tests.support.gateway import Api
from tests.support.journey import until

PASSWORD = "api-test-password"


def _member(role, **scope):
    login = f"api-{role}-{uuid.uuid4().hex[:6]}"
    store = GatewayStore(pool_size=1)
    people.add(store, login, f"Test {role}", PASSWORD, role, scope.get("branch_id"), scope.get("region_id"))
    store.pool.close()
    return login


def test_a_member_of_staff_signs_in_and_gets_a_token_scoped_as_a_token_from_the_cli(gateway, world):
    login = _member("advisor", branch_id=world["branch"])
    answer = requests.post(gateway.url + "/api/v1/sessions", json={"login": login.upper(), "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert session["role"] == "advisor" and session["branch_id"] == world["branch"] and session["token_type"] == "Bearer"
    assert 0 < session["expires_in"] <= 12 * 3600
    mine = Api(gateway.url, session["token"])
    assert mine.get("/repair-orders", branch_id=world["branch"]).status_code == 200
    assert mine.get("/repair-orders", branch_id=world["other_branch"]).status_code == 403


def test_a_wrong_password_and_an_unknown_login_get_the_same_401(gateway, world):
    login = _member("technician", branch_id=world["branch"])
    wrong = requests.post(gateway.url + "/api/v1/sessions", json={"login": login, "password": "not it at all"})
    unknown = requests.post(gateway.url + "/api/v1/sessions", json={"login": "nobody-" + login, "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    missing = requests.post(gateway.url + "/api/v1/sessions", json={"login": login})
    assert missing.status_code == 400 and "password" in missing.json()["error"]["fields"]


def test_guessing_one_logins_password_is_slowed_to_ten_a_minute(gateway, world):
    """Ten a minute per gateway process (the test gateway runs two)."""
    login = _member("advisor", branch_id=world["branch"])
    statuses = [requests.post(gateway.url + "/api/v1/sessions", json={"login": login, "password": f"guess {i}"}
                              ).status_code for i in range(25)]
    assert statuses[:10] == [401] * 10 and 429 in statuses and set(statuses) == {401, 429}
    assert statuses.count(401) <= 22  # 10 per process, and a token back every 6 s while the guesses run


def test_operations_read_the_dead_letters_and_an_advisor_may_not(gateway, world, advisor):
    ops = Api.as_role(gateway.url, "operations")
    answer = ops.ok("GET", "/dead-letters", limit=5)
    assert answer["count"] >= len(answer["items"]) and len(answer["items"]) <= 5
    assert all("payload" not in letter for letter in answer["items"])
    assert advisor.get("/dead-letters").status_code == 403
    assert ops.get("/dead-letters", limit=0).status_code == 400


def test_a_board_lists_the_orders_still_in_the_workshop_and_the_jobs_not_finished(advisor, technician, world):
    from tests.e2e.console.conftest import checked_in_order

    made = checked_in_order(advisor, world["branch"], slot_hours=301)
    order_id = made["order"]["repair_order_id"]
    still_in = advisor.ok("GET", "/repair-orders", customer_id=made["customer"]["customer_id"], open="true")["items"]
    ended = advisor.ok("GET", "/repair-orders", customer_id=made["customer"]["customer_id"], open="false")["items"]
    assert [o["repair_order_id"] for o in still_in] == [order_id] and ended == []
    advisor.ok("POST", f"/repair-orders/{order_id}/cancellation", {"reason": "customer changed their mind"})
    assert advisor.ok("GET", "/repair-orders", customer_id=made["customer"]["customer_id"], open="true")["items"] == []
    assert advisor.get("/repair-orders", open="maybe").status_code == 400
    assert technician.get("/jobs", branch_id=world["branch"], open="sometimes").status_code == 400
    running = technician.ok("GET", "/jobs", branch_id=world["branch"], open="true", limit=200)["items"]
    assert all(job["finished_at"] is None for job in running)


def test_a_branch_keeps_its_currency_and_refuses_one_that_is_no_iso_code(admin):
    from tests.support import fixtures

    branch = fixtures.branch(f"CUR-{uuid.uuid4().hex[:4]}", region_id="CUR-R")
    assert admin.ok("POST", "/branches", {**branch, "currency": "CHF"}, status=201)["currency"] == "CHF"
    assert admin.ok("GET", f"/branches/{branch['branch_id']}")["currency"] == "CHF"
    bad = admin.post("/branches", {**branch, "currency": "francs"})
    assert bad.status_code == 400 and "currency" in bad.json()["error"]["fields"]


def test_the_customer_decides_line_by_line_by_number_and_plate_as_online_consent(gateway, advisor, technician, world):
    from tests.e2e.console.conftest import checked_in_order

    made = checked_in_order(advisor, world["branch"], slot_hours=303)
    order = made["order"]
    technician.ok("POST", f"/repair-orders/{order['repair_order_id']}/diagnosis", {"findings": [
        {"description": "front pads worn", "status": "red", "reading": "2 mm", "standard": "3 mm"}]})
    quote = advisor.ok("POST", f"/repair-orders/{order['repair_order_id']}/quotes", {"lines": [
        {"kind": "labour", "description": "replace front brake pads", "quantity": "1.5"},
        {"kind": "labour", "group": "recommended", "description": "replace wiper blades", "quantity": "0.3"}]})
    url = gateway.url + f"/api/v1/self-service/repair-orders/{order['number']}"
    page = requests.get(url, params={"plate": made["plate"]}).json()
    assert page["waiting"]["quote_id"] == quote["quote_id"] and "repair_order_id" not in page
    tax = advisor.ok("GET", f"/branches/{world['branch']}")["tax_rate_bp"]
    for line, quoted in zip(page["waiting"]["lines"], quote["lines"]):
        assert line["gross_cents"] == quoted["net_cents"] + (quoted["net_cents"] * tax + 5000) // 10000
    must, recommended = quote["lines"]
    body = {"quote_id": quote["quote_id"], "name": "Petra Phone",
            "decisions": [{"line_id": must["line_id"], "approved": True},
                          {"line_id": recommended["line_id"], "approved": False}]}
    assert requests.post(url + "/decisions", params={"plate": "WRONG 1"}, json=body).status_code == 404
    decided = requests.post(url + "/decisions", params={"plate": made["plate"]}, json=body)
    assert decided.status_code == 200, decided.text
    assert decided.json()["waiting"] is None
    assert [line["line_id"] for line in decided.json()["approved_lines"]] == [must["line_id"]]
    again = requests.post(url + "/decisions", params={"plate": made["plate"]}, json=body)
    assert again.status_code == 409  # that quote no longer waits
    ro = until(lambda: advisor.ok("GET", f"/repair-orders/{order['repair_order_id']}"),
               lambda r: r["status"] == "approved", what="approved")
    assert ro["findings"][0]["reading"] == "2 mm" and ro["findings"][0]["standard"] == "3 mm"
    stored = advisor.ok("GET", "/quotes", repair_order_id=order["repair_order_id"])["items"][0]
    assert (stored["consent_method"], stored["consent_by"]) == ("online", "Petra Phone") and stored["decided_at"]
