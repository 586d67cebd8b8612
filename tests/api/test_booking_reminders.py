"""Reminders and no-shows through the real stack: the booking's timer reminds once a day before, and marks a
confirmed booking 30 minutes past its start without arrival a no-show, freeing its slot."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg

from tests.support import fixtures
from tests.support.bus import EventRecorder
from tests.support.journey import until, vin


def _booking(api, branch_id, hours_ahead):
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Reminder Tester"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                           "plate": f"RM {uuid.uuid4().hex[:4]}", "model": "Kona"})
    return api.ok("POST", "/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], slot_start=fixtures.next_slot(hours_ahead)))


def test_a_booking_less_than_a_day_away_is_reminded_once(advisor, world):
    with EventRecorder("booking.reminder_due") as recorder:
        soon = _booking(advisor, world["branch"], hours_ahead=3)
        later = _booking(advisor, world["branch"], hours_ahead=40)  # more than a day away: not yet
        event = recorder.wait_for("booking.reminder_due", booking_id=soon["booking_id"])
        assert event["slot_start"] and event["service_type"] == "annual service"
        time.sleep(3)  # three more ticks of the timer: no second reminder
        while not recorder.received.empty():
            recorder.seen.append(recorder.received.get_nowait())
    told = [e for e in recorder.seen if e["booking_id"] == soon["booking_id"]]
    assert len(told) == 1, told
    assert not [e for e in recorder.seen if e["booking_id"] == later["booking_id"]]
    assert advisor.ok("GET", f"/bookings/{soon['booking_id']}")["reminder_sent_at"] is not None
    assert advisor.ok("GET", f"/bookings/{later['booking_id']}")["reminder_sent_at"] is None


def test_a_confirmed_booking_30_minutes_late_without_arrival_is_a_no_show_and_its_slot_is_freed(
        advisor, world, run_env):
    waiting = _booking(advisor, world["branch"], hours_ahead=30)
    arrived = _booking(advisor, world["branch"], hours_ahead=30)
    for b in (waiting, arrived):
        advisor.ok("POST", f"/bookings/{b['booking_id']}/confirmation")
    advisor.ok("POST", f"/bookings/{arrived['booking_id']}/arrival")
    slot = waiting["slot_start"]
    booked = lambda: next(s for s in advisor.ok("GET", "/slots", branch_id=world["branch"], date=slot[:10])
                          if s["slot_start"] == slot)["booked"]
    before = booked()
    # the time it would take is a day and a half: the test moves the two bookings' slot into the past
    # (and its count with them) instead of waiting for it
    # 17 seconds past the minute: never the start of a real slot whose count another test keeps
    past = datetime.now(timezone.utc).replace(second=17, microsecond=0) - timedelta(minutes=45)
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        conn.execute("SET search_path TO booking, public")
        conn.execute("UPDATE bookings SET slot_start = %s, slot_end = %s + interval '1 hour'"
                     " WHERE booking_id = ANY(%s)", (past, past, [waiting["booking_id"], arrived["booking_id"]]))
        held = 2 * 3600  # two annual services (2 h) hold an hour each of a one-hour slot
        conn.execute("INSERT INTO slot_load (branch_id, slot_start, booked, booked_seconds) VALUES (%s, %s, 2, %s)",
                     (world["branch"], past, held))
        conn.execute("UPDATE slot_load SET booked = booked - 2, booked_seconds = booked_seconds - %s"
                     " WHERE branch_id = %s AND slot_start = %s", (held, world["branch"], slot))
    marked = until(lambda: advisor.ok("GET", f"/bookings/{waiting['booking_id']}"),
                   lambda b: b["status"] == "no_show", timeout=10, what="the no-show")
    assert marked["history"][-1]["to_status"] == "no_show"
    assert advisor.ok("GET", f"/bookings/{arrived['booking_id']}")["status"] == "confirmed"  # being received
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        conn.execute("SET search_path TO booking, public")
        left = conn.execute("SELECT booked FROM slot_load WHERE branch_id = %s AND slot_start = %s",
                            (world["branch"], past)).fetchone()[0]
    assert left == 1 and booked() == before - 2  # the no-show's place was freed
