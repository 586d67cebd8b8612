"""The demo's working day at branch N1 (a little at S1): bookings today and tomorrow, and repair
orders in every status, each made by the commands a branch would give (book, confirm, check in,
diagnose, quote, approve, clock on and off, quality check, hand over, pay). Each visit belongs to a
demo vehicle; a vehicle that has a booking already has had its visit, and a second load skips it.
The dealer group itself (branches, parts, customers and vehicles) is pitlane/demo.py's.
"""
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from shared.contracts import errors

TECHNICIANS = {"N1": ["tech-n1-anna", "tech-n1-ben", "tech-n1-cem"], "N2": ["tech-n2-dana", "tech-n2-emil"],
               "S1": ["tech-s1-fritz", "tech-s1-gul", "tech-s1-hans"], "S2": ["tech-s2-ines", "tech-s2-jonas"]}
ADVISORS = {"N1": "sam", "S1": "vroni"}


def _labour(description, hours, group="must"):
    return {"kind": "labour", "group": group, "description": description, "quantity": hours}


def _part(part_number, description, quantity="1", group="must"):
    return {"kind": "part", "group": group, "description": description, "part_number": part_number,
            "quantity": quantity}


# One visit per vehicle (by VIN). `day` is "today" (the branch's working day: today, or its next
# one once today's last slot is over) or "tomorrow" (the working day after). `stage` is how far the
# visit gets: "requested" and "confirmed" are bookings still to come; every other stage is a repair
# order's status after its car was checked in ("paid": delivered, its invoice paid). An appointment
# whose slot has already started at loading time is booked as a walk-in (`channel: walk_in` may take
# the running slot); repair orders take the earliest places, from the running slot on.
VISITS = [
    # -- still to come ---------------------------------------------------------------------------------
    {"vin": "WVWZZZ1KZ8W000101", "day": "today", "stage": "confirmed", "service_type": "inspection",
     "priority": "routine", "channel": "app",
     "symptoms": "inspection due at 30,000 km; wipers smear in the rain"},
    {"vin": "WF0XXXGCDXJ000111", "day": "today", "stage": "confirmed", "service_type": "suspension",
     "priority": "routine", "channel": "hotline",
     "symptoms": "knocking from the front left over speed bumps, worse when cold"},
    {"vin": "WVWZZZAWZHU000112", "day": "today", "stage": "requested", "service_type": "tyres",
     "priority": "cosmetic", "channel": "web",
     "symptoms": "change to winter tyres (stored with us), check the tread depth"},
    {"vin": "W0LBD6EA0GG000113", "day": "tomorrow", "stage": "confirmed", "service_type": "brakes",
     "priority": "safety_critical", "channel": "hotline",
     "symptoms": "brake pedal goes soft after a few stops, brake warning light on"},
    {"vin": "W1K2130041A000114", "day": "tomorrow", "stage": "confirmed", "service_type": "service",
     "priority": "vip", "channel": "app",
     "symptoms": "annual service; needs a loan car for the day"},
    {"vin": "KMHK381GFMU000115", "day": "tomorrow", "stage": "requested", "service_type": "electrical",
     "priority": "routine", "channel": "messaging",
     "symptoms": "AC charging stops after a few minutes, the type 2 plug gets hot"},
    {"vin": "WDD2050081F000105", "day": "tomorrow", "stage": "confirmed", "service_type": "service",
     "priority": "routine", "channel": "hotline",
     "symptoms": "annual service with brake fluid change"},
    # -- in the workshop -------------------------------------------------------------------------------
    {"vin": "VSSZZZKLZKR000116", "day": "today", "stage": "checked_in", "service_type": "diagnosis",
     "priority": "routine", "channel": "hotline", "odometer_km": 61240,
     "symptoms": "engine warning light on, runs rough for the first minutes when cold"},
    {"vin": "SB1ZS3JE50E000117", "day": "today", "stage": "diagnosed", "service_type": "air_conditioning",
     "priority": "routine", "channel": "app", "odometer_km": 48730,
     "symptoms": "air conditioning blows warm air since last week",
     "findings": [{"code": "B1476", "description": "refrigerant pressure low; UV dye shows a leak at the"
                                                   " condenser seal", "status": "amber"}]},
    {"vin": "WAUZZZF45JA000118", "day": "today", "stage": "awaiting_approval", "service_type": "brakes",
     "priority": "safety_critical", "channel": "hotline", "odometer_km": 92310,
     "symptoms": "grinding noise from the front wheels when braking",
     "findings": [{"code": "C1235", "description": "front discs scored, pads down to 1 mm", "status": "red"},
                  {"code": None, "description": "brake fluid 3 years old, 2.5 % water", "status": "amber"}],
     "lines": [_labour("replace front brake discs and pads", "1.8"),
               _part("BRK-DSC-F01", "front brake discs", "2"), _part("BRK-PAD-F01", "front brake pads"),
               _labour("change brake fluid", "0.5", "recommended"),
               _part("BRK-FLD-DOT4", "brake fluid DOT 4", "1", "recommended")]},
    {"vin": "WVWZZZ3CZHE000119", "day": "today", "stage": "approved", "service_type": "electrical",
     "priority": "routine", "channel": "app", "odometer_km": 131020,
     "symptoms": "both daytime running lights dead since the car wash",
     "findings": [{"code": "B2A10", "description": "water in both LED daytime running light modules",
                   "status": "amber"}],
     "lines": [_labour("replace both LED daytime running light modules", "0.8"),
               _part("LMP-LED-DRL", "LED daytime running light modules, left and right", "2")],
     "consent": "signature"},
    {"vin": "TMBJG7NP8G7000120", "day": "today", "stage": "waiting_for_parts", "service_type": "electrical",
     "priority": "routine", "channel": "hotline", "odometer_km": 148800,
     "symptoms": "left daytime running light flickers, then goes out",
     "findings": [{"code": "B2A11", "description": "left LED daytime running light module failed",
                   "status": "amber"}],
     "lines": [_labour("replace left LED daytime running light module", "0.5"),
               _part("LMP-LED-DRL", "LED daytime running light module, left")],
     "consent": "recorded_verbal"},
    {"vin": "WBA8E9C50GK000102", "day": "today", "stage": "in_progress", "service_type": "clutch",
     "priority": "routine", "channel": "hotline", "odometer_km": 168400,
     "symptoms": "clutch slips when accelerating uphill, burning smell, rattle at idle",
     "findings": [{"code": None, "description": "clutch worn out, dual-mass flywheel play beyond limit",
                   "status": "red"}],
     "lines": [_labour("replace clutch and dual-mass flywheel", "5.5"),
               _part("CLT-KIT-01", "clutch kit")],
     "consent": "signature", "technicians": ["tech-n1-cem"],  # anna, the README's technician, is free
     "job": "gearbox out, clutch and flywheel"},
    {"vin": "JMZKF6W1A00000121", "day": "today", "stage": "on_hold", "hold": "sublet",
     "service_type": "glass", "priority": "routine", "channel": "app", "odometer_km": 72050,
     "symptoms": "stone chip crack across the windscreen; lane assist camera error",
     "findings": [{"code": "U3000", "description": "crack in the camera's field of view", "status": "red"}],
     "lines": [_labour("remove and refit camera bracket, calibrate lane assist camera", "1.0"),
               {"kind": "consumable", "group": "must", "description": "windscreen replacement by our glass"
                " partner (sublet)", "quantity": "1", "unit_price_cents": 68000}],
     "consent": "app", "technicians": ["tech-n1-cem"], "job": "camera bracket removed, car with the glass partner"},
    {"vin": "WVGZZZ5NZLW000122", "day": "today", "stage": "quality_check", "service_type": "service",
     "priority": "routine", "channel": "app", "odometer_km": 59870,
     "symptoms": "oil service due; squeal from the engine bay on cold starts",
     "findings": [{"code": None, "description": "auxiliary belt glazed and cracked", "status": "amber"}],
     "lines": [_labour("oil service", "0.8"), _part("OIL-5W30-5L", "engine oil 5W-30, 5 l"),
               _part("FLT-OIL-01", "oil filter"), _labour("replace auxiliary belt", "0.6"),
               _part("BLT-AUX-01", "auxiliary drive belt")],
     "consent": "signature", "technicians": ["tech-n1-ben"], "job": "oil service, belt replaced"},
    {"vin": "VF3LBHNYWKS000123", "day": "today", "stage": "ready", "service_type": "electrical",
     "priority": "routine", "channel": "hotline", "odometer_km": 83400,
     "symptoms": "battery flat every morning after a cold night",
     "findings": [{"code": None, "description": "battery at 41 % of capacity, no parasitic drain",
                   "status": "red"}],
     "lines": [_labour("replace and code battery", "0.5"), _part("BAT-12V-70", "battery 12 V 70 Ah AGM")],
     "consent": "recorded_verbal", "technicians": ["tech-n1-anna"], "checked_by": "tech-n1-cem",
     "job": "battery replaced and coded"},  # electrical work needs diagnostics: anna's skill (pitlane/demo.py)
    {"vin": "WF0DXXGAKDF000124", "day": "today", "stage": "delivered", "service_type": "inspection",
     "priority": "routine", "channel": "web", "odometer_km": 104500,
     "symptoms": "inspection; wipers smear, musty smell from the vents",
     "findings": [{"code": None, "description": "wiper blades torn, cabin filter clogged", "status": "amber"}],
     "lines": [_labour("inspection", "1.2"), _part("WPR-BLD-SET", "wiper blades, front"),
               _part("FLT-CAB-01", "cabin filter"),
               _part("TYR-205-55-16", "all-season tyres, front axle", "2", "watch")],
     "consent": "signature", "technicians": ["tech-n1-anna"], "checked_by": "tech-n1-ben",
     "job": "inspection done, blades and filter replaced"},
    {"vin": "TMAD381CAJJ000125", "day": "today", "stage": "paid", "service_type": "brakes",
     "priority": "safety_critical", "channel": "hotline", "odometer_km": 77620,
     "symptoms": "brake pad warning light on",
     "findings": [{"code": "C1234", "description": "front pads at 2 mm, discs fine", "status": "red"}],
     "lines": [_labour("replace front brake pads", "1.5"), _part("BRK-PAD-F01", "front brake pads")],
     "consent": "signature", "technicians": ["tech-n1-ben"], "checked_by": "tech-n1-cem",
     "job": "front pads and wear sensor replaced", "payment": "card"},
    {"vin": "W0L0XEP68E4000126", "day": "today", "stage": "cancelled", "service_type": "timing_belt",
     "priority": "routine", "channel": "hotline", "odometer_km": 121300,
     "symptoms": "timing belt due by mileage",
     "findings": [{"code": None, "description": "timing belt due at 120,000 km", "status": "amber"}],
     "lines": [_labour("replace timing belt and water pump", "3.5"),
               _part("BLT-TMG-KIT", "timing belt kit with water pump")],
     "cancel": "customer has it done by a friend's garage; car collected unchanged"},
    # -- S1: a little of the same ----------------------------------------------------------------------
    {"vin": "WAUZZZ8V5KA000104", "day": "today", "stage": "diagnosed", "service_type": "engine",
     "priority": "routine", "channel": "hotline", "odometer_km": 54300,
     "symptoms": "oil drops on the garage floor under the engine",
     "findings": [{"code": None, "description": "oil sump gasket weeping", "status": "amber"}],
     "technicians": ["tech-s1-fritz"]},
]

