"""The demo data loads through the services and can be loaded twice without duplicates."""
import time
from datetime import date, datetime, time as clock_time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pitlane import demo

DEMO_VINS = {vin for *_, cars in demo.CUSTOMERS for vin, *_ in cars}
RO_STATUSES = ("checked_in", "diagnosed", "awaiting_approval", "approved", "waiting_for_parts", "in_progress",
               "on_hold", "quality_check", "ready", "delivered", "cancelled")


def _demo_vehicles(rpc):
    return {v["vehicle_id"]: v for v in rpc.crm.list_vehicles({"limit": 200})["items"] if v["vin"] in DEMO_VINS}


def _bookings_on(rpc, branch_id, day: date, vehicles):
    zone = ZoneInfo(rpc.booking.get_branch(branch_id)["timezone"])
    start = datetime.combine(day, clock_time(0), zone)
    items = rpc.booking.list_bookings({"branch_id": branch_id, "from": start.isoformat(),
                                       "to": (start + timedelta(days=1)).isoformat(), "limit": 200})["items"]
    return [b for b in items if b["vehicle_id"] in vehicles]


def _repair_orders(rpc, branch_id, status, vehicles):
    items = rpc.workshop.list_repair_orders({"branch_id": branch_id, "status": status, "limit": 200})["items"]
    return [r for r in items if r["vehicle_id"] in vehicles]


def _day_snapshot(rpc):
    """Everything the demo's day made, counted per kind."""
    vehicles = _demo_vehicles(rpc)
    bookings = [b for v in vehicles for b in rpc.booking.list_bookings({"vehicle_id": v, "limit": 200})["items"]]
    orders = [r for v in vehicles for r in rpc.workshop.list_repair_orders({"vehicle_id": v, "limit": 200})["items"]]
    customers = {v["customer_id"] for v in vehicles.values()}
    invoices = [i for c in customers for i in rpc.billing.list_invoices({"customer_id": c, "limit": 200})["items"]]
    complaints = [c for c in customers for c in rpc.crm.list_complaints({"customer_id": c, "limit": 200})["items"]]
    stock = {(s["branch_id"], s["part_number"]): (s["on_hand"], s["reserved"])
             for s in rpc.parts.list_stock({"branch_id": "N1", "limit": 200})["items"]}
    technicians = []
    for branch_id in demo.ON_SHIFT:
        technicians += rpc.booking.list_technicians({"branch_id": branch_id, "date_from": date.today().isoformat(),
                                                     "date_to": (date.today() + timedelta(days=30)).isoformat()})
    return (sorted((b["branch_id"], b["slot_start"], b["status"]) for b in bookings),
            sorted((t["branch_id"], t["technician_id"], t["skills"], t["shifts"]) for t in technicians),
            sorted((r["branch_id"], r["status"], r["parts_status"]) for r in orders),
            sorted((i["status"], i["total_cents"]) for i in invoices), len(complaints), stock)


def test_demo_loads_and_loading_twice_changes_nothing(stack, rpc):
    stack("booking", "crm", "parts", "workshop", "billing")
    first = demo.load(rpc)
    assert first["branches"] == ["N1", "N2", "S1", "S2"] and first["regions"] == ["NORTH", "SOUTH"]
    assert first["parts"] == 30

    def snapshot():
        stock = rpc.parts.list_stock({"limit": 200})["items"]
        customers = rpc.crm.list_customers({"limit": 200})["items"]
        vehicles = rpc.crm.list_vehicles({"limit": 200})["items"]
        return ({(s["branch_id"], s["part_number"]): s["on_hand"] for s in stock if s["branch_id"] in first["branches"]},
                sorted(c["name"] for c in customers if c["branch_id"] in first["branches"]),
                sorted(v["vin"] for v in vehicles if v["branch_id"] in first["branches"]))

    stock, customers, vehicles = snapshot()
    assert len(stock) == 4 * 30 and all(on_hand > 0 for on_hand in stock.values())
    assert len(customers) == len(demo.CUSTOMERS) and len(vehicles) == len(DEMO_VINS)
    assert len(rpc.parts.list_parts({"limit": 200})["items"]) >= 30
    day = _day_snapshot(rpc)
    started = time.monotonic()
    again = demo.load(rpc)
    assert again["made"] == 0 and again["complaints"] == 0 and again["technicians_set"] == 0
    assert time.monotonic() - started < 10
    assert snapshot() == (stock, customers, vehicles)
    assert _day_snapshot(rpc) == day


