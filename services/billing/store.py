"""The billing schema's SQL; nothing else touches these tables."""
from psycopg.types.json import Jsonb

from shared.storage import paging


def next_number(tx, branch_id) -> str:
    """The branch's next invoice number. The counter stays in SQL, one atomic upsert whose row lock
    holds until commit: two invoices issued at once at one branch never draw the same number, and a
    transaction that rolls back gives its number back (no gap). Call it as the transaction's LAST
    step, so the lock is held only for the commit."""
    row = tx.one("INSERT INTO number_counters AS c (branch_id, last) VALUES (%s, 1)"
                 " ON CONFLICT (branch_id) DO UPDATE SET last = c.last + 1 RETURNING last", (branch_id,))
    return f"INV-{branch_id}-{row['last']:06d}"


def set_number(tx, invoice_id, number):
    """An invoice's number, set once: the WHERE keeps an issued number from ever being changed."""
    return tx.one("UPDATE invoices SET number = %s WHERE invoice_id = %s AND number IS NULL RETURNING *",
                  (number, invoice_id))


def next_credit_note_number(tx, branch_id) -> str:
    """The branch's next credit note number, gapless like invoices' (same lock, taken last)."""
    row = tx.one("INSERT INTO credit_note_counters AS c (branch_id, last) VALUES (%s, 1)"
                 " ON CONFLICT (branch_id) DO UPDATE SET last = c.last + 1 RETURNING last", (branch_id,))
    return f"CN-{branch_id}-{row['last']:06d}"


def insert_invoice(tx, invoice, lines):
    row = tx.one(
        "INSERT INTO invoices (invoice_id, number, repair_order_id, branch_id, customer_id, subtotal_cents,"
        " tax_rate_bp, tax_cents, total_cents, covered_cents, status, issued_at, discount_cents) VALUES"
        " (%(invoice_id)s, %(number)s, %(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(subtotal_cents)s,"
        " %(tax_rate_bp)s, %(tax_cents)s, %(total_cents)s, %(covered_cents)s, 'issued', %(issued_at)s,"
        " %(discount_cents)s)"
        " ON CONFLICT (repair_order_id) DO NOTHING RETURNING *", invoice)
    if row is None:
        return None
    for position, line in enumerate(lines):
        tx.execute(
            "INSERT INTO invoice_lines (invoice_id, position, line_id, kind, description, part_number, quantity,"
            " unit_price_cents, net_cents, pay_type, charged_cents, approved_cents, billing_note, discount_cents,"
            " tax_cents, warranty_eligible, warranty_reason) VALUES (%(invoice_id)s, %(position)s,"
            " %(line_id)s, %(kind)s, %(description)s, %(part_number)s, %(quantity)s, %(unit_price_cents)s,"
            " %(net_cents)s, %(pay_type)s, %(charged_cents)s, %(approved_cents)s, %(billing_note)s,"
            " %(discount_cents)s, %(tax_cents)s, %(warranty_eligible)s, %(warranty_reason)s)",
            {**line, "invoice_id": row["invoice_id"], "position": position})
    return row


def invoice(tx, invoice_id, lock=False):
    return tx.one("SELECT * FROM invoices WHERE invoice_id = %s" + (" FOR UPDATE" if lock else ""), (invoice_id,))


def invoice_for_repair_order(tx, repair_order_id):
    return tx.one("SELECT * FROM invoices WHERE repair_order_id = %s", (repair_order_id,))


def lines(tx, invoice_id):
    return tx.all("SELECT line_id, kind, description, part_number, quantity, unit_price_cents, net_cents,"
                  " pay_type, charged_cents, approved_cents, billing_note, discount_cents, tax_cents,"
                  " warranty_eligible, warranty_reason FROM invoice_lines WHERE invoice_id = %s ORDER BY position",
                  (invoice_id,))


def insert_payment(tx, p):
    return tx.one("INSERT INTO payments (payment_id, invoice_id, branch_id, amount_cents, method, reference,"
                  " credit_note_id) VALUES (%(payment_id)s, %(invoice_id)s, %(branch_id)s, %(amount_cents)s,"
                  " %(method)s, %(reference)s, %(credit_note_id)s) RETURNING *", p)


def save_payments(tx, invoice):
    """What the invoice's payments changed: the amount paid, and its status and time once paid."""
    return tx.one("UPDATE invoices SET paid_cents = %s, status = %s, paid_at = %s WHERE invoice_id = %s RETURNING *",
                  (invoice.paid_cents, invoice.status, invoice.paid_at, invoice.invoice_id))


def claim(tx, claim_id, lock=False):
    return tx.one("SELECT * FROM warranty_claims WHERE claim_id = %s" + (" FOR UPDATE" if lock else ""), (claim_id,))


