"""Capacity from resources through the real gateway: bays and skilled technician hours on shift, no overbooking
under parallel bookings, why a slot is not free, and the hours the workshop asks for."""
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from tests.support import fixtures
from tests.support.branches import cars, own_branch
from tests.support.gateway import Api


@pytest.fixture(scope="module")
def branch(gateway, admin, world):
    """A branch of its own (shifts recorded at a branch change every booking there), with three bays."""
    return own_branch(admin, world, "CAP", bays=3)


@pytest.fixture(scope="module")
def desk(gateway, branch):
    return Api.as_role(gateway.url, "advisor", branch_id=branch)


def _vehicles(api, branch_id, n):
    return cars(api, branch_id, n, "Capacity Tester", "CP", "e-Golf")


def _slot(hours_ahead) -> tuple[datetime, str]:
    start = datetime.fromisoformat(fixtures.next_slot(hours_ahead=hours_ahead))
    return start, start.isoformat()


def _shift_over(start: datetime, hours_before=1, hours_after=2) -> dict:
    """A shift (branch in UTC) covering the slot at `start`, within its day."""
    begin = max(start - timedelta(hours=hours_before), start.replace(hour=0, minute=0))
    end = min(start + timedelta(hours=hours_after), start.replace(hour=23, minute=59))
    return {"date": start.date().isoformat(), "start": f"{begin:%H:%M}", "end": f"{end:%H:%M}"}


def _slot_line(api, branch_id, start: datetime, service_type):
    day = api.ok("GET", "/slots", branch_id=branch_id, date=start.date().isoformat(), service_type=service_type)
    return next(s for s in day if datetime.fromisoformat(s["slot_start"]) == start)


def test_a_branch_without_shifts_counts_bays_only_and_the_booking_shows_its_skill_and_hours(desk, branch):
    start, slot = _slot(hours_ahead=30)
    line = _slot_line(desk, branch, start, "ev battery")
    assert (line["bookable"], line["reason"], line["skill_hours_free"]) == (True, None, None), line
    assert (line["skill"], line["hours_needed"], line["free_bays"]) == ("ev_high_voltage", 1.5, 3)
    customer_id, (vehicle_id,) = _vehicles(desk, branch, 1)
    booked = desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, vehicle_id, slot_start=slot,
                                                                    service_type="EV battery"), status=201)
    assert (booked["skill"], booked["labour_hours"]) == ("ev_high_voltage", 1.5)
    # a type the catalogue does not know is general work of one hour, as clients that name their own expect
    other = desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, vehicle_id, slot_start=slot,
                                                                   service_type="headlight check"), status=201)
    assert (other["skill"], other["labour_hours"]) == ("general", 1.0)
    # slots asked without a service type answer as before
    plain = next(s for s in desk.ok("GET", "/slots", branch_id=branch, date=start.date().isoformat())
                 if datetime.fromisoformat(s["slot_start"]) == start)
    assert (plain["capacity"], plain["booked"], plain["available"]) == (3, 2, 1) and "bookable" not in plain