# The complaint of the day: the customer whose car waits for a part nobody told her about.
COMPLAINT = {"vin": "TMBJG7NP8G7000120", "category": "communication", "severity": "medium", "owner": "sam",
             "what_happened": "Was told the car would be ready this afternoon; found out only by calling"
                              " that the light module is not in stock.",
             "customer_wants": "a call as soon as the part is in, and a loan car until then"}

RO_STAGES = ("checked_in", "diagnosed", "awaiting_approval", "approved", "waiting_for_parts", "in_progress",
             "on_hold", "quality_check", "ready", "delivered", "paid", "cancelled")
# what each stage of a repair order takes, in the order the commands are given
STEPS = {
    "checked_in": (),
    "diagnosed": ("diagnose",),
    "awaiting_approval": ("diagnose", "quote"),
    "approved": ("diagnose", "quote", "approve"),
    "waiting_for_parts": ("diagnose", "quote", "approve_last"),
    "in_progress": ("diagnose", "quote", "approve", "start"),
    "on_hold": ("diagnose", "quote", "approve", "start", "hold", "finish"),
    "quality_check": ("diagnose", "quote", "approve", "start", "finish"),
    "ready": ("diagnose", "quote", "approve", "start", "finish", "check"),
    "delivered": ("diagnose", "quote", "approve", "start", "finish", "check", "deliver"),
    "paid": ("diagnose", "quote", "approve", "start", "finish", "check", "deliver", "pay"),
    "cancelled": ("diagnose", "quote", "cancel"),
}
WAIT_SECONDS = 20  # for what an event does (a repair order opened, parts reserved, an invoice issued)


