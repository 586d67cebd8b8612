"""The crm schema's SQL; nothing else touches these tables."""
from psycopg.types.json import Jsonb

from shared.storage import paging


def insert_customer(tx, c):
    return tx.one(
        "INSERT INTO customers (customer_id, branch_id, name, email, phone, phone_key, consent_marketing,"
        " language, vip, preferred_advisor, contacts)"
        " VALUES (%(customer_id)s, %(branch_id)s, %(name)s, %(email)s, %(phone)s, %(phone_key)s,"
        " %(consent_marketing)s, %(language)s, %(vip)s, %(preferred_advisor)s, %(contacts)s) RETURNING *",
        {**c, "contacts": Jsonb(c["contacts"])})


def save_customer(tx, c):
    """Write a customer's changed details (update, erasure)."""
    return tx.one(
        "UPDATE customers SET name = %(name)s, email = %(email)s, phone = %(phone)s, phone_key = %(phone_key)s,"
        " consent_marketing = %(consent_marketing)s, language = %(language)s, vip = %(vip)s,"
        " preferred_advisor = %(preferred_advisor)s, contacts = %(contacts)s, erased_at = %(erased_at)s"
        " WHERE customer_id = %(customer_id)s RETURNING *", {**c, "contacts": Jsonb(c["contacts"])})


def customer_locked(tx, customer_id):
    return tx.one("SELECT * FROM customers WHERE customer_id = %s FOR UPDATE", (customer_id,))


def erase_customer_data(tx, customer_id):
    """The free text and plates held on an erased customer: gone; the rows stay (module erasure.py)."""
    counts = {}
    for table, sql in (
            ("vehicles", "UPDATE vehicles SET plate = '', plate_key = '' WHERE customer_id = %s"),
            ("contacts", "UPDATE contacts SET note = '' WHERE customer_id = %s AND note <> ''"),
            ("complaints", "UPDATE complaints SET what_happened = '', customer_wants = '', place = NULL,"
                           " reported_by = NULL WHERE customer_id = %s"),
            ("complaint_responses", "UPDATE complaint_responses SET note = '' WHERE complaint_id IN"
                                    " (SELECT complaint_id FROM complaints WHERE customer_id = %s)"),
            ("surveys", "UPDATE surveys SET comment = '' WHERE customer_id = %s"),
            ("follow_ups", "UPDATE follow_ups SET notes = NULL WHERE customer_id = %s"),
            ("feedback", "UPDATE feedback SET text = '', reply = NULL WHERE customer_id = %s")):
        counts[table] = tx.execute(sql, (customer_id,)).rowcount
    return counts


def customer(tx, customer_id, share=False):
    """`share`: the row stays as read until commit (FOR SHARE), for a record about to point at it."""
    return tx.one("SELECT * FROM customers WHERE customer_id = %s" + (" FOR SHARE" if share else ""), (customer_id,))


def insert_vehicle(tx, v):
    return tx.one(
        "INSERT INTO vehicles (vehicle_id, customer_id, branch_id, vin, plate, plate_key, model, year, odometer_km,"
        " purchase_date)"
        " VALUES (%(vehicle_id)s, %(customer_id)s, %(branch_id)s, %(vin)s, %(plate)s, %(plate_key)s, %(model)s,"
        " %(year)s, %(odometer_km)s, %(purchase_date)s) ON CONFLICT (vin) DO NOTHING RETURNING *", v)


def vehicle(tx, vehicle_id, lock=False):
    return tx.one("SELECT * FROM vehicles WHERE vehicle_id = %s" + (" FOR UPDATE" if lock else ""), (vehicle_id,))


HELD_PER_CUSTOMER = {"vehicles": "vehicle_id", "follow_ups": "follow_up_id", "complaints": "complaint_id",
                     "surveys": "survey_id", "feedback": "feedback_id"}


def held_on(tx, table, customer_id):
    """A customer's rows of one of crm's tables (HELD_PER_CUSTOMER), oldest first: for the export."""
    key = HELD_PER_CUSTOMER[table]
    return tx.all(f"SELECT * FROM {table} WHERE customer_id = %s ORDER BY created_at, {key}", (customer_id,))


