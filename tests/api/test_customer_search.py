"""Finding a customer by what the advisor has at hand: `GET /customers?q=` by name, email, phone,
plate or VIN, `GET /vehicles?q=` by plate or VIN, parts of each, within the caller's branches,
served by the trigram indexes of services/crm/migrations/003_search.sql."""
import random
import uuid
from pathlib import Path

import pytest

from services.crm import domain, store
from shared.storage.db import psycopg
from tests.support.journey import vin

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "crm" / "migrations"


def ids(page, key="customer_id"):
    return {item[key] for item in page["items"]}


@pytest.fixture(scope="module")
def registered(advisor, world):
    """Two customers of the advisor's branch with a car each, told apart by every key."""
    made = []
    for _ in range(2):
        tag = uuid.uuid4().hex[:6].upper()
        number = random.randrange(10**6, 10**7)
        customer = advisor.ok("POST", "/customers", {
            "branch_id": world["branch"], "name": f"Search Probe {tag}", "email": f"probe.{tag.lower()}@example.com",
            "phone": f"+49 40 {number}"}, status=201)
        vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                                   "plate": f"HH-{tag[:3]} {tag[3:]}", "model": "Up"}, status=201)
        made.append({"tag": tag, "number": number, "customer": customer, "vehicle": vehicle})
    return made


def test_a_customer_is_found_by_each_key_and_a_part_of_it(advisor, registered):
    for mine, other in (registered, registered[::-1]):
        tag, number, vehicle = mine["tag"], str(mine["number"]), mine["vehicle"]
        for q in (f"Search Probe {tag}", f"probe {tag.lower()}",  # the name, a part in other capitals
                  f"probe.{tag.lower()}@example.com", f"{tag.lower()}@exa",  # the email, a part of it
                  f"0049-40-{number[:3]} {number[3:]}", f"040 {number}", number[1:6],  # the phone, written otherwise
                  vehicle["plate"], f"hh {tag[:3].lower()}-{tag[3:].lower()}", f"{tag[1:3]} {tag[3:5]}",  # the plate
                  vehicle["vin"].lower(), vehicle["vin"][4:12]):  # the VIN, a part of it
            found = ids(advisor.ok("GET", "/customers", q=q, limit=200))
            assert mine["customer"]["customer_id"] in found, q
            assert other["customer"]["customer_id"] not in found, q


def test_a_vehicle_is_found_by_its_plate_or_vin_and_a_part_of_either(advisor, registered):
    for mine, other in (registered, registered[::-1]):
        tag, vehicle = mine["tag"], mine["vehicle"]
        for q in (vehicle["plate"], f"hh{tag.lower()}", f"{tag[1:3]}-{tag[3:5]}", vehicle["vin"].lower(),
                  vehicle["vin"][-6:]):
            found = ids(advisor.ok("GET", "/vehicles", q=q, limit=200), "vehicle_id")
            assert mine["vehicle"]["vehicle_id"] in found, q
            assert other["vehicle"]["vehicle_id"] not in found, q
    assert advisor.ok("GET", "/vehicles", q=registered[0]["customer"]["email"])["items"] == []  # no plate in it


def test_the_plate_in_the_readme_is_found_by_a_part_written_without_its_dash(advisor, world):
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Plate Reader"}, status=201)
    car = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                           "plate": "HH-AE 42", "model": "Golf"}, status=201)
    assert customer["customer_id"] in ids(advisor.ok("GET", "/customers", q="AE42", limit=200))
    assert car["vehicle_id"] in ids(advisor.ok("GET", "/vehicles", q="ae 42", limit=200), "vehicle_id")


def test_a_search_finds_only_customers_and_vehicles_of_the_callers_branches(advisor, admin, world, registered):
    tag = uuid.uuid4().hex[:6].upper()
    far = admin.ok("POST", "/customers", {"branch_id": world["far_branch"], "name": f"Far Probe {tag}",
                                          "phone": "+49 89 5550123"}, status=201)
    car = admin.ok("POST", "/vehicles", {"customer_id": far["customer_id"], "vin": vin(), "plate": f"M-{tag}",
                                         "model": "Up"}, status=201)
    for q in (f"Far Probe {tag}", tag, car["vin"]):
        assert far["customer_id"] in ids(admin.ok("GET", "/customers", q=q))  # admin sees every branch
        mine = advisor.ok("GET", "/customers", q=q, limit=200)["items"]
        assert far["customer_id"] not in {c["customer_id"] for c in mine}
        assert {c["branch_id"] for c in mine} <= {world["branch"]}
    assert advisor.ok("GET", "/vehicles", q=tag)["items"] == []
    assert car["vehicle_id"] in ids(admin.ok("GET", "/vehicles", q=tag), "vehicle_id")
    assert advisor.get("/customers", q=tag, branch_id=world["far_branch"]).status_code == 403