class DemoStuck(RuntimeError):
    """An event-driven step did not land in time: a service is down or behind."""


def _until(fetch, done, what):
    deadline = time.monotonic() + WAIT_SECONDS
    time.sleep(0.02)
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise DemoStuck(f"demo data: timed out waiting for {what}")
        time.sleep(0.05)


def load_day(proxy, vehicles: dict) -> dict:
    """N1's working day (and a little of S1's), each visit made by the commands a branch would give.

    The day is the branch's today, or its next working day when today's last slot is over;
    "tomorrow" is the working day after it. A visit whose vehicle has a booking already was made
    before (or the vehicle is in a user's hands now) and is left alone.

    What it leaves for an advisor to look at: bookings still to come today and tomorrow (one only
    requested, so its first-response clock runs), a repair order in every status, two invoices
    (one paid), LED daytime running light modules below their reorder point at N1 (the approved
    order holds both on hand; the order approved after it waits for the part), and a complaint.

    The clock at risk needs no lowered target: the order in progress has 5.5 h of labour approved
    against the repair promise of 4 h (shared/sla/policies.json), so the workshop's SLA watch
    predicts a late finish and marks its `repair_promise` clock at risk at its next look (within
    PITLANE_SLA_CHECK_INTERVAL seconds of loading), where `sla_summary`'s `at_risk` lists it. Later
    the open diagnosis clocks of the orders checked in and diagnosed pass their 80 % share (24 of
    their 30 business minutes), and so does the parts shortage's one-hour clock (after 48 minutes).
    """
    days = {}
    todo = []
    for visit in VISITS:
        vehicle = vehicles.get(visit["vin"])
        if vehicle is None:
            continue  # its VIN belongs to someone else's vehicle here: not ours to book
        branch_id = vehicle["branch_id"]
        if branch_id not in days:
            days[branch_id] = _Places(proxy, branch_id)
        if proxy.booking.list_bookings({"vehicle_id": vehicle["vehicle_id"], "limit": 1})["items"]:
            continue  # made before
        todo.append(_Visit(visit, vehicle, days[branch_id]))
    # places: what is still to come today first (it needs a later slot), then the repair orders
    # (from the running slot on), then tomorrow's
    order = sorted(todo, key=lambda v: (v.spec["stage"] not in ("requested", "confirmed"), v.spec["day"] != "today"))
    for visit in order:
        visit.book(proxy)
    _do_all([(proxy.booking.confirm_booking, v.booking["booking_id"]) for v in todo
             if v.booking["channel"] != "walk_in" and v.spec["stage"] != "requested"])
    workshop = [v for v in todo if v.spec["stage"] in RO_STAGES]
    _do_all([(proxy.booking.check_in, v.booking["booking_id"], {
        "odometer_km": v.spec["odometer_km"], "fault_description": v.spec["symptoms"],
        "advisor": ADVISORS[v.branch_id]}) for v in workshop])
    for v in workshop:
        v.ro = _until(lambda v=v: proxy.workshop.list_repair_orders({"vehicle_id": v.vehicle["vehicle_id"]})["items"],
                      bool, f"the repair order of {v.vehicle['plate']}")[0]
    _step(workshop, "diagnose", lambda v: (proxy.workshop.record_diagnosis, v.ro_id, {
        "findings": v.spec["findings"], "diagnosed_by": v.technician(0)}))
    for v in [v for v in workshop if "quote" in v.steps]:
        v.quote = _patiently(proxy.workshop.issue_quote, v.ro_id, {"lines": v.spec["lines"]})
    # approvals: those that reserve first, then the one that finds the shelf empty
    for step in ("approve", "approve_last"):
        chosen = [v for v in workshop if step in v.steps]
        _do_all([(proxy.workshop.approve_quote, v.ro_id, v.approval()) for v in chosen])
        for v in chosen:
            if any(line["kind"] == "part" for line in v.spec["lines"]):
                _until(lambda v=v: proxy.workshop.get_repair_order(v.ro_id), lambda r: r["parts_status"] != "pending",
                       f"the parts of {v.vehicle['plate']}")
    # a technician has one running clock: the jobs that end today go first, in waves of one job per
    # technician, and the jobs still running start last
    started = [v for v in workshop if "start" in v.steps]
    for wave in _waves([v for v in started if "finish" in v.steps]) + _waves(
            [v for v in started if "finish" not in v.steps]):
        _step(wave, "start", lambda v: (proxy.workshop.start_job, v.ro_id, {
            "technician_id": v.technician(0), "description": v.spec["job"]}), keep="job")
        _step(wave, "hold", lambda v: (proxy.workshop.put_on_hold, v.ro_id, {"reason": v.spec["hold"]}))
        _step(wave, "finish", lambda v: (proxy.workshop.finish_job, v.ro_id, v.job["job_id"],
                                         {"notes": v.spec["job"]}))
    _step(workshop, "check", lambda v: (proxy.workshop.quality_check, v.ro_id, {
        "checked_by": v.spec["checked_by"], "passed": True, "notes": "road test fine, no warnings"}))
    _step(workshop, "deliver", lambda v: (proxy.workshop.deliver, v.ro_id, {"delivered_by": ADVISORS[v.branch_id]}))
    _step(workshop, "cancel", lambda v: (proxy.workshop.cancel_repair_order, v.ro_id, {"reason": v.spec["cancel"]}))
    for v in [v for v in workshop if "deliver" in v.steps]:
        v.invoice = _until(lambda v=v: _found(proxy.billing.invoice_for_repair_order, v.ro_id), bool,
                           f"the invoice of {v.vehicle['plate']}")
        _until(lambda v=v: proxy.parts.list_reservations({"repair_order_id": v.ro_id, "status": "held"})["items"],
               lambda held: not held, f"the parts of {v.vehicle['plate']} to be consumed")
    _step(workshop, "pay", lambda v: (proxy.billing.record_payment, v.invoice["invoice_id"], {
        "amount_cents": v.invoice["total_cents"], "method": v.spec["payment"], "reference": "demo"}))
    complained = _complaint(proxy, vehicles)
    first = days.get("N1")
    return {"made": len(todo), "complaints": complained,
            "days": [d.isoformat() for d in (first.days[:2] if first else ())]}