def add_reading(tx, vehicle_id, km, read_at, source, correction, odometer_km):
    """A reading, and the vehicle's odometer as it now stands (the vehicle's row is locked by the caller)."""
    tx.execute("UPDATE vehicles SET odometer_km = %s WHERE vehicle_id = %s", (odometer_km, vehicle_id))
    return tx.one("INSERT INTO odometer_readings (vehicle_id, odometer_km, read_at, source, correction)"
                  " VALUES (%s, %s, %s, %s, %s) RETURNING *", (vehicle_id, km, read_at, source, correction))


def readings(tx, vehicle_id):
    return tx.all("SELECT * FROM odometer_readings WHERE vehicle_id = %s ORDER BY reading_id", (vehicle_id,))


def settings(tx, branch_id) -> dict:
    """The branch's own thresholds, or the defaults (migration 004)."""
    row = tx.one("SELECT * FROM crm_settings WHERE branch_id = %s", (branch_id,))
    return row or {"branch_id": branch_id, "survey_threshold": None, "survey_reminder_hours": None,
                   "major_total_cents": None, "major_labour_hours": None}


def save_settings(tx, s):
    return tx.one(
        "INSERT INTO crm_settings (branch_id, survey_threshold, survey_reminder_hours, major_total_cents,"
        " major_labour_hours) VALUES (%(branch_id)s, %(survey_threshold)s, %(survey_reminder_hours)s,"
        " %(major_total_cents)s, %(major_labour_hours)s) ON CONFLICT (branch_id) DO UPDATE SET"
        " survey_threshold = EXCLUDED.survey_threshold, survey_reminder_hours = EXCLUDED.survey_reminder_hours,"
        " major_total_cents = EXCLUDED.major_total_cents, major_labour_hours = EXCLUDED.major_labour_hours"
        " RETURNING *", s)


def follow_up_hours(tx, branch_id):
    row = tx.one("SELECT hours FROM follow_up_settings WHERE branch_id = %s", (branch_id,))
    return row["hours"] if row else None


def record_delivery(tx, d):
    row = tx.one(
        "INSERT INTO deliveries (repair_order_id, branch_id, customer_id, delivered_at, number, vehicle_id)"
        " VALUES (%(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(delivered_at)s, %(number)s, %(vehicle_id)s)"
        " ON CONFLICT DO NOTHING RETURNING repair_order_id", {"number": None, "vehicle_id": None, **d})
    return row is not None


def earlier_deliveries(tx, customer_id, repair_order_id) -> int:
    """Deliveries crm knows of the customer's other repair orders (none: a first-time customer)."""
    return tx.one("SELECT count(*) AS n FROM deliveries WHERE customer_id = %s AND repair_order_id <> %s",
                  (customer_id, repair_order_id))["n"]


def delivery(tx, repair_order_id):
    return tx.one("SELECT * FROM deliveries WHERE repair_order_id = %s", (repair_order_id,))


def insert_follow_up(tx, f):
    return tx.one(
        "INSERT INTO follow_ups (follow_up_id, repair_order_id, branch_id, customer_id, delivered_at, due_at,"
        " kind, opens_at)"
        " VALUES (%(follow_up_id)s, %(repair_order_id)s, %(branch_id)s, %(customer_id)s,"
        " %(delivered_at)s, %(due_at)s, %(kind)s, %(opens_at)s) ON CONFLICT (repair_order_id, kind) DO NOTHING"
        " RETURNING *", f)


def follow_ups_opening(tx, at, limit=100):
    """Follow-ups whose window has opened and not been announced; each claimed once (SKIP LOCKED)."""
    return tx.all("SELECT * FROM follow_ups WHERE announced_at IS NULL AND opens_at <= %s"
                  " ORDER BY opens_at LIMIT %s FOR UPDATE SKIP LOCKED", (at, limit))


def mark_announced(tx, follow_up_id, at):
    tx.execute("UPDATE follow_ups SET announced_at = %s WHERE follow_up_id = %s", (at, follow_up_id))


def follow_up(tx, follow_up_id, lock=False):
    return tx.one("SELECT * FROM follow_ups WHERE follow_up_id = %s" + (" FOR UPDATE" if lock else ""),
                  (follow_up_id,))


def save_completion(tx, f):
    return tx.one(
        "UPDATE follow_ups SET status = %(status)s, outcome = %(outcome)s, notes = %(notes)s,"
        " completed_at = %(completed_at)s, booking_requested_at = %(booking_requested_at)s, booked_at = %(booked_at)s"
        " WHERE follow_up_id = %(follow_up_id)s RETURNING *", f)


