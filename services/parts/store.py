"""The parts schema's SQL; nothing else touches these tables."""
from psycopg.types.json import Jsonb

from services.parts.site_store import REMOTE_SHELF  # other sites' shelves join the group stock
from shared.storage import paging

STOCK = ("SELECT s.*, s.on_hand - s.reserved AS available, b.region_id,"
         " s.branch_id || '/' || s.part_number AS stock_key FROM stock s"
         " LEFT JOIN branches b USING (branch_id)")


def upsert_part(tx, p):
    return tx.one(
        "INSERT INTO parts (part_number, description, origin, price_cents, warranty_months, warranty_km,"
        " wear_part, warranty_source)"
        " VALUES (%(part_number)s, %(description)s, %(origin)s, %(price_cents)s, %(warranty_months)s,"
        " %(warranty_km)s, %(wear_part)s, %(warranty_source)s) ON CONFLICT (part_number) DO UPDATE SET"
        " description = EXCLUDED.description, origin = EXCLUDED.origin, price_cents = EXCLUDED.price_cents,"
        " warranty_months = EXCLUDED.warranty_months, warranty_km = EXCLUDED.warranty_km,"
        " wear_part = EXCLUDED.wear_part, warranty_source = EXCLUDED.warranty_source,"
        " updated_at = clock_timestamp() RETURNING *", p)


def part(tx, part_number):
    return tx.one("SELECT * FROM parts WHERE part_number = %s", (part_number,))


# -- catalogue: substitutes and fitment ---------------------------------------------------------
SUBSTITUTE = ("SELECT p.part_number, s.part_number AS substitute_for, p.description, p.origin, p.wear_part,"
              " p.warranty_months, p.warranty_km, p.price_cents, s.differences, s.created_at")


def substitutions_approved(tx, pairs) -> set:
    """Which of these (part, substitute) pairs are approved already."""
    rows = tx.all("SELECT part_number, substitute_part_number FROM part_substitutes"
                  " WHERE (part_number, substitute_part_number) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                  ([a for a, _ in pairs], [b for _, b in pairs]))
    return {(r["part_number"], r["substitute_part_number"]) for r in rows}


def add_substitutions(tx, substitutions) -> int:
    """Insert the pairs (catalogue.Substitution); the number written. The key refuses a pair that another
    approval wrote since it was read: atomic in the database, so two coordinators cannot both add it."""
    rows = tx.all("INSERT INTO part_substitutes (part_number, substitute_part_number, differences)"
                  " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING"
                  " RETURNING part_number",
                  ([s.part_number for s in substitutions], [s.substitute_part_number for s in substitutions],
                   [s.differences for s in substitutions]))
    return len(rows)


def substitutes(tx, part_number, branch_id=None):
    """A part's approved substitutes with their terms, price and differences; with a branch, what is
    available of each there (0 for a part the branch does not stock)."""
    if branch_id is None:
        return tx.all(SUBSTITUTE + ", NULL::text AS branch_id, NULL::integer AS available FROM part_substitutes s"
                      " JOIN parts p ON p.part_number = s.substitute_part_number WHERE s.part_number = %s"
                      " ORDER BY p.part_number", (part_number,))
    return tx.all(SUBSTITUTE + ", %s AS branch_id, coalesce(st.on_hand - st.reserved, 0) AS available"
                  " FROM part_substitutes s JOIN parts p ON p.part_number = s.substitute_part_number"
                  " LEFT JOIN stock st ON st.branch_id = %s AND st.part_number = p.part_number"
                  " WHERE s.part_number = %s ORDER BY p.part_number", (branch_id, branch_id, part_number))


def substitutes_at(tx, branch_id, part_numbers) -> dict:
    """Part number -> its approved substitutes, each with what the branch has available of it, for a
    repair order short of those parts. Read without locks: it is a proposal for the advisor, not a
    reservation."""
    rows = tx.all("SELECT s.part_number AS wanted, s.substitute_part_number AS part_number, s.differences,"
                  " coalesce(st.on_hand - st.reserved, 0) AS available FROM part_substitutes s"
                  " LEFT JOIN stock st ON st.branch_id = %s AND st.part_number = s.substitute_part_number"
                  " WHERE s.part_number = ANY(%s)", (branch_id, sorted(part_numbers)))
    found = {}
    for r in rows:
        found.setdefault(r.pop("wanted"), []).append(r)
    return found


def add_fitment(tx, f):
    """The fitment (catalogue.Fitment); None when the part has it already (the unique index decides)."""
    return tx.one("INSERT INTO part_fitments (part_number, make, model, year_from, year_to)"
                  " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING *",
                  (f.part_number, f.make, f.model, f.year_from, f.year_to))


def fitments(tx, part_number):
    return tx.all("SELECT * FROM part_fitments WHERE part_number = %s ORDER BY lower(make), lower(model), year_from,"
                  " id", (part_number,))


def fits_filter(sql, params, filters):
    """The catalogue narrowed to parts with a fitment that matches (catalogue.fits says how)."""
    conditions, values = [], []
    if filters.get("fits_make") is not None:
        conditions.append("lower(f.make) = lower(%s)")
        values.append(filters["fits_make"].strip())
    if filters.get("fits_model") is not None:
        conditions.append("lower(f.model) = lower(%s)")
        values.append(filters["fits_model"].strip())
    if filters.get("fits_year") is not None:
        conditions.append("f.year_from <= %s AND (f.year_to IS NULL OR f.year_to >= %s)")
        values += [filters["fits_year"]] * 2
    if not conditions:
        return sql, params
    return (sql + " AND EXISTS (SELECT 1 FROM part_fitments f WHERE f.part_number = parts.part_number AND "
            + " AND ".join(conditions) + ")", params + values)


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
    None when it would leave less than nothing available, in transit or on order.

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
        " in_transit = in_transit + %(in_transit)s, on_order = on_order + %(on_order)s WHERE branch_id = %(branch_id)s"
        " AND part_number = %(part_number)s AND on_hand + %(on_hand)s - reserved - %(reserved)s >= 0"
        " AND in_transit + %(in_transit)s >= 0 AND on_order + %(on_order)s >= 0"
        " RETURNING on_hand, reserved, in_transit, on_order, on_hand - reserved AS available, reorder_point,"
        " safety_stock, below_reorder, below_safety),"
        " ledger AS (INSERT INTO movements (branch_id, part_number, kind, quantity, repair_order_id, transfer_id,"
        " reference, purchase_order_id) SELECT %(branch_id)s, %(part_number)s, %(kind)s, %(quantity)s,"
        f" %(repair_order_id)s, %(transfer_id)s, %(reference)s, %(purchase_order_id)s FROM moved){holds}"
        " SELECT moved.*, (SELECT region_id FROM branches WHERE branch_id = %(branch_id)s) AS region_id FROM moved",
        {"on_hand": m.on_hand, "reserved": m.reserved, "in_transit": m.in_transit, "on_order": m.on_order,
         "branch_id": m.branch_id, "part_number": m.part_number, "quantity": m.quantity, "kind": m.kind,
         "repair_order_id": m.repair_order_id, "transfer_id": m.transfer_id, "reference": m.reference,
         "purchase_order_id": m.purchase_order_id, "reservation_id": reservation_id})


