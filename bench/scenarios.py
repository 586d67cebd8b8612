"""The benchmark scenarios. Each returns a dict of figures; none asserts (the report compares)."""
import asyncio
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from bench.baselines import MachineWatch, rss_mb
from bench.load import LeanApi, Result, closed_loop, open_loop, percentiles
from shared.storage.db import psycopg

from shared.sla import store as sla_store

BRANCH, REGION = "BENCH", "BENCH-R"
PART, RARE = "BENCH-PAD", "BENCH-RARE"
WEEK = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class World:
    """What the scenarios need: a branch with room, vehicles, parts; set up through the API."""

    def __init__(self, stack, admin, vehicles=64):
        self.stack, self.admin = stack, admin
        admin.ok("POST", "/branches", {"branch_id": BRANCH, "region_id": REGION, "name": "Bench", "timezone": "UTC",
                                       "business_hours": WEEK, "holidays": [], "labour_rate_cents": 9500,
                                       "tax_rate_bp": 1900, "bays": 200, "slot_minutes": 15}, status=201)
        for number, stock in ((PART, 100_000), (RARE, 0)):
            admin.ok("POST", "/parts", {"part_number": number, "description": number, "origin": "oem",
                                        "price_cents": 5000, "warranty_months": 12}, status=201)
            if stock:
                _until(lambda: admin.post("/stock/receipts", {"branch_id": BRANCH, "part_number": number,
                                                              "quantity": stock}).status_code == 201)
        self.pairs = []
        for i in range(vehicles):
            customer = admin.ok("POST", "/customers", {"branch_id": BRANCH, "name": f"Bench {i}"})
            vehicle = admin.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": _vin(),
                                                     "plate": f"BN {i}", "model": "Golf"})
            self.pairs.append((customer["customer_id"], vehicle["vehicle_id"]))
        self.first_slot = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                                                   microsecond=0)
        time.sleep(1)  # booking's vehicle copies

    def booking(self, i):
        customer_id, vehicle_id = self.pairs[i % len(self.pairs)]
        # Spread over 600 slots the way a group's advisors spread theirs; many advisors on one
        # slot at the same instant queue on its row lock (the overbooking race test covers it).
        n = i % 570  # 95 slots a day (the last quarter hour does not fit before 23:59), 6 days
        slot = self.first_slot + timedelta(days=n // 95, minutes=15 * (n % 95))
        return {"branch_id": BRANCH, "customer_id": customer_id, "vehicle_id": vehicle_id,
                "slot_start": slot.isoformat(), "service_type": "annual service", "channel": "web"}


def _vin():
    from tests.support.journey import vin

    return vin()


def _until(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("bench set-up timed out")
        time.sleep(0.1)


class RssSampler:
    """Peak resident memory of each process while a scenario runs."""

    def __init__(self, pids):
        self.pids, self.peak, self._stop = pids, {n: 0.0 for n in pids}, threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                try:
                    self.peak[name] = max(self.peak[name], rss_mb(pid))
                except OSError:
                    pass
            self._stop.wait(0.5)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def booking_create(stack, world, token, seconds, clients, offered_rate, rate_seconds, offset=0):
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(offset, offset + 10**8))

    def request(_):
        return "POST", "/api/v1/bookings", world.booking(next(counter)), headers

    with MachineWatch(processes=stack.watched()) as closed:
        throughput = asyncio.run(closed_loop(stack.url, request, clients, seconds))
    with MachineWatch() as opened:
        at_rate = asyncio.run(open_loop(stack.url, request, offered_rate, rate_seconds))
    return {"throughput": {**throughput.summary(), **closed.figures, **closed.cpu_per(throughput.ok)},
            "at_offered_rate": {"offered_per_s": offered_rate, **at_rate.summary(), **opened.figures}}


def cost_of_the_bus(stack, world, token, direct_port, seconds, clients, turns, offset):
    """pitlane's booking_create and the direct baseline in turns (pitlane, direct, pitlane, ...),
    `seconds` in all for each side: both see the same spells of a machine whose speed wanders,
    so their ratio holds where two runs one after the other would not."""
    headers = {"Authorization": f"Bearer {token}"}
    ours, theirs = iter(range(offset, offset + 10**8)), iter(range(offset + 10**8, offset + 2 * 10**8))

    def pitlane_request(_):
        return "POST", "/api/v1/bookings", world.booking(next(ours)), headers

    def direct_request(_):
        return "POST", "/bookings", world.booking(next(theirs)), {}

    pitlane, direct = [], []
    for _ in range(turns):
        pitlane.append(asyncio.run(closed_loop(stack.url, pitlane_request, clients, seconds / turns)))
        direct.append(asyncio.run(closed_loop(f"http://127.0.0.1:{direct_port}", direct_request, clients,
                                              seconds / turns)))
    pitlane, direct = Result.merged(pitlane).summary(), Result.merged(direct).summary()
    return {"turns": turns, "seconds_each": seconds, "pitlane": pitlane, "direct": direct,
            "ratio": bus_ratio(pitlane["requests_per_s"], direct["requests_per_s"])}


def bus_ratio(pitlane_rate: float, direct_rate: float) -> float:
    """pitlane / direct, to three places: two would let 0.396 pass for the target's 0.40."""
    return round(pitlane_rate / max(direct_rate, 0.1), 3)


def journeys(stack, count, workers):
    from gateway.auth import issue_token
    from tests.support.journey import Journey

    advisor = LeanApi(stack.url, issue_token("advisor", "bench-advisor", branch_id=BRANCH))
    inspector = LeanApi(stack.url, issue_token("technician", "bench-inspector", branch_id=BRANCH))
    slot0 = datetime.now(timezone.utc) + timedelta(days=60)

    def one(i):
        slot = (slot0 + timedelta(minutes=15 * (i // 150))).replace(second=0, microsecond=0)
        slot = slot.replace(minute=slot.minute - slot.minute % 15)
        if (slot.hour, slot.minute) == (23, 45):  # the branch closes at 23:59: no slot starts at 23:45
            slot += timedelta(minutes=15)
        # a technician per journey: one technician's clock runs on one job at a time
        technician = LeanApi(stack.url, issue_token("technician", f"bench-technician-{i}", branch_id=BRANCH))
        journey = Journey(advisor, technician, inspector, BRANCH, slot_start=slot.isoformat(), part_number=PART)
        journey.run()
        return journey.timings

    started = time.monotonic()
    with MachineWatch(processes=stack.watched()) as machine, ThreadPoolExecutor(workers) as pool:
        timings = list(pool.map(one, range(count)))
    elapsed = time.monotonic() - started
    steps = {step: percentiles([t[step] for t in timings], (50, 99)) for step in timings[0]}
    return {"journeys": count, "concurrent": workers, "journeys_per_s": round(count / elapsed, 2),
            "step_p99_ms": {s: v["p99_ms"] for s, v in steps.items()}, **machine.figures, **machine.cpu_per(count)}


def reserve_race(stack, count, stock):
    """`count` approved quotes race for `stock` units of one part, through the real event path."""
    from shared import config
    from shared.bus.broker import EVENTS_EXCHANGE, ConfirmingPublisher
    from shared.contracts.events import build

    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO parts.stock (branch_id, part_number, on_hand) VALUES (%s, %s, %s)"
                     " ON CONFLICT (branch_id, part_number) DO UPDATE SET on_hand = EXCLUDED.on_hand, reserved = 0",
                     (BRANCH, RARE, stock))
    events = []
    for _ in range(count):
        line = {"line_id": uuid.uuid4(), "kind": "part", "group": "must", "description": "rare part",
                "part_number": RARE, "quantity": "1", "unit_price_cents": 5000, "net_cents": 5000,
                "pay_type": "customer"}
        events.append(build("quote.approved", BRANCH, "workshop", repair_order_id=uuid.uuid4(),
                            quote_id=uuid.uuid4(), approved_lines=[line], declined_line_ids=[],
                            approved_total_cents=5000))
    ids = [e["event_id"] for e in events]
    # While the race runs, watch the handler's inbox with a cheap count (a look-up of 1,000 ids
    # every 20 ms would load the database under test); check the exact ids once at the end.
    handled_sql = "SELECT count(*) FROM parts.inbox WHERE consumer = 'parts.reserve_for_repair_order'"
    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        already = conn.execute(handled_sql).fetchone()[0]
        publisher = ConfirmingPublisher(config.amqp_uri())
        started = time.monotonic()
        with MachineWatch(processes=stack.watched()) as machine:
            publisher.publish([(EVENTS_EXCHANGE, "quote.approved", e, {}) for e in events])
            publisher.close()
            while conn.execute(handled_sql).fetchone()[0] - already < count and time.monotonic() - started < 120:
                time.sleep(0.02)
        elapsed = time.monotonic() - started
        handled = conn.execute(handled_sql + " AND event_id = ANY(%s)", (ids,)).fetchone()[0]
        reserved = conn.execute("SELECT reserved, on_hand FROM parts.stock WHERE branch_id = %s AND part_number = %s",
                                (BRANCH, RARE)).fetchone()
        held = conn.execute("SELECT coalesce(sum(quantity), 0) FROM parts.reservations WHERE part_number = %s",
                            (RARE,)).fetchone()[0]
    return {"approvals": count, "stock": stock, "handled": handled,
            "reservations_per_s": round(handled / elapsed, 1), "reserved": reserved[0],
            "oversold": max(0, reserved[0] - stock) + max(0, held - stock),
            "ledger_matches": held == reserved[0], **machine.figures, **machine.cpu_per(handled)}


def event_lag(stack, admin, samples, pause=0.02):
    """commit of vehicle.registered in crm -> its copy committed in booking (both on PostgreSQL's clock)."""
    customer = admin.ok("POST", "/customers", {"branch_id": BRANCH, "name": "Lag Probe"})
    vehicle_ids = []
    for i in range(samples):
        vehicle_ids.append(admin.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": _vin(),
                                                          "plate": f"LAG {i}", "model": "Up"})["vehicle_id"])
        time.sleep(pause)
    time.sleep(1)
    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT EXTRACT(EPOCH FROM i.applied_at - o.created_at) FROM crm.outbox o JOIN booking.inbox i"
            " ON i.event_id = o.event_id AND i.consumer = 'booking.copy_vehicle'"
            " WHERE o.event_type = 'vehicle.registered' AND o.payload->>'vehicle_id' = ANY(%s)",
            (vehicle_ids,)).fetchall()
    lags = [float(r[0]) for r in rows]
    return {"samples": len(lags), **percentiles(lags, (50, 99))}


