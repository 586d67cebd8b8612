"""The workshop schema's SQL; nothing else touches these tables."""
from psycopg.types.json import Jsonb

from shared.storage import paging

RO = "SELECT * FROM repair_orders"
# a part line's origin and warranty terms as quoted (parts catalogue; null for other lines and older ones)
def _terms(line=""):
    # warranty_months/_km also as facts of their own: billing's warranty decisions read them
    return (f"{line}origin, {line}warranty_months, {line}warranty_km,"
            f" CASE WHEN {line}warranty_months IS NULL THEN NULL ELSE json_build_object('months',"
            f" {line}warranty_months, 'km', {line}warranty_km) END AS warranty")


LINES = ('SELECT line_id, kind, "group", description, part_number, quantity, unit_price_cents, net_cents,'
         f" pay_type, decision, keep_for_customer, option, {_terms()} FROM quote_lines")
FINDINGS = "SELECT code, description, status, reading, standard, diagnosed_by, at FROM findings WHERE repair_order_id = %s ORDER BY id"
JOBS = "SELECT * FROM jobs WHERE repair_order_id = %s ORDER BY started_at"
TIMELINE = "SELECT at, status, note FROM timeline WHERE repair_order_id = %s AND public = %s ORDER BY id"


def next_number(tx, branch_id) -> str:
    row = tx.one(
        "INSERT INTO number_counters AS c (branch_id, last) VALUES (%s, 1)"
        " ON CONFLICT (branch_id) DO UPDATE SET last = c.last + 1 RETURNING last", (branch_id,))
    return f"RO-{branch_id}-{row['last']:06d}"


def insert_repair_order(tx, ro):
    return tx.one(
        "INSERT INTO repair_orders (repair_order_id, number, branch_id, booking_id, customer_id, vehicle_id,"
        " plate, plate_key, priority, fault_description, odometer_km, status, service_type, fault_family,"
        " case_owner, check_in_record, skill)"
        " VALUES (%(repair_order_id)s, %(number)s, %(branch_id)s, %(booking_id)s, %(customer_id)s,"
        " %(vehicle_id)s, %(plate)s, %(plate_key)s, %(priority)s, %(fault_description)s, %(odometer_km)s,"
        " %(status)s, %(service_type)s, %(fault_family)s, %(case_owner)s, %(check_in_record)s, %(skill)s)"
        " ON CONFLICT (booking_id) DO NOTHING RETURNING *", ro)


def repair_order(tx, repair_order_id):
    return tx.one(RO + " WHERE repair_order_id = %s", (repair_order_id,))


def repair_order_to_change(tx, repair_order_id) -> dict | None:
    """The repair order locked for a command, with what its rules read (domain.RepairOrder.from_row):
    its jobs, its open quote and lines, when a quality check last failed. One round trip."""
    key = (repair_order_id,)
    open_quote = "SELECT quote_id FROM quotes WHERE repair_order_id = %s AND status = 'open'"
    ro, done, quote, lines, failed = tx.batch(
        (RO + " WHERE repair_order_id = %s FOR UPDATE", key),  # first: the reads below wait for the lock
        (JOBS, key),
        ("SELECT * FROM quotes WHERE repair_order_id = %s AND status = 'open'", key),
        (f"{LINES} WHERE quote_id = ({open_quote}) ORDER BY position", key),
        ("SELECT max(at) AS at FROM quality_checks WHERE repair_order_id = %s AND NOT passed", key))
    if not ro:
        return None
    return {**ro[0], "jobs": done, "open_quote": {**quote[0], "lines": lines} if quote else None,
            "failed_check_at": failed[0]["at"] if failed else None}


