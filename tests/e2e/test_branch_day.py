"""A day at one branch through the real gateway, every service a real process (issue 23's "Done when"):
bookings by skill, a walk-in, a reschedule, a safety-critical displacement; then the workshop on the cars
checked in: a job paused, a supplement approved, a quality check failed and passed, delivery, a comeback.

The branch is the test's own (created by admin), so its technicians and shifts change no one else's capacity.
Its clock is UTC and it is open round the clock (fixtures.WEEK): tomorrow's bookings are always in the future,
and two general technicians are on shift all of today for the walk-in queue.
"""
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import fixtures
from tests.support.bus import EventRecorder
from tests.support.gateway import Api
from tests.support.infra import wait_for
from tests.support.journey import until, vin

RATE = 9500  # fixtures.branch's labour rate, cents per hour
PAD_PRICE = 8900  # the world's brake pads
CONSENT = {"method": "signature", "by": "Day Customer"}


def _at(day, hour) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def _when(text) -> datetime:
    return datetime.fromisoformat(text)


class Day:
    """The branch, its desk and technicians, and what the day has made so far."""

    def __init__(self, gateway, admin, world):
        self.admin, self.part = admin, world["part"]
        self.branch = f"DAY-{uuid.uuid4().hex[:6]}"
        self.today = datetime.now(timezone.utc).date()
        self.tomorrow = self.today + timedelta(days=1)
        admin.ok("POST", "/branches", fixtures.branch(self.branch, region_id=world["region"], bays=3), status=201)
        wait_for(lambda: admin.post("/customers", {"branch_id": self.branch, "name": "Branch Probe"}).status_code
                 == 201, message=f"crm to know {self.branch}")
        wait_for(lambda: admin.post("/stock/receipts", {"branch_id": self.branch, "part_number": self.part,
                                                        "quantity": 5}).status_code == 201,
                 message=f"parts to know {self.branch}")
        self.desk = Api.as_role(gateway.url, "advisor", subject=f"desk-{self.branch}", branch_id=self.branch)
        suffix = uuid.uuid4().hex[:5]
        # each technician acts under their own token: who clocks on and who checks comes from it
        self.gen, self.pat, self.volt = (
            Api.as_role(gateway.url, "technician", subject=f"{name}-{suffix}", branch_id=self.branch)
            for name in ("gen", "pat", "volt"))

    def tomorrow_at(self, hour) -> datetime:
        return _at(self.tomorrow, hour)

    def car(self, name, model="Golf"):
        customer = self.desk.ok("POST", "/customers", {"branch_id": self.branch, "name": name})
        vehicle = self.desk.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                                     "plate": f"DY {uuid.uuid4().hex[:5].upper()}", "model": model})
        return {"customer_id": customer["customer_id"], "vehicle_id": vehicle["vehicle_id"], "plate": vehicle["plate"]}

    def _post_with_vehicle(self, path, body):
        """Booking answers 422 on vehicle_id while its copy of a just-made vehicle lags; it asks crm then."""
        return until(lambda: self.desk.post(path, body),
                     lambda r: r.status_code != 422 or "vehicle_id" not in r.json()["error"]["fields"],
                     what="the vehicle copy in booking", first_after=0)

    def book(self, car, at: datetime, service_type, **overrides):
        return self._post_with_vehicle("/bookings", fixtures.booking_request(
            self.branch, car["customer_id"], car["vehicle_id"], slot_start=at.isoformat(),
            service_type=service_type, **overrides))

    def walk_in(self, car, service_type, symptoms):
        return self._post_with_vehicle("/walk-ins", {
            "branch_id": self.branch, "customer_id": car["customer_id"], "vehicle_id": car["vehicle_id"],
            "service_type": service_type, "symptoms": symptoms})

    def slot(self, at: datetime, service_type=None):
        params = {"service_type": service_type} if service_type else {}
        day = self.desk.ok("GET", "/slots", branch_id=self.branch, date=at.date().isoformat(), **params)
        return next(s for s in day if _when(s["slot_start"]) == at)

    def order_of(self, car, other_than=()):
        """The repair order a check-in of this car opened (workshop opens it on booking.checked_in)."""
        found = until(lambda: [o for o in self.desk.ok("GET", "/repair-orders", vehicle_id=car["vehicle_id"])["items"]
                               if o["repair_order_id"] not in other_than],
                      bool, what="the repair order")
        assert len(found) == 1, found
        return self.desk.ok("GET", f"/repair-orders/{found[0]['repair_order_id']}")

    def order(self, ro_id):
        return self.desk.ok("GET", f"/repair-orders/{ro_id}")