def booking_requests_of(tx, vehicle_id):
    """The open booking requests of follow-ups on the vehicle's repair orders, locked."""
    return tx.all("SELECT f.* FROM follow_ups f JOIN deliveries d USING (repair_order_id)"
                  " WHERE d.vehicle_id = %s AND f.booking_requested_at IS NOT NULL AND f.booked_at IS NULL"
                  " FOR UPDATE OF f", (vehicle_id,))


def log_contact(tx, customer_id, kind, note="", *, ref_id=None, branch_id=None, at=None):
    """One entry of the customer's timeline (GET /customers/<id>/timeline): `kind` (registered, visit,
    booking, repair_order, delivery, invoice, payment, message, survey, complaint, follow_up, feedback,
    ...), a note, the record it is about and its branch, when it happened (now unless given)."""
    tx.execute("INSERT INTO contacts (customer_id, kind, note, ref_id, branch_id, at)"
               " VALUES (%s, %s, %s, %s, %s, coalesce(%s, clock_timestamp()))",
               (customer_id, kind, note, None if ref_id is None else str(ref_id), branch_id, at))


def timeline(tx, customer_id, cursor, limit):
    """A page of the customer's timeline, newest first; the cursor is the last entry's (at, id)."""
    limit = max(1, min(int(limit or 50), paging.MAX_LIMIT))
    sql, params = "SELECT id, customer_id, at AS created_at, kind, note, ref_id, branch_id FROM contacts" \
                  " WHERE customer_id = %s", [customer_id]
    if cursor:
        at, last = paging.decode(cursor)
        sql += " AND (at, id) < (%s, %s)"
        params += [at, int(last) if str(last).isdigit() else 0]
    rows = tx.all(sql + " ORDER BY at DESC, id DESC LIMIT %s", params + [limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [{**r, "at": r["created_at"]} for r in rows],
            "next_cursor": paging.encode(rows[-1], "id") if more else None}


def timeline_all(tx, customer_id):
    return tx.all("SELECT id, at, kind, note, ref_id, branch_id FROM contacts WHERE customer_id = %s"
                  " ORDER BY at DESC, id DESC", (customer_id,))


def insert_survey(tx, s):
    return tx.one(
        "INSERT INTO surveys (survey_id, repair_order_id, branch_id, customer_id, score, comment)"
        " VALUES (%(survey_id)s, %(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(score)s, %(comment)s)"
        " ON CONFLICT (repair_order_id) DO NOTHING RETURNING *", s)


COMPLAINT_COLUMNS = ("complaint_id", "branch_id", "customer_id", "repair_order_id", "what_happened", "customer_wants",
                     "category", "severity", "owner", "level", "status", "source", "vehicle_id", "happened_at", "place",
                     "reported_by", "matter", "trigger", "opened_at", "response_target_seconds",
                     "resolution_target_seconds", "first_response_at", "measures", "resolution_deadline",
                     "resolution_owner", "resolved_at", "reopened")


def insert_complaint(tx, c):
    values = {**{k: c.get(k) for k in COMPLAINT_COLUMNS}, "measures": Jsonb(list(c.get("measures") or []))}
    return tx.one(f"INSERT INTO complaints ({', '.join(COMPLAINT_COLUMNS)}) VALUES"
                  f" ({', '.join(f'%({k})s' for k in COMPLAINT_COLUMNS)}) RETURNING *", values)


def save_complaint(tx, c):
    changing = [k for k in COMPLAINT_COLUMNS if k != "complaint_id"]
    values = {**{k: c.get(k) for k in COMPLAINT_COLUMNS}, "measures": Jsonb(list(c.get("measures") or []))}
    return tx.one(f"UPDATE complaints SET {', '.join(f'{k} = %({k})s' for k in changing)}"
                  " WHERE complaint_id = %(complaint_id)s RETURNING *", values)


def complaint(tx, complaint_id, lock=False):
    return tx.one("SELECT * FROM complaints WHERE complaint_id = %s" + (" FOR UPDATE" if lock else ""),
                  (complaint_id,))


def lock_matter(tx, matter):
    """Complaints on one matter are counted one at a time (the third escalates at once)."""
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('crm.complaint.matter'), hashtext(%s))", (matter,))