def view(tx, repair_order_id) -> dict | None:
    """The repair order with its current quote and lines, findings, jobs and staff timeline: one round trip."""
    current = ("SELECT quote_id FROM quotes WHERE repair_order_id = %s AND status <> 'superseded'"
               " ORDER BY created_at DESC LIMIT 1")
    key = (repair_order_id,)
    ro, quote, lines, found, done, stages, approved, checks = tx.batch(
        (RO + " WHERE repair_order_id = %s", key),
        (f"SELECT * FROM quotes WHERE quote_id = ({current})", key),
        (f"{LINES} WHERE quote_id = ({current}) ORDER BY position", key),
        (FINDINGS, key), (JOBS, key), (TIMELINE, (repair_order_id, False)), (APPROVED_LINES, key),
        ("SELECT kind, checked_by, passed, notes, at FROM quality_checks WHERE repair_order_id = %s ORDER BY id",
         key))
    if not ro:
        return None
    return {**ro[0], "quote": {**quote[0], "lines": lines} if quote else None,
            "findings": found, "jobs": done, "timeline": stages, "approved_lines": approved, "quality_checks": checks}


def by_number(tx, number):
    return tx.one(RO + " WHERE number = %s", (number,))


def save_repair_order(tx, ro):
    """What a command changed on the repair order (a domain.RepairOrder), and its new timeline lines:
    one statement."""
    tx.write_together(("UPDATE repair_orders SET status = %s, parts_status = %s, approved_total_cents = %s,"
                       " delivered_at = %s, closed_at = %s, progress_seq = %s, update_due = %s,"
                       " last_progress_at = CASE WHEN %s THEN clock_timestamp() ELSE last_progress_at END,"
                       " approved_at = %s, estimate_seconds = %s, delayed_at = %s, hold_reason = %s,"
                       " updated_at = clock_timestamp() WHERE repair_order_id = %s",
                       (ro.status, ro.parts_status, ro.approved_total_cents, ro.delivered_at, ro.closed_at,
                        ro.progress_seq, ro.update_due, ro.progressed, ro.approved_at, ro.estimate_seconds,
                        ro.delayed_at, ro.hold_reason, ro.repair_order_id)),
                      *timeline_lines(ro.repair_order_id, ro.take_notes()))


def add_timeline(tx, repair_order_id, notes):
    tx.write_together(*timeline_lines(repair_order_id, notes))


def timeline_lines(repair_order_id, notes) -> list[tuple[str, tuple]]:
    """The insert of timeline lines (domain.Note), numbered in the order given; none for no notes."""
    if not notes:
        return []
    return [("INSERT INTO timeline (repair_order_id, status, note, public) VALUES "
             + ", ".join(["(%s, %s, %s, %s)"] * len(notes)),
             tuple(v for n in notes for v in (repair_order_id, n.status, n.note, n.public)))]


def timeline(tx, repair_order_id, public: bool):
    """The customer's timeline (public stages) or the staff's (every move, with notes)."""
    return tx.all(TIMELINE, (repair_order_id, public))


def add_findings(tx, repair_order_id, findings, diagnosed_by):
    """The findings of one diagnosis, in one statement."""
    if not findings:
        return
    tx.execute("INSERT INTO findings (repair_order_id, code, description, status, reading, standard, diagnosed_by)"
               " VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(findings)),
               tuple(v for f in findings for v in (repair_order_id, f.get("code"), f["description"], f["status"],
                                                   f.get("reading"), f.get("standard"), diagnosed_by)))


def close_quote(tx, quote):
    """A quote no longer open (domain.Quote: superseded, withdrawn)."""
    # before the new quote is written: a new open quote must not meet the old one in the one-open-quote index
    tx.execute("UPDATE quotes SET status = %s WHERE quote_id = %s AND status = 'open'", (quote.status, quote.quote_id))