@pytest.mark.parametrize("path", ["/customers", "/vehicles"])
@pytest.mark.parametrize("q", ["", "ab", "  x  ", "y" * 81])
def test_a_search_of_fewer_than_three_characters_or_over_eighty_is_400(advisor, path, q):
    response = advisor.get(path, q=q)
    assert response.status_code == 400, response.text
    assert list(response.json()["error"]["fields"]) == ["q"]


def test_like_wildcards_in_a_search_are_looked_for_as_written(advisor, registered):
    for q in ("%%%", "___", "Search%Probe", "Search_Probe"):
        assert advisor.ok("GET", "/customers", q=q, limit=200)["items"] == [], q


class Recorder:
    """A unit of work that keeps the statement a store function would run, and runs nothing."""

    def all(self, sql, params=None):
        self.sql, self.params = sql, params
        return []


def index_scans(plan: dict) -> set[str]:
    found = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", ()):
        found |= index_scans(child)
    return found


def plan_of(run_env, page, filters, search) -> set[str]:
    recorder = Recorder()
    page(recorder, filters, search)
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        conn.execute("SET search_path TO crm, public")
        conn.execute("SET enable_seqscan = off")  # a test run's few rows: only an index makes the plan differ
        # and no plain index scan: with a test run's statistics the page's ordered index is cheaper, so
        # the plan shows whether the search can use its own indexes, whatever earlier tests wrote
        conn.execute("SET enable_indexscan = off")
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + recorder.sql, recorder.params).fetchone()
    return index_scans(plan[0][0]["Plan"])


def test_a_plate_search_is_served_by_the_trigram_indexes(run_env, registered, world):
    # the run's own tag: as selective as a real plate search (earlier tests registered many "HH-AE 42"s)
    search = domain.Search.of(f"{registered[0]['tag'][:3]} {registered[0]['tag'][3:]}")
    scoped = {"branch_ids": [world["branch"]], "limit": 50}
    assert {"vehicles_plate_search", "vehicles_vin_search"} <= plan_of(run_env, store.vehicles_page, scoped, search)
    assert {"vehicles_plate_search", "vehicles_vin_search", "customers_name_search", "customers_email_search"} <= (
        plan_of(run_env, store.customers_page, scoped, search))
    phone = domain.Search.of(f"040 {registered[0]['number']}")
    assert "customers_phone_search" in plan_of(run_env, store.customers_page, scoped, phone)


PHONES = ["+49 40 123-4567", "0049 (40) 1234567", "040/123.4567", "000", None]
PLATES = ["hh-ae 42", "B PL-1", "m\tab  12", "lö-x 1"]


def test_the_migration_gives_rows_written_before_it_the_keys_the_domain_gives(run_env):
    """Customers and vehicles stored before 003_search.sql get the keys crm's domain would write."""
    schema = f"search_backfill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        try:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'SET search_path TO "{schema}", public')
            for name in ("001_crm.sql", "002_lookup_indexes.sql"):
                conn.execute((MIGRATIONS / name).read_text())
            owner = uuid.uuid4()
            conn.execute("INSERT INTO customers (customer_id, branch_id, name) VALUES (%s, 'N1', 'Owner')", (owner,))
            for phone in PHONES:
                conn.execute("INSERT INTO customers (customer_id, branch_id, name, phone) VALUES (%s, 'N1', 'x', %s)",
                             (uuid.uuid4(), phone))
            for plate in PLATES:
                conn.execute("INSERT INTO vehicles (vehicle_id, customer_id, branch_id, vin, plate, model)"
                             " VALUES (%s, %s, 'N1', %s, %s, 'Up')", (uuid.uuid4(), owner, vin(), plate))
            conn.execute((MIGRATIONS / "003_search.sql").read_text())
            phones = conn.execute("SELECT phone, phone_key FROM customers WHERE name = 'x'").fetchall()
            plates = conn.execute("SELECT plate, plate_key FROM vehicles").fetchall()
        finally:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert sorted(phones, key=str) == sorted(((p, domain.normalise_phone(p)) for p in PHONES), key=str)
    assert sorted(plates) == sorted((p, domain.normalise_plate(p)) for p in PLATES)
