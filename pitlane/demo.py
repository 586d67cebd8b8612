"""Demo data: a dealer group with 2 regions, 4 branches, 30 parts in stock, customers and vehicles,
and (pitlane/demo_day.py) a working day at branch N1 for an advisor to look at.

Loaded through the services' RPC like any client would; safe to load twice: everything is looked
up by a natural key and created only when missing, so a second load neither duplicates nor resets
what a user changed since (a branch's set-up, a part's price, stock and thresholds, a technician's
skills and shifts).
"""
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from nameko.standalone.rpc import ClusterRpcProxy

from pitlane.demo_day import TECHNICIANS, _do_all, _found, load_day
from pitlane.staff import DEMO_PASSWORD, add_demo_people
from shared import config
from shared.contracts import errors

WEEKDAYS = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
HOURS = {**WEEKDAYS, "sat": [["08:00", "12:00"]], "sun": []}

BRANCHES = [
    # branch, region, name, time zone, bays, labour rate, tax (basis points), holidays
    ("N1", "NORTH", "Hamburg Altona", "Europe/Berlin", 6, 11900, 1900, ["2026-12-25", "2026-12-26"]),
    ("N2", "NORTH", "Bremen Mitte", "Europe/Berlin", 4, 10900, 1900, ["2026-12-25", "2026-12-26"]),
    ("S1", "SOUTH", "Munich Schwabing", "Europe/Berlin", 5, 12900, 1900, ["2026-12-25", "2026-12-26"]),
    ("S2", "SOUTH", "Vienna Favoriten", "Europe/Vienna", 4, 11500, 2000, ["2026-12-08", "2026-12-25"]),
]

# part number, description, origin, price (cents), warranty months, warranty km, stock per branch, reorder point
PARTS = [
    ("BRK-PAD-F01", "Brake pads, front axle", "oem", 8900, 36, 50000, 12, 4),
    ("BRK-PAD-R01", "Brake pads, rear axle", "oem", 7400, 36, 50000, 10, 4),
    ("BRK-DSC-F01", "Brake disc, front, ventilated", "oem", 11900, 36, 50000, 6, 2),
    ("BRK-DSC-R01", "Brake disc, rear", "oem", 9800, 36, 50000, 6, 2),
    ("BRK-FLD-DOT4", "Brake fluid DOT 4, 1 l", "oem", 1900, 6, None, 20, 6),
    ("FLT-OIL-01", "Oil filter", "oem", 1450, 12, 20000, 30, 10),
    ("FLT-AIR-01", "Air filter element", "oem", 2600, 12, 20000, 20, 6),
    ("FLT-CAB-01", "Cabin filter, activated carbon", "oem", 3400, 12, 20000, 20, 6),
    ("FLT-FUEL-01", "Fuel filter, diesel", "oem", 4900, 12, 30000, 10, 3),
    ("OIL-5W30-5L", "Engine oil 5W-30, 5 l", "oem", 5900, 6, None, 25, 8),
    ("OIL-0W20-5L", "Engine oil 0W-20, 5 l", "oem", 6400, 6, None, 20, 6),
    ("WPR-BLD-SET", "Wiper blades, front set", "alternative", 3900, 6, None, 15, 5),
    ("BAT-12V-70", "Battery 12 V 70 Ah AGM", "oem", 18900, 36, None, 6, 2),
    ("BAT-12V-95", "Battery 12 V 95 Ah AGM", "oem", 23900, 36, None, 4, 2),
    ("SPK-PLG-01", "Spark plug, iridium", "oem", 1650, 12, 60000, 40, 12),
    ("BLT-AUX-01", "Auxiliary drive belt", "oem", 4200, 24, 60000, 8, 3),
    ("BLT-TMG-KIT", "Timing belt kit with water pump", "oem", 38900, 36, 100000, 3, 1),
    ("CLT-KIT-01", "Clutch kit", "oem", 42900, 24, 50000, 2, 1),
    ("SHK-ABS-F", "Shock absorber, front", "alternative", 12900, 12, 20000, 4, 2),
    ("SHK-ABS-R", "Shock absorber, rear", "alternative", 10900, 12, 20000, 4, 2),
    ("TYR-205-55-16", "Tyre 205/55 R16 all-season", "alternative", 9900, 12, 20000, 16, 8),
    ("TYR-225-45-17", "Tyre 225/45 R17 summer", "alternative", 12400, 12, 20000, 12, 8),
    ("LMP-H7", "Headlamp bulb H7", "oem", 1200, 6, None, 30, 10),
    ("LMP-LED-DRL", "LED daytime running light module", "oem", 21900, 24, None, 2, 1),
    ("CLN-AC-01", "Air-conditioning refrigerant R1234yf, 500 g", "oem", 8900, 6, None, 8, 3),
    ("CLN-ADB-10L", "AdBlue, 10 l", "oem", 1990, 6, None, 20, 6),
    ("SNS-O2-01", "Lambda sensor", "oem", 15900, 24, 60000, 3, 1),
    ("SNS-ABS-F", "ABS wheel speed sensor, front", "oem", 8900, 24, 60000, 4, 2),
    ("EV-CBL-T2", "EV charging cable type 2, 7 m", "oem", 29900, 24, None, 2, 1),
    ("EV-COOL-01", "Battery coolant for EV high-voltage circuit, 5 l", "oem", 7900, 12, None, 6, 2),
]

