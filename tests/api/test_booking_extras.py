"""Extras as resources through the real gateway: loaner cars per day, pickups per slot, never overbooked under
parallel bookings, given back on cancellation."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import fixtures
from tests.support.branches import own_branch
from tests.support.gateway import Api
from tests.support.journey import vin


@pytest.fixture(scope="module")
def branch(gateway, admin, world):
    return own_branch(admin, world, "EXT", bays=6)


@pytest.fixture(scope="module")
def desk(gateway, branch):
    api = Api.as_role(gateway.url, "advisor", branch_id=branch)
    api.ok("POST", "/extras", {"branch_id": branch, "extra": "loaner_car", "per": "day", "capacity": 1})
    api.ok("POST", "/extras", {"branch_id": branch, "extra": "pickup", "per": "slot", "capacity": 2})
    return api


def _cars(api, branch_id, n):
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Extras Tester"})
    return customer["customer_id"], [
        api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                     "plate": f"EX {uuid.uuid4().hex[:4]}", "model": "Ibiza"})["vehicle_id"]
        for _ in range(n)]


def test_parallel_bookings_never_take_more_loaner_cars_than_the_day_has(desk, branch):
    customer_id, cars = _cars(desk, branch, 4)
    day = datetime.now(timezone.utc).date() + timedelta(days=2)
    slots = [datetime(day.year, day.month, day.day, h, tzinfo=timezone.utc).isoformat() for h in (8, 9, 10, 11)]

    def book(i):
        return desk.post("/bookings", fixtures.booking_request(branch, customer_id, cars[i], slot_start=slots[i],
                                                               extras=["loaner_car"]))

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(book, range(4)))
    won = [a.json() for a in answers if a.status_code == 201]
    lost = [a for a in answers if a.status_code != 201]
    assert len(won) == 1 and all(a.status_code == 409 for a in lost), [a.status_code for a in answers]
    assert all("loaner_car" in a.json()["error"]["fields"]["extras"][0] for a in lost)
    assert won[0]["extras"] == ["loaner_car"]
    listed = desk.ok("GET", "/extras", branch_id=branch, date=won[0]["slot_start"][:10])
    loaner = next(e for e in listed if e["extra"] == "loaner_car")
    assert (loaner["per"], loaner["periods"][0]["taken"], loaner["periods"][0]["free"]) == ("day", 1, 0)

    # a cancellation gives the car back
    desk.ok("POST", f"/bookings/{won[0]['booking_id']}/cancellation", {"reason": "no longer needed"})
    again = next(i for i, s in enumerate(slots) if datetime.fromisoformat(s) !=
                 datetime.fromisoformat(won[0]["slot_start"]))  # another slot of that day
    desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, cars[again], slot_start=slots[again],
                                                          extras=["loaner_car"]), status=201)


def test_pickups_are_counted_per_slot_and_an_extra_not_offered_is_refused(desk, branch):
    customer_id, cars = _cars(desk, branch, 3)
    slot = fixtures.next_slot(40)

    def book(car):
        return desk.post("/bookings", fixtures.booking_request(branch, customer_id, car, slot_start=slot,
                                                               extras=["pickup"])).status_code

    with ThreadPoolExecutor(3) as pool:
        assert sorted(pool.map(book, cars)) == [201, 201, 409]
    refused = desk.post("/bookings", fixtures.booking_request(branch, customer_id, cars[2], slot_start=slot,
                                                              extras=["delivery"]))
    assert refused.status_code == 422 and "extras" in refused.json()["error"]["fields"], refused.text
    twice = desk.post("/bookings", fixtures.booking_request(branch, customer_id, cars[2], slot_start=slot,
                                                            extras=["pickup", "pickup"]))
    assert twice.status_code == 400, twice.text
