"""Tomorrow's arrivals and the supervisor's day view through the real gateway."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import fixtures
from tests.support.gateway import Api
from tests.support.infra import wait_for
from tests.support.journey import vin


@pytest.fixture(scope="module")
def branch(gateway, admin, world):
    branch_id = f"DAY-{uuid.uuid4().hex[:6]}"
    admin.ok("POST", "/branches", fixtures.branch(branch_id, region_id=world["region"], bays=3), status=201)
    wait_for(lambda: admin.post("/customers", {"branch_id": branch_id, "name": "Branch Probe"}).status_code == 201,
             message=f"crm to know {branch_id}")
    return branch_id


def test_tomorrows_arrivals_list_what_each_needs_and_the_day_view_shows_bookings_as_they_are_made(
        gateway, branch):
    desk = Api.as_role(gateway.url, "advisor", branch_id=branch)
    supervisor = Api.as_role(gateway.url, "technician", branch_id=branch)
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=1)
    at = lambda hour: datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, tzinfo=timezone.utc)  # noqa
    desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": "tech-ola", "skills": ["general"],
                                     "shifts": [{"date": tomorrow.isoformat(), "start": "08:00", "end": "12:00"}]})
    customer = desk.ok("POST", "/customers", {"branch_id": branch, "name": "Arrival List"})
    cars = [desk.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                          "plate": f"DY {i}{uuid.uuid4().hex[:3]}", "model": "Astra"})
            for i in range(2)]
    first = desk.ok("POST", "/bookings", fixtures.booking_request(
        branch, customer["customer_id"], cars[0]["vehicle_id"], slot_start=at(8).isoformat(),
        service_type="annual service"), status=201)

    listed = supervisor.ok("GET", "/arrivals", branch_id=branch)  # no date: tomorrow's list
    assert listed["date"] == tomorrow.isoformat() and listed["walk_ins_waiting"] == 0
    [only] = listed["arrivals"]
    assert (only["booking_id"], only["plate"], only["skill"], only["labour_hours"], only["parts_to_pick"]) == (
        first["booking_id"], cars[0]["plate"], "general", 2.0, None)
    general = next(s for s in listed["skills"] if s["skill"] == "general")
    assert (general["hours_needed"], general["hours_on_shift"], general["short"]) == (2.0, 4.0, False)

    # the supervisor sees the next booking as soon as it is made
    second = desk.ok("POST", "/bookings", fixtures.booking_request(
        branch, customer["customer_id"], cars[1]["vehicle_id"], slot_start=at(10).isoformat(),
        service_type="brakes"), status=201)
    day = supervisor.ok("GET", "/arrivals", branch_id=branch, date=tomorrow.isoformat())
    assert [a["booking_id"] for a in day["arrivals"]] == [first["booking_id"], second["booking_id"]]
    by_slot = {datetime.fromisoformat(s["slot_start"]): s["booking_ids"] for s in day["slots"]}
    assert by_slot[at(10)] == [second["booking_id"]] and by_slot[at(9)] == []
    assert next(s for s in day["skills"] if s["skill"] == "general")["hours_needed"] == 3.5
