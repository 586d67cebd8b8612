"""The booking schema's SQL; nothing else touches these tables."""
from psycopg.types.json import Jsonb

from shared.storage import paging

BOOKING_COLUMNS = (
    "booking_id, branch_id, customer_id, vehicle_id, slot_start, slot_end, service_type, priority,"
    " channel, symptoms, status, advisor, odometer_km, fault_description, requested_at,"
    " confirmed_at, checked_in_at, cancelled_at, created_at, updated_at, skill, labour_seconds,"
    " round(labour_seconds / 3600.0, 2) AS labour_hours, arrived_at, fuel_level_pct, charge_level_pct, damage,"
    " belongings, reschedule_requested_at, reschedule_offered_at, reschedule_offer, reminder_sent_at,"
    " apologies_sent, extras"
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


def take_slot(tx, branch_id, slot_start, slot_end=None, skill=None, seconds=0) -> bool:
    """Count one more booking, needing `seconds` of `skill`, in the slot if it has room; atomic under
    concurrent bookings.

    This rule stays in SQL: "no slot is ever overbooked, even when two advisors book at the same
    moment" holds only if the room is checked and the place taken in one statement, on the slot's
    row under its lock. Read first and decided in Python, two advisors could both see the last
    place free. The room is the slot's own maximum if the branch set one, else one booking per bay
    (domain.slot_capacity), and, at a branch with shifts, the technician seconds on shift in the
    slot, in all and with the skill (capacity.SlotRoom), less the seconds booked: all read in the
    same statement that counts the booking, never from a copy that a moment ago was changed.
    The skill's row is changed only after the slot's row is locked, so bookings of one slot
    queue on that lock. False: the slot is full (the caller rolls back what the statement did).
    """
    return bool(tx.all(*taking_slot(branch_id, slot_start, slot_end, skill, seconds)))


_ON_SHIFT = ("(SELECT COALESCE(sum(EXTRACT(EPOCH FROM LEAST(s.ends_at, %s) - GREATEST(s.starts_at, %s))), 0)"
             " FROM technician_shifts s JOIN technicians t USING (branch_id, technician_id)"
             " WHERE s.branch_id = %s AND s.starts_at < %s AND s.ends_at > %s{skill})")


def taking_slot(branch_id, slot_start, slot_end=None, skill=None, seconds=0) -> tuple[str, tuple]:
    """take_slot's statement, to send with other writes (Transaction.publish_recorded's `along`):
    a row when the place was taken, none when the slot is full."""
    skill = skill or "general"
    slot_end = slot_end or slot_start
    shift = (slot_end, slot_start, branch_id, slot_end, slot_start)
    return ("WITH cap AS (SELECT COALESCE((SELECT capacity FROM slot_overrides WHERE branch_id = %s"
            " AND slot_start = %s), (SELECT bays FROM branch_capacity WHERE branch_id = %s)) AS room,"
            " EXISTS (SELECT 1 FROM technician_shifts WHERE branch_id = %s) AS staffed,"
            f" {_ON_SHIFT.format(skill='')} AS all_seconds,"
            f" {_ON_SHIFT.format(skill=' AND %s = ANY(t.skills)')} AS skill_seconds),"
            " bay AS (INSERT INTO slot_load AS s (branch_id, slot_start, booked, booked_seconds)"
            " SELECT %s, %s, 1, %s FROM cap WHERE room > 0 AND (NOT staffed OR %s <= all_seconds)"
            " ON CONFLICT (branch_id, slot_start) DO UPDATE SET booked = s.booked + 1,"
            " booked_seconds = s.booked_seconds + EXCLUDED.booked_seconds"
            " WHERE s.booked < (SELECT room FROM cap) AND (NOT (SELECT staffed FROM cap)"
            " OR s.booked_seconds + EXCLUDED.booked_seconds <= (SELECT all_seconds FROM cap)) RETURNING booked),"
            " hours AS (INSERT INTO slot_skill_load AS k (branch_id, slot_start, skill, booked_seconds)"
            " SELECT %s, %s, %s, %s FROM bay, cap WHERE NOT staffed OR %s <= skill_seconds"
            " ON CONFLICT (branch_id, slot_start, skill) DO UPDATE SET"
            " booked_seconds = k.booked_seconds + EXCLUDED.booked_seconds"
            " WHERE NOT (SELECT staffed FROM cap)"
            " OR k.booked_seconds + EXCLUDED.booked_seconds <= (SELECT skill_seconds FROM cap) RETURNING skill)"
            " SELECT skill FROM hours",
            (branch_id, slot_start, branch_id, branch_id, *shift, *shift, skill,
             branch_id, slot_start, seconds, seconds,
             branch_id, slot_start, skill, seconds, seconds))


def free_slot(tx, branch_id, slot_start, skill=None, seconds=None):
    """Give back a booking's place and the labour it took (None: booked before labour was counted)."""
    seconds = seconds or 0
    tx.write_together(
        ("UPDATE slot_load SET booked = booked - 1, booked_seconds = GREATEST(booked_seconds - %s, 0)"
         " WHERE branch_id = %s AND slot_start = %s AND booked > 0", (seconds, branch_id, slot_start)),
        ("UPDATE slot_skill_load SET booked_seconds = GREATEST(booked_seconds - %s, 0)"
         " WHERE branch_id = %s AND slot_start = %s AND skill = %s", (seconds, branch_id, slot_start, skill or "")),
    )


def reminders_due(tx, now, before, limit=100) -> list[dict]:
    """Bookings whose slot is less than `before` away and whose reminder has not gone out, locked (another
    process's timer skips them)."""
    return tx.all(f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE status IN ('requested', 'confirmed')"
                  " AND reminder_sent_at IS NULL AND slot_start > %s AND slot_start <= %s ORDER BY slot_start"
                  " LIMIT %s FOR UPDATE SKIP LOCKED", (now, now + before, limit))


def no_shows_due(tx, now, after, limit=100) -> list[dict]:
    """Confirmed bookings whose slot started more than `after` ago with nobody arrived, locked."""
    return tx.all(f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE status = 'confirmed' AND arrived_at IS NULL"
                  " AND slot_start < %s ORDER BY slot_start LIMIT %s FOR UPDATE SKIP LOCKED", (now - after, limit))


def arrivals(tx, branch_id, start, end) -> list[dict]:
    """The bookings whose slot starts between start and end (not cancelled), with the vehicle's plate."""
    return tx.all(f"SELECT b.*, (SELECT plate FROM vehicles v WHERE v.vehicle_id = b.vehicle_id) AS plate"
                  f" FROM (SELECT {BOOKING_COLUMNS} FROM bookings WHERE branch_id = %s AND slot_start >= %s"
                  " AND slot_start < %s AND status <> 'cancelled') b ORDER BY b.slot_start, b.requested_at",
                  (branch_id, start, end))


def cosmetic_holders(tx, branch_id, starts) -> list[dict]:
    """Cosmetic bookings holding a place in these slots, the latest asked first (the first to move)."""
    return tx.all("SELECT booking_id, slot_start, priority, skill, LEAST(COALESCE(labour_seconds, 0),"
                  " EXTRACT(EPOCH FROM slot_end - slot_start)::int) AS seconds FROM bookings"
                  " WHERE branch_id = %s AND slot_start = ANY(%s) AND priority = 'cosmetic'"
                  " AND status IN ('requested', 'confirmed') ORDER BY requested_at DESC",
                  (branch_id, list(starts)))


# -- extras: loaner cars, pickup, delivery -------------------------------------------------------------------
def offered_extras(tx, branch_id) -> dict:
    """{extra: {per, capacity}} the branch offers."""
    return {r["extra"]: r for r in tx.all("SELECT extra, per, capacity FROM branch_extras WHERE branch_id = %s"
                                          " ORDER BY extra", (branch_id,))}


def save_extra(tx, branch_id, extra, per, capacity):
    tx.execute("INSERT INTO branch_extras (branch_id, extra, per, capacity) VALUES (%s, %s, %s, %s)"
               " ON CONFLICT (branch_id, extra) DO UPDATE SET per = EXCLUDED.per, capacity = EXCLUDED.capacity",
               (branch_id, extra, per, capacity))


def take_extra(tx, branch_id, extra, period_start) -> bool:
    """One more of `extra` in the period if the branch's capacity allows; atomic under concurrent bookings
    for the same reason as taking_slot: the room is checked and the unit taken in one statement, on the
    period's row under its lock. False: none left."""
    return bool(tx.all(
        "WITH cap AS (SELECT capacity FROM branch_extras WHERE branch_id = %s AND extra = %s)"
        " INSERT INTO extra_load AS l (branch_id, extra, period_start, taken) SELECT %s, %s, %s, 1 FROM cap"
        " WHERE capacity > 0 ON CONFLICT (branch_id, extra, period_start) DO UPDATE SET taken = l.taken + 1"
        " WHERE l.taken < (SELECT capacity FROM cap) RETURNING taken",
        (branch_id, extra, branch_id, extra, period_start)))


def free_extra(tx, branch_id, extra, period_start):
    tx.execute("UPDATE extra_load SET taken = taken - 1 WHERE branch_id = %s AND extra = %s AND period_start = %s"
               " AND taken > 0", (branch_id, extra, period_start))


def extra_loads(tx, branch_id, starts) -> dict:
    """{(extra, period_start): taken}."""
    rows = tx.all("SELECT extra, period_start, taken FROM extra_load WHERE branch_id = %s AND period_start = ANY(%s)",
                  (branch_id, list(starts)))
    return {(r["extra"], r["period_start"]): r["taken"] for r in rows}


# -- walk-ins ----------------------------------------------------------------------------------------------
WALK_IN_COLUMNS = ("walk_in_id, branch_id, customer_id, vehicle_id, service_type, skill, labour_seconds, priority,"
                   " symptoms, status, arrived_at, booking_id, left_at, promised_at, apologies_sent")


def insert_walk_in(tx, walk_in: dict):
    tx.execute(f"INSERT INTO walk_ins ({WALK_IN_COLUMNS}) VALUES (%(walk_in_id)s, %(branch_id)s, %(customer_id)s,"
               " %(vehicle_id)s, %(service_type)s, %(skill)s, %(labour_seconds)s, %(priority)s, %(symptoms)s,"
               " %(status)s, %(arrived_at)s, %(booking_id)s, %(left_at)s, %(promised_at)s, %(apologies_sent)s)",
               walk_in)


def walk_in(tx, walk_in_id, lock: bool = False) -> dict | None:
    return tx.one(f"SELECT {WALK_IN_COLUMNS} FROM walk_ins WHERE walk_in_id = %s" + (" FOR UPDATE" if lock else ""),
                  (walk_in_id,))


def save_walk_in(tx, walk_in: dict):
    tx.execute("UPDATE walk_ins SET status = %(status)s, booking_id = %(booking_id)s, left_at = %(left_at)s,"
               " apologies_sent = %(apologies_sent)s WHERE walk_in_id = %(walk_in_id)s", walk_in)


def apologies_due(tx, now, first, every, limit=100) -> tuple[list[dict], list[dict]]:
    """(bookings, walk-ins) whose customer waits past the promised time by `first` plus `every` per apology
    already sent; locked (another process's timer skips them). waiting.apology decides the same."""
    return (
        tx.all(f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE arrived_at IS NOT NULL"
               " AND status IN ('requested', 'confirmed')"
               " AND GREATEST(slot_start, arrived_at) + %s + %s * apologies_sent <= %s"
               " ORDER BY arrived_at LIMIT %s FOR UPDATE SKIP LOCKED", (first, every, now, limit)),
        tx.all(f"SELECT {WALK_IN_COLUMNS} FROM walk_ins WHERE status = 'waiting'"
               " AND promised_at + %s + %s * apologies_sent <= %s ORDER BY arrived_at LIMIT %s FOR UPDATE SKIP LOCKED",
               (first, every, now, limit)))


def waiting_walk_ins(tx, branch_id) -> list[dict]:
    return tx.all(f"SELECT {WALK_IN_COLUMNS} FROM walk_ins WHERE branch_id = %s AND status = 'waiting'"
                  " ORDER BY arrived_at", (branch_id,))


def day_load(tx, branch_id, now) -> tuple[int, int, int]:
    """(labour seconds of appointments due by now and not yet received, technicians on shift now, whether the
    branch records shifts at all)."""
    return tuple(tx.one(
        "SELECT (SELECT COALESCE(sum(labour_seconds), 0) FROM bookings WHERE branch_id = %s"
        " AND status IN ('requested', 'confirmed') AND slot_start <= %s AND slot_end > %s - interval '1 day')"
        " AS due, (SELECT count(*) FROM technician_shifts WHERE branch_id = %s AND starts_at <= %s"
        " AND ends_at > %s) AS on_shift, EXISTS (SELECT 1 FROM technician_shifts WHERE branch_id = %s)"
        " AS staffed", (branch_id, now, now, branch_id, now, now, branch_id)).values())


# -- technicians and their shifts, the branch's service types ---------------------------------------------
def save_technician(tx, branch_id, technician_id, skills, shifts):
    """A technician's skills, and their shifts replacing any on the same days."""
    tx.execute("INSERT INTO technicians (branch_id, technician_id, skills) VALUES (%s, %s, %s)"
               " ON CONFLICT (branch_id, technician_id) DO UPDATE SET skills = EXCLUDED.skills",
               (branch_id, technician_id, list(skills)))
    for s in shifts:
        tx.execute("INSERT INTO technician_shifts (branch_id, technician_id, day, start_local, end_local, starts_at,"
                   " ends_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (branch_id, technician_id, day)"
                   " DO UPDATE SET start_local = EXCLUDED.start_local, end_local = EXCLUDED.end_local,"
                   " starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at",
                   (branch_id, technician_id, s["day"], s["start_local"], s["end_local"], s["starts_at"],
                    s["ends_at"]))


def technicians(tx, branch_id, date_from, date_to, technician_id=None) -> list[dict]:
    """The branch's technicians with their shifts between the two days (inclusive)."""
    rows = tx.all(
        "SELECT t.technician_id, t.branch_id, t.skills, COALESCE(json_agg(json_build_object('date', s.day,"
        " 'start', s.start_local, 'end', s.end_local, 'seconds', EXTRACT(EPOCH FROM s.ends_at - s.starts_at))"
        " ORDER BY s.day) FILTER (WHERE s.day IS NOT NULL), '[]') AS shifts"
        " FROM technicians t LEFT JOIN technician_shifts s ON s.branch_id = t.branch_id"
        " AND s.technician_id = t.technician_id AND s.day BETWEEN %s AND %s"
        " WHERE t.branch_id = %s AND (%s::text IS NULL OR t.technician_id = %s)"
        " GROUP BY t.technician_id, t.branch_id, t.skills ORDER BY t.technician_id",
        (date_from, date_to, branch_id, technician_id, technician_id))
    return rows


def shifts_between(tx, branch_id, start, end) -> tuple[bool, list[dict]]:
    """(does the branch record shifts at all, the shifts overlapping start..end with their skills)."""
    staffed, shifts = tx.batch(
        ("SELECT EXISTS (SELECT 1 FROM technician_shifts WHERE branch_id = %s) AS staffed", (branch_id,)),
        ("SELECT s.starts_at, s.ends_at, t.skills FROM technician_shifts s JOIN technicians t"
         " USING (branch_id, technician_id) WHERE s.branch_id = %s AND s.starts_at < %s AND s.ends_at > %s",
         (branch_id, end, start)))
    return staffed[0]["staffed"], shifts


def slot_hours(tx, branch_id, starts) -> tuple[dict, dict]:
    """Booked seconds per slot ({start: seconds}) and per slot and skill ({(start, skill): seconds})."""
    loads, skills = tx.batch(
        ("SELECT slot_start, booked_seconds FROM slot_load WHERE branch_id = %s AND slot_start = ANY(%s)",
         (branch_id, list(starts))),
        ("SELECT slot_start, skill, booked_seconds FROM slot_skill_load WHERE branch_id = %s"
         " AND slot_start = ANY(%s)", (branch_id, list(starts))))
    return ({r["slot_start"]: r["booked_seconds"] for r in loads},
            {(r["slot_start"], r["skill"]): r["booked_seconds"] for r in skills})


def service_types(tx, branch_id) -> list[dict]:
    """The branch's own entries; `parts` None when the entry gave no kit (the shipped one applies)."""
    return tx.all("SELECT service_type, skill, labour_seconds, parts FROM branch_service_types"
                  " WHERE branch_id = %s ORDER BY service_type", (branch_id,))


def save_service_type(tx, branch_id, entry):
    tx.execute("INSERT INTO branch_service_types (branch_id, service_type, skill, labour_seconds, parts)"
               " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (branch_id, service_type) DO UPDATE SET"
               " skill = EXCLUDED.skill, labour_seconds = EXCLUDED.labour_seconds, parts = EXCLUDED.parts",
               (branch_id, entry["service_type"], entry["skill"], entry["labour_seconds"],
                None if entry["parts"] is None else Jsonb(entry["parts"])))


def technician_hours(tx, branch_id, date_from, date_to) -> list[dict]:
    return tx.all(
        "SELECT t.technician_id, t.skills, COALESCE(sum(EXTRACT(EPOCH FROM s.ends_at - s.starts_at)), 0)::bigint"
        " AS available_seconds FROM technicians t LEFT JOIN technician_shifts s ON s.branch_id = t.branch_id"
        " AND s.technician_id = t.technician_id AND s.day BETWEEN %s AND %s WHERE t.branch_id = %s"
        " GROUP BY t.technician_id, t.skills ORDER BY t.technician_id", (date_from, date_to, branch_id))


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
        " slot_end, service_type, priority, channel, symptoms, status, requested_at, skill, labour_seconds, extras)"
        " SELECT %(booking_id)s, %(branch_id)s, %(customer_id)s, %(vehicle_id)s, %(slot_start)s,"
        " %(slot_end)s, %(service_type)s, %(priority)s, %(channel)s, %(symptoms)s, %(status)s,"
        f" %(requested_at)s, %(skill)s, %(labour_seconds)s, %(extras)s{guard} RETURNING {BOOKING_COLUMNS}),"
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
              " cancelled_at = %s, advisor = %s, odometer_km = %s, fault_description = %s, skill = %s,"
              " labour_seconds = %s, arrived_at = %s, fuel_level_pct = %s, charge_level_pct = %s, damage = %s,"
              " belongings = %s, reschedule_requested_at = %s, reschedule_offered_at = %s, reschedule_offer = %s,"
              " reminder_sent_at = %s, apologies_sent = %s, updated_at = clock_timestamp() WHERE booking_id = %s",
              tuple(row[k] for k in ("status", "slot_start", "slot_end", "confirmed_at", "checked_in_at", "cancelled_at",
                                     "advisor", "odometer_km", "fault_description", "skill", "labour_seconds",
                                     "arrived_at", "fuel_level_pct", "charge_level_pct"))
              + (Jsonb(row["damage"]), Jsonb(row["belongings"]), row["reschedule_requested_at"],
                 row["reschedule_offered_at"], Jsonb(row["reschedule_offer"]), row["reminder_sent_at"],
                 row["apologies_sent"], row["booking_id"]))
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