def insert_quote(tx, repair_order_id, branch_id, quote):
    """The quote (a domain.Quote) and its lines: one statement."""
    lines = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(quote.lines))
    tx.execute("WITH quote AS (INSERT INTO quotes (quote_id, repair_order_id, branch_id, status, total_cents, kind,"
               " estimate) VALUES (%s, %s, %s, %s, %s, %s, %s))"
               ' INSERT INTO quote_lines (line_id, quote_id, position, kind, "group", description, part_number,'
               f" quantity, unit_price_cents, net_cents, pay_type, keep_for_customer, option, origin, warranty_months,"
               f" warranty_km) VALUES {lines}",
               (quote.quote_id, repair_order_id, branch_id, quote.status, quote.total_cents, quote.kind,
                Jsonb(quote.estimate) if quote.estimate else None,
                *(v for position, line in enumerate(quote.lines)
                  for v in (line["line_id"], quote.quote_id, position, line["kind"], line["group"],
                            line["description"], line["part_number"], line["quantity"], line["unit_price_cents"],
                            line["net_cents"], line["pay_type"], bool(line.get("keep_for_customer")),
                            line.get("option"), line.get("origin"), line.get("warranty_months"),
                            line.get("warranty_km")))))


def quote_with_lines(tx, quote_id) -> dict | None:
    quote, lines = tx.batch(("SELECT * FROM quotes WHERE quote_id = %s", (quote_id,)),
                            (LINES + " WHERE quote_id = %s ORDER BY position", (quote_id,)))
    return {**quote[0], "lines": lines} if quote else None


def lines_of_quotes(tx, quote_ids) -> dict:
    """quote id -> its lines in order, for a page of quotes: one query, not one per quote."""
    by_quote = {quote_id: [] for quote_id in quote_ids}
    for line in tx.all(LINES.replace("SELECT ", "SELECT quote_id, ", 1) + " WHERE quote_id = ANY(%s)"
                       " ORDER BY quote_id, position", (list(quote_ids),)):
        by_quote[line.pop("quote_id")].append(line)
    return by_quote


def decide_quote(tx, quote, approved_lines, consent):
    """The customer's answer to a quote (a domain.Quote): each line's decision, the consent."""
    tx.execute("UPDATE quote_lines SET decision = CASE WHEN line_id = ANY(%s) THEN 'approved' ELSE 'declined' END"
               " WHERE quote_id = %s", ([l["line_id"] for l in approved_lines], quote.quote_id))
    tx.execute("UPDATE quotes SET status = %s, consent_method = %s, consent_by = %s,"
               " decided_at = clock_timestamp() WHERE quote_id = %s",
               (quote.status, consent["method"], consent["by"], quote.quote_id))


APPROVED_LINES = ('SELECT l.line_id, l.quote_id, l.kind, l."group", l.description, l.part_number, l.quantity,'
                  f" l.unit_price_cents, l.net_cents, l.pay_type, l.keep_for_customer, {_terms('l.')} FROM quote_lines l"
                  " JOIN quotes q USING (quote_id) WHERE q.repair_order_id = %s AND q.status = 'approved'"
                  " AND l.decision = 'approved' ORDER BY q.created_at, l.position")


def approved_lines(tx, repair_order_id):
    return tx.all(APPROVED_LINES, (repair_order_id,))