# Technicians on shift, with their skills, so a slot's capacity by skill shows: every branch's TECHNICIANS
# (the names the demo day and the tokens use) and N1's further ones. At N1 every technician does general
# work on a full day, so a slot has 7 technicians x its 2 hours of general work for its 6 bays of at most
# 2 hours each: for general work the bays always bind before the hours (the README books brakes in the
# first slot with a free bay); diagnostics, EV and body work run out of hours first, as a workshop's do.
SKILLS = {
    "tech-n1-anna": ["general", "diagnostics"], "tech-n1-ben": ["general", "ev_high_voltage"],
    "tech-n1-cem": ["general", "body"], "tech-n1-dora": ["general", "diagnostics"],
    "tech-n1-emre": ["general", "diagnostics", "ev_high_voltage"], "tech-n1-finn": ["general"],
    "tech-n1-gesa": ["general", "body"],
    "tech-n2-dana": ["general", "diagnostics"], "tech-n2-emil": ["general", "ev_high_voltage", "body"],
    "tech-s1-fritz": ["general", "diagnostics"], "tech-s1-gul": ["general", "ev_high_voltage"],
    "tech-s1-hans": ["general", "body"],
    "tech-s2-ines": ["general", "diagnostics", "body"], "tech-s2-jonas": ["general", "ev_high_voltage"],
}
ON_SHIFT = {branch_id: [t for t in SKILLS if t.startswith(f"tech-{branch_id.lower()}-")] for branch_id in TECHNICIANS}
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHIFT_DAYS = 43  # today and the next six weeks: a rota planned that far ahead
SHIFT_LOOK_AHEAD = 366  # the longest range list_technicians reads: a shift a user set further out is not seen