def set_below(tx, branch_id, part_number, below):
    tx.execute("UPDATE stock SET below_reorder = %s WHERE branch_id = %s AND part_number = %s",
               (below, branch_id, part_number))


def set_thresholds(tx, branch_id, part_number, reorder_point, safety_stock):
    return tx.one("UPDATE stock s SET reorder_point = %s, safety_stock = %s WHERE branch_id = %s"
                  " AND part_number = %s RETURNING on_hand, reserved, on_hand - reserved AS available, reorder_point,"
                  " safety_stock, below_reorder, below_safety,"
                  " (SELECT region_id FROM branches b WHERE b.branch_id = s.branch_id)"
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


def shortage(tx, repair_order_id):
    """The order's shortage, open or ended: what it waited with."""
    return tx.one("SELECT * FROM shortages WHERE repair_order_id = %s", (repair_order_id,))


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
TRANSFER_ROW = ("SELECT t.*, CASE WHEN t.status = 'dispatched' THEN t.quantity - t.received_quantity"
                " - t.written_off_quantity ELSE 0 END AS in_transit FROM transfers t")


def insert_transfer(tx, t):
    tx.execute("INSERT INTO transfers (transfer_id, branch_id, from_branch_id, part_number, quantity, status,"
               " repair_order_id, from_site, to_site) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
               (t.transfer_id, t.branch_id, t.from_branch_id, t.part_number, t.quantity, t.status, t.repair_order_id,
                t.from_site, t.to_site))
    insert_steps(tx, t)
    return transfer(tx, t.transfer_id)


def transfer(tx, transfer_id, lock=False):
    return tx.one(TRANSFER_ROW + " WHERE t.transfer_id = %s" + (" FOR UPDATE" if lock else ""), (transfer_id,))


def save_transfer(tx, t):
    tx.execute("UPDATE transfers SET status = %s, received_quantity = %s, written_off_quantity = %s,"
               " tracking_reference = %s, dispatched_at = CASE WHEN %s = 'dispatched' THEN"
               " coalesce(dispatched_at, clock_timestamp()) ELSE dispatched_at END, updated_at = clock_timestamp()"
               " WHERE transfer_id = %s",
               (t.status, t.received_quantity, t.written_off_quantity, t.tracking_reference, t.status, t.transfer_id))
    insert_steps(tx, t)
    return transfer(tx, t.transfer_id)


def insert_steps(tx, t):
    """The steps the last command took (transfers.Transfer.take_steps), after those already kept."""
    steps = t.take_steps()
    for s in steps:
        tx.execute("INSERT INTO transfer_steps (transfer_id, position, step, acted_by, quantity, reason)"
                   " SELECT %s, coalesce(max(position), 0) + 1, %s, %s, %s, %s FROM transfer_steps"
                   " WHERE transfer_id = %s", (t.transfer_id, s.step, s.acted_by, s.quantity, s.reason, t.transfer_id))


def transfer_steps(tx, transfer_id):
    return tx.all("SELECT step, acted_by, quantity, reason, at FROM transfer_steps WHERE transfer_id = %s"
                  " ORDER BY position", (transfer_id,))


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
    sql, params = fits_filter(sql, params, filters)  # catalogue: fitment by model
    return paging.page(tx, "SELECT * FROM parts" + sql, params, "part_number", filters.get("cursor"),
                       filters.get("limit", 50))


STOCK_LIST = paging.Listing("SELECT * FROM (" + STOCK + ") s", "stock_key", lookups=("part_number",))
RESERVATIONS = paging.Listing("SELECT * FROM reservations", "reservation_id", lookups=("repair_order_id",))
MOVEMENTS = paging.Listing("SELECT * FROM (SELECT *, lpad(id::text, 20, '0') AS movement_key FROM movements) m",
                          "movement_key", lookups=("part_number",))
TRANSFERS = paging.Listing("SELECT * FROM (" + TRANSFER_ROW + ") t", "transfer_id", lookups=("part_number",))


def page_stock(tx, filters):
    below = " AND reorder_point IS NOT NULL AND available < reorder_point" if filters.get("below_reorder") else ""
    if filters.get("below_safety"):
        # the shelves the safety alert watches (domain.Stock.check_threshold): a managed shelf (one with
        # a reorder point) whose safety stock protects something
        below += " AND reorder_point IS NOT NULL AND safety_stock > 0 AND available < safety_stock"
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
    """Every branch's stock of the part: figures only, no customer or order; this site's as they stand,
    the other sites' (site, as_of) as their figures last said (docs/sites.md)."""
    return tx.all("SELECT s.branch_id, b.region_id, s.on_hand - s.reserved AS available, s.safety_stock,"
                  " NULL::text AS site, NULL::timestamptz AS as_of"
                  " FROM stock s LEFT JOIN branches b USING (branch_id) WHERE s.part_number = %s"
                  " UNION ALL " + REMOTE_SHELF + " WHERE r.part_number = %s ORDER BY branch_id",
                  (part_number, part_number))


def lead_times(tx):
    return tx.all("SELECT kind, from_id, to_id, hours, updated_at FROM lead_times ORDER BY kind, from_id, to_id")


def set_lead_time(tx, e):
    return tx.one("INSERT INTO lead_times (kind, from_id, to_id, hours) VALUES (%(kind)s, %(from_id)s, %(to_id)s,"
                  " %(hours)s) ON CONFLICT (kind, from_id, to_id) DO UPDATE SET hours = EXCLUDED.hours,"
                  " updated_at = clock_timestamp() RETURNING kind, from_id, to_id, hours, updated_at", e)


# -- ledger: purchase orders and the service desk's outlook ----------------------------------
PURCHASE_ORDER_ROW = "*, quantity - received_quantity - cancelled_quantity AS outstanding"


def insert_purchase_order(tx, o):
    return tx.one("INSERT INTO purchase_orders (purchase_order_id, branch_id, part_number, quantity, status,"
                  " expected_at, repair_order_id, supplier_reference) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                  f" RETURNING {PURCHASE_ORDER_ROW}",
                  (o.purchase_order_id, o.branch_id, o.part_number, o.quantity, o.status, o.expected_at,
                   o.repair_order_id, o.supplier_reference))


def purchase_order(tx, purchase_order_id, lock=False):
    return tx.one(f"SELECT {PURCHASE_ORDER_ROW} FROM purchase_orders WHERE purchase_order_id = %s"
                  + (" FOR UPDATE" if lock else ""), (purchase_order_id,))


def save_purchase_order(tx, o):
    return tx.one("UPDATE purchase_orders SET status = %s, received_quantity = %s, cancelled_quantity = %s,"
                  f" updated_at = clock_timestamp() WHERE purchase_order_id = %s RETURNING {PURCHASE_ORDER_ROW}",
                  (o.status, o.received_quantity, o.cancelled_quantity, o.purchase_order_id))


PURCHASE_ORDERS = paging.Listing(f"SELECT * FROM (SELECT {PURCHASE_ORDER_ROW} FROM purchase_orders) p",
                                 "purchase_order_id", lookups=("part_number",))


def page_purchase_orders(tx, filters):
    return PURCHASE_ORDERS.page(tx, filters)


def outlook_shelves(tx, part_number, branch_id=None):
    """What is free of the part at each branch (or one): figures only."""
    return tx.all("SELECT s.branch_id, b.region_id, s.on_hand - s.reserved AS available FROM stock s"
                  " LEFT JOIN branches b USING (branch_id) WHERE s.part_number = %s"
                  " AND (%s::text IS NULL OR s.branch_id = %s) ORDER BY s.branch_id",
                  (part_number, branch_id, branch_id))


def outlook_transits(tx, part_number, branch_id=None):
    """Dispatched transfers of the part with units still on the road, by the ledger: what left (in_transit)
    less what arrived or was written off, and when it left (its in_transit movement)."""
    return tx.all(
        "SELECT t.transfer_id, t.branch_id, tb.region_id, t.from_branch_id, fb.region_id AS from_region_id,"
        " m.quantity, m.dispatched_at FROM transfers t"
        " JOIN LATERAL (SELECT sum(CASE kind WHEN 'in_transit' THEN quantity ELSE -quantity END)::int AS quantity,"
        "   min(created_at) FILTER (WHERE kind = 'in_transit') AS dispatched_at FROM movements"
        "   WHERE transfer_id = t.transfer_id AND kind IN ('in_transit', 'transfer_in', 'transit_written_off')) m"
        "   ON m.quantity > 0"
        " LEFT JOIN branches tb ON tb.branch_id = t.branch_id LEFT JOIN branches fb ON fb.branch_id = t.from_branch_id"
        " WHERE t.part_number = %s AND t.status = 'dispatched' AND (%s::text IS NULL OR t.branch_id = %s)",
        (part_number, branch_id, branch_id))


def outlook_orders(tx, part_number, branch_id=None):
    return tx.all("SELECT p.purchase_order_id, p.branch_id, b.region_id, p.expected_at,"
                  " p.quantity - p.received_quantity - p.cancelled_quantity AS outstanding FROM purchase_orders p"
                  " LEFT JOIN branches b USING (branch_id) WHERE p.part_number = %s AND p.status = 'open'"
                  " AND (%s::text IS NULL OR p.branch_id = %s)", (part_number, branch_id, branch_id))


# -- thresholds, replenishment and shortage escalation ------------------------------------------------
def set_below_safety(tx, branch_id, part_number, below):
    tx.execute("UPDATE stock SET below_safety = %s WHERE branch_id = %s AND part_number = %s",
               (below, branch_id, part_number))


def requested_for(tx, branch_id, part_number) -> int:
    """Units of transfers to the branch asked for and not on the road yet (requested, approved, picked)."""
    return tx.one("SELECT coalesce(sum(quantity), 0)::int AS units FROM transfers WHERE branch_id = %s"
                  " AND part_number = %s AND status IN ('requested', 'approved', 'picked')",
                  (branch_id, part_number))["units"]


def insert_replenishment(tx, r):
    """A new proposal, unless the shelf has one proposed already (replenishments_open): None then."""
    return tx.one(
        "INSERT INTO replenishments (replenishment_id, branch_id, region_id, part_number, alert, kind, from_branch_id,"
        " quantity, lead_time_hours, available, incoming, target, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s, %s, %s) ON CONFLICT (branch_id, part_number) WHERE status = 'proposed' DO NOTHING RETURNING *",
        (r.replenishment_id, r.branch_id, r.region_id, r.part_number, r.alert, r.kind, r.from_branch_id, r.quantity,
         r.lead_time_hours, r.available, r.incoming, r.target, r.status))


def open_replenishment_exists(tx, branch_id, part_number) -> bool:
    return tx.one("SELECT EXISTS (SELECT 1 FROM replenishments WHERE branch_id = %s AND part_number = %s"
                  " AND status = 'proposed') AS found", (branch_id, part_number))["found"]


def supersede_replenishments(tx, branch_id, part_number):
    tx.execute("UPDATE replenishments SET status = 'superseded', updated_at = clock_timestamp()"
               " WHERE branch_id = %s AND part_number = %s AND status = 'proposed'", (branch_id, part_number))


def replenishment(tx, replenishment_id, lock=False):
    return tx.one("SELECT * FROM replenishments WHERE replenishment_id = %s" + (" FOR UPDATE" if lock else ""),
                  (replenishment_id,))


def save_replenishment(tx, r):
    return tx.one("UPDATE replenishments SET status = %s, transfer_id = %s, purchase_order_id = %s,"
                  " accepted_by = %s, updated_at = clock_timestamp() WHERE replenishment_id = %s RETURNING *",
                  (r.status, r.transfer_id, r.purchase_order_id, r.accepted_by, r.replenishment_id))


REPLENISHMENTS = paging.Listing("SELECT * FROM replenishments", "replenishment_id", lookups=("part_number",))


def page_replenishments(tx, filters, kind=None, either_side=False):
    """`kind` limits the list to transfers or purchases; with `either_side`, branch_id and the scope's
    branch_ids match the giving branch of a transfer too (the warehouse's list)."""
    more, params = "", []
    if kind is not None:
        more += " AND kind = %s"
        params.append(kind)
    if either_side:
        if filters.get("branch_id") is not None:
            more += " AND (branch_id = %s OR from_branch_id = %s)"
            params += [filters["branch_id"]] * 2
        if filters.get("branch_ids") is not None:
            more += " AND (branch_id = ANY(%s) OR from_branch_id = ANY(%s))"
            params += [list(filters["branch_ids"])] * 2
        filters = {**filters, "branch_id": None, "branch_ids": None}
    return REPLENISHMENTS.page(tx, filters, more, params)


def escalation(tx, repair_order_id, lock=False):
    return tx.one("SELECT * FROM escalations WHERE repair_order_id = %s" + (" FOR UPDATE" if lock else ""),
                  (repair_order_id,))


def open_escalation(tx, e):
    """The order starts to wait: its escalation at the local tier, unless one is open already (a new
    approval of an order that waits): True when this one was written."""
    return tx.one(
        "INSERT INTO escalations (repair_order_id, branch_id, region_id, needs, tier, tier_since, proposal, actions,"
        " waiting_since, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (repair_order_id) DO"
        " UPDATE SET branch_id = EXCLUDED.branch_id, region_id = EXCLUDED.region_id, needs = EXCLUDED.needs,"
        " tier = EXCLUDED.tier, tier_since = EXCLUDED.tier_since, proposal = EXCLUDED.proposal,"
        " actions = EXCLUDED.actions, waiting_since = EXCLUDED.waiting_since, status = EXCLUDED.status,"
        " updated_at = clock_timestamp() WHERE escalations.status <> 'open' RETURNING repair_order_id",
        (e.repair_order_id, e.branch_id, e.region_id, Jsonb(e.needs), e.tier, e.tier_since, Jsonb(e.proposal),
         Jsonb(e.actions), e.waiting_since, e.status)) is not None


def save_escalation(tx, e):
    tx.execute("UPDATE escalations SET tier = %s, tier_since = %s, proposal = %s, actions = %s, status = %s,"
               " updated_at = clock_timestamp() WHERE repair_order_id = %s",
               (e.tier, e.tier_since, Jsonb(e.proposal), Jsonb(e.actions), e.status, e.repair_order_id))


# each shortage with the clock of its current tier: its deadline and where it stands
ESCALATIONS = paging.Listing(
    "SELECT * FROM (SELECT e.*, c.deadline, c.state AS clock_state, c.outcome AS clock_outcome FROM escalations e"
    " LEFT JOIN sla_clocks c ON c.policy = 'parts_shortage_' || e.tier AND c.subject_id = e.repair_order_id::text) e",
    "repair_order_id")


def page_escalations(tx, filters):
    return ESCALATIONS.page(tx, filters)


def ledger_totals(tx, branch_id, part_number):
    """(kind, summed quantity) of a stock row's movements: its ledger, added up."""
    return [(r["kind"], r["quantity"]) for r in tx.all(
        "SELECT kind, sum(quantity)::int AS quantity FROM movements WHERE branch_id = %s AND part_number = %s"
        " GROUP BY kind", (branch_id, part_number))]