def test_the_demo_day_gives_an_advisor_something_to_look_at(stack, rpc):
    stack("booking", "crm", "parts", "workshop", "billing")
    started = time.monotonic()
    summary = demo.load(rpc)  # the first load in this run made the day; this one finds it
    assert time.monotonic() - started < 20
    vehicles = _demo_vehicles(rpc)

    # bookings today and tomorrow: the branch's working day (today, unless its last slot is over)
    # and the next one, with bookings still to come on both
    today, tomorrow = (date.fromisoformat(d) for d in summary["days"])
    zone = ZoneInfo(rpc.booking.get_branch("N1")["timezone"])
    local_today = datetime.now(timezone.utc).astimezone(zone).date()
    slots_left_today = [s for s in rpc.booking.list_slots({"branch_id": "N1", "date": local_today.isoformat()})
                        if datetime.fromisoformat(s["slot_end"]) > datetime.now(timezone.utc) + timedelta(minutes=5)]
    if slots_left_today:
        assert today == local_today
    assert today < tomorrow
    on_day = _bookings_on(rpc, "N1", today, vehicles)
    on_next = _bookings_on(rpc, "N1", tomorrow, vehicles)
    assert on_day and on_next
    to_come = [b for b in on_day + on_next if b["status"] in ("requested", "confirmed")]
    assert {b["status"] for b in to_come} == {"requested", "confirmed"}
    assert [b for b in on_next if b["status"] == "confirmed" and b["priority"] == "safety_critical"]
    assert {b["priority"] for b in on_day + on_next} >= {"safety_critical", "vip", "routine"}
    assert all(b["symptoms"] for b in on_day + on_next)
    walk_ins = [b for b in on_day if b["channel"] == "walk_in"]
    assert all(datetime.fromisoformat(b["slot_start"]) <= datetime.fromisoformat(b["requested_at"])
               for b in walk_ins)  # a walk-in only where the slot had started
    assert _bookings_on(rpc, "S1", tomorrow, vehicles) or _bookings_on(rpc, "S1", today, vehicles)

    # a repair order in every status at N1, one at S1
    for status in RO_STATUSES:
        assert _repair_orders(rpc, "N1", status, vehicles), f"no {status} repair order at N1"
    assert _repair_orders(rpc, "S1", "diagnosed", vehicles)
    on_hold = _repair_orders(rpc, "N1", "on_hold", vehicles)[0]
    waiting = _repair_orders(rpc, "N1", "waiting_for_parts", vehicles)[0]
    assert waiting["parts_status"] == "short"
    held = rpc.parts.list_reservations({"repair_order_id": on_hold["repair_order_id"]})["items"]
    assert held == []  # the sublet hold needs no part
    quality_check = _repair_orders(rpc, "N1", "quality_check", vehicles)[0]
    assert rpc.workshop.list_jobs({"repair_order_id": quality_check["repair_order_id"]})["items"][0]["finished_at"]

    # delivered with their invoices, one paid
    customers = {v["customer_id"] for v in vehicles.values()}
    invoices = [i for i in rpc.billing.list_invoices({"branch_id": "N1", "limit": 200})["items"]
                if i["customer_id"] in customers]
    assert sorted(i["status"] for i in invoices) == ["issued", "paid"]
    delivered = {r["repair_order_id"] for status in ("delivered", "closed")  # closed: paid
                 for r in _repair_orders(rpc, "N1", status, vehicles)}
    assert {i["repair_order_id"] for i in invoices} == delivered

    # a part below its reorder point at N1
    below = rpc.parts.list_stock({"branch_id": "N1", "below_reorder": True, "limit": 200})["items"]
    assert "LMP-LED-DRL" in {s["part_number"] for s in below}

    # a clock at risk (the repair promise of the order in progress), soon after loading
    in_progress = _repair_orders(rpc, "N1", "in_progress", vehicles)[0]["repair_order_id"]
    deadline = time.monotonic() + 15
    while True:
        at_risk = rpc.workshop.sla_summary({"branch_id": "N1"})["at_risk"]
        if any(c["subject_id"] == in_progress and c["policy"] == "repair_promise" for c in at_risk):
            break
        assert time.monotonic() < deadline, f"no clock at risk at N1: {at_risk}"
        time.sleep(0.2)

    # a complaint, about the order waiting for its part
    complaints = [c for c in rpc.crm.list_complaints({"branch_id": "N1", "limit": 200})["items"]
                  if c["customer_id"] in customers]
    assert len(complaints) == 1 and complaints[0]["repair_order_id"] == waiting["repair_order_id"]