CUSTOMERS = [
    # branch, name, email, phone, vehicles: (vin, plate, model, year)
    ("N1", "Greta Lindqvist", "greta@example.com", "+49 40 555 0101",
     [("WVWZZZ1KZ8W000101", "HH-GL 101", "VW Golf 1.5 TSI", 2021)]),
    ("N1", "Jan Petersen", "jan.petersen@example.com", "+49 40 555 0102",
     [("WBA8E9C50GK000102", "HH-JP 202", "BMW 320d Touring", 2019)]),
    ("N2", "Mira Okafor", "mira@example.com", "+49 421 555 0103",
     [("VF1RFB00X6A000103", "HB-MO 33", "Renault Zoe R135", 2022)]),
    ("S1", "Lukas Brandl", "lukas.brandl@example.com", "+49 89 555 0104",
     [("WAUZZZ8V5KA000104", "M-LB 404", "Audi A3 Sportback", 2020),
      ("WDD2050081F000105", "M-LB 405", "Mercedes C 200", 2018)]),
    ("S2", "Sophie Gruber", "sophie.gruber@example.com", "+43 1 555 0106",
     [("TMBJJ7NE0L0000106", "W-SG 66", "Skoda Octavia Combi", 2020)]),
    # the customers of N1's day (VISITS)
    ("N1", "Tomasz Nowak", "tomasz.nowak@example.com", "+49 40 555 0111",
     [("WF0XXXGCDXJ000111", "HH-TN 318", "Ford Focus Turnier", 2018)]),
    ("N1", "Hannah Weber", "hannah.weber@example.com", "+49 40 555 0112",
     [("WVWZZZAWZHU000112", "HH-HW 717", "VW Polo 1.0", 2017)]),
    ("N1", "Felix Hoffmann", "felix.hoffmann@example.com", "+49 40 555 0113",
     [("W0LBD6EA0GG000113", "HH-FH 616", "Opel Astra K", 2016)]),
    ("N1", "Aylin Demir", "aylin.demir@example.com", "+49 40 555 0114",
     [("W1K2130041A000114", "HH-AD 220", "Mercedes E 220 d", 2022)]),
    ("N1", "Oskar Jensen", "oskar.jensen@example.com", "+49 40 555 0115",
     [("KMHK381GFMU000115", "HH-OJ 121", "Hyundai Kona Elektro", 2021)]),
    ("N1", "Lena Schulz", "lena.schulz@example.com", "+49 40 555 0116",
     [("VSSZZZKLZKR000116", "HH-LS 190", "Seat Leon 1.5 TSI", 2019)]),
    ("N1", "Murat Yilmaz", "murat.yilmaz@example.com", "+49 40 555 0117",
     [("SB1ZS3JE50E000117", "HH-MY 200", "Toyota Corolla Hybrid", 2020)]),
    ("N1", "Clara Becker", "clara.becker@example.com", "+49 40 555 0118",
     [("WAUZZZF45JA000118", "HH-CB 418", "Audi A4 Avant", 2018)]),
    ("N1", "Paul Richter", "paul.richter@example.com", "+49 40 555 0119",
     [("WVWZZZ3CZHE000119", "HH-PR 317", "VW Passat Variant", 2017)]),
    ("N1", "Ingrid Sorensen", "ingrid.sorensen@example.com", "+49 40 555 0120",
     [("TMBJG7NP8G7000120", "HH-IS 516", "Skoda Superb Combi", 2016)]),
    ("N1", "Nils Hansen", "nils.hansen@example.com", "+49 40 555 0121",
     [("JMZKF6W1A00000121", "HH-NH 519", "Mazda CX-5", 2019)]),
    ("N1", "Sven Larsen", "sven.larsen@example.com", "+49 40 555 0122",
     [("WVGZZZ5NZLW000122", "HH-SL 220", "VW Tiguan 2.0 TDI", 2020)]),
    ("N1", "Marie Dubois", "marie.dubois@example.com", "+49 40 555 0123",
     [("VF3LBHNYWKS000123", "HH-MD 308", "Peugeot 308 SW", 2019)]),
    ("N1", "Karl Meyer", "karl.meyer@example.com", "+49 40 555 0124",
     [("WF0DXXGAKDF000124", "HH-KM 515", "Ford Fiesta 1.0", 2015)]),
    ("N1", "Elif Kaya", "elif.kaya@example.com", "+49 40 555 0125",
     [("TMAD381CAJJ000125", "HH-EK 130", "Hyundai i30 Kombi", 2018)]),
    ("N1", "Robert Klein", "robert.klein@example.com", "+49 40 555 0126",
     [("W0L0XEP68E4000126", "HH-RK 414", "Opel Corsa E", 2014)]),
]


def _retry_until_known(fn, *args, attempts=100):
    """Services learn of a new branch from an event: retry briefly while they have not yet."""
    for _ in range(attempts):
        try:
            return fn(*args)
        except (errors.NotFound, errors.Unprocessable) as exc:
            if isinstance(exc, errors.Unprocessable) and "branch_id" not in exc.fields:
                raise  # refused for another reason than a branch not known here yet
            time.sleep(0.1)
    return fn(*args)