def _complaint(proxy, vehicles) -> int:
    vehicle = vehicles.get(COMPLAINT["vin"])
    if vehicle is None:
        return 0
    if proxy.crm.list_complaints({"customer_id": vehicle["customer_id"], "limit": 1})["items"]:
        return 0  # made before
    orders = proxy.workshop.list_repair_orders({"vehicle_id": vehicle["vehicle_id"], "limit": 1})["items"]
    proxy.crm.open_complaint({
        "branch_id": vehicle["branch_id"], "customer_id": vehicle["customer_id"],
        "repair_order_id": orders[0]["repair_order_id"] if orders else None,
        **{k: COMPLAINT[k] for k in ("what_happened", "customer_wants", "category", "severity", "owner")}})
    return 1


class _Visit:
    def __init__(self, spec, vehicle, places):
        self.spec, self.vehicle, self.places = spec, vehicle, places
        self.branch_id = vehicle["branch_id"]
        self.steps = STEPS.get(spec["stage"], ())
        self.booking = self.ro = self.quote = self.job = self.invoice = None

    @property
    def ro_id(self):
        return self.ro["repair_order_id"]

    def technician(self, i):
        return (self.spec.get("technicians") or TECHNICIANS[self.branch_id])[i]

    def book(self, proxy):
        """The booking in the first place open to it; a place a user took meanwhile is passed over."""
        in_workshop = self.spec["stage"] in RO_STAGES
        while True:
            slot, channel = self.places.take(self.spec["channel"], self.spec["day"], in_workshop)
            try:
                self.booking = proxy.booking.create_booking({
                    "branch_id": self.branch_id, "customer_id": self.vehicle["customer_id"],
                    "vehicle_id": self.vehicle["vehicle_id"], "slot_start": slot["slot_start"],
                    "service_type": self.spec["service_type"], "priority": self.spec["priority"],
                    "channel": channel, "symptoms": self.spec["symptoms"]})
                return
            except (errors.Conflict, errors.Unprocessable) as exc:
                if "slot_start" not in exc.fields:
                    raise
                slot["free"] = 0  # full, or started meanwhile: the next one

    def approval(self):
        wanted = {"must", "recommended"} if self.spec.get("approve_recommended") else {"must"}
        return {"quote_id": self.quote["quote_id"],
                "consent": {"method": self.spec.get("consent", "signature"), "by": self.vehicle["owner"]},
                "decisions": [{"line_id": line["line_id"], "approved": line["group"] in wanted}
                              for line in self.quote["lines"]]}


