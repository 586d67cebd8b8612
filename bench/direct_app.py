"""The baseline: the same booking SQL as pitlane, done by a minimal Flask + psycopg handler.

No token check, no RPC, no broker hop (the outbox row is written, and nothing relays it): what one booking costs when the
application talks to PostgreSQL directly. pitlane / direct is the cost of the bus.
"""
import os
import uuid
from datetime import datetime, timedelta, timezone

from flask import Flask, jsonify, request

from services.booking import capacity, store
from shared.storage.db import Pool
from shared.storage.unit_of_work import UnitOfWork

# a schema of its own with booking's tables (bench/baselines.py DirectApp): nothing relays its outbox
pool = Pool(os.environ["PITLANE_DSN"], os.environ.get("BENCH_DIRECT_SCHEMA", "booking"),
            size=int(os.environ.get("BENCH_DIRECT_POOL", "8")))
unit_of_work = UnitOfWork(pool, "booking")
app = Flask(__name__)
catalogue = capacity.Catalogue.of()  # the shipped service types (pitlane keeps the branch's for seconds too)


@app.post("/bookings")
def create_booking():
    body = request.get_json()
    slot_start = datetime.fromisoformat(body["slot_start"])
    work = catalogue.work_for(body["service_type"])
    booking = {
        "booking_id": uuid.uuid4(), "branch_id": body["branch_id"], "customer_id": body["customer_id"],
        "vehicle_id": body["vehicle_id"], "slot_start": slot_start,
        "slot_end": slot_start + timedelta(minutes=15), "service_type": body["service_type"],
        "priority": body.get("priority", "routine"), "channel": body["channel"],
        "symptoms": body.get("symptoms", ""), "status": "requested",
        "requested_at": datetime.now(timezone.utc), "skill": work.skill, "labour_seconds": work.seconds,
        "extras": [],
    }
    with unit_of_work.transaction() as tx:
        if not store.take_slot(tx, booking["branch_id"], slot_start, booking["slot_end"], work.skill, work.seconds):
            return jsonify(error="full"), 409
        store.insert_booking(tx, booking)
        tx.publish("booking.created", booking["branch_id"],  # the same outbox row pitlane writes
                   **{k: booking[k] for k in ("booking_id", "customer_id", "vehicle_id", "slot_start",
                                              "slot_end", "service_type", "priority", "channel",
                                              "requested_at", "extras")})
    return jsonify(booking_id=str(booking["booking_id"])), 201