def load(proxy) -> dict:
    """Create what is missing; what exists is left as it is (a user may have changed it since)."""
    for branch_id, region_id, name, zone, bays, rate, tax, holidays in BRANCHES:
        if _found(proxy.booking.get_branch, branch_id) is None:
            proxy.booking.configure_branch({
                "branch_id": branch_id, "region_id": region_id, "name": name, "timezone": zone,
                "business_hours": HOURS, "holidays": holidays, "labour_rate_cents": rate, "tax_rate_bp": tax,
                "bays": bays, "slot_minutes": 120})
    for number, description, origin, price, months, km, stock, reorder in PARTS:
        if _found(proxy.parts.get_part, number) is None:
            proxy.parts.catalogue_part({"part_number": number, "description": description, "origin": origin,
                                        "price_cents": price, "warranty_months": months, "warranty_km": km})
        for branch_id, *_ in BRANCHES:
            if _stock(proxy, branch_id, number) is not None:
                continue  # stocked before: its quantities and thresholds are the branch's now
            _retry_until_known(proxy.parts.receive_stock, {"branch_id": branch_id, "part_number": number,
                                                           "quantity": stock, "reference": "demo opening stock"})
            proxy.parts.set_thresholds({"branch_id": branch_id, "part_number": number, "reorder_point": reorder,
                                        "safety_stock": max(reorder // 2, 1)})
    on_shift = _technicians(proxy)
    customers = 0
    vehicles = {}  # vin -> the vehicle record
    for branch_id, name, email, phone, cars in CUSTOMERS:
        found = [c for c in proxy.crm.list_customers({"branch_id": branch_id, "q": name})["items"]
                 if c["name"] == name]
        customer = found[0] if found else _retry_until_known(proxy.crm.create_customer, {
            "branch_id": branch_id, "name": name, "email": email, "phone": phone, "consent_marketing": True})
        customers += 1
        registered = None
        for vin, plate, model, year in cars:
            try:
                vehicles[vin] = {**proxy.crm.register_vehicle({"customer_id": customer["customer_id"], "vin": vin,
                                                               "plate": plate, "model": model, "year": year}),
                                 "owner": name}
            except errors.Conflict:  # loaded before: the VIN is registered
                if registered is None:
                    registered = {v["vin"]: v for v in proxy.crm.list_vehicles(
                        {"customer_id": customer["customer_id"], "limit": 200})["items"]}
                if vin in registered:
                    vehicles[vin] = {**registered[vin], "owner": name}
    day = load_day(proxy, vehicles)
    return {"regions": sorted({b[1] for b in BRANCHES}), "branches": [b[0] for b in BRANCHES],
            "parts": len(PARTS), "customers": customers, "vehicles": len(vehicles), "technicians": TECHNICIANS,
            "technicians_set": on_shift, **day}


def _technicians(proxy) -> int:
    """Each branch's technicians on every working day from today through the next six weeks
    (SHIFT_DAYS), in its business hours.

    Set once and then only carried forward: a technician the demo has not set yet gets its skills and
    every shift of the window; one that exists keeps its skills and shifts as they are (a user may have
    changed them; set_technician would replace a day's shift), and gets shifts only for the window's days
    after its last shift, so a load on a later day extends the hours and a second load on the same day
    sets nothing. Before the day's bookings, so they already count against the technicians' hours.
    Answers how many technicians it set shifts for."""
    calls = []
    for branch_id, *_ in BRANCHES:
        branch = proxy.booking.get_branch(branch_id)
        today = datetime.now(timezone.utc).astimezone(ZoneInfo(branch["timezone"])).date()
        known = {t["technician_id"]: t for t in proxy.booking.list_technicians({
            "branch_id": branch_id, "date_from": today.isoformat(),
            "date_to": (today + timedelta(days=SHIFT_LOOK_AHEAD)).isoformat()})}
        window = _working_days(branch, today)
        for technician_id in ON_SHIFT[branch_id]:
            found = known.get(technician_id)
            last = max((date.fromisoformat(s["date"]) for s in found["shifts"]), default=None) if found else None
            days = [d for d in window if last is None or d > last]
            if found and not days:
                continue
            calls.append((proxy.booking.set_technician, {
                "branch_id": branch_id, "technician_id": technician_id,
                "skills": found["skills"] if found else SKILLS[technician_id],
                "shifts": [{"date": d.isoformat(), "start": window[d][0], "end": window[d][1]} for d in days]}))
    _do_all(calls)
    return len(calls)


def _working_days(branch, today: date) -> dict:
    """{day: (start, end)} of the window's days the branch is open, a day's longest opening each (a shift
    stays within business hours, so a day with a break gets its longer part)."""
    holidays = {str(h) for h in branch["holidays"]}
    days = {}
    for n in range(SHIFT_DAYS):
        day = today + timedelta(days=n)
        hours = branch["business_hours"].get(WEEKDAY_NAMES[day.weekday()]) or []
        if hours and day.isoformat() not in holidays:
            start, end = max(hours, key=lambda h: (_minutes(h[1]) - _minutes(h[0])))
            days[day] = (start, end)
    return days


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _stock(proxy, branch_id, part_number):
    return _found(proxy.parts.get_stock, branch_id, part_number)


def main():
    started = time.monotonic()
    with ClusterRpcProxy(config.nameko_config(), timeout=30) as proxy:
        summary = load(proxy)
    summary["staff"] = _staff()
    print(f"[pitlane] demo data: {len(summary['branches'])} branches in {', '.join(summary['regions'])}, "
          f"{summary['parts']} parts in stock at each, {summary['customers']} customers with "
          f"{summary['vehicles']} vehicles; N1's day {' and '.join(summary['days'])}: {summary['made']} visits"
          f" made now ({time.monotonic() - started:.1f} s)", flush=True)
    print(f"[pitlane] console: {config.public_url()}/console/ - sign in as advisor-n1, tech-n1-anna, parts-north,"
          f" ops or admin with the password {DEMO_PASSWORD}", flush=True)
    return summary


def _staff() -> list[str]:
    from gateway.store import GatewayStore

    store = GatewayStore(pool_size=1)
    try:
        return add_demo_people(store)
    finally:
        store.pool.close()


if __name__ == "__main__":
    main()
