"""`python -m bench.lookups [--orders N] [--without-lookup-indexes]`: one record's reads among many.

Fills a database of its own with N repair orders (200,000 by default), each with a finding, an
approved quote of two lines, a job and three timeline lines, spread over 20 branches and one
customer and vehicle each, then times what the workshop reads for one of them, through its own
store functions: the repair order's view (store.view, six reads in one trip, which every command
answers with) and a customer's repair orders (store.page_repair_orders filtered by the customer).
Median and p95 of 25 runs each, in milliseconds. `--without-lookup-indexes` drops the indexes of
the workshop's migration 002 first, to show what they buy. The database is removed afterwards.
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--without-lookup-indexes", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.orders, args.without_lookup_indexes)
    print(f"{figures['orders']} repair orders ({'with' if figures['lookup_indexes'] else 'without'} the lookup"
          f" indexes; filled in {figures['fill_s']} s):")
    for label, key in (("repair order's view", "repair_order_view"), ("a customer's repair orders",
                                                                      "customer_repair_orders")):
        print(f"  {label:28} median {figures[key]['median_ms']:8.3f} ms  p95 {figures[key]['p95_ms']:8.3f} ms")


if __name__ == "__main__":
    main()