@pytest.fixture(scope="module")
def day(gateway, admin, world):
    return Day(gateway, admin, world)


# -- the morning plan: technicians with skills and shifts --------------------------------------------------------
def plan_technicians(day):
    today, tomorrow = day.today.isoformat(), day.tomorrow.isoformat()
    all_day = {"date": today, "start": "00:00", "end": "23:59"}
    day.desk.ok("POST", "/technicians", {"branch_id": day.branch, "technician_id": day.gen.subject,
                                         "skills": ["general"],
                                         "shifts": [all_day, {"date": tomorrow, "start": "10:00", "end": "17:00"}]})
    day.desk.ok("POST", "/technicians", {"branch_id": day.branch, "technician_id": day.pat.subject,
                                         "skills": ["general"], "shifts": [all_day]})
    day.desk.ok("POST", "/technicians", {"branch_id": day.branch, "technician_id": day.volt.subject,
                                         "skills": ["ev_high_voltage"],
                                         "shifts": [{"date": tomorrow, "start": "10:00", "end": "12:00"}]})
    listed = day.desk.ok("GET", "/technicians", branch_id=day.branch, date_from=tomorrow, date_to=tomorrow)
    on_tomorrow = {t["technician_id"]: t["skills"] for t in listed if t["shifts"]}
    assert on_tomorrow == {day.gen.subject: ["general"], day.volt.subject: ["ev_high_voltage"]}, listed


# -- bookings by skill ------------------------------------------------------------------------------------------
def bookings_by_skill(day):
    """Tomorrow 10:00: one EV technician and one general technician on shift, three bays. The first EV battery
    job takes the EV hour; a second is refused with the next slot that has EV hours; brake work still fits."""
    ten, eleven = day.tomorrow_at(10), day.tomorrow_at(11)
    line = day.slot(ten, "ev battery")
    assert (line["bookable"], line["skill"], line["hours_needed"], line["skill_hours_free"], line["free_bays"]) == (
        True, "ev_high_voltage", 1.5, 1.0, 3), line

    first_ev = day.book(day.car("Evi Volt", "e-Golf"), ten, "EV battery")
    assert first_ev.status_code == 201, first_ev.text
    assert (first_ev.json()["skill"], first_ev.json()["labour_hours"]) == ("ev_high_voltage", 1.5)

    second_car = day.car("Elon Amp", "ID.3")
    refused = day.book(second_car, ten, "ev battery")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["fields"]["slot_start"] == ["no capacity left in this slot"], error
    # the EV technician's shift ends at 12:00, and there are no other EV shifts: 11:00 is the only one left
    assert [_when(a["slot_start"]) for a in error["fields"]["alternatives"]] == [eleven], error
    assert day.desk.ok("GET", "/bookings", customer_id=second_car["customer_id"])["items"] == []

    ev_line, brakes_line = day.slot(ten, "ev battery"), day.slot(ten, "brakes")
    assert (ev_line["bookable"], ev_line["reason"], ev_line["skill_hours_free"]) == (
        False, "no ev_high_voltage hours", 0.0), ev_line
    assert (brakes_line["bookable"], brakes_line["skill"], brakes_line["skill_hours_free"],
            brakes_line["free_bays"]) == (True, "general", 1.0, 2), brakes_line
    brakes = day.book(day.car("Greta Brake"), ten, "brakes")
    assert brakes.status_code == 201, brakes.text
    assert (brakes.json()["skill"], brakes.json()["labour_hours"]) == ("general", 1.5)

    full = day.slot(ten, "brakes")  # a bay is still free, the hours are not
    assert (full["bookable"], full["reason"], full["free_bays"]) == (False, "no general hours", 1), full
    assert day.slot(ten)["booked"] == 2
    # the refused EV customer takes the alternative offered
    moved = day.book(second_car, eleven, "ev battery")
    assert moved.status_code == 201 and _when(moved.json()["slot_start"]) == eleven, moved.text