def complaints_on_matter(tx, matter) -> int:
    return tx.one("SELECT count(*) AS n FROM complaints WHERE matter = %s", (matter,))["n"]


def add_response(tx, complaint_id, by, note):
    return tx.one("INSERT INTO complaint_responses (complaint_id, responded_by, note) VALUES (%s, %s, %s)"
                  " RETURNING *", (complaint_id, by, note))


def responses(tx, complaint_id):
    return tx.all("SELECT * FROM complaint_responses WHERE complaint_id = %s ORDER BY id", (complaint_id,))


# -- surveys ------------------------------------------------------------------------------------------
def insert_invitation(tx, i):
    return tx.one(
        "INSERT INTO survey_invitations (survey_id, repair_order_id, branch_id, customer_id, number, invited_at)"
        " VALUES (%(survey_id)s, %(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(number)s, %(invited_at)s)"
        " ON CONFLICT (repair_order_id) DO NOTHING RETURNING *", i)


def invitation(tx, survey_id=None, repair_order_id=None, lock=False):
    column, value = ("survey_id", survey_id) if survey_id is not None else ("repair_order_id", repair_order_id)
    return tx.one(f"SELECT * FROM survey_invitations WHERE {column} = %s" + (" FOR UPDATE" if lock else ""), (value,))


def save_invitation(tx, i):
    tx.execute("UPDATE survey_invitations SET reminded_at = %(reminded_at)s, answered_at = %(answered_at)s"
               " WHERE survey_id = %(survey_id)s", i)


def invitations_to_remind(tx, at, default_hours, limit=100):
    """Unanswered, unreminded invitations whose branch's reminder delay has passed by `at`."""
    return tx.all("SELECT i.*, s.survey_reminder_hours FROM survey_invitations i"
                  " LEFT JOIN crm_settings s USING (branch_id)"
                  " WHERE i.answered_at IS NULL AND i.reminded_at IS NULL"
                  " AND i.invited_at + make_interval(hours => coalesce(s.survey_reminder_hours, %s)) <= %s"
                  " ORDER BY i.invited_at LIMIT %s FOR UPDATE OF i SKIP LOCKED", (default_hours, at, limit))


def survey_figures(tx, branch_id):
    scores = [r["score"] for r in tx.all("SELECT score FROM surveys WHERE branch_id = %s", (branch_id,))]
    invited = tx.one("SELECT count(*) AS n, count(answered_at) AS answered FROM survey_invitations"
                     " WHERE branch_id = %s", (branch_id,))
    return scores, invited["n"], invited["answered"]


# -- feedback -----------------------------------------------------------------------------------------
def insert_feedback(tx, f):
    return tx.one(
        "INSERT INTO feedback (feedback_id, customer_id, branch_id, text, channel, received_at, status)"
        " VALUES (%(feedback_id)s, %(customer_id)s, %(branch_id)s, %(text)s, %(channel)s, %(received_at)s,"
        " %(status)s) RETURNING *", f)


def feedback(tx, feedback_id, lock=False):
    return tx.one("SELECT * FROM feedback WHERE feedback_id = %s" + (" FOR UPDATE" if lock else ""), (feedback_id,))


def save_reply(tx, f):
    return tx.one("UPDATE feedback SET status = %(status)s, reply = %(reply)s, replied_by = %(replied_by)s,"
                  " replied_at = %(replied_at)s WHERE feedback_id = %(feedback_id)s RETURNING *", f)


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
INVITATIONS = paging.Listing("SELECT * FROM survey_invitations", "survey_id",
                             lookups=("customer_id", "repair_order_id"))
FEEDBACK = paging.Listing("SELECT * FROM feedback", "feedback_id", lookups=("customer_id",))


def page(tx, listing: paging.Listing, filters):
    """A page of `listing` filtered by scope, status, time window and its columns."""
    more, params = "", []
    if filters.get("due_before") is not None:
        more += " AND due_at < %s"
        params.append(filters["due_before"])
    if filters.get("booking_requested") is not None:  # the customers to book: asked for, not yet booked
        more += (" AND booking_requested_at IS NOT NULL AND booked_at IS NULL" if filters["booking_requested"]
                 else " AND booking_requested_at IS NULL")
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
