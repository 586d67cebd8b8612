"""The SQL of messages to customers: consent, read models, templates, messages and their attempts."""
from shared.storage import paging


# -- the customer, as messages need them -------------------------------------------------------------
def customer(tx, customer_id):
    """The customer with their language ('en' unless crm's customer record says otherwise) and
    preferred channel. Language is read through to_jsonb so this works before the column exists."""
    return tx.one(
        "SELECT c.customer_id, c.branch_id, c.name, c.email, c.phone, c.consent_marketing,"
        " coalesce(to_jsonb(c) ->> 'language', 'en') AS language, p.preferred_channel"
        " FROM customers c LEFT JOIN message_preferences p USING (customer_id) WHERE c.customer_id = %s",
        (customer_id,))


def stated_consents(tx, customer_id, lock=False):
    return tx.all("SELECT channel, purpose, granted FROM message_consents WHERE customer_id = %s"
                  + (" FOR UPDATE" if lock else ""), (customer_id,))


def lock_customer(tx, customer_id):
    """Consent changes of one customer one after the other: the history reads in the order they won."""
    return tx.one("SELECT customer_id FROM customers WHERE customer_id = %s FOR UPDATE", (customer_id,))


def save_consents(tx, consents, preferred_channel, set_preferred: bool):
    for change in consents.changes:
        tx.execute(
            "INSERT INTO message_consents (customer_id, channel, purpose, granted)"
            " VALUES (%(customer_id)s, %(channel)s, %(purpose)s, %(granted)s)"
            " ON CONFLICT (customer_id, channel, purpose) DO UPDATE SET granted = EXCLUDED.granted", change)
        tx.execute(
            "INSERT INTO message_consent_changes (customer_id, channel, purpose, granted, changed_by, source,"
            " changed_at) VALUES (%(customer_id)s, %(channel)s, %(purpose)s, %(granted)s, %(changed_by)s,"
            " %(source)s, %(changed_at)s)", change)
    if set_preferred:
        tx.execute(
            "INSERT INTO message_preferences (customer_id, preferred_channel) VALUES (%s, %s)"
            " ON CONFLICT (customer_id) DO UPDATE SET preferred_channel = EXCLUDED.preferred_channel",
            (consents.customer_id, preferred_channel))


def consent_history(tx, customer_id):
    return tx.all("SELECT channel, purpose, granted, changed_by, source, changed_at FROM message_consent_changes"
                  " WHERE customer_id = %s ORDER BY id", (customer_id,))


# -- read models ----------------------------------------------------------------------------------------
def keep_booking(tx, b):
    tx.execute(
        "INSERT INTO message_bookings (booking_id, branch_id, customer_id, vehicle_id, service_type, slot_start)"
        " VALUES (%(booking_id)s, %(branch_id)s, %(customer_id)s, %(vehicle_id)s, %(service_type)s, %(slot_start)s)"
        " ON CONFLICT (booking_id) DO UPDATE SET slot_start = EXCLUDED.slot_start", b)


def move_booking(tx, booking_id, slot_start):
    tx.execute("UPDATE message_bookings SET slot_start = %s WHERE booking_id = %s", (slot_start, booking_id))


def booking(tx, booking_id):
    return tx.one("SELECT * FROM message_bookings WHERE booking_id = %s", (booking_id,))


def keep_order(tx, o):
    tx.execute(
        "INSERT INTO message_orders (repair_order_id, branch_id, customer_id, vehicle_id, number, plate, booking_id)"
        " VALUES (%(repair_order_id)s, %(branch_id)s, %(customer_id)s, %(vehicle_id)s, %(number)s, %(plate)s,"
        " %(booking_id)s) ON CONFLICT (repair_order_id) DO NOTHING", o)


def order(tx, repair_order_id):
    return tx.one("SELECT * FROM message_orders WHERE repair_order_id = %s", (repair_order_id,))


def branch_zone(tx, branch_id):
    row = tx.one("SELECT timezone, name FROM branches WHERE branch_id = %s", (branch_id,))
    return (row["timezone"], row["name"]) if row else ("UTC", branch_id)


# -- templates ---------------------------------------------------------------------------------------------
def branch_templates(tx, branch_id):
    return tx.all("SELECT key, language, subject, body FROM message_templates WHERE branch_id = %s", (branch_id,))