def test_every_demo_branch_has_technicians_on_shift_and_at_n1_the_bays_bind_first(stack, rpc):
    stack("booking", "crm", "parts", "workshop", "billing")
    demo.load(rpc)
    for branch_id, names in demo.TECHNICIANS.items():
        branch = rpc.booking.get_branch(branch_id)
        today = datetime.now(timezone.utc).astimezone(ZoneInfo(branch["timezone"])).date()
        last = today + timedelta(days=demo.SHIFT_DAYS - 1)
        found = {t["technician_id"]: t for t in rpc.booking.list_technicians(
            {"branch_id": branch_id, "date_from": today.isoformat(), "date_to": last.isoformat()})}
        assert set(names) <= set(found) and set(demo.ON_SHIFT[branch_id]) <= set(found)
        open_days = {(today + timedelta(days=n)).isoformat() for n in range(demo.SHIFT_DAYS)
                     if branch["business_hours"].get(demo.WEEKDAY_NAMES[(today + timedelta(days=n)).weekday()])
                     and (today + timedelta(days=n)).isoformat() not in branch["holidays"]}
        for technician in demo.ON_SHIFT[branch_id]:
            assert found[technician]["skills"] == demo.SKILLS[technician]
            assert {s["date"] for s in found[technician]["shifts"]} == open_days
    n1 = {t["technician_id"]: t["skills"] for t in rpc.booking.list_technicians(
        {"branch_id": "N1", "date_from": date.today().isoformat(), "date_to": date.today().isoformat()})}
    assert n1["tech-n1-anna"] == ["general", "diagnostics"] and n1["tech-n1-ben"] == ["general", "ev_high_voltage"]
    assert n1["tech-n1-cem"] == ["general", "body"] and len(n1) >= 7

    # at N1 a slot with a free bay always has the hours for general work (the README books brakes in the
    # first slot with `available > 0`); work needing a skill shows its own hours
    zone = ZoneInfo(rpc.booking.get_branch("N1")["timezone"])
    today = datetime.now(timezone.utc).astimezone(zone).date()
    open_slots = 0
    for n in range(demo.SHIFT_DAYS):
        day = (today + timedelta(days=n)).isoformat()
        for slot in rpc.booking.list_slots({"branch_id": "N1", "date": day, "service_type": "brakes"}):
            if slot["reason"] != "over" and slot["free_bays"] > 0:
                open_slots += 1
                assert slot["bookable"] and slot["skill_hours_free"] >= 2 * slot["hours_needed"], slot
        ev = rpc.booking.list_slots({"branch_id": "N1", "date": day, "service_type": "ev_service"})
        assert all(s["skill_hours_free"] is not None for s in ev)
    assert open_slots >= 10


def test_loading_the_demo_again_keeps_what_a_user_changed(stack, rpc):
    stack("booking", "crm", "parts", "workshop", "billing")
    demo.load(rpc)
    branch = rpc.booking.get_branch("N2")
    rpc.booking.configure_branch({**{k: branch[k] for k in ("region_id", "name", "timezone", "business_hours",
                                                            "holidays", "labour_rate_cents", "tax_rate_bp",
                                                            "slot_minutes")},
                                  "branch_id": "N2", "bays": 9, "name": "Bremen Mitte (renovated)"})
    part = rpc.parts.get_part("WPR-BLD-SET")
    rpc.parts.catalogue_part({**{k: part[k] for k in ("part_number", "description", "origin", "warranty_months",
                                                      "warranty_km")}, "price_cents": 4500})
    rpc.parts.set_thresholds({"branch_id": "S1", "part_number": "FLT-OIL-01", "reorder_point": 2, "safety_stock": 1})
    # a technician's skills and one day's shift changed; a day off (no shift) can only be a day not yet set
    s2_today = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Vienna")).date()
    jonas = rpc.booking.list_technicians({"branch_id": "S2", "date_from": s2_today.isoformat(),
                                          "date_to": (s2_today + timedelta(days=30)).isoformat()})
    jonas = next(t for t in jonas if t["technician_id"] == "tech-s2-jonas")
    changed_day = jonas["shifts"][-1]["date"]
    rpc.booking.set_technician({"branch_id": "S2", "technician_id": "tech-s2-jonas", "skills": ["general", "body"],
                                "shifts": [{"date": changed_day, "start": "09:00", "end": "13:00"}]})

    demo.load(rpc)
    branch = rpc.booking.get_branch("N2")
    assert (branch["bays"], branch["name"]) == (9, "Bremen Mitte (renovated)")
    assert rpc.parts.get_part("WPR-BLD-SET")["price_cents"] == 4500
    stock = rpc.parts.get_stock("S1", "FLT-OIL-01")
    assert (stock["reorder_point"], stock["safety_stock"]) == (2, 1)
    jonas = next(t for t in rpc.booking.list_technicians({"branch_id": "S2", "date_from": changed_day,
                                                          "date_to": changed_day})
                 if t["technician_id"] == "tech-s2-jonas")
    assert jonas["skills"] == ["general", "body"]
    assert [(s["start"], s["end"]) for s in jonas["shifts"]] == [("09:00", "13:00")]


def test_the_demo_staff_can_sign_in_and_a_second_load_keeps_a_changed_password(run_env):
    from gateway import staff
    from gateway.store import GatewayStore
    from pitlane import staff as people

    store = GatewayStore(pool_size=1)
    try:
        logins = people.add_demo_people(store)
        assert {"advisor-n1", "tech-n1-anna", "parts-north", "ops", "admin"} <= set(logins)
        advisor = staff.sign_in(store, "advisor-n1", people.DEMO_PASSWORD)
        assert (advisor.role, advisor.branch_id) == ("advisor", "N1")
        assert staff.sign_in(store, "tech-n1-anna", people.DEMO_PASSWORD).branch_id == "N1"
        assert staff.sign_in(store, "parts-north", people.DEMO_PASSWORD).region_id == "NORTH"
        people.add(store, "ops", "Operations", "a password of their own", "operations")
        people.add_demo_people(store)
        assert staff.sign_in(store, "ops", "a password of their own").role == "operations"
        with pytest.raises(staff.SignInRefused):
            staff.sign_in(store, "ops", people.DEMO_PASSWORD)
    finally:
        store.pool.close()
