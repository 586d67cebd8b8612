"""Safe retries and stable pages, against the real stack."""
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.support.gateway import Api


def test_twenty_parallel_posts_with_one_key_create_one_record(gateway, world):
    name = f"Idem {uuid.uuid4().hex[:8]}"
    body = {"branch_id": world["branch"], "name": name}
    token_api = Api.as_role(gateway.url, "advisor", branch_id=world["branch"])
    key = str(uuid.uuid4())

    def post(_):
        api = Api(gateway.url)
        api.session.headers.update(token_api.session.headers)
        return api.post("/customers", body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(post, range(20)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    assert len({r.json()["customer_id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    assert len(token_api.ok("GET", "/customers", q=name)["items"]) == 1

    other = token_api.post("/customers", {**body, "name": name + " else"}, headers={"Idempotency-Key": key})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]["fields"]


def test_a_refused_request_is_replayed_as_refused(gateway, world):
    api = Api.as_role(gateway.url, "advisor", branch_id=world["branch"])
    customer = api.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Refused Once"})
    body = {"customer_id": customer["customer_id"], "vin": "WVWZZZ1KZ8WI99999", "plate": "X 1", "model": "Up"}
    first = api.post("/vehicles", body, headers={"Idempotency-Key": f"refused-{customer['customer_id']}"})
    again = api.post("/vehicles", body, headers={"Idempotency-Key": f"refused-{customer['customer_id']}"})
    assert first.status_code == again.status_code == 400  # crm refuses the VIN (an I): nothing created
    assert "vin" in again.json()["error"]["fields"] and again.headers["Idempotent-Replayed"] == "true"
    assert api.ok("GET", "/vehicles", customer_id=customer["customer_id"])["items"] == []


def test_pages_stay_stable_while_rows_are_added(gateway, world, admin):
    prefix = f"Page {uuid.uuid4().hex[:6]}"
    created = [admin.ok("POST", "/customers", {"branch_id": world["branch"], "name": f"{prefix} {i}"})["customer_id"]
               for i in range(7)]
    seen, cursor, page_number = [], None, 0
    while True:
        params = {"q": prefix, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = admin.ok("GET", "/customers", **params)
        seen += [c["customer_id"] for c in page["items"]]
        page_number += 1
        if page_number == 1:  # rows arrive between pages
            created += [admin.ok("POST", "/customers", {"branch_id": world["branch"],
                                                        "name": f"{prefix} late {i}"})["customer_id"]
                        for i in range(2)]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert seen == created, "a row was skipped or out of order"


def test_a_forged_cursor_is_a_field_error(gateway, admin):
    response = admin.get("/customers", cursor="bm90LWEtY3Vyc29y")
    assert response.status_code == 400 and "cursor" in response.json()["error"]["fields"]