def test_technicians_shifts_and_skills_are_set_by_the_branch_and_listed(desk, branch, gateway, world):
    start, _ = _slot(hours_ahead=40)
    shift = _shift_over(start)
    anna = desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": "tech-anna",
                                            "skills": ["general", "diagnostics"], "shifts": [shift]})
    assert anna["skills"] == ["general", "diagnostics"] and anna["shifts"][0]["start"] == shift["start"], anna
    listed = desk.ok("GET", "/technicians", branch_id=branch, date_from=shift["date"], date_to=shift["date"])
    assert [t["technician_id"] for t in listed] == ["tech-anna"]

    backwards = desk.post("/technicians", {"branch_id": branch, "technician_id": "tech-anna", "skills": ["general"],
                                           "shifts": [{**shift, "start": shift["end"], "end": shift["start"]}]})
    unknown = desk.post("/technicians", {"branch_id": branch, "technician_id": "tech-x", "skills": ["juggling"]})
    assert backwards.status_code == 422 and "shifts" in backwards.json()["error"]["fields"], backwards.text
    assert unknown.status_code == 400 and "skills" in unknown.json()["error"]["fields"], unknown.text
    # the advisor of another branch may not plan this one; a technician may read, not write
    stranger = Api.as_role(gateway.url, "advisor", branch_id=world["branch"])
    assert stranger.post("/technicians", {"branch_id": branch, "technician_id": "tech-z",
                                          "skills": ["general"]}).status_code == 403
    mechanic = Api.as_role(gateway.url, "technician", branch_id=branch)
    assert mechanic.get("/technicians", branch_id=branch, date_from=shift["date"],
                        date_to=shift["date"]).status_code == 200
    assert mechanic.post("/technicians", {"branch_id": branch, "technician_id": "tech-z",
                                          "skills": ["general"]}).status_code == 403


def test_a_slot_says_which_skill_is_short_and_refuses_the_work_without_it(desk, branch, rpc):
    start, slot = _slot(hours_ahead=45)
    # one general technician on shift for the whole slot: 1 h of general work, no ev hours at all
    desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": "tech-ben", "skills": ["general"],
                                     "shifts": [_shift_over(start, 0, 1)]})
    ev = _slot_line(desk, branch, start, "ev battery")
    assert (ev["bookable"], ev["reason"], ev["skill_hours_free"]) == (False, "no ev_high_voltage hours", 0.0), ev
    customer_id, (vehicle_id,) = _vehicles(desk, branch, 1)
    refused = desk.post("/bookings", fixtures.booking_request(branch, customer_id, vehicle_id, slot_start=slot,
                                                              service_type="ev battery"))
    assert refused.status_code == 409, refused.text
    assert desk.ok("GET", "/bookings", customer_id=customer_id)["items"] == []

    oil = _slot_line(desk, branch, start, "oil change")
    assert (oil["bookable"], oil["skill_hours_free"], oil["free_bays"]) == (True, 1.0, 3), oil
    desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, vehicle_id, slot_start=slot,
                                                          service_type="oil change"), status=201)
    full = _slot_line(desk, branch, start, "oil change")
    assert (full["bookable"], full["reason"], full["free_bays"]) == (False, "no general hours", 2), full

    # the workshop asks for the hours on shift (productivity)
    day = start.date().isoformat()
    hours = {t["technician_id"]: t for t in rpc.booking.technician_hours(branch, day, day)}
    assert hours["tech-ben"]["available_seconds"] == 3600 and hours["tech-ben"]["skills"] == ["general"]


def test_parallel_bookings_never_overbook_skilled_hours_or_bays(desk, branch):
    start, slot = _slot(hours_ahead=50)
    # two diagnostics technicians for the slot's hour: 2 h of diagnostics, three bays
    for name in ("tech-cem", "tech-dora"):
        desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": name, "skills": ["diagnostics"],
                                         "shifts": [_shift_over(start, 0, 1)]})
    customer_id, vehicles = _vehicles(desk, branch, 8)

    def book(vehicle_id):
        return desk.post("/bookings", fixtures.booking_request(branch, customer_id, vehicle_id, slot_start=slot,
                                                               service_type="diagnostics")).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(book, vehicles))
    assert codes == [201, 201] + [409] * 6, codes  # one hour each: two fit, though a third bay is free
    line = _slot_line(desk, branch, start, "diagnostics")
    assert (line["booked"], line["free_bays"], line["reason"]) == (2, 1, "no diagnostics hours"), line

    # a cancellation gives the hours back
    booking = desk.ok("GET", "/bookings", customer_id=customer_id)["items"][0]
    desk.ok("POST", f"/bookings/{booking['booking_id']}/cancellation", {"reason": "changed plans"})
    assert _slot_line(desk, branch, start, "diagnostics")["bookable"] is True


