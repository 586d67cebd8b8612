"""The crm schema's SQL; nothing else touches these tables."""
from shared.storage import paging


def insert_customer(tx, c):
    return tx.one(
        "INSERT INTO customers (customer_id, branch_id, name, email, phone, phone_key, consent_marketing)"
        " VALUES (%(customer_id)s, %(branch_id)s, %(name)s, %(email)s, %(phone)s, %(phone_key)s,"
        " %(consent_marketing)s) RETURNING *", c)


def customer(tx, customer_id, share=False):
    """`share`: the row stays as read until commit (FOR SHARE), for a record about to point at it."""
    return tx.one("SELECT * FROM customers WHERE customer_id = %s" + (" FOR SHARE" if share else ""), (customer_id,))


def insert_vehicle(tx, v):
    return tx.one(
        "INSERT INTO vehicles (vehicle_id, customer_id, branch_id, vin, plate, plate_key, model, year, odometer_km)"
        " VALUES (%(vehicle_id)s, %(customer_id)s, %(branch_id)s, %(vin)s, %(plate)s, %(plate_key)s, %(model)s,"
        " %(year)s, %(odometer_km)s) ON CONFLICT (vin) DO NOTHING RETURNING *", v)


def vehicle(tx, vehicle_id):
    return tx.one("SELECT * FROM vehicles WHERE vehicle_id = %s", (vehicle_id,))


def follow_up_hours(tx, branch_id):
    row = tx.one("SELECT hours FROM follow_up_settings WHERE branch_id = %s", (branch_id,))
    return row["hours"] if row else None


def record_delivery(tx, d):
    row = tx.one(
        "INSERT INTO deliveries (repair_order_id, branch_id, customer_id, delivered_at)"
        " VALUES (%(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(delivered_at)s)"
        " ON CONFLICT DO NOTHING RETURNING repair_order_id", d)
    return row is not None


def delivery(tx, repair_order_id):
    return tx.one("SELECT * FROM deliveries WHERE repair_order_id = %s", (repair_order_id,))


def insert_follow_up(tx, f):
    return tx.one(
        "INSERT INTO follow_ups (follow_up_id, repair_order_id, branch_id, customer_id, delivered_at, due_at)"
        " VALUES (%(follow_up_id)s, %(repair_order_id)s, %(branch_id)s, %(customer_id)s,"
        " %(delivered_at)s, %(due_at)s) ON CONFLICT (repair_order_id) DO NOTHING RETURNING *", f)


def follow_up(tx, follow_up_id, lock=False):
    return tx.one("SELECT * FROM follow_ups WHERE follow_up_id = %s" + (" FOR UPDATE" if lock else ""),
                  (follow_up_id,))


def save_completion(tx, f):
    return tx.one(
        "UPDATE follow_ups SET status = %(status)s, outcome = %(outcome)s, notes = %(notes)s,"
        " completed_at = %(completed_at)s WHERE follow_up_id = %(follow_up_id)s RETURNING *", f)


def log_contact(tx, customer_id, kind, note=""):
    tx.execute("INSERT INTO contacts (customer_id, kind, note) VALUES (%s, %s, %s)", (customer_id, kind, note))


def insert_survey(tx, s):
    return tx.one(
        "INSERT INTO surveys (survey_id, repair_order_id, branch_id, customer_id, score, comment)"
        " VALUES (%(survey_id)s, %(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(score)s, %(comment)s)"
        " ON CONFLICT (repair_order_id) DO NOTHING RETURNING *", s)


def insert_complaint(tx, c):
    return tx.one(
        "INSERT INTO complaints (complaint_id, branch_id, customer_id, repair_order_id, what_happened,"
        " customer_wants, category, severity, owner, level, source)"
        " VALUES (%(complaint_id)s, %(branch_id)s, %(customer_id)s, %(repair_order_id)s, %(what_happened)s,"
        " %(customer_wants)s, %(category)s, %(severity)s, %(owner)s, %(level)s, %(source)s) RETURNING *", c)


def complaint(tx, complaint_id):
    return tx.one("SELECT * FROM complaints WHERE complaint_id = %s", (complaint_id,))


def open_complaints_by_level(tx):
    return tx.all(
        "SELECT c.branch_id, b.region_id, c.level, count(*) AS count FROM complaints c"
        " LEFT JOIN branches b USING (branch_id) WHERE c.status = 'open'"
        " GROUP BY c.branch_id, b.region_id, c.level ORDER BY 1, 3")


CUSTOMERS = paging.Listing("SELECT * FROM customers", "customer_id")
VEHICLES = paging.Listing("SELECT * FROM vehicles", "vehicle_id", lookups=("customer_id",))
FOLLOW_UPS = paging.Listing("SELECT * FROM follow_ups", "follow_up_id", lookups=("customer_id", "repair_order_id"))
SURVEYS = paging.Listing("SELECT * FROM surveys", "survey_id")
COMPLAINTS = paging.Listing("SELECT * FROM complaints", "complaint_id", lookups=("customer_id",), columns=("level",))


def page(tx, listing: paging.Listing, filters):
    """A page of `listing` filtered by scope, status, time window and its columns."""
    more, params = "", []
    if filters.get("due_before") is not None:
        more += " AND due_at < %s"
        params.append(filters["due_before"])
    return listing.page(tx, filters, more, params)


# -- search (domain.Search says what is looked for where) ------------------------------------------
# Each key is matched with LIKE '%...%' on a column with a GIN trigram index (migrations/003_search.sql),
# so a part of a key finds its rows through the index, not by reading every row.
def _contains(part: str) -> str:
    """A LIKE pattern for "holds `part`": its own %, _ and \\ are literal."""
    return "%" + part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _vehicle_match(search) -> tuple[str, list]:
    if search.plate is None:
        return "false", []
    return "(plate_key LIKE %s OR vin LIKE %s)", [_contains(search.plate)] * 2


def customers_page(tx, filters, search=None):
    """A page of customers; with `search`, those whose name, email or phone holds it, or who own a
    vehicle whose plate or VIN does. One index serves each key: the matches are the union of
    index scans, then read by their primary key."""
    if search is None:
        return CUSTOMERS.page(tx, filters)
    own = ["name ILIKE %s", "email ILIKE %s"]
    params = [_contains(search.text)] * 2
    if search.phone is not None:
        own.append("phone_key LIKE %s")
        params.append(_contains(search.phone))
    vehicle, vehicle_params = _vehicle_match(search)
    more = (" AND customer_id IN (SELECT customer_id FROM customers WHERE " + " OR ".join(own) +
            " UNION SELECT customer_id FROM vehicles WHERE " + vehicle + ")")
    return CUSTOMERS.page(tx, filters, more, params + vehicle_params)


def vehicles_page(tx, filters, search=None):
    """A page of vehicles; with `search`, those whose plate or VIN holds it."""
    if search is None:
        return VEHICLES.page(tx, filters)
    vehicle, params = _vehicle_match(search)
    return VEHICLES.page(tx, filters, " AND " + vehicle, params)
