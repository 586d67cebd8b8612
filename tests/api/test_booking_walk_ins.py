"""Walk-ins through the real gateway: a queue per branch with position and estimated wait, checked in without
a slot."""
import uuid

import pytest

from tests.support.branches import own_branch
from tests.support.gateway import Api
from tests.support.journey import vin


@pytest.fixture(scope="module")
def branch(gateway, admin, world):
    return own_branch(admin, world, "WLK", bays=2)


@pytest.fixture(scope="module")
def desk(gateway, branch):
    return Api.as_role(gateway.url, "advisor", subject="walk-in-desk", branch_id=branch)


def _car(api, branch_id):
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Walk In"})
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                           "plate": f"WI {uuid.uuid4().hex[:4]}", "model": "Fiesta"})
    return customer["customer_id"], vehicle["vehicle_id"]


def test_walk_ins_queue_by_priority_with_an_estimated_wait_and_are_checked_in_without_a_slot(desk, branch, gateway,
                                                                                            advisor):
    arrived = []
    for priority in ("routine", "vip", "routine"):
        customer_id, vehicle_id = _car(desk, branch)
        arrived.append(desk.ok("POST", "/walk-ins", {"branch_id": branch, "customer_id": customer_id,
                                                     "vehicle_id": vehicle_id, "service_type": "oil change",
                                                     "priority": priority}, status=201))
    assert arrived[0]["position"] == 1 and arrived[1]["position"] == 1  # the VIP went ahead of the first
    line = desk.ok("GET", "/walk-ins", branch_id=branch)
    assert [w["walk_in_id"] for w in line] == [arrived[i]["walk_in_id"] for i in (1, 0, 2)]
    assert [w["position"] for w in line] == [1, 2, 3]
    # an hour of oil change each, two bays, no appointment due: 0, 30 and 60 minutes
    assert [w["estimated_wait_minutes"] for w in line] == [0, 30, 60], line

    booking = desk.ok("POST", f"/walk-ins/{arrived[1]['walk_in_id']}/check-in",
                      {"odometer_km": 41000, "fault_description": "oil change due"}, status=201)
    assert (booking["status"], booking["channel"], booking["advisor"]) == ("checked_in", "walk_in", "walk-in-desk")
    assert (booking["skill"], booking["labour_hours"], booking["priority"]) == ("general", 1.0, "vip")
    assert [w["position"] for w in desk.ok("GET", "/walk-ins", branch_id=branch)] == [1, 2]
    again = desk.post(f"/walk-ins/{arrived[1]['walk_in_id']}/check-in",
                      {"odometer_km": 41000, "fault_description": "oil change due"})
    assert again.status_code == 409, again.text
    # another branch's advisor neither sees the queue nor receives its cars
    assert advisor.get("/walk-ins", branch_id=branch).status_code == 403
    assert advisor.post(f"/walk-ins/{arrived[0]['walk_in_id']}/check-in",
                        {"odometer_km": 1, "fault_description": "x"}).status_code == 403


def test_a_walk_in_names_the_customers_own_vehicle(desk, branch):
    customer_id, _ = _car(desk, branch)
    _, someone_elses = _car(desk, branch)
    refused = desk.post("/walk-ins", {"branch_id": branch, "customer_id": customer_id, "vehicle_id": someone_elses,
                                      "service_type": "tyres"})
    assert refused.status_code == 422 and "vehicle_id" in refused.json()["error"]["fields"], refused.text
