"""The workshop schema's SQL; nothing else touches these tables."""
from shared.storage import paging

RO = "SELECT * FROM repair_orders"
LINES = ('SELECT line_id, kind, "group", description, part_number, quantity, unit_price_cents, net_cents,'
         " pay_type, decision FROM quote_lines")
FINDINGS = "SELECT code, description, status, diagnosed_by, at FROM findings WHERE repair_order_id = %s ORDER BY id"
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
        " plate, plate_key, priority, fault_description, odometer_km, status)"
        " VALUES (%(repair_order_id)s, %(number)s, %(branch_id)s, %(booking_id)s, %(customer_id)s,"
        " %(vehicle_id)s, %(plate)s, %(plate_key)s, %(priority)s, %(fault_description)s, %(odometer_km)s,"
        " %(status)s) ON CONFLICT (booking_id) DO NOTHING RETURNING *", ro)


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
    ro, quote, lines, found, done, stages = tx.batch(
        (RO + " WHERE repair_order_id = %s", key),
        (f"SELECT * FROM quotes WHERE quote_id = ({current})", key),
        (f"{LINES} WHERE quote_id = ({current}) ORDER BY position", key),
        (FINDINGS, key), (JOBS, key), (TIMELINE, (repair_order_id, False)))
    if not ro:
        return None
    return {**ro[0], "quote": {**quote[0], "lines": lines} if quote else None,
            "findings": found, "jobs": done, "timeline": stages}


def by_number(tx, number):
    return tx.one(RO + " WHERE number = %s", (number,))


def save_repair_order(tx, ro):
    """What a command changed on the repair order (a domain.RepairOrder), and its new timeline lines:
    one statement."""
    tx.write_together(("UPDATE repair_orders SET status = %s, parts_status = %s, approved_total_cents = %s,"
                       " delivered_at = %s, updated_at = clock_timestamp() WHERE repair_order_id = %s",
                       (ro.status, ro.parts_status, ro.approved_total_cents, ro.delivered_at, ro.repair_order_id)),
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
    tx.execute("INSERT INTO findings (repair_order_id, code, description, status, diagnosed_by) VALUES "
               + ", ".join(["(%s, %s, %s, %s, %s)"] * len(findings)),
               tuple(v for f in findings
                     for v in (repair_order_id, f.get("code"), f["description"], f["status"], diagnosed_by)))


def close_quote(tx, quote):
    """A quote no longer open (domain.Quote: superseded, withdrawn)."""
    # before the new quote is written: a new open quote must not meet the old one in the one-open-quote index
    tx.execute("UPDATE quotes SET status = %s WHERE quote_id = %s AND status = 'open'", (quote.status, quote.quote_id))


def insert_quote(tx, repair_order_id, branch_id, quote):
    """The quote (a domain.Quote) and its lines: one statement."""
    lines = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(quote.lines))
    tx.execute("WITH quote AS (INSERT INTO quotes (quote_id, repair_order_id, branch_id, status, total_cents)"
               " VALUES (%s, %s, %s, %s, %s))"
               ' INSERT INTO quote_lines (line_id, quote_id, position, kind, "group", description, part_number,'
               f" quantity, unit_price_cents, net_cents, pay_type) VALUES {lines}",
               (quote.quote_id, repair_order_id, branch_id, quote.status, quote.total_cents,
                *(v for position, line in enumerate(quote.lines)
                  for v in (line["line_id"], quote.quote_id, position, line["kind"], line["group"],
                            line["description"], line["part_number"], line["quantity"], line["unit_price_cents"],
                            line["net_cents"], line["pay_type"]))))


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


def approved_lines(tx, repair_order_id):
    return tx.all('SELECT l.line_id, l.kind, l."group", l.description, l.part_number, l.quantity,'
                  " l.unit_price_cents, l.net_cents, l.pay_type FROM quote_lines l JOIN quotes q USING (quote_id)"
                  " WHERE q.repair_order_id = %s AND q.status = 'approved' AND l.decision = 'approved'"
                  " ORDER BY q.created_at, l.position", (repair_order_id,))


def insert_job(tx, repair_order_id, branch_id, job):
    """A job (a domain.Job) as stored."""
    return tx.one("INSERT INTO jobs (job_id, repair_order_id, branch_id, technician_id, description, started_at)"
                  " VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                  (job.job_id, repair_order_id, branch_id, job.technician_id, job.description, job.started_at))


def finish_job(tx, job):
    """A finished job (a domain.Job) as stored."""
    return tx.one("UPDATE jobs SET finished_at = %s, notes = %s, clocked_seconds = %s WHERE job_id = %s RETURNING *",
                  (job.finished_at, job.notes, job.clocked_seconds, job.job_id))


def jobs(tx, repair_order_id):
    return tx.all(JOBS, (repair_order_id,))


def add_quality_check(tx, repair_order_id, checked_by, passed, notes, at):
    tx.execute("INSERT INTO quality_checks (repair_order_id, checked_by, passed, notes, at) VALUES (%s, %s, %s, %s, %s)",
               (repair_order_id, checked_by, passed, notes, at))


def save_part_price(tx, part_number, description, price_cents):
    tx.execute("INSERT INTO part_prices (part_number, description, price_cents) VALUES (%s, %s, %s)"
               " ON CONFLICT (part_number) DO UPDATE SET description = EXCLUDED.description,"
               " price_cents = EXCLUDED.price_cents", (part_number, description, price_cents))


def part_prices(tx, part_numbers) -> dict:
    rows = tx.all("SELECT part_number, price_cents FROM part_prices WHERE part_number = ANY(%s)",
                  (list(part_numbers),))
    return {r["part_number"]: r["price_cents"] for r in rows}


REPAIR_ORDERS = paging.Listing(RO, "repair_order_id", lookups=("customer_id", "vehicle_id"))
QUOTES = paging.Listing("SELECT * FROM quotes", "quote_id", lookups=("repair_order_id",))
JOBS_LIST = paging.Listing("SELECT * FROM jobs", "job_id", lookups=("repair_order_id", "technician_id"))


def page_repair_orders(tx, filters):
    return REPAIR_ORDERS.page(tx, filters)


def page_quotes(tx, filters):
    return QUOTES.page(tx, filters)


def page_jobs(tx, filters):
    return JOBS_LIST.page(tx, filters)
