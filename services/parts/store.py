"""The parts schema's SQL; nothing else touches these tables."""
from psycopg.types.json import Jsonb

from shared.storage import paging

STOCK = ("SELECT s.*, s.on_hand - s.reserved AS available, b.region_id,"
         " s.branch_id || '/' || s.part_number AS stock_key FROM stock s"
         " LEFT JOIN branches b USING (branch_id)")


def upsert_part(tx, p):
    return tx.one(
        "INSERT INTO parts (part_number, description, origin, price_cents, warranty_months, warranty_km)"
        " VALUES (%(part_number)s, %(description)s, %(origin)s, %(price_cents)s, %(warranty_months)s,"
        " %(warranty_km)s) ON CONFLICT (part_number) DO UPDATE SET description = EXCLUDED.description,"
        " origin = EXCLUDED.origin, price_cents = EXCLUDED.price_cents,"
        " warranty_months = EXCLUDED.warranty_months, warranty_km = EXCLUDED.warranty_km,"
        " updated_at = clock_timestamp() RETURNING *", p)


def part(tx, part_number):
    return tx.one("SELECT * FROM parts WHERE part_number = %s", (part_number,))


def reservation_outlook(tx, repair_order_id, branch_id, part_numbers) -> dict:
    """For an approved repair order, in one query without locks: whether it holds reservations
    already (`held`), whether it waits in an open shortage (`waiting`), and part number -> what is
    free (on hand less reserved) at the branch for its parts (`free`; unstocked parts are absent)."""
    return tx.one("SELECT EXISTS (SELECT 1 FROM reservations WHERE repair_order_id = %(ro)s) AS held,"
                  " EXISTS (SELECT 1 FROM shortages WHERE repair_order_id = %(ro)s AND status = 'open') AS waiting,"
                  " (SELECT coalesce(jsonb_object_agg(part_number, on_hand - reserved), '{}') FROM stock"
                  "  WHERE branch_id = %(branch)s AND part_number = ANY(%(parts)s)) AS free",
                  {"ro": repair_order_id, "branch": branch_id, "parts": list(part_numbers)})


def lock_shelf(tx, branch_id):
    """Serve one branch's shortages one transaction at a time, to its commit.

    Every command that gives stock to waiting repair orders, or makes one wait, takes this lock
    first: stock arriving while an order is found short, or two parts an order waits for arriving
    at once, then never leave it waiting with its parts on the shelf, and a served order is never
    served twice. Taken before any stock row, so that its holders lock rows in one order.
    """
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('parts.shelf'), hashtext(%s))", (branch_id,))


def lock_stock(tx, branch_id, part_numbers, create=()) -> dict:
    """Part number -> what is free at the branch, its stock rows locked to the commit in part
    order (the order every reservation takes them in: no deadlock); rows for `create` first made."""
    if create:
        tx.execute("INSERT INTO stock (branch_id, part_number) SELECT %s, unnest(%s::text[])"
                   " ON CONFLICT DO NOTHING", (branch_id, sorted(create)))
    rows = tx.all("SELECT part_number, on_hand - reserved AS available FROM stock WHERE branch_id = %s"
                  " AND part_number = ANY(%s) ORDER BY part_number FOR UPDATE", (branch_id, sorted(part_numbers)))
    return {r["part_number"]: r["available"] for r in rows}


def ensure_stock(tx, branch_id, part_number):
    tx.execute("INSERT INTO stock (branch_id, part_number) VALUES (%s, %s) ON CONFLICT DO NOTHING",
               (branch_id, part_number))


def stock(tx, branch_id, part_number, lock=False):
    return tx.one(STOCK + " WHERE s.branch_id = %s AND s.part_number = %s" + (" FOR UPDATE OF s" if lock else ""),
                  (branch_id, part_number))