class _Places:
    """A branch's free places from its running slot on, over its next working days."""

    LOOK_AHEAD_DAYS = 21

    def __init__(self, proxy, branch_id):
        branch = proxy.booking.get_branch(branch_id)
        self.now = datetime.now(timezone.utc)
        today = self.now.astimezone(ZoneInfo(branch["timezone"])).date()
        self.slots = []
        self.days: list[date] = []
        for n in range(self.LOOK_AHEAD_DAYS):
            day = today + timedelta(days=n)
            open_ = [dict(s, free=max(s["capacity"] - s["booked"], 0)) for s in proxy.booking.list_slots(
                {"branch_id": branch_id, "date": day.isoformat()}) if _at(s["slot_end"]) > self.now]
            if open_:
                self.days.append(day)
                self.slots += [dict(s, day=day) for s in open_]
            if len(self.days) >= 3:
                break

    def take(self, channel, day, in_workshop):
        """(the slot, the channel to book it by): a repair order's from the running slot on (a walk-in
        there), one still to come today from a later slot today, tomorrow's from the next working day."""
        wanted = self.days[1] if day == "tomorrow" and len(self.days) > 1 else self.days[0] if self.days else None
        for slot in self.slots:
            if slot["free"] <= 0 or (not in_workshop and slot["day"] < wanted):
                continue
            started = _at(slot["slot_start"]) <= self.now
            if started and not in_workshop:
                continue  # an appointment to come needs a slot that has not started
            slot["free"] -= 1
            return slot, "walk_in" if started else channel
        raise DemoStuck("demo data: no free place left in three weeks")


