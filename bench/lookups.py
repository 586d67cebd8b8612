"""`python -m bench.lookups [--orders N] [--without-lookup-indexes]`: one record's reads among many.

Fills a database of its own with N repair orders (200,000 by default), each with a finding, an
approved quote of two lines, a job and three timeline lines, spread over 20 branches and one
customer and vehicle each, then times what the workshop reads for one of them, through its own
store functions: the repair order's view (store.view, six reads in one trip, which every command
answers with) and a customer's repair orders (store.page_repair_orders filtered by the customer).
Median and p95 of 25 runs each, in milliseconds. `--without-lookup-indexes` drops the indexes of
the workshop's migration 002 first, to show what they buy. The database is removed afterwards.

`python -m bench.lookups --parts [--movements N]`: the parts coordinator's and the service desk's views
among N ledger movements (200,000 by default; issue 24): 40 branches in 8 regions, 2,000 parts, a stock
row for every branch and part, 20,000 transfers (a fifth of them on the road) and 20,000 purchase orders
(a third open). Times, through parts' own store functions and rules (what each RPC does, without the
broker and HTTP), the group stock of a part (GET /stock/group), its donors (GET /donors), the desk's
outlook (GET /stock/outlook), its movements (GET /stock-movements?part_number=), its transfers
(GET /transfers?part_number=) and purchase orders (GET /purchase-orders, and ?part_number=).
With `--through-gateway` the same fill goes into a throwaway stack's database (bench.stack) and the
routes themselves are timed over HTTP as an admin: gateway, RPC, parts and PostgreSQL.
"""
import argparse
import os
import re
import statistics
import time
import uuid

from bench.stack import ROOT
from shared.storage.db import psycopg
from shared.storage.migrate import drop_database, ensure_database, migrate
from shared.storage.unit_of_work import Transaction

MIGRATIONS = ROOT / "services" / "workshop" / "migrations"
LOOKUP_INDEXES = MIGRATIONS / "002_lookup_indexes.sql"

FILL = """
INSERT INTO repair_orders (repair_order_id, number, branch_id, customer_id, vehicle_id, plate, plate_key,
    priority, fault_description, status, parts_status, approved_total_cents)
SELECT gen_random_uuid(), 'RO-' || g, 'B' || (g % 20), gen_random_uuid(), gen_random_uuid(), 'HH-' || g,
    'HH' || g, 'routine', 'noise when braking', 'delivered', 'reserved', 12000
FROM generate_series(1, {orders}) g;
INSERT INTO findings (repair_order_id, code, description, status, diagnosed_by)
SELECT repair_order_id, 'C1234', 'front pads at 2 mm', 'red', 'tina' FROM repair_orders;
INSERT INTO quotes (quote_id, repair_order_id, branch_id, status, total_cents)
SELECT gen_random_uuid(), repair_order_id, branch_id, 'approved', 12000 FROM repair_orders;
INSERT INTO quote_lines (line_id, quote_id, position, kind, "group", description, part_number, quantity,
    unit_price_cents, net_cents, pay_type, decision)
SELECT gen_random_uuid(), quote_id, p, CASE p WHEN 0 THEN 'labour' ELSE 'part' END, 'must', 'front pads',
    CASE p WHEN 0 THEN NULL ELSE 'BRK-PAD-F01' END, 1, 6000, 6000, 'customer', 'approved'
FROM quotes, generate_series(0, 1) p;
INSERT INTO jobs (job_id, repair_order_id, branch_id, technician_id, started_at, finished_at, clocked_seconds)
SELECT gen_random_uuid(), repair_order_id, branch_id, 'tech-' || (random() * 40)::int, now(), now(), 3600
FROM repair_orders;
INSERT INTO timeline (repair_order_id, status, note, public)
SELECT repair_order_id, s, '', p FROM repair_orders, unnest(ARRAY['checked_in', 'approved', 'delivered']) s,
    (VALUES (true)) v(p);
"""


def timed(fn, runs: int = 25) -> dict:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * (runs - 1))], 3)}