def save_claim_steps(tx, claim):
    return tx.one("UPDATE warranty_claims SET status = %s, steps = %s WHERE claim_id = %s RETURNING *",
                  (claim.status, Jsonb(claim.steps), claim.claim_id))


def insert_claim(tx, claim):
    tx.execute("INSERT INTO warranty_claims (claim_id, repair_order_id, invoice_id, branch_id, value_cents, lines)"
               " VALUES (%(claim_id)s, %(repair_order_id)s, %(invoice_id)s, %(branch_id)s, %(value_cents)s,"
               " %(lines)s) ON CONFLICT (repair_order_id) DO NOTHING", {**claim, "lines": Jsonb(claim["lines"])})


# -- what billing keeps from other services' events ------------------------------------------------------
def save_repair_order(tx, ro):
    tx.execute("INSERT INTO repair_orders (repair_order_id, branch_id, customer_id, vehicle_id, number, plate)"
               " VALUES (%(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(vehicle_id)s, %(number)s, %(plate)s)"
               " ON CONFLICT (repair_order_id) DO NOTHING", ro)


def repair_order(tx, repair_order_id, lock=False):
    return tx.one("SELECT * FROM repair_orders WHERE repair_order_id = %s" + (" FOR UPDATE" if lock else ""),
                  (repair_order_id,))


def add_findings(tx, repair_order_id, findings):
    tx.execute("UPDATE repair_orders SET findings = findings || %s WHERE repair_order_id = %s",
               (Jsonb(findings), repair_order_id))


def add_clocked(tx, repair_order_id, seconds):
    tx.execute("UPDATE repair_orders SET clocked_seconds = clocked_seconds + %s WHERE repair_order_id = %s",
               (seconds, repair_order_id))


def save_approved_lines(tx, repair_order_id, quote_id, lines):
    """Approved lines, by line id: a later approval of the same line (a supplement) replaces it."""
    for line in lines:
        tx.execute("INSERT INTO approved_lines (repair_order_id, line_id, quote_id, line, net_cents)"
                   " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (repair_order_id, line_id) DO UPDATE"
                   " SET quote_id = EXCLUDED.quote_id, line = EXCLUDED.line, net_cents = EXCLUDED.net_cents",
                   (repair_order_id, line["line_id"], quote_id, Jsonb(line), line["net_cents"]))


def approvals(tx, repair_order_id) -> list[dict]:
    """Each approved line ({line}) with the quote or supplement it was approved in ({quote_id})."""
    return tx.all("SELECT quote_id, line FROM approved_lines WHERE repair_order_id = %s", (repair_order_id,))


def approved_lines(tx, repair_order_id) -> list[dict]:
    return [a["line"] for a in approvals(tx, repair_order_id)]


def insert_discount(tx, d):
    return tx.one("INSERT INTO discounts (discount_id, repair_order_id, branch_id, line_id, percent_bp,"
                  " amount_cents, reason, created_by) VALUES (%(discount_id)s, %(repair_order_id)s, %(branch_id)s,"
                  " %(line_id)s, %(percent_bp)s, %(amount_cents)s, %(reason)s, %(created_by)s) RETURNING *", d)


def discounts(tx, repair_order_id):
    return tx.all("SELECT * FROM discounts WHERE repair_order_id = %s ORDER BY created_at", (repair_order_id,))


def insert_warranty_check(tx, c):
    return tx.one("INSERT INTO warranty_checks (check_id, repair_order_id, line_id, branch_id, eligible, reason,"
                  " terms, installed_on, ends_on, odometer_km, exclusions, decided_by) VALUES (%(check_id)s,"
                  " %(repair_order_id)s, %(line_id)s, %(branch_id)s, %(eligible)s, %(reason)s, %(terms)s,"
                  " %(installed_on)s, %(ends_on)s, %(odometer_km)s, %(exclusions)s, %(decided_by)s) RETURNING *", c)


def warranty_decisions(tx, repair_order_id) -> dict:
    """The latest decision per line of a repair order."""
    rows = tx.all("SELECT DISTINCT ON (line_id) * FROM warranty_checks WHERE repair_order_id = %s"
                  " ORDER BY line_id, decided_at DESC, check_id", (repair_order_id,))
    return {str(r["line_id"]): r for r in rows}


def warranty_checks(tx, repair_order_id):
    return tx.all("SELECT * FROM warranty_checks WHERE repair_order_id = %s ORDER BY decided_at, check_id",
                  (repair_order_id,))


def installed_part(tx, vehicle_id, part_number):
    """The vehicle's latest invoiced fitting of this part (billing's warranty register), if any."""
    return tx.one("SELECT * FROM warranty_register WHERE vehicle_id = %s AND part_number = %s"
                  " ORDER BY installed_on DESC LIMIT 1", (vehicle_id, part_number))