def insert_job(tx, repair_order_id, branch_id, job):
    """A job (a domain.Job) as stored."""
    return tx.one("INSERT INTO jobs (job_id, repair_order_id, branch_id, technician_id, description, started_at)"
                  " VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                  (job.job_id, repair_order_id, branch_id, job.technician_id, job.description, job.started_at))


def save_job(tx, job):
    """A job (a domain.Job) paused, resumed or finished, as stored."""
    return tx.one("UPDATE jobs SET finished_at = %s, notes = %s, clocked_seconds = %s, paused_at = %s,"
                  " paused_seconds = %s, pause_reason = %s WHERE job_id = %s RETURNING *",
                  (job.finished_at, job.notes, job.clocked_seconds, job.paused_at, job.paused_seconds,
                   job.pause_reason, job.job_id))


def save_changed_jobs(tx, ro):
    """The jobs a command on the repair order paused, resumed or finished (a hold pauses them all)."""
    for job in ro.jobs:
        if job.changed:
            save_job(tx, job)
            job.changed = False


def lock_technician(tx, technician_id):
    """Hold the technician's clock for this transaction: two clock-ons by one technician at once, on
    any repair orders, take turns, so the second sees the first's running job (read committed)."""
    tx.one("SELECT pg_advisory_xact_lock(hashtextextended('workshop.technician:' || %s, 0))", (technician_id,))


def running_job(tx, technician_id) -> dict | None:
    """The technician's running job, on any repair order: job_id, repair_order_id, number."""
    return tx.one("SELECT j.job_id, j.repair_order_id, r.number FROM jobs j JOIN repair_orders r"
                  " USING (repair_order_id) WHERE j.technician_id = %s AND j.finished_at IS NULL"
                  " AND j.paused_at IS NULL", (technician_id,))


# started on the days from %s to %s (dates), counted in UTC
DAYS = ("started_at >= (%s::date)::timestamp AT TIME ZONE 'UTC'"
        " AND started_at < (%s::date + 1)::timestamp AT TIME ZONE 'UTC'")


def period_jobs(tx, branch_id, day_from, day_to):
    """The jobs of a branch started in [day_from, day_to] (dates, UTC), and every job of their repair
    orders with the order's approved labour hours: what technician_time needs, one round trip."""
    window = (branch_id, day_from, day_to)
    in_period = f"SELECT * FROM jobs WHERE branch_id = %s AND {DAYS}"
    orders = f"SELECT DISTINCT repair_order_id FROM ({in_period}) p"
    jobs_, of_orders, labour = tx.batch(
        (in_period + " ORDER BY started_at", window),
        (f"SELECT * FROM jobs WHERE repair_order_id IN ({orders})", window),
        ("SELECT q.repair_order_id, sum(l.quantity) AS hours FROM quote_lines l JOIN quotes q USING (quote_id)"
         f" WHERE q.repair_order_id IN ({orders}) AND q.status = 'approved' AND l.decision = 'approved'"
         " AND l.kind = 'labour' GROUP BY q.repair_order_id", window))
    return jobs_, of_orders, {r["repair_order_id"]: float(r["hours"]) for r in labour}


def active_branches(tx, day_from, day_to) -> list[str]:
    return [r["branch_id"] for r in tx.all(f"SELECT DISTINCT branch_id FROM jobs WHERE {DAYS} ORDER BY branch_id",
                                           (day_from, day_to))]


def jobs(tx, repair_order_id):
    return tx.all(JOBS, (repair_order_id,))


def add_quality_checks(tx, repair_order_id, checked_by, done, notes, at):
    """The checks one request recorded ([(kind, passed)], a domain.RepairOrder's checks_done), one statement."""
    if not done:
        return
    tx.execute("INSERT INTO quality_checks (repair_order_id, checked_by, kind, passed, notes, at) VALUES "
               + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(done)),
               tuple(v for kind, passed in done for v in (repair_order_id, checked_by, kind, passed, notes, at)))


def quality_facts(tx, repair_order_id) -> tuple[list, set]:
    """What a quality check reads: the approved lines, and the kinds of check passed since the last failure."""
    key = (repair_order_id,)
    lines, passed = tx.batch(
        (APPROVED_LINES, key),
        ("SELECT DISTINCT kind FROM quality_checks WHERE repair_order_id = %s AND passed AND at > coalesce("
         "(SELECT max(at) FROM quality_checks WHERE repair_order_id = %s AND NOT passed), '-infinity')",
         (repair_order_id, repair_order_id)))
    return lines, {r["kind"] for r in passed}


def quality_checks(tx, repair_order_id):
    return tx.all("SELECT kind, checked_by, passed, notes, at FROM quality_checks WHERE repair_order_id = %s"
                  " ORDER BY id", (repair_order_id,))


def save_part_price(tx, part_number, description, price_cents, origin=None, warranty_months=None, warranty_km=None):
    tx.execute("INSERT INTO part_prices (part_number, description, price_cents, origin, warranty_months, warranty_km)"
               " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (part_number) DO UPDATE SET"
               " description = EXCLUDED.description, price_cents = EXCLUDED.price_cents, origin = EXCLUDED.origin,"
               " warranty_months = EXCLUDED.warranty_months, warranty_km = EXCLUDED.warranty_km",
               (part_number, description, price_cents, origin, warranty_months, warranty_km))