# -- a safety-critical booking displaces cosmetic work --------------------------------------------------------------
def safety_critical_displacement(day, displaced_events):
    fifteen, sixteen = day.tomorrow_at(15), day.tomorrow_at(16)
    polish = day.book(day.car("Paula Polish"), fifteen, "headlight polish", priority="cosmetic")
    assert polish.status_code == 201, polish.text
    polish = day.desk.ok("POST", f"/bookings/{polish.json()['booking_id']}/confirmation")
    assert day.slot(fifteen, "brakes")["reason"] == "no general hours"  # one general hour at 15:00, taken

    safety_car = day.car("Sam Safety", "Passat")
    safety = day.book(safety_car, fifteen, "brakes", priority="safety_critical",
                      symptoms="brake pedal sinks to the floor")
    assert safety.status_code == 201, safety.text
    safety = safety.json()
    assert _when(safety["slot_start"]) == fifteen and safety["priority"] == "safety_critical"

    moved = day.desk.ok("GET", f"/bookings/{polish['booking_id']}")
    assert (moved["status"], _when(moved["slot_start"])) == ("confirmed", sixteen), moved
    assert moved["history"][-1]["note"] == "displaced by safety-critical work", moved["history"]
    assert (day.slot(fifteen)["booked"], day.slot(sixteen)["booked"]) == (1, 1)
    event = displaced_events.wait_for("booking.displaced", booking_id=polish["booking_id"])
    assert (_when(event["previous_slot_start"]), _when(event["slot_start"])) == (fifteen, sixteen), event
    assert event["displaced_by"] == safety["booking_id"] and event["reason"] == "displaced by safety-critical work"
    assert [_when(a["slot_start"]) for a in event["alternatives"]] == [sixteen], event  # no other general hour
    return safety_car, safety


# -- a reschedule: asked, offered, picked --------------------------------------------------------------------------
def reschedule(day):
    thirteen = day.tomorrow_at(13)
    booked = day.book(day.car("Rhea Later"), thirteen, "annual service")
    assert booked.status_code == 201, booked.text
    path = f"/bookings/{booked.json()['booking_id']}"

    asked = day.desk.ok("POST", f"{path}/reschedule-request", {"note": "the afternoon suits better"})
    assert asked["reschedule_requested_at"] and asked["reschedule_offer"] == []
    offered = day.desk.ok("POST", f"{path}/reschedule-offer", {})
    offer = offered["reschedule_offer"]
    assert 2 <= len(offer) <= 3, offer
    assert len({a["part_of_day"] for a in offer}) == len(offer), offer  # morning / midday / evening, one each
    assert thirteen not in [_when(a["slot_start"]) for a in offer]
    for alternative in offer:  # each offered slot can take the work now
        assert day.slot(_when(alternative["slot_start"]), "annual service")["bookable"], alternative

    pick = _when(offer[-1]["slot_start"])
    held_there = day.slot(pick)["booked"]
    picked = day.desk.ok("POST", f"{path}/reschedule", {"slot_start": pick.isoformat()})
    assert (_when(picked["slot_start"]), picked["status"]) == (pick, "requested"), picked
    notes = [h["note"] for h in picked["history"]]
    assert notes[0] == "requested" and "the afternoon suits better" in notes and notes[-1] == "rescheduled", notes
    assert any(n.startswith("offered ") for n in notes), notes
    assert day.slot(thirteen)["booked"] == 0  # the old place given back
    assert day.slot(pick)["booked"] == held_there + 1


def _booked_on(day, date):
    return sum(s["booked"] for s in day.desk.ok("GET", "/slots", branch_id=day.branch, date=date.isoformat()))


