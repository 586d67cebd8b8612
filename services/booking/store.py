"""The booking schema's SQL; nothing else touches these tables."""
from shared.storage import paging

BOOKING_COLUMNS = (
    "booking_id, branch_id, customer_id, vehicle_id, slot_start, slot_end, service_type, priority,"
    " channel, symptoms, status, advisor, odometer_km, fault_description, requested_at,"
    " confirmed_at, checked_in_at, cancelled_at, created_at, updated_at"
)


def save_capacity(tx, branch_id: str, bays: int, slot_minutes: int):
    tx.execute(
        "INSERT INTO branch_capacity (branch_id, bays, slot_minutes) VALUES (%s, %s, %s)"
        " ON CONFLICT (branch_id) DO UPDATE SET bays = EXCLUDED.bays, slot_minutes = EXCLUDED.slot_minutes",
        (branch_id, bays, slot_minutes),
    )


def branch_with_capacity(tx, branch_id: str) -> dict | None:
    return tx.one(
        "SELECT b.*, c.bays, c.slot_minutes FROM branches b JOIN branch_capacity c USING (branch_id)"
        " WHERE b.branch_id = %s",
        (branch_id,),
    )


def list_branches(tx) -> list[dict]:
    return tx.all(
        "SELECT b.*, c.bays, c.slot_minutes FROM branches b JOIN branch_capacity c USING (branch_id)"
        " ORDER BY b.region_id, b.branch_id"
    )


def set_slot_override(tx, branch_id, slot_start, capacity):
    tx.execute(
        "INSERT INTO slot_overrides (branch_id, slot_start, capacity) VALUES (%s, %s, %s)"
        " ON CONFLICT (branch_id, slot_start) DO UPDATE SET capacity = EXCLUDED.capacity",
        (branch_id, slot_start, capacity),
    )


def slot_overrides(tx, branch_id, starts) -> dict:
    rows = tx.all(
        "SELECT slot_start, capacity FROM slot_overrides WHERE branch_id = %s AND slot_start = ANY(%s)",
        (branch_id, list(starts)),
    )
    return {r["slot_start"]: r["capacity"] for r in rows}


def slot_loads(tx, branch_id, starts) -> dict:
    rows = tx.all(
        "SELECT slot_start, booked FROM slot_load WHERE branch_id = %s AND slot_start = ANY(%s)",
        (branch_id, list(starts)),
    )
    return {r["slot_start"]: r["booked"] for r in rows}


def take_slot(tx, branch_id, slot_start) -> bool:
    """Count one more booking in the slot if it has room; atomic under concurrent bookings.

    This rule stays in SQL: "no slot is ever overbooked, even when two advisors book at the same
    moment" holds only if the room is checked and the place taken in one statement, on the slot's
    row under its lock. Read first and decided in Python, two advisors could both see the last
    place free. The room is the slot's own maximum if the branch set one, else one booking per bay
    (domain.slot_capacity), read in the same statement that counts the booking: never from a
    copy of the branch's settings that a moment ago was changed. False: the slot is full.
    """
    return bool(tx.all(*taking_slot(branch_id, slot_start)))


def taking_slot(branch_id, slot_start) -> tuple[str, tuple]:
    """take_slot's statement, to send with other writes (Transaction.publish_recorded's `along`):
    a row when the place was taken, none when the slot is full."""
    return ("WITH cap AS (SELECT COALESCE((SELECT capacity FROM slot_overrides WHERE branch_id = %s"
            " AND slot_start = %s), (SELECT bays FROM branch_capacity WHERE branch_id = %s)) AS room)"
            " INSERT INTO slot_load AS s (branch_id, slot_start, booked) SELECT %s, %s, 1 FROM cap"
            " WHERE room > 0 ON CONFLICT (branch_id, slot_start) DO UPDATE SET booked = s.booked + 1"
            " WHERE s.booked < (SELECT room FROM cap) RETURNING booked",
            (branch_id, slot_start, branch_id, branch_id, slot_start))


def free_slot(tx, branch_id, slot_start):
    tx.execute(
        "UPDATE slot_load SET booked = booked - 1 WHERE branch_id = %s AND slot_start = %s AND booked > 0",
        (branch_id, slot_start),
    )