def apply(tx, m, reservation_id=None):
    """Apply one ledger movement (domain.Movement) to its stock row and record it, in one statement;
    None when it would leave less than nothing available.

    The guard is where the last unit is taken: a conditional UPDATE, atomic in the database, so two
    repair orders (or a reservation and a dispatch) that both read one free unit cannot both have
    it; the second finds the row changed, the guard false, and gets None. It must stay in SQL.

    The row stays locked from this update to the commit, and every round trip in between makes
    the next repair order wait for the same part. With `reservation_id`, the reservation the
    movement makes is written by the same statement. The row returned carries the branch's region
    for the threshold alerts.
    """
    holds = (" , held AS (INSERT INTO reservations (reservation_id, repair_order_id, branch_id, part_number,"
             " quantity, status) SELECT %(reservation_id)s, %(repair_order_id)s, %(branch_id)s, %(part_number)s,"
             " %(quantity)s, 'held' FROM moved)") if reservation_id else ""
    return tx.one(
        "WITH moved AS (UPDATE stock SET on_hand = on_hand + %(on_hand)s, reserved = reserved + %(reserved)s,"
        " in_transit = in_transit + %(in_transit)s WHERE branch_id = %(branch_id)s"
        " AND part_number = %(part_number)s AND on_hand + %(on_hand)s - reserved - %(reserved)s >= 0"
        " RETURNING on_hand, reserved, in_transit, on_hand - reserved AS available, reorder_point, safety_stock,"
        " below_reorder),"
        " ledger AS (INSERT INTO movements (branch_id, part_number, kind, quantity, repair_order_id, transfer_id,"
        " reference) SELECT %(branch_id)s, %(part_number)s, %(kind)s, %(quantity)s, %(repair_order_id)s,"
        f" %(transfer_id)s, %(reference)s FROM moved){holds} SELECT moved.*,"
        " (SELECT region_id FROM branches WHERE branch_id = %(branch_id)s) AS region_id FROM moved",
        {"on_hand": m.on_hand, "reserved": m.reserved, "in_transit": m.in_transit, "branch_id": m.branch_id,
         "part_number": m.part_number, "quantity": m.quantity, "kind": m.kind, "repair_order_id": m.repair_order_id,
         "transfer_id": m.transfer_id, "reference": m.reference, "reservation_id": reservation_id})


def set_below(tx, branch_id, part_number, below):
    tx.execute("UPDATE stock SET below_reorder = %s WHERE branch_id = %s AND part_number = %s",
               (below, branch_id, part_number))


def set_thresholds(tx, branch_id, part_number, reorder_point, safety_stock):
    return tx.one("UPDATE stock s SET reorder_point = %s, safety_stock = %s WHERE branch_id = %s"
                  " AND part_number = %s RETURNING on_hand, reserved, on_hand - reserved AS available, reorder_point,"
                  " safety_stock, below_reorder, (SELECT region_id FROM branches b WHERE b.branch_id = s.branch_id)"
                  " AS region_id", (reorder_point, safety_stock, branch_id, part_number))


def held_reservations(tx, repair_order_id):
    # in part order, the order every reservation takes the stock rows in
    return tx.all("SELECT * FROM reservations WHERE repair_order_id = %s AND status = 'held'"
                  " ORDER BY part_number FOR UPDATE", (repair_order_id,))


def close_reservation(tx, reservation_id, status):
    tx.execute("UPDATE reservations SET status = %s WHERE reservation_id = %s", (status, reservation_id))


# -- repair orders and their shortages ---------------------------------------------------------------------
def save_shortage(tx, s):
    """An open shortage (domain.Shortage); a new approval of an order that waits replaces its wants."""
    tx.execute("INSERT INTO shortages (repair_order_id, branch_id, wanted, priority, approved_at, status)"
               " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (repair_order_id) DO UPDATE SET"
               " branch_id = EXCLUDED.branch_id, wanted = EXCLUDED.wanted, priority = EXCLUDED.priority,"
               " approved_at = EXCLUDED.approved_at, status = EXCLUDED.status, updated_at = clock_timestamp()",
               (s.repair_order_id, s.branch_id, Jsonb(s.wanted), s.priority, s.approved_at, s.status))


def open_shortage(tx, repair_order_id):
    return tx.one("SELECT * FROM shortages WHERE repair_order_id = %s AND status = 'open'", (repair_order_id,))


def open_shortages(tx, branch_id, part_numbers):
    """The branch's open shortages that want any of these parts."""
    return tx.all("SELECT * FROM shortages WHERE branch_id = %s AND status = 'open' AND wanted ?| %s",
                  (branch_id, sorted(part_numbers)))


def end_shortages(tx, repair_order_ids, status):
    if repair_order_ids:
        tx.execute("UPDATE shortages SET status = %s, updated_at = clock_timestamp()"
                   " WHERE repair_order_id = ANY(%s) AND status = 'open'", (status, list(repair_order_ids)))


# -- transfers -----------------------------------------------------------------------------------------------
def insert_transfer(tx, t):
    return tx.one("INSERT INTO transfers (transfer_id, branch_id, from_branch_id, part_number, quantity, status,"
                  " repair_order_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *",
                  (t.transfer_id, t.branch_id, t.from_branch_id, t.part_number, t.quantity, t.status,
                   t.repair_order_id))


