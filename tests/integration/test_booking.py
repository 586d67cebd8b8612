"""booking over the real broker and database: RPC contract, events out, events in, no overbooking."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.contracts import errors
from tests.support import fixtures
from tests.support.bus import EventRecorder, publish_event, rpc_proxy
from tests.support.infra import wait_for


@pytest.fixture(scope="module")
def booking(stack):
    return stack("booking")


def test_branch_configured_is_announced(booking, rpc):
    with EventRecorder("branch.*") as recorder:
        branch = rpc.booking.configure_branch(fixtures.branch("INT-B1", bays=2))
        event = recorder.wait_for("branch.configured", branch_id="INT-B1")
    assert branch["bays"] == 2
    assert event["region_id"] == "INT-R1" and event["labour_rate_cents"] == 9500


def test_booking_round_trip_and_events(booking, rpc):
    rpc.booking.configure_branch(fixtures.branch("INT-B2", bays=1))
    customer_id, vehicle_id = uuid.uuid4(), uuid.uuid4()
    publish_event("vehicle.registered", "INT-B2", vehicle_id=vehicle_id, customer_id=customer_id,
                  vin="WVWZZZ1JZXW000001", plate="B-PL 1", model="Golf")
    request = fixtures.booking_request("INT-B2", customer_id, vehicle_id)
    with EventRecorder("booking.*") as recorder:
        created = wait_for(lambda: _try_create(rpc, request), message="vehicle copy")
        confirmed = rpc.booking.confirm_booking(created["booking_id"])
        recorder.wait_for("booking.created", booking_id=created["booking_id"])
        event = recorder.wait_for("booking.confirmed", booking_id=created["booking_id"])
    assert confirmed["status"] == "confirmed"
    assert [h["to_status"] for h in confirmed["history"]] == ["requested", "confirmed"]
    assert event["branch_id"] == "INT-B2" and event["version"] == 1


def _try_create(rpc, request):
    try:
        return rpc.booking.create_booking(request)
    except errors.Unprocessable:
        return None


def test_slot_never_overbooked_under_concurrent_advisors(booking, rpc):
    rpc.booking.configure_branch(fixtures.branch("INT-B3", bays=3))
    vehicles = []
    for _ in range(12):
        customer_id, vehicle_id = uuid.uuid4(), uuid.uuid4()
        publish_event("vehicle.registered", "INT-B3", vehicle_id=vehicle_id, customer_id=customer_id,
                      vin="WVWZZZ1JZXW000002", plate="B-PL 2", model="Polo")
        vehicles.append((customer_id, vehicle_id))
    slot = fixtures.next_slot()

    def book(pair):
        with rpc_proxy() as proxy:
            request = fixtures.booking_request("INT-B3", *pair, slot_start=slot)
            for _ in range(100):
                try:
                    return proxy.booking.create_booking(request)["booking_id"]
                except errors.Conflict:
                    return "full"
                except errors.Unprocessable:
                    import time
                    time.sleep(0.05)  # the vehicle copy has not arrived yet
            return "unknown vehicle"

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(book, vehicles))
    assert sorted(o == "full" for o in outcomes).count(False) == 3, outcomes
    slots = rpc.booking.list_slots({"branch_id": "INT-B3", "date": slot[:10]})
    taken = [s for s in slots if s["slot_start"].startswith(slot[:16])]
    assert taken and taken[0]["booked"] == 3 and taken[0]["available"] == 0


def test_bad_input_is_a_typed_error_with_fields(booking, rpc):
    with pytest.raises(errors.ValidationFailed) as info:
        rpc.booking.create_booking({"branch_id": "INT-B1", "channel": "fax"})
    assert {"customer_id", "vehicle_id", "slot_start", "channel"} <= set(info.value.fields)
    with pytest.raises(errors.NotFound):
        rpc.booking.get_booking(str(uuid.uuid4()))
