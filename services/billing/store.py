"""The billing schema's SQL; nothing else touches these tables."""
from psycopg.types.json import Jsonb

from shared.storage import paging


def next_number(tx, branch_id) -> str:
    """The branch's next invoice number. The counter stays in SQL, one atomic upsert whose row lock
    holds until commit: two invoices issued at once at one branch never draw the same number."""
    row = tx.one("INSERT INTO number_counters AS c (branch_id, last) VALUES (%s, 1)"
                 " ON CONFLICT (branch_id) DO UPDATE SET last = c.last + 1 RETURNING last", (branch_id,))
    return f"INV-{branch_id}-{row['last']:06d}"


def insert_invoice(tx, invoice, lines):
    row = tx.one(
        "INSERT INTO invoices (invoice_id, number, repair_order_id, branch_id, customer_id, subtotal_cents,"
        " tax_rate_bp, tax_cents, total_cents, covered_cents, status, issued_at) VALUES (%(invoice_id)s,"
        " %(number)s, %(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(subtotal_cents)s, %(tax_rate_bp)s,"
        " %(tax_cents)s, %(total_cents)s, %(covered_cents)s, 'issued', %(issued_at)s)"
        " ON CONFLICT (repair_order_id) DO NOTHING RETURNING *", invoice)
    if row is None:
        return None
    for position, line in enumerate(lines):
        tx.execute(
            "INSERT INTO invoice_lines (invoice_id, position, line_id, kind, description, part_number, quantity,"
            " unit_price_cents, net_cents, pay_type, charged_cents) VALUES (%(invoice_id)s, %(position)s,"
            " %(line_id)s, %(kind)s, %(description)s, %(part_number)s, %(quantity)s, %(unit_price_cents)s,"
            " %(net_cents)s, %(pay_type)s, %(charged_cents)s)",
            {**line, "invoice_id": row["invoice_id"], "position": position})
    return row


def invoice(tx, invoice_id, lock=False):
    return tx.one("SELECT * FROM invoices WHERE invoice_id = %s" + (" FOR UPDATE" if lock else ""), (invoice_id,))


def invoice_for_repair_order(tx, repair_order_id):
    return tx.one("SELECT * FROM invoices WHERE repair_order_id = %s", (repair_order_id,))


def lines(tx, invoice_id):
    return tx.all("SELECT line_id, kind, description, part_number, quantity, unit_price_cents, net_cents,"
                  " pay_type, charged_cents FROM invoice_lines WHERE invoice_id = %s ORDER BY position",
                  (invoice_id,))


def insert_payment(tx, p):
    return tx.one("INSERT INTO payments (payment_id, invoice_id, branch_id, amount_cents, method, reference)"
                  " VALUES (%(payment_id)s, %(invoice_id)s, %(branch_id)s, %(amount_cents)s, %(method)s,"
                  " %(reference)s) RETURNING *", p)


def save_payments(tx, invoice):
    """What the invoice's payments changed: the amount paid, and its status and time once paid."""
    return tx.one("UPDATE invoices SET paid_cents = %s, status = %s, paid_at = %s WHERE invoice_id = %s RETURNING *",
                  (invoice.paid_cents, invoice.status, invoice.paid_at, invoice.invoice_id))


def insert_claim(tx, claim):
    tx.execute("INSERT INTO warranty_claims (claim_id, repair_order_id, invoice_id, branch_id, value_cents, lines)"
               " VALUES (%(claim_id)s, %(repair_order_id)s, %(invoice_id)s, %(branch_id)s, %(value_cents)s,"
               " %(lines)s) ON CONFLICT (repair_order_id) DO NOTHING", {**claim, "lines": Jsonb(claim["lines"])})


INVOICES = paging.Listing("SELECT * FROM invoices", "invoice_id", lookups=("customer_id", "repair_order_id"))
PAYMENTS = paging.Listing("SELECT * FROM payments", "payment_id", lookups=("invoice_id",))
CLAIMS = paging.Listing("SELECT * FROM warranty_claims", "claim_id", lookups=("repair_order_id",))


def page_invoices(tx, filters):
    return INVOICES.page(tx, filters)


def page_payments(tx, filters):
    return PAYMENTS.page(tx, filters)


def page_claims(tx, filters):
    return CLAIMS.page(tx, filters)