def run(orders: int = 200_000, without_lookup_indexes: bool = False, runs: int = 25) -> dict:
    from services.workshop import store

    base = os.environ.get("PITLANE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    dsn = f"{base}/pitlane_bench_lookups_{uuid.uuid4().hex[:8]}"
    ensure_database(dsn)
    try:
        migrate(dsn, "workshop", MIGRATIONS)
        with psycopg.connect(dsn, autocommit=True, options="-c search_path=workshop,public") as conn:
            conn.row_factory = psycopg.rows.dict_row
            if without_lookup_indexes:
                for name in re.findall(r"CREATE INDEX (\w+)", LOOKUP_INDEXES.read_text()):
                    conn.execute(f"DROP INDEX {name}")
            started = time.monotonic()
            conn.execute(FILL.format(orders=int(orders)))
            conn.execute("VACUUM ANALYZE")
            filled = time.monotonic() - started
            one = conn.execute("SELECT repair_order_id, customer_id FROM repair_orders OFFSET %s LIMIT 1",
                               (orders // 2,)).fetchone()
            tx = Transaction(conn, "workshop")
            view = timed(lambda: store.view(tx, one["repair_order_id"]), runs)
            listed = timed(lambda: store.page_repair_orders(tx, {"customer_id": one["customer_id"]}), runs)
            assert store.view(tx, one["repair_order_id"])["findings"], "the view found nothing: the fill is wrong"
    finally:
        drop_database(dsn)
    return {"orders": orders, "lookup_indexes": not without_lookup_indexes, "fill_s": round(filled, 1),
            "repair_order_view": view, "customer_repair_orders": listed}


# -- parts: the coordinator's and the desk's views among the ledger's movements (issue 24) ---------------------
PARTS_MIGRATIONS = ROOT / "services" / "parts" / "migrations"
PARTS_FILL = """
INSERT INTO branches (branch_id, region_id, name, timezone, business_hours, labour_rate_cents, tax_rate_bp)
SELECT 'PB' || b, 'PR' || (b % 8), 'Branch ' || b, 'Europe/Amsterdam', '{{}}', 9000, 2100
FROM generate_series(0, 39) b;
INSERT INTO parts (part_number, description, origin, price_cents, warranty_months)
SELECT 'PN-' || lpad(p::text, 5, '0'), 'bench part', 'oem', 1000, 12 FROM generate_series(0, 1999) p;
INSERT INTO stock (branch_id, part_number, on_hand, reserved, reorder_point, safety_stock)
SELECT 'PB' || b, 'PN-' || lpad(p::text, 5, '0'), 10 + (b * p) % 7, (b + p) % 3, 4, 2
FROM generate_series(0, 39) b, generate_series(0, 1999) p;
INSERT INTO transfers (transfer_id, branch_id, from_branch_id, part_number, quantity, received_quantity, status,
    created_at)
SELECT gen_random_uuid(), 'PB' || (t % 40), 'PB' || ((t * 7 + 1) % 40), 'PN-' || lpad((t % 2000)::text, 5, '0'), 3, 0,
    (ARRAY['dispatched', 'received', 'closed', 'requested', 'cancelled'])[1 + t % 5],
    now() - (t || ' minutes')::interval
FROM generate_series(1, 20000) t;
INSERT INTO purchase_orders (purchase_order_id, branch_id, part_number, quantity, received_quantity,
    cancelled_quantity, status, expected_at, created_at)
SELECT gen_random_uuid(), 'PB' || (o % 40), 'PN-' || lpad(((o * 3) % 2000)::text, 5, '0'), 4,
    CASE o % 3 WHEN 1 THEN 4 ELSE 0 END, CASE o % 3 WHEN 2 THEN 4 ELSE 0 END,
    (ARRAY['open', 'received', 'cancelled'])[1 + o % 3], now() + interval '2 days', now() - (o || ' minutes')::interval
FROM generate_series(1, 20000) o;
-- the ledger: the transfers' movements, then the rest spread over every branch and part
INSERT INTO movements (branch_id, part_number, kind, quantity, transfer_id, created_at)
SELECT branch_id, part_number, 'in_transit', quantity, transfer_id, created_at FROM transfers
WHERE status IN ('dispatched', 'received', 'closed');
INSERT INTO movements (branch_id, part_number, kind, quantity, purchase_order_id, created_at)
SELECT branch_id, part_number, 'purchase_ordered', quantity, purchase_order_id, created_at FROM purchase_orders;
INSERT INTO movements (branch_id, part_number, kind, quantity, created_at)
SELECT 'PB' || (m % 40), 'PN-' || lpad(((m * 13) % 2000)::text, 5, '0'),
    (ARRAY['receipt', 'reservation', 'release', 'issue_to_job', 'adjustment', 'count'])[1 + m % 6], 1 + m % 3,
    now() - (m || ' seconds')::interval
FROM generate_series(1, {rest}) m;
"""


def _fill_parts(conn, movements):
    """The parts schema filled to `movements` ledger lines (12,000 of a transfer's and 20,000 of purchase
    orders' among them): seconds it took, the count, and a part with a transfer on the road."""
    conn.row_factory = psycopg.rows.dict_row
    started = time.monotonic()
    conn.execute(PARTS_FILL.format(rest=max(int(movements) - 32_000, 1)))
    conn.execute("VACUUM ANALYZE")
    filled = time.monotonic() - started
    total = conn.execute("SELECT count(*) AS n FROM movements").fetchone()["n"]
    part = conn.execute("SELECT part_number FROM transfers WHERE status = 'dispatched'"
                        " OFFSET 500 LIMIT 1").fetchone()["part_number"]
    return filled, total, part


def run_parts(movements: int = 200_000, runs: int = 25) -> dict:
    from datetime import datetime, timezone

    from services.parts import donors, ledger, store

    base = os.environ.get("PITLANE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    dsn = f"{base}/pitlane_bench_parts_{uuid.uuid4().hex[:8]}"
    ensure_database(dsn)
    try:
        migrate(dsn, "parts", PARTS_MIGRATIONS)
        with psycopg.connect(dsn, autocommit=True, options="-c search_path=parts,public") as conn:
            filled, total, part = _fill_parts(conn, movements)
            tx = Transaction(conn, "parts")

            def group():
                return [donors.shelf(r) for r in store.group_stock(tx, part)]

            def ranked():
                return donors.rank("PB3", "PR3", 5, store.group_stock(tx, part), donors.LeadTimes(store.lead_times(tx)))

            def outlook():
                return ledger.outlook(part, 5, store.outlook_shelves(tx, part), store.outlook_transits(tx, part),
                                      store.outlook_orders(tx, part), donors.LeadTimes(store.lead_times(tx)),
                                      datetime.now(timezone.utc))

            views = {
                "GET /stock/group": group,
                "GET /donors": ranked,
                "GET /stock/outlook": outlook,
                "GET /stock-movements?part_number=": lambda: store.page_movements(tx, {"part_number": part}),
                "GET /transfers?part_number=": lambda: store.page_transfers(tx, {"part_number": part}),
                "GET /purchase-orders": lambda: store.page_purchase_orders(tx, {}),
                "GET /purchase-orders?part_number=": lambda: store.page_purchase_orders(tx, {"part_number": part}),
            }
            assert len(group()) == 40 and outlook()["branches"], "the fill is wrong"
            assert any(b["in_transit"] for b in outlook()["branches"]), "no transfer on the road in the fill"
            figures = {name: timed(fn, runs) for name, fn in views.items()}
    finally:
        drop_database(dsn)
    return {"movements": total, "fill_s": round(filled, 1), "part_number": part, "views": figures}


def run_parts_through_gateway(movements: int = 200_000, runs: int = 25) -> dict:
    import requests

    from bench.stack import BenchStack
    from gateway.auth import issue_token
    from tests.support.gateway import free_port

    with BenchStack(gateway_port=free_port()) as stack:
        with psycopg.connect(stack.dsn, autocommit=True, options="-c search_path=parts,public") as conn:
            filled, total, part = _fill_parts(conn, movements)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {issue_token('admin', 'bench-parts')}"
        api = stack.url + "/api/v1"
        views = {
            "GET /stock/group": ("/stock/group", {"part_number": part}),
            "GET /donors": ("/donors", {"branch_id": "PB3", "part_number": part, "quantity": 5}),
            "GET /stock/outlook": ("/stock/outlook", {"part_number": part, "quantity": 5}),
            "GET /stock-movements?part_number=": ("/stock-movements", {"part_number": part}),
            "GET /transfers?part_number=": ("/transfers", {"part_number": part}),
            "GET /purchase-orders": ("/purchase-orders", {}),
            "GET /purchase-orders?part_number=": ("/purchase-orders", {"part_number": part}),
        }

        def get(path, params):
            response = session.get(api + path, params=params, timeout=30)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])

        for path, params in views.values():  # warm: connections, the gateway's caches
            get(path, params)
        figures = {name: timed(lambda p=path, q=params: get(p, q), runs) for name, (path, params) in views.items()}
    return {"movements": total, "fill_s": round(filled, 1), "part_number": part, "views": figures}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--without-lookup-indexes", action="store_true")
    parser.add_argument("--parts", action="store_true", help="the parts views among ledger movements instead")
    parser.add_argument("--movements", type=int, default=200_000)
    parser.add_argument("--through-gateway", action="store_true", help="with --parts: over HTTP, a whole stack")
    args = parser.parse_args(argv)
    if args.parts:
        figures = (run_parts_through_gateway if args.through_gateway else run_parts)(args.movements)
        print(f"{figures['movements']} ledger movements (filled in {figures['fill_s']} s),"
              f" part {figures['part_number']}:")
        for label, timing in figures["views"].items():
            print(f"  {label:34} median {timing['median_ms']:8.3f} ms  p95 {timing['p95_ms']:8.3f} ms")
        return
    figures = run(args.orders, args.without_lookup_indexes)
    print(f"{figures['orders']} repair orders ({'with' if figures['lookup_indexes'] else 'without'} the lookup"
          f" indexes; filled in {figures['fill_s']} s):")
    for label, key in (("repair order's view", "repair_order_view"), ("a customer's repair orders",
                                                                      "customer_repair_orders")):
        print(f"  {label:28} median {figures[key]['median_ms']:8.3f} ms  p95 {figures[key]['p95_ms']:8.3f} ms")


if __name__ == "__main__":
    main()
