"""Tomorrow's arrivals and the supervisor's day view through the real gateway."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import fixtures
from tests.support.branches import own_branch
from tests.support.gateway import Api
from tests.support.journey import vin


@pytest.fixture(scope="module")
def branch(gateway, admin, world):
    return own_branch(admin, world, "DAY", bays=3)


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
    filters = [{"part_number": "FLT-OIL-01", "quantity": 1}, {"part_number": "FLT-AIR-01", "quantity": 1},
               {"part_number": "FLT-CAB-01", "quantity": 1}]
    assert (only["booking_id"], only["plate"], only["skill"], only["labour_hours"], only["parts_to_pick"]) == (
        first["booking_id"], cars[0]["plate"], "general", 2.0, filters)  # the annual service's standard kit
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
    assert day["arrivals"][1]["parts_to_pick"] == [{"part_number": "BRK-PAD-F01", "quantity": 1}]
    assert day["parts_to_pick"] == sorted(filters + [{"part_number": "BRK-PAD-F01", "quantity": 1}],
                                          key=lambda line: line["part_number"])  # the day's total per part


def test_a_branch_gives_its_own_service_type_a_kit_and_the_arrivals_list_picks_it(gateway, branch):
    desk = Api.as_role(gateway.url, "advisor", branch_id=branch)
    kit = [{"part_number": "WPR-BLD-SET", "quantity": 1}, {"part_number": "LMP-H7", "quantity": 2}]
    own = desk.ok("POST", "/service-types", {"branch_id": branch, "service_type": "Winter check", "skill": "general",
                                             "labour_hours": 0.5, "parts": kit})
    assert (own["service_type"], own["parts"]) == ("winter_check", kit)
    desk.ok("POST", "/service-types", {"branch_id": branch, "service_type": "Oil change", "skill": "general",
                                       "labour_hours": 0.75})  # no kit given: the shipped one stays
    listed = {t["service_type"]: t for t in desk.ok("GET", "/service-types", branch_id=branch)}
    assert listed["winter_check"]["parts"] == kit and listed["diagnostics"]["parts"] == []
    assert listed["oil_change"]["parts"] == [{"part_number": "FLT-OIL-01", "quantity": 1}]
    for bad in ([{"part_number": "LMP-H7", "quantity": 0}], [{"part_number": "LMP-H7", "quantity": 1.5}],
                [{"part_number": f"P-{i}", "quantity": 1} for i in range(21)]):
        refused = desk.post("/service-types", {"branch_id": branch, "service_type": "Winter check",
                                               "skill": "general", "labour_hours": 0.5, "parts": bad})
        assert refused.status_code == 400 and "parts" in refused.json()["error"]["fields"], refused.text
    twice = desk.post("/service-types", {"branch_id": branch, "service_type": "Winter check", "skill": "general",
                                         "labour_hours": 0.5, "parts": [kit[0], kit[0]]})
    assert twice.status_code == 422 and "parts" in twice.json()["error"]["fields"], twice.text

    later = datetime.now(timezone.utc).date() + timedelta(days=2)  # a day of this test's own
    desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": "tech-kit",
                                     "skills": ["general", "diagnostics"],
                                     "shifts": [{"date": later.isoformat(), "start": "08:00", "end": "16:00"}]})
    customer = desk.ok("POST", "/customers", {"branch_id": branch, "name": "Kit Picker"})
    for hour, service_type in ((9, "winter check"), (11, "Winter-Check"), (13, "diagnostics")):
        car = desk.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                            "plate": f"KT {uuid.uuid4().hex[:4]}", "model": "Corsa"})
        desk.ok("POST", "/bookings", fixtures.booking_request(
            branch, customer["customer_id"], car["vehicle_id"], service_type=service_type,
            slot_start=datetime(later.year, later.month, later.day, hour, tzinfo=timezone.utc).isoformat()),
            status=201)
    day = desk.ok("GET", "/arrivals", branch_id=branch, date=later.isoformat())
    assert [a["parts_to_pick"] for a in day["arrivals"]] == [kit, kit, []]
    assert day["parts_to_pick"] == [{"part_number": "LMP-H7", "quantity": 4},
                                    {"part_number": "WPR-BLD-SET", "quantity": 2}]
