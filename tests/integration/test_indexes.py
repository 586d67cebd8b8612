"""Lookups at scale: every foreign key and every list filter that names another record has an
index, so a repair order's view or a customer's history reads its own rows, not every row.

A missing index passes every other test: the tables of a test run hold a few hundred rows, where a
scan costs nothing. With 200,000 repair orders the findings of one took 6.3 ms and a customer's
repair orders 12.3 ms (docs/benchmarks.md); here the plans are checked instead of the clock.
"""
import importlib

import pytest

from shared.storage import paging
from shared.storage.db import psycopg
from shared.storage.migrate import migrate
from tests.support.infra import ROOT

from shared.config import SERVICES
SAMPLE = "00000000-0000-4000-8000-000000000001"  # a uuid, and text for the text keys (part numbers)

# foreign keys of `schema` with no index (without a WHERE) whose leading columns are the key's
UNINDEXED_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text AS "table", array_agg(a.attname::text ORDER BY k.ord) AS columns
FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.contype = 'f' AND n.nspname = %s
  AND NOT EXISTS (
    SELECT 1 FROM pg_index i
    WHERE i.indrelid = c.conrelid AND i.indpred IS NULL
      AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
      AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
GROUP BY c.conrelid, c.conname
"""


def schema(service: str) -> str:
    return f"index_check_{service}"


@pytest.fixture(scope="module")
def migrated(run_env):
    """Every service's schema (and the gateway's) as its migrations build it, in schemas of this test."""
    for service in SERVICES:
        migrate(run_env["dsn"], schema(service), ROOT / "services" / service / "migrations")
    migrate(run_env["dsn"], schema("gateway"), ROOT / "gateway" / "migrations", include_shared=False)
    yield run_env["dsn"]
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        for service in (*SERVICES, "gateway"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema(service)}" CASCADE')


def listings():
    """(service, name, listing) for every paging.Listing a service's store declares."""
    found = []
    for service in SERVICES:
        store = importlib.import_module(f"services.{service}.store")
        found += [(service, name, value) for name, value in vars(store).items() if isinstance(value, paging.Listing)]
    return found


LOOKUPS = [(service, name, listing, column) for service, name, listing in listings() for column in listing.lookups]


class Recorder:
    """A unit of work that keeps the statement a store function would run, and runs nothing."""

    def all(self, sql, params=None):
        self.sql, self.params = sql, params
        return []


def index_scans(plan: dict) -> list[tuple[str, str]]:
    """(index, its condition) of every index scan in an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan["Index Name"], plan["Index Cond"])] if "Index Cond" in plan else []
    for child in plan.get("Plans", ()):
        found += index_scans(child)
    return found


LEADING_COLUMN = """
SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE c.relname = %s AND c.relnamespace = %s::regnamespace
"""


def test_every_store_declares_its_lists_and_their_lookups():
    # the test below checks what the stores declare: that must be every list with a record filter
    assert len(LOOKUPS) >= 15
    named = {(service, column) for service, _, _, column in LOOKUPS}
    assert {("workshop", "customer_id"), ("billing", "invoice_id"), ("crm", "customer_id"),
            ("parts", "part_number"), ("booking", "vehicle_id")} <= named


@pytest.mark.parametrize("service", (*SERVICES, "gateway"))
def test_every_foreign_key_has_an_index_that_leads_with_it(migrated, service):
    with psycopg.connect(migrated) as conn:
        missing = conn.execute(UNINDEXED_FOREIGN_KEYS, (schema(service),)).fetchall()
    assert missing == [], f"foreign keys without an index: {missing}"


@pytest.mark.parametrize("service,name,listing,column", LOOKUPS,
                         ids=[f"{s}.{n}.{c}" for s, n, _, c in LOOKUPS])
def test_a_list_filtered_by_a_record_is_served_by_an_index_on_it(migrated, service, name, listing, column):
    recorder = Recorder()
    listing.page(recorder, {column: SAMPLE})
    assert f"{column} = " in recorder.sql
    with psycopg.connect(migrated, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema(service)}", public')
        conn.execute("SET enable_seqscan = off")  # a few rows or none: only an index makes the plan differ
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + recorder.sql, recorder.params).fetchone()
        scans = index_scans(plan[0][0]["Plan"])
        # an index whose first column is another (a branch) scans all of itself to match the second
        leading = {index: conn.execute(LEADING_COLUMN, (index, schema(service))).fetchone()[0] for index, _ in scans}
    assert any(f"{column} = " in condition and leading[index] == column for index, condition in scans), (
        f"{service} {name}: no index that leads with {column} serves the list; the plan's index scans: {scans}")


# -- parts ledger: the service desk's outlook reads a part's rows through indexes -----------
OUTLOOK_QUERIES = ("outlook_shelves", "outlook_transits", "outlook_orders")


@pytest.mark.parametrize("name", OUTLOOK_QUERIES)
def test_the_desk_outlook_of_a_part_is_served_by_indexes(migrated, name):
    from services.parts import store

    recorder = Recorder()
    getattr(store, name)(recorder, "PN-00001")
    with psycopg.connect(migrated, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema("parts")}", public')
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + recorder.sql, recorder.params).fetchone()[0][0]["Plan"]
        scans = index_scans(plan)
    conditions = " ".join(condition for _, condition in scans)
    assert "part_number = " in conditions, f"{name}: no index on the part serves it: {scans}"
    if name == "outlook_transits":  # each transfer on the road: its own movements, not the whole ledger
        assert "transfer_id = " in conditions, f"{name}: the movements of a transfer are scanned: {scans}"