def _at(text):
    return datetime.fromisoformat(text)


def _waves(visits) -> list[list]:
    """The visits in groups where no technician appears twice, in their order."""
    waves = []
    for v in visits:
        wave = next((w for w in waves if v.technician(0) not in {x.technician(0) for x in w}), None)
        if wave is None:
            waves.append(wave := [])
        wave.append(v)
    return waves


def _step(visits, step, call, keep=None):
    """Give every visit that takes `step` its command, all at once."""
    chosen = [v for v in visits if step in v.steps]
    results = _do_all([call(v) for v in chosen])
    if keep:
        for v, result in zip(chosen, results):
            setattr(v, keep, result)


def _do_all(calls):
    """[(rpc, *args)]: sent together, answered in order."""
    replies = [fn.call_async(*args) for fn, *args in calls]
    return [reply.result() for reply in replies]


def _patiently(fn, *args):
    """A command that needs the service's copy of a branch or a part price made a moment ago."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return fn(*args)
        except (errors.NotFound, errors.Unprocessable) as exc:
            if time.monotonic() > deadline or not ({"branch_id", "lines"} & set(exc.fields or {})):
                raise
            time.sleep(0.2)


def _found(fn, *args):
    """What `fn(*args)` reads, or None when there is no such record."""
    try:
        return fn(*args)
    except errors.NotFound:
        return None