def register_parts(tx, entries):
    for e in entries:
        tx.execute("INSERT INTO warranty_register (invoice_id, line_id, branch_id, customer_id, vehicle_id,"
                   " part_number, terms, installed_on, ends_on) VALUES (%(invoice_id)s, %(line_id)s, %(branch_id)s,"
                   " %(customer_id)s, %(vehicle_id)s, %(part_number)s, %(terms)s, %(installed_on)s, %(ends_on)s)"
                   " ON CONFLICT DO NOTHING", e)


def claim_warranties_ending(tx, before, limit=100):
    """Warranties ending before `before` not yet reminded, claimed so only one process reminds each."""
    return tx.all("UPDATE warranty_register SET reminded_at = now() WHERE (invoice_id, line_id) IN ("
                  " SELECT invoice_id, line_id FROM warranty_register WHERE reminded_at IS NULL AND ends_on <= %s"
                  " AND ends_on >= current_date ORDER BY ends_on LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *",
                  (before, limit))


def save_complaint(tx, c, opened=False):
    """crm's events reach billing on separate queues, so in any order: a level only ever rises, and the
    opening never overwrites a status a later event set."""
    tx.execute("INSERT INTO complaints (complaint_id, branch_id, customer_id, level, status) VALUES"
               " (%(complaint_id)s, %(branch_id)s, %(customer_id)s, %(level)s, %(status)s)"
               " ON CONFLICT (complaint_id) DO UPDATE SET level = GREATEST(complaints.level, EXCLUDED.level),"
               " status = CASE WHEN %(opened)s THEN complaints.status ELSE EXCLUDED.status END",
               {**c, "opened": opened})


def complaint(tx, complaint_id):
    return tx.one("SELECT * FROM complaints WHERE complaint_id = %s", (complaint_id,))


def credit_authority(tx) -> dict:
    return {r["level"]: r["limit_cents"] for r in tx.all("SELECT * FROM credit_authority ORDER BY level")}


def save_credit_authority(tx, limits: dict):
    for level, limit in limits.items():
        tx.execute("INSERT INTO credit_authority (level, limit_cents) VALUES (%s, %s) ON CONFLICT (level)"
                   " DO UPDATE SET limit_cents = EXCLUDED.limit_cents", (level, limit))


def insert_credit_note(tx, n):
    return tx.one("INSERT INTO credit_notes (credit_note_id, number, invoice_id, complaint_id, branch_id,"
                  " customer_id, amount_cents, kind, reason, level, created_by) VALUES (%(credit_note_id)s,"
                  " %(number)s, %(invoice_id)s, %(complaint_id)s, %(branch_id)s, %(customer_id)s, %(amount_cents)s,"
                  " %(kind)s, %(reason)s, %(level)s, %(created_by)s) RETURNING *", n)


def set_credit_note_number(tx, credit_note_id, number):
    return tx.one("UPDATE credit_notes SET number = %s WHERE credit_note_id = %s AND number IS NULL RETURNING *",
                  (number, credit_note_id))


def credit_note(tx, credit_note_id, lock=False):
    return tx.one("SELECT * FROM credit_notes WHERE credit_note_id = %s" + (" FOR UPDATE" if lock else ""),
                  (credit_note_id,))


def credit_notes_of(tx, invoice_id):
    return tx.all("SELECT * FROM credit_notes WHERE invoice_id = %s ORDER BY created_at", (invoice_id,))


def payments_of(tx, invoice_id):
    return tx.all("SELECT * FROM payments WHERE invoice_id = %s ORDER BY created_at, payment_id", (invoice_id,))


def save_credited(tx, invoice_id, credited_cents):
    tx.execute("UPDATE invoices SET credited_cents = %s WHERE invoice_id = %s", (credited_cents, invoice_id))


def save_refunded(tx, credit_note_id, refunded_cents):
    tx.execute("UPDATE credit_notes SET refunded_cents = %s WHERE credit_note_id = %s",
               (refunded_cents, credit_note_id))


CREDIT_NOTES = paging.Listing("SELECT * FROM credit_notes", "credit_note_id",
                              lookups=("invoice_id", "complaint_id"))


def page_credit_notes(tx, filters):
    return CREDIT_NOTES.page(tx, filters)


INVOICES = paging.Listing("SELECT * FROM invoices", "invoice_id", lookups=("customer_id", "repair_order_id"))
PAYMENTS = paging.Listing("SELECT * FROM payments", "payment_id", lookups=("invoice_id",))
CLAIMS = paging.Listing("SELECT * FROM warranty_claims", "claim_id", lookups=("repair_order_id",))


def page_invoices(tx, filters):
    return INVOICES.page(tx, filters)


def page_payments(tx, filters):
    return PAYMENTS.page(tx, filters)


def page_claims(tx, filters):
    return CLAIMS.page(tx, filters)