def transfer(tx, transfer_id, lock=False):
    return tx.one("SELECT * FROM transfers WHERE transfer_id = %s" + (" FOR UPDATE" if lock else ""), (transfer_id,))


def save_transfer(tx, t):
    return tx.one("UPDATE transfers SET status = %s, received_quantity = %s, tracking_reference = %s,"
                  " updated_at = clock_timestamp() WHERE transfer_id = %s RETURNING *",
                  (t.status, t.received_quantity, t.tracking_reference, t.transfer_id))


def below_reorder_counts(tx):
    return tx.all("SELECT s.branch_id, b.region_id, count(*) AS count FROM stock s LEFT JOIN branches b"
                  " USING (branch_id) WHERE s.reorder_point IS NOT NULL AND s.on_hand - s.reserved < s.reorder_point"
                  " GROUP BY s.branch_id, b.region_id ORDER BY 1")


def open_transfer_counts(tx, statuses):
    return tx.all("SELECT f.region_id AS from_region, t2.region_id AS to_region, t.status, count(*) AS count"
                  " FROM transfers t LEFT JOIN branches f ON f.branch_id = t.from_branch_id"
                  " LEFT JOIN branches t2 ON t2.branch_id = t.branch_id WHERE t.status = ANY(%s)"
                  " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (list(statuses),))


def page_parts(tx, filters):
    sql, params = " WHERE true", []
    if filters.get("q"):
        sql += " AND (part_number ILIKE %s OR description ILIKE %s)"
        params += [f"%{filters['q']}%"] * 2
    return paging.page(tx, "SELECT * FROM parts" + sql, params, "part_number", filters.get("cursor"),
                       filters.get("limit", 50))


STOCK_LIST = paging.Listing("SELECT * FROM (" + STOCK + ") s", "stock_key", lookups=("part_number",))
RESERVATIONS = paging.Listing("SELECT * FROM reservations", "reservation_id", lookups=("repair_order_id",))
MOVEMENTS = paging.Listing("SELECT * FROM (SELECT *, lpad(id::text, 20, '0') AS movement_key FROM movements) m",
                          "movement_key", lookups=("part_number",))
TRANSFERS = paging.Listing("SELECT * FROM transfers", "transfer_id", lookups=("part_number",))


def page_stock(tx, filters):
    below = " AND reorder_point IS NOT NULL AND available < reorder_point" if filters.get("below_reorder") else ""
    return STOCK_LIST.page(tx, filters, below)


def page_reservations(tx, filters):
    return RESERVATIONS.page(tx, filters)


def page_movements(tx, filters):
    return MOVEMENTS.page(tx, filters)


def page_transfers(tx, filters):
    """A branch's transfers are those it sends and those it receives: `branch_id` and the scope's
    `branch_ids` match either side."""
    either, params = "", []
    if filters.get("branch_id") is not None:
        either += " AND (branch_id = %s OR from_branch_id = %s)"
        params += [filters["branch_id"]] * 2
    if filters.get("branch_ids") is not None:
        either += " AND (branch_id = ANY(%s) OR from_branch_id = ANY(%s))"
        params += [list(filters["branch_ids"])] * 2
    return TRANSFERS.page(tx, {**filters, "branch_id": None, "branch_ids": None}, either, params)


# -- donors across the group ------------------------------------------------------------------------------------
def group_stock(tx, part_number):
    """Every branch's stock of the part: figures only, no customer or order."""
    return tx.all("SELECT s.branch_id, b.region_id, s.on_hand - s.reserved AS available, s.safety_stock"
                  " FROM stock s LEFT JOIN branches b USING (branch_id) WHERE s.part_number = %s"
                  " ORDER BY s.branch_id", (part_number,))


def lead_times(tx):
    return tx.all("SELECT kind, from_id, to_id, hours, updated_at FROM lead_times ORDER BY kind, from_id, to_id")


def set_lead_time(tx, e):
    return tx.one("INSERT INTO lead_times (kind, from_id, to_id, hours) VALUES (%(kind)s, %(from_id)s, %(to_id)s,"
                  " %(hours)s) ON CONFLICT (kind, from_id, to_id) DO UPDATE SET hours = EXCLUDED.hours,"
                  " updated_at = clock_timestamp() RETURNING kind, from_id, to_id, hours, updated_at", e)