def save_vehicle(tx, vehicle_id, customer_id, plate, branch_id):
    tx.execute(
        "INSERT INTO vehicles (vehicle_id, customer_id, plate, branch_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (vehicle_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, plate = EXCLUDED.plate,"
        " branch_id = EXCLUDED.branch_id",
        (vehicle_id, customer_id, plate, branch_id),
    )


def vehicle(tx, vehicle_id) -> dict | None:
    return tx.one("SELECT * FROM vehicles WHERE vehicle_id = %s", (vehicle_id,))


def plate(tx, vehicle_id) -> str:
    known = vehicle(tx, vehicle_id)
    return known["plate"] if known else ""


def insert_booking(tx, booking: dict, vehicle_checked: bool = True, vehicle_branches=None) -> dict | None:
    """The new booking and the first line of its history, in one statement.

    Unless `vehicle_checked`, the booking is written only if our copy of the vehicle belongs to
    the booking's customer (and, given `vehicle_branches`, to one of those branches), in the same
    statement; None means it is not, or the copy cannot tell. This only saves the round trip of
    reading the vehicle first for the usual booking: the rules themselves are
    domain.Booking.check_vehicle and the caller's scope, which the service applies when this says None.
    """
    guard = "" if vehicle_checked else (" WHERE EXISTS (SELECT 1 FROM vehicles WHERE vehicle_id = %(vehicle_id)s"
                                        " AND customer_id = %(customer_id)s")
    if not vehicle_checked:
        guard += ")" if vehicle_branches is None else " AND branch_id = ANY(%(vehicle_branches)s))"
        booking = {**booking, "vehicle_branches": sorted(vehicle_branches or ())}
    return tx.one(
        "WITH created AS (INSERT INTO bookings (booking_id, branch_id, customer_id, vehicle_id, slot_start,"
        " slot_end, service_type, priority, channel, symptoms, status, requested_at)"
        " SELECT %(booking_id)s, %(branch_id)s, %(customer_id)s, %(vehicle_id)s, %(slot_start)s,"
        " %(slot_end)s, %(service_type)s, %(priority)s, %(channel)s, %(symptoms)s, %(status)s,"
        f" %(requested_at)s{guard} RETURNING {BOOKING_COLUMNS}),"
        " first AS (INSERT INTO booking_history (booking_id, from_status, to_status, slot_start, note)"
        " SELECT booking_id, NULL, status, slot_start, 'requested' FROM created)"
        " SELECT * FROM created",
        booking,
    )


def booking(tx, booking_id, lock: bool = False) -> dict | None:
    sql = f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE booking_id = %s"
    return tx.one(sql + (" FOR UPDATE" if lock else ""), (booking_id,))


def save_booking(tx, booking):
    """What a command changed on a domain.Booking, and the history lines it added: one statement."""
    row = booking.row()
    update = ("UPDATE bookings SET status = %s, slot_start = %s, slot_end = %s, confirmed_at = %s, checked_in_at = %s,"
              " cancelled_at = %s, advisor = %s, odometer_km = %s, fault_description = %s,"
              " updated_at = clock_timestamp() WHERE booking_id = %s",
              tuple(row[k] for k in ("status", "slot_start", "slot_end", "confirmed_at", "checked_in_at", "cancelled_at",
                                     "advisor", "odometer_km", "fault_description", "booking_id")))
    lines, booking.history = booking.history, []
    history = [history_line(booking.booking_id, l.from_status, l.to_status, l.slot_start, l.note) for l in lines]
    tx.write_together(update, *history)


def history_line(booking_id, from_status, to_status, slot_start, note="") -> tuple[str, tuple]:
    return ("INSERT INTO booking_history (booking_id, from_status, to_status, slot_start, note)"
            " VALUES (%s, %s, %s, %s, %s)", (booking_id, from_status, to_status, slot_start, note))


HISTORY = "SELECT at, from_status, to_status, slot_start, note FROM booking_history WHERE booking_id = %s ORDER BY id"


def view(tx, booking_id) -> dict | None:
    """The booking with its history: one round trip."""
    found, history = tx.batch((f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE booking_id = %s", (booking_id,)),
                              (HISTORY, (booking_id,)))
    return {**found[0], "history": history} if found else None


BOOKINGS = paging.Listing(f"SELECT {BOOKING_COLUMNS} FROM bookings", "booking_id",
                          lookups=("customer_id", "vehicle_id"), time_column="slot_start")


def page_bookings(tx, filters: dict) -> dict:
    return BOOKINGS.page(tx, filters)