def part_catalogue(tx, part_numbers) -> dict:
    """Part number -> its price, origin and warranty terms as parts announced them (parts catalogue)."""
    rows = tx.all("SELECT part_number, price_cents, origin, warranty_months, warranty_km FROM part_prices"
                  " WHERE part_number = ANY(%s)", (list(part_numbers),))
    return {r["part_number"]: r for r in rows}


REPAIR_ORDERS = paging.Listing(RO, "repair_order_id", lookups=("customer_id", "vehicle_id"))
QUOTES = paging.Listing("SELECT * FROM quotes", "quote_id", lookups=("repair_order_id",))
JOBS_LIST = paging.Listing("SELECT * FROM jobs", "job_id", lookups=("repair_order_id", "technician_id"))


ENDED = ("delivered", "closed", "cancelled")  # an order in none of these is still in the workshop


def page_repair_orders(tx, filters):
    """?open=true: the orders still in the workshop (a board's one list instead of one per status)."""
    if filters.get("open") is None:
        return REPAIR_ORDERS.page(tx, filters)
    ended = ", ".join(f"'{status}'" for status in ENDED)  # written out: the partial index's predicate matches it
    return REPAIR_ORDERS.page(tx, filters, f" AND status {'NOT IN' if filters['open'] else 'IN'} ({ended})")


def page_quotes(tx, filters):
    return QUOTES.page(tx, filters)


def page_jobs(tx, filters):
    """?open=true: jobs not finished (clocked on or paused); false: finished ones."""
    if filters.get("open") is None:
        return JOBS_LIST.page(tx, filters)
    return JOBS_LIST.page(tx, filters, " AND finished_at IS NULL" if filters["open"] else " AND finished_at IS NOT NULL")


def settings(tx, branch_id) -> dict | None:
    return tx.one("SELECT * FROM workshop_settings WHERE branch_id = %s", (branch_id,))


def save_settings(tx, branch_id, changes: dict) -> dict:
    """Set the given settings of a branch (None: back to the default); the others stay."""
    columns = sorted(changes)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns) or "branch_id = EXCLUDED.branch_id"
    return tx.one(f"INSERT INTO workshop_settings (branch_id{''.join(', ' + c for c in columns)})"
                  f" VALUES (%s{', %s' * len(columns)}) ON CONFLICT (branch_id) DO UPDATE SET {sets},"
                  " updated_at = clock_timestamp() RETURNING *", (branch_id, *[changes[c] for c in columns]))


def delivered_due(tx, at, default_seconds, limit=200) -> list[dict]:
    """Delivered orders whose branch's time after delivery has passed, locked; those another
    process is closing are skipped. Each row carries its branch's setting (`after_seconds`)."""
    return tx.all("SELECT r.*, coalesce(s.close_after_delivery_seconds, %s) AS after_seconds"
                  " FROM repair_orders r LEFT JOIN workshop_settings s USING (branch_id)"
                  " WHERE r.status = 'delivered' AND r.delivered_at"
                  " + make_interval(secs => coalesce(s.close_after_delivery_seconds, %s)) <= %s"
                  " ORDER BY r.delivered_at LIMIT %s FOR UPDATE OF r SKIP LOCKED",
                  (default_seconds, default_seconds, at, limit))


def declined_lines(tx, filters) -> list[dict]:
    """Lines customers declined, newest first, for later reminders: by customer or vehicle, in scope."""
    sql = ('SELECT l.line_id, l.kind, l."group", l.description, l.part_number, l.quantity, l.unit_price_cents,'
           " l.net_cents, l.pay_type, q.quote_id, q.kind AS quote_kind, q.decided_at, r.repair_order_id, r.number,"
           " r.branch_id, r.customer_id, r.vehicle_id FROM repair_orders r JOIN quotes q USING (repair_order_id)"
           " JOIN quote_lines l ON l.quote_id = q.quote_id AND l.decision = 'declined' WHERE true")
    params = []
    for column in ("customer_id", "vehicle_id", "branch_id"):
        if filters.get(column) is not None:
            sql += f" AND r.{column} = %s"
            params.append(filters[column])
    if filters.get("branch_ids") is not None:
        sql += " AND r.branch_id = ANY(%s)"
        params.append(list(filters["branch_ids"]))
    return tx.all(sql + " ORDER BY q.decided_at DESC, l.position LIMIT %s", (*params, filters["limit"]))