def test_parallel_bookings_never_overbook_bays_when_hours_are_plenty(desk, branch, admin):
    start, slot = _slot(hours_ahead=55)
    for name in ("tech-eve", "tech-fay", "tech-gus", "tech-hal"):
        desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": name, "skills": ["general"],
                                         "shifts": [_shift_over(start, 0, 1)]})
    # the per-slot override still caps the bays: two places though three bays and four hours
    desk.ok("POST", "/slots/capacity", {"branch_id": branch, "slot_start": slot, "capacity": 2})
    customer_id, vehicles = _vehicles(desk, branch, 6)

    def book(vehicle_id):
        return desk.post("/bookings", fixtures.booking_request(branch, customer_id, vehicle_id, slot_start=slot,
                                                               service_type="oil change")).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(book, vehicles))
    assert codes == [201, 201] + [409] * 4, codes
    line = _slot_line(desk, branch, start, "oil change")
    assert (line["reason"], line["skill_hours_free"]) == ("no bay", 2.0), line


def test_a_branch_may_set_its_own_estimate_for_a_service_type(desk, branch):
    own = desk.ok("POST", "/service-types", {"branch_id": branch, "service_type": "Wheel alignment",
                                             "skill": "general", "labour_hours": 0.75})
    assert own == {"service_type": "wheel_alignment", "skill": "general", "labour_hours": 0.75, "branch_own": True,
                   "parts": []}
    listed = {t["service_type"]: t for t in desk.ok("GET", "/service-types", branch_id=branch)}
    assert listed["wheel_alignment"]["labour_hours"] == 0.75 and listed["brakes"]["branch_own"] is False
    start, slot = _slot(hours_ahead=60)
    desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": "tech-ivy", "skills": ["general"],
                                     "shifts": [_shift_over(start, 0, 1)]})
    customer_id, (vehicle_id,) = _vehicles(desk, branch, 1)
    booked = desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, vehicle_id, slot_start=slot,
                                                                    service_type="wheel alignment"), status=201)
    assert (booked["skill"], booked["labour_hours"]) == ("general", 0.75)
    bad = desk.post("/service-types", {"branch_id": branch, "service_type": "x", "skill": "magic", "labour_hours": 1})
    assert bad.status_code == 400 and "skill" in bad.json()["error"]["fields"], bad.text


def test_a_full_slot_answers_409_with_the_next_slots_that_fit(desk, branch):
    (full_at, full), (first_at, first), (second_at, _) = (_slot(h) for h in (65, 66, 68))
    for name, at in (("tech-jo", full_at), ("tech-kim", first_at), ("tech-lea", second_at)):
        desk.ok("POST", "/technicians", {"branch_id": branch, "technician_id": name, "skills": ["general"],
                                         "shifts": [_shift_over(at, 0, 1)]})
    customer_id, vehicles = _vehicles(desk, branch, 3)
    desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, vehicles[0], slot_start=full,
                                                          service_type="oil change"), status=201)
    refused = desk.post("/bookings", fixtures.booking_request(branch, customer_id, vehicles[1], slot_start=full,
                                                              service_type="oil change"))
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert [datetime.fromisoformat(a["slot_start"]) for a in error["fields"]["alternatives"]] == [first_at, second_at]
    assert error["fields"]["slot_start"] == ["no capacity left in this slot"]

    # moving a booking into a full slot is refused the same way
    moved = desk.ok("POST", "/bookings", fixtures.booking_request(branch, customer_id, vehicles[1], slot_start=first,
                                                                  service_type="oil change"), status=201)
    again = desk.post(f"/bookings/{moved['booking_id']}/reschedule", {"slot_start": full})
    assert again.status_code == 409, again.text
    assert [datetime.fromisoformat(a["slot_start"]) for a in again.json()["error"]["fields"]["alternatives"]] \
        == [second_at]
    assert desk.ok("GET", f"/bookings/{moved['booking_id']}")["slot_start"] == moved["slot_start"]