def branch_template(tx, branch_id, key, language):
    return tx.one("SELECT key, language, subject, body FROM message_templates"
                  " WHERE branch_id = %s AND key = %s AND language = %s", (branch_id, key, language))


def save_template(tx, branch_id, key, language, subject, body):
    tx.execute(
        "INSERT INTO message_templates (branch_id, key, language, subject, body) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (branch_id, key, language) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body,"
        " changed_at = clock_timestamp()", (branch_id, key, language, subject, body))


# -- messages ----------------------------------------------------------------------------------------------
_COLUMNS = ("message_id", "branch_id", "customer_id", "repair_order_id", "key", "purpose", "channel", "address",
            "subject", "body", "thing", "status", "reason", "attempts", "next_attempt_at")


def insert_message(tx, m: dict):
    """The message, unless one for the same thing exists (the unique key on `thing` decides): None then."""
    return tx.one(
        f"INSERT INTO messages ({', '.join(_COLUMNS)}) VALUES ({', '.join(f'%({c})s' for c in _COLUMNS)})"
        " ON CONFLICT (thing) DO NOTHING RETURNING *", m)


def message(tx, message_id, lock=False):
    return tx.one("SELECT * FROM messages WHERE message_id = %s" + (" FOR UPDATE" if lock else ""), (message_id,))


def claim_due(tx, at, lease_seconds: float, limit: int = 20):
    """Queued messages due now, claimed for `lease_seconds`: their next try moves past the lease, so
    another sender (another process) skips them, and one that died with them lets them come back.
    FOR UPDATE SKIP LOCKED: two senders claiming at once take different rows, never the same one."""
    return tx.all(
        "UPDATE messages SET next_attempt_at = %s + make_interval(secs => %s) WHERE message_id IN ("
        " SELECT message_id FROM messages WHERE status = 'queued' AND next_attempt_at <= %s"
        " ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *",
        (at, lease_seconds, at, limit))


def save_delivery(tx, m: dict):
    return tx.one(
        "UPDATE messages SET status = %(status)s, reason = %(reason)s, attempts = %(attempts)s,"
        " next_attempt_at = %(next_attempt_at)s WHERE message_id = %(message_id)s RETURNING *", m)


def add_attempt(tx, message_id, at, channel, result, answer):
    tx.execute("INSERT INTO message_attempts (message_id, at, channel, result, answer) VALUES (%s, %s, %s, %s, %s)",
               (message_id, at, channel, result, answer[:1000]))


def attempts(tx, message_id):
    return tx.all("SELECT at, channel, result, answer FROM message_attempts WHERE message_id = %s ORDER BY id",
                  (message_id,))


MESSAGES = paging.Listing("SELECT * FROM messages", "message_id", lookups=("customer_id",))


def messages_page(tx, customer_id, filters):
    return MESSAGES.page(tx, {**filters, "customer_id": customer_id})


# -- erasure and export (hooks of crm's erasure) --------------------------------------------------------------
def erase(tx, customer_id) -> dict:
    """The customer's addresses and the text of their messages go; that a message was sent, when, by
    which channel and with what result stays (the timeline keeps its shape)."""
    erased = tx.execute("UPDATE messages SET address = NULL, subject = '', body = '', erased = true"
                        " WHERE customer_id = %s", (customer_id,)).rowcount
    tx.execute("UPDATE message_attempts SET answer = '' WHERE message_id IN"
               " (SELECT message_id FROM messages WHERE customer_id = %s)", (customer_id,))
    tx.execute("DELETE FROM message_preferences WHERE customer_id = %s", (customer_id,))
    return {"messages": erased}


def export(tx, customer_id) -> dict:
    """Everything messages hold on a customer: their messages with attempts, consent and its history."""
    rows = tx.all("SELECT * FROM messages WHERE customer_id = %s ORDER BY created_at", (customer_id,))
    return {
        "messages": [{**row, "attempt_log": attempts(tx, row["message_id"])} for row in rows],
        "consents": stated_consents(tx, customer_id),
        "consent_history": consent_history(tx, customer_id),
        "preferred_channel": (tx.one("SELECT preferred_channel FROM message_preferences WHERE customer_id = %s",
                                     (customer_id,)) or {}).get("preferred_channel"),
    }
