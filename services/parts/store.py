"""The parts schema's SQL; nothing else touches these tables."""
from shared import paging

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


def reservation_outlook(tx, repair_order_id, branch_id, part_numbers) -> tuple[bool, dict]:
    """Whether the repair order holds reservations already, and part number -> what is free (on
    hand less reserved) at the branch for its parts (unstocked parts are absent): one query."""
    row = tx.one("SELECT EXISTS (SELECT 1 FROM reservations WHERE repair_order_id = %s) AS held,"
                 " (SELECT coalesce(jsonb_object_agg(part_number, on_hand - reserved), '{}') FROM stock"
                 "  WHERE branch_id = %s AND part_number = ANY(%s)) AS free",
                 (repair_order_id, branch_id, list(part_numbers)))
    return row["held"], row["free"]


def ensure_stock(tx, branch_id, part_number):
    tx.execute("INSERT INTO stock (branch_id, part_number) VALUES (%s, %s) ON CONFLICT DO NOTHING",
               (branch_id, part_number))


def stock(tx, branch_id, part_number, lock=False):
    return tx.one(STOCK + " WHERE s.branch_id = %s AND s.part_number = %s" + (" FOR UPDATE OF s" if lock else ""),
                  (branch_id, part_number))


def change(tx, branch_id, part_number, kind, quantity, on_hand=0, reserved=0, in_transit=0,
           repair_order_id=None, transfer_id=None, reference="", guard="true", reservation_id=None):
    """Apply one ledger movement to the stock row and record it; None when `guard` does not hold.

    One statement: the row stays locked from this update to the commit, and every round trip
    in between makes the next repair order wait for the same part. With `reservation_id`, the
    reservation the movement makes is written by the same statement.
    """
    holds = (" , held AS (INSERT INTO reservations (reservation_id, repair_order_id, branch_id, part_number,"
             " quantity, status) SELECT %(reservation_id)s, %(repair_order_id)s, %(branch_id)s, %(part_number)s,"
             " %(quantity)s, 'held' FROM moved)") if reservation_id else ""
    return tx.one(
        "WITH moved AS (UPDATE stock SET on_hand = on_hand + %(on_hand)s, reserved = reserved + %(reserved)s,"
        " in_transit = in_transit + %(in_transit)s WHERE branch_id = %(branch_id)s"
        f" AND part_number = %(part_number)s AND {guard}"
        " RETURNING on_hand, reserved, on_hand - reserved AS available, reorder_point, safety_stock, below_reorder),"
        " ledger AS (INSERT INTO movements (branch_id, part_number, kind, quantity, repair_order_id, transfer_id,"
        " reference) SELECT %(branch_id)s, %(part_number)s, %(kind)s, %(quantity)s, %(repair_order_id)s,"
        f" %(transfer_id)s, %(reference)s FROM moved){holds} SELECT * FROM moved",
        {"on_hand": on_hand, "reserved": reserved, "in_transit": in_transit, "branch_id": branch_id,
         "part_number": part_number, "quantity": quantity, "kind": kind, "repair_order_id": repair_order_id,
         "transfer_id": transfer_id, "reference": reference, "reservation_id": reservation_id})


def set_below(tx, branch_id, part_number, below):
    tx.execute("UPDATE stock SET below_reorder = %s WHERE branch_id = %s AND part_number = %s",
               (below, branch_id, part_number))


def set_thresholds(tx, branch_id, part_number, reorder_point, safety_stock):
    return tx.one("UPDATE stock SET reorder_point = %s, safety_stock = %s WHERE branch_id = %s"
                  " AND part_number = %s RETURNING on_hand - reserved AS available, reorder_point, safety_stock,"
                  " below_reorder", (reorder_point, safety_stock, branch_id, part_number))


def held_reservations(tx, repair_order_id):
    return tx.all("SELECT * FROM reservations WHERE repair_order_id = %s AND status = 'held' FOR UPDATE",
                  (repair_order_id,))


def close_reservation(tx, reservation_id, status):
    tx.execute("UPDATE reservations SET status = %s WHERE reservation_id = %s", (status, reservation_id))


def insert_transfer(tx, t):
    return tx.one("INSERT INTO transfers (transfer_id, branch_id, from_branch_id, part_number, quantity, status,"
                  " repair_order_id) VALUES (%(transfer_id)s, %(branch_id)s, %(from_branch_id)s, %(part_number)s,"
                  " %(quantity)s, 'requested', %(repair_order_id)s) RETURNING *", t)


def transfer(tx, transfer_id, lock=False):
    return tx.one("SELECT * FROM transfers WHERE transfer_id = %s" + (" FOR UPDATE" if lock else ""), (transfer_id,))


def update_transfer(tx, transfer_id, **changes):
    sets = ", ".join(f"{c} = %({c})s" for c in changes)
    return tx.one(f"UPDATE transfers SET {sets}, updated_at = clock_timestamp() WHERE transfer_id = %(id)s"
                  " RETURNING *", {**changes, "id": transfer_id})


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
    return TRANSFERS.page(tx, filters)