# -- a walk-in: queued with its place and wait, checked in without a slot ----------------------------------------
def walk_ins(day):
    walker, oiler = day.car("Walt Walker", "Astra"), day.car("Olga Oil", "Corsa")
    first = day.walk_in(walker, "brakes", "grinding from the front brakes")
    second = day.walk_in(oiler, "oil change", "oil change due")
    assert first.status_code == 201 and second.status_code == 201, (first.text, second.text)
    assert (first.json()["position"], first.json()["estimated_wait_minutes"]) == (1, 0), first.json()
    queue = day.desk.ok("GET", "/walk-ins", branch_id=day.branch)
    assert [w["walk_in_id"] for w in queue] == [first.json()["walk_in_id"], second.json()["walk_in_id"]]
    # no appointment due now; the first walk-in's 1.5 h of brakes shared by the two technicians on shift now
    assert [(w["position"], w["estimated_wait_minutes"]) for w in queue] == [(1, 0), (2, 45)], queue

    booked_today = _booked_on(day, day.today)
    booking = day.desk.ok("POST", f"/walk-ins/{first.json()['walk_in_id']}/check-in", {
        "odometer_km": 88000, "fault_description": "grinding from the front brakes", "fuel_level_pct": 40,
        "damage": [{"note": "scratch on the rear bumper", "photo_ref": "photo-17"}]}, status=201)
    assert (booking["status"], booking["channel"], booking["advisor"]) == ("checked_in", "walk_in", day.desk.subject)
    assert (booking["skill"], booking["labour_hours"], booking["priority"]) == ("general", 1.5, "routine")
    assert _booked_on(day, day.today) == booked_today  # received without taking a place in any slot
    queue = day.desk.ok("GET", "/walk-ins", branch_id=day.branch)
    assert [(w["walk_in_id"], w["position"], w["estimated_wait_minutes"]) for w in queue] == [
        (second.json()["walk_in_id"], 1, 0)], queue
    again = day.desk.post(f"/walk-ins/{first.json()['walk_in_id']}/check-in",
                          {"odometer_km": 88000, "fault_description": "grinding from the front brakes"})
    assert again.status_code == 409, again.text

    ro = day.order_of(walker)
    assert (ro["status"], ro["case_owner"], ro["fault_family"], ro["booking_id"]) == (
        "checked_in", day.desk.subject, "brakes", booking["booking_id"]), ro
    assert ro["check_in_record"]["damage"] == [{"note": "scratch on the rear bumper", "photo_ref": "photo-17"}]
    return walker, ro