def open_quote_of(tx, repair_order_id) -> dict | None:
    """The quote or supplement waiting for the customer's decision, if any."""
    return tx.one("SELECT quote_id, kind FROM quotes WHERE repair_order_id = %s AND status = 'open'", (repair_order_id,))


def promised_at(tx, repair_order_id):
    """The time promised to the customer: the running repair promise's deadline (SLA engine)."""
    row = tx.one("SELECT deadline FROM sla_clocks WHERE policy = 'repair_promise' AND subject_id = %s"
                 " AND state IN ('running', 'paused') ORDER BY started_at DESC LIMIT 1", (str(repair_order_id),))
    return row["deadline"] if row else None


def open_supplement(tx, repair_order_id) -> dict | None:
    return tx.one("SELECT quote_id, total_cents FROM quotes WHERE repair_order_id = %s AND status = 'open'"
                  " AND kind = 'supplement'", (repair_order_id,))


def delivered_of_vehicle(tx, vehicle_id, since) -> list[dict]:
    """The vehicle's orders delivered since `since` (a comeback looks back at them)."""
    return tx.all("SELECT repair_order_id, number, fault_family, delivered_at FROM repair_orders"
                  " WHERE vehicle_id = %s AND delivered_at >= %s", (vehicle_id, since))


def mark_comeback(tx, repair_order_id, previous_id):
    tx.execute("UPDATE repair_orders SET comeback_of = %s WHERE repair_order_id = %s", (previous_id, repair_order_id))


def first_time_fix(tx, branch_id, day_from, day_to) -> dict:
    """Orders of a branch delivered on the days from..to (UTC), and how many of them came back."""
    return tx.one("SELECT count(*) AS delivered, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM repair_orders c"
                  " WHERE c.comeback_of = r.repair_order_id)) AS came_back FROM repair_orders r"
                  " WHERE r.branch_id = %s AND r.delivered_at >= (%s::date)::timestamp AT TIME ZONE 'UTC'"
                  " AND r.delivered_at < (%s::date + 1)::timestamp AT TIME ZONE 'UTC'", (branch_id, day_from, day_to))


def delivering_branches(tx, since) -> list[str]:
    return [r["branch_id"] for r in tx.all("SELECT DISTINCT branch_id FROM repair_orders WHERE delivered_at >= %s"
                                           " ORDER BY branch_id", (since,))]


def due_for_customer(tx, at, every_default, threshold_default, estimate_default, limit=200) -> list[dict]:
    """Orders whose customer is owed word now, locked (those a command holds are skipped): work
    running and no update for the branch's interval, or approved work 20 % (the branch's threshold)
    past its estimate and not told yet. Each row carries its branch's settings."""
    return tx.all("SELECT r.*, s.progress_every_seconds, s.delay_threshold_pct FROM repair_orders r"
                  " LEFT JOIN workshop_settings s USING (branch_id) WHERE r.status IN"
                  " ('approved', 'waiting_for_parts', 'in_progress', 'on_hold', 'quality_check')"
                  " AND ((r.status = 'in_progress' AND coalesce(r.last_progress_at, r.approved_at)"
                  "       + make_interval(secs => coalesce(s.progress_every_seconds, %s)) <= %s)"
                  "  OR (r.delayed_at IS NULL AND r.approved_at + make_interval(secs => coalesce(r.estimate_seconds,"
                  "       %s) * (1 + coalesce(s.delay_threshold_pct, %s) / 100.0)) < %s))"
                  " ORDER BY r.updated_at LIMIT %s FOR UPDATE OF r SKIP LOCKED",
                  (every_default, at, estimate_default, threshold_default, at, limit))
