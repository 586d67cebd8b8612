"""Customers kept waiting, through the real stack: an apology with the reason 15 minutes past the promised time,
then every 30 minutes, until they are received."""
import uuid
from datetime import datetime, timedelta, timezone

import psycopg

from tests.support import fixtures
from tests.support.bus import EventRecorder
from tests.support.journey import vin


def _shift_back(run_env, sql, params):
    """The test moves the promised time into the past instead of waiting a quarter of an hour."""
    with psycopg.connect(run_env["dsn"], autocommit=True) as conn:
        conn.execute("SET search_path TO booking, public")
        conn.execute(sql, params)


def test_a_walk_in_waiting_past_the_promised_time_gets_apologies_until_received(advisor, world, run_env):
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Patient Walker"})
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": f"WT {uuid.uuid4().hex[:4]}", "model": "Yaris"})
    walk_in = advisor.ok("POST", "/walk-ins", {"branch_id": world["branch"], "customer_id": customer["customer_id"],
                                               "vehicle_id": vehicle["vehicle_id"], "service_type": "tyres"})
    assert walk_in["promised_at"] is not None
    with EventRecorder("booking.waiting_apology") as recorder:
        promised = datetime.now(timezone.utc) - timedelta(minutes=16)
        _shift_back(run_env, "UPDATE walk_ins SET promised_at = %s WHERE walk_in_id = %s",
                    (promised, walk_in["walk_in_id"]))
        first = recorder.wait_for("booking.waiting_apology", walk_in_id=walk_in["walk_in_id"])
        assert (first["apology_number"], first["minutes_late"]) == (1, 16) and first["reason"], first
        _shift_back(run_env, "UPDATE walk_ins SET promised_at = promised_at - interval '30 minutes'"
                             " WHERE walk_in_id = %s", (walk_in["walk_in_id"],))
        second = recorder.wait_for("booking.waiting_apology", walk_in_id=walk_in["walk_in_id"], apology_number=2)
        assert second["minutes_late"] >= 46, second
        advisor.ok("POST", f"/walk-ins/{walk_in['walk_in_id']}/check-in",
                   {"odometer_km": 5000, "fault_description": "tyres"}, status=201)
        _shift_back(run_env, "UPDATE walk_ins SET promised_at = promised_at - interval '2 hours'"
                             " WHERE walk_in_id = %s", (walk_in["walk_in_id"],))
        try:
            recorder.wait_for("booking.waiting_apology", timeout=3, walk_in_id=walk_in["walk_in_id"], apology_number=3)
            raise AssertionError("a received walk-in was apologised to")
        except AssertionError as no_more:
            assert "no booking.waiting_apology" in str(no_more), no_more


def test_a_booked_customer_who_arrived_and_waits_past_the_slots_start_gets_an_apology(advisor, world, run_env):
    customer = advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Patient Booker"})
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": f"WB {uuid.uuid4().hex[:4]}", "model": "Golf"})
    booking = advisor.ok("POST", "/bookings", fixtures.booking_request(
        world["branch"], customer["customer_id"], vehicle["vehicle_id"], slot_start=fixtures.next_slot(34)))
    advisor.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")
    with EventRecorder("booking.waiting_apology") as recorder:
        advisor.ok("POST", f"/bookings/{booking['booking_id']}/arrival")
        # the slot's start and the arrival moved 16 minutes into the past instead of waiting for them
        # (17 seconds past the minute: never the start of a real slot)
        started = datetime.now(timezone.utc).replace(second=17, microsecond=0) - timedelta(minutes=16)
        _shift_back(run_env, "UPDATE bookings SET slot_start = %s, slot_end = %s + interval '1 hour',"
                             " arrived_at = %s WHERE booking_id = %s",
                    (started, started, started, booking["booking_id"]))
        told = recorder.wait_for("booking.waiting_apology", booking_id=booking["booking_id"])
    assert (told["apology_number"], told["customer_id"]) == (1, customer["customer_id"]) and told["reason"], told
    assert advisor.ok("GET", f"/bookings/{booking['booking_id']}")["status"] == "confirmed"  # arrived: no no-show