def metrics_scrape(stack, clocks, repeats=5):
    import urllib.request

    with psycopg.connect(stack.dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO booking.sla_clocks (clock_id, policy, subject_type, subject_id, branch_id, target_seconds,"
            " started_at, running_since, deadline, at_risk_at, state, outcome, at_risk, duration_seconds, ended_at)"
            " SELECT gen_random_uuid(), (ARRAY['booking_first_response','diagnosis','repair_promise','follow_up'])[1 + g %% 4],"
            " 'bench', 'bench-' || g, 'BENCH-' || (g %% 40), 900, now() - interval '1 hour',"
            " CASE WHEN g %% 3 = 0 THEN now() END, CASE WHEN g %% 3 = 0 THEN now() + (g %% 3600) * interval '1 second' END,"
            " CASE WHEN g %% 3 = 0 THEN now() + interval '1 day' END,"
            " CASE WHEN g %% 3 = 0 THEN 'running' WHEN g %% 3 = 1 THEN 'paused' ELSE 'stopped' END,"
            " CASE WHEN g %% 3 = 2 THEN (CASE WHEN g %% 7 = 0 THEN 'breached' ELSE 'met' END) END,"
            " g %% 11 = 0, CASE WHEN g %% 3 = 2 THEN g %% 7200 END, CASE WHEN g %% 3 = 2 THEN now() END"
            " FROM generate_series(1, %s) g", (clocks,))
        conn.execute("SET search_path TO booking")
        sla_store.count_loaded(conn, "subject_type = 'bench'")  # as the clocks' stops would have
        conn.execute("ANALYZE booking.sla_clocks")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with urllib.request.urlopen(stack.url + "/metrics", timeout=30) as response:
            body = response.read()
        times.append(time.perf_counter() - started)
    return {"clocks": clocks, "median_s": round(sorted(times)[len(times) // 2], 3), "max_s": round(max(times), 3),
            "bytes": len(body)}


def postgres_rate(stack, seconds):
    from bench.baselines import postgres_insert_rate

    return postgres_insert_rate(stack.dsn, seconds)


def dumps(figures) -> str:
    return json.dumps(figures, indent=2, default=str)