# -- the workshop --------------------------------------------------------------------------------------------------
def diagnosed_and_approved(day, ro_id, labour_hours):
    day.gen.ok("POST", f"/repair-orders/{ro_id}/diagnosis", {
        "findings": [{"code": "C1234", "description": "front pads at 2 mm", "status": "red"}]})
    quote = day.desk.ok("POST", f"/repair-orders/{ro_id}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "replace front brake pads", "quantity": labour_hours},
        {"kind": "part", "group": "must", "description": "front brake pads", "part_number": day.part,
         "quantity": "1"}]})
    approved = day.desk.ok("POST", f"/repair-orders/{ro_id}/approval", {
        "quote_id": quote["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})
    assert approved["status"] == "approved", approved
    until(lambda: day.order(ro_id)["parts_status"], lambda s: s == "reserved", what="the pads reserved")
    return approved


def promise_clock(day, ro_id):
    items = day.admin.ok("GET", "/sla/clocks", service="workshop", policy="repair_promise", branch_id=day.branch,
                         limit=200)["items"]
    return next((c for c in items if c["subject_id"] == ro_id), None)


def job_path(ro_id, job):
    return f"/repair-orders/{ro_id}/jobs/{job['job_id']}"


def repair_with_supplement_pause_and_rework(day, ro):
    ro_id = ro["repair_order_id"]
    approved = diagnosed_and_approved(day, ro_id, "1")
    assert approved["approved_total_cents"] == RATE + PAD_PRICE
    assert day.desk.ok("GET", f"/stock/{day.branch}/{day.part}")["reserved"] == 1
    assert day.order(ro_id)["tests_required"] == ["road_test", "function_test"]  # brake work

    # a job paused and resumed: the pause is not clocked
    job = day.gen.ok("POST", f"/repair-orders/{ro_id}/jobs", {}, status=201)
    assert day.order(ro_id)["status"] == "in_progress"
    paused = day.gen.ok("POST", job_path(ro_id, job) + "/pause", {"reason": "fetching the lift adapter"})
    assert paused["paused_at"] and paused["pause_reason"] == "fetching the lift adapter", paused
    assert day.order(ro_id)["status"] == "in_progress"  # a technician's pause does not hold the order
    time.sleep(1.1)
    resumed = day.gen.ok("POST", job_path(ro_id, job) + "/resumption")
    assert resumed["paused_at"] is None and resumed["paused_seconds"] >= 1, resumed

    # a finding during the repair: a supplement the customer must approve; the order waits for it
    quote = day.gen.ok("POST", f"/repair-orders/{ro_id}/supplements", {
        "findings": [{"description": "brake hose cracked, seen with the wheel off", "status": "red"}],
        "lines": [{"kind": "labour", "group": "must", "description": "replace front brake hose",
                   "quantity": "2"}]}, status=201)
    supplement_cents = 2 * RATE
    assert (quote["kind"], quote["status"], quote["total_cents"]) == ("supplement", "open", supplement_cents)
    assert (quote["range_low_cents"], quote["range_high_cents"]) == (
        round(supplement_cents * 0.8), round(supplement_cents * 1.2))
    held = day.order(ro_id)
    assert held["status"] == "on_hold" and held["approved_total_cents"] == RATE + PAD_PRICE, held["status"]
    (held_job,) = held["jobs"]
    assert held_job["paused_at"] and held_job["pause_reason"] == "order on hold: approval", held_job
    early = day.pat.post(f"/repair-orders/{ro_id}/jobs", {})
    assert early.status_code == 409 and "quote_id" in early.json()["error"]["fields"], early.text
    clock = until(lambda: promise_clock(day, ro_id), lambda c: c is not None and c["state"] == "paused",
                  what="the repair-promise clock paused for approval")
    assert clock["pause_reason"] == "approval", clock

    answered = day.desk.ok("POST", f"/repair-orders/{ro_id}/approval", {
        "quote_id": quote["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})
    assert answered["status"] == "in_progress", answered["status"]
    assert answered["approved_total_cents"] == RATE + PAD_PRICE + supplement_cents
    until(lambda: promise_clock(day, ro_id), lambda c: c["state"] == "running",
          what="the repair-promise clock running again")
    assert day.gen.ok("POST", job_path(ro_id, job) + "/resumption")["paused_at"] is None
    day.gen.ok("POST", job_path(ro_id, job) + "/finish", {})
    assert day.order(ro_id)["status"] == "quality_check"

    # the road test fails: the work goes back with the reason, then every check again
    failed = day.pat.ok("POST", f"/repair-orders/{ro_id}/quality-check", {
        "kind": "road_test", "passed": False, "notes": "pulls to the left under braking"})
    assert failed["status"] == "in_progress", failed["status"]
    assert failed["timeline"][-1]["note"] == (
        f"road test failed, checked by {day.pat.subject}: pulls to the left under braking"), failed["timeline"][-1]
    rework = day.gen.ok("POST", f"/repair-orders/{ro_id}/jobs", {}, status=201)
    day.gen.ok("POST", job_path(ro_id, rework) + "/finish", {})
    assert day.order(ro_id)["status"] == "quality_check"
    ready = day.pat.ok("POST", f"/repair-orders/{ro_id}/quality-check", {
        "passed": True, "road_test": True, "function_test": True, "notes": "brakes straight and firm"})
    assert ready["status"] == "ready", ready["status"]
    assert [(c["kind"], c["passed"]) for c in ready["quality_checks"]] == [
        ("road_test", False), ("road_test", True), ("function_test", True), ("peer", True)], ready["quality_checks"]
    assert len(ready["jobs"]) == 2 and all(j["finished_at"] for j in ready["jobs"])

    delivered = day.desk.ok("POST", f"/repair-orders/{ro_id}/delivery", {})
    assert delivered["status"] == "delivered" and delivered["delivered_at"], delivered["status"]
    invoice = until(lambda: day.desk.get(f"/repair-orders/{ro_id}/invoice"), lambda r: r.status_code == 200,
                    what="the invoice").json()
    assert invoice["subtotal_cents"] == RATE + PAD_PRICE + supplement_cents  # the quote and the supplement
    return delivered


def plain_repair(day, safety_car, safety):
    """The safety-critical car, checked in ahead of its slot, repaired by the other technician."""
    day.desk.ok("POST", f"/bookings/{safety['booking_id']}/confirmation")
    day.desk.ok("POST", f"/bookings/{safety['booking_id']}/check-in",
                {"odometer_km": 120500, "fault_description": "brake pedal sinks to the floor"})
    ro = day.order_of(safety_car)
    assert (ro["priority"], ro["fault_family"], ro["comeback_of"]) == ("safety_critical", "brakes", None), ro
    ro_id = ro["repair_order_id"]
    diagnosed_and_approved(day, ro_id, "1.5")
    job = day.pat.ok("POST", f"/repair-orders/{ro_id}/jobs", {}, status=201)
    day.pat.ok("POST", job_path(ro_id, job) + "/finish", {})
    mine = day.pat.post(f"/repair-orders/{ro_id}/quality-check", {"passed": True})
    assert mine.status_code == 422 and "checked_by" in mine.json()["error"]["fields"], mine.text  # not a peer
    ready = day.gen.ok("POST", f"/repair-orders/{ro_id}/quality-check", {"passed": True})
    assert ready["status"] == "ready", ready["status"]
    delivered = day.desk.ok("POST", f"/repair-orders/{ro_id}/delivery", {})
    assert delivered["status"] == "delivered"
    return delivered


def comeback(day, walker, first, comebacks):
    """The walk-in's car is back the same day with its brakes: a walk-in again, a comeback once checked in."""
    back = day.walk_in(walker, "brakes", "grinding again")
    assert back.status_code == 201, back.text
    # behind the oil change still waiting (1 h, two technicians on shift): 30 minutes
    assert (back.json()["position"], back.json()["estimated_wait_minutes"]) == (2, 30), back.json()
    day.desk.ok("POST", f"/walk-ins/{back.json()['walk_in_id']}/check-in",
                {"odometer_km": 88040, "fault_description": "grinding from the front brakes again"}, status=201)
    again = day.order_of(walker, other_than={first["repair_order_id"]})
    assert (again["comeback_of"], again["fault_family"], again["status"]) == (
        first["repair_order_id"], "brakes", "checked_in"), again
    assert any(s.get("note", "").startswith("comeback: brakes again") for s in again["timeline"]), again["timeline"]
    event = comebacks.wait_for("repair_order.comeback", repair_order_id=again["repair_order_id"])
    assert (event["previous_repair_order_id"], event["previous_number"], event["fault_family"]) == (
        first["repair_order_id"], first["number"], "brakes"), event
    assert 0 <= event["days_since_delivery"] < 1, event
    return again


def test_a_day_at_one_branch(day):
    with EventRecorder("booking.displaced") as displaced_events, \
            EventRecorder("repair_order.comeback") as comebacks:
        plan_technicians(day)
        bookings_by_skill(day)
        safety_car, safety = safety_critical_displacement(day, displaced_events)
        reschedule(day)
        walker, walk_in_order = walk_ins(day)

        first = repair_with_supplement_pause_and_rework(day, walk_in_order)
        plain_repair(day, safety_car, safety)
        stock = until(lambda: day.desk.ok("GET", f"/stock/{day.branch}/{day.part}"),
                      lambda s: s["on_hand"] == 3, what="the two pads consumed at delivery")
        assert stock["reserved"] == 0, stock
        period = {"from": day.today.isoformat(), "to": day.today.isoformat()}
        before = day.desk.ok("GET", "/first-time-fix", branch_id=day.branch, **period)
        assert (before["delivered"], before["came_back"], before["first_time_fix"]) == (2, 0, 1.0), before

        comeback(day, walker, first, comebacks)

    after = day.desk.ok("GET", "/first-time-fix", branch_id=day.branch, **period)
    assert (after["delivered"], after["came_back"], after["first_time_fix"]) == (2, 1, 0.5), after
    wait = day.desk.ok("GET", "/walk-ins", branch_id=day.branch)
    assert [w["position"] for w in wait] == [1]  # the oil change still waits for its turn
