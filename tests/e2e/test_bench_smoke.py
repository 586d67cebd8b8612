"""The benchmark suite runs end to end in a few seconds, so it cannot rot (its figures mean nothing here)."""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

from tests.support import fixtures
from tests.support.infra import ROOT
from tests.support.journey import Journey


def test_bench_smoke_run_produces_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--json", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["booking_create"]["throughput"]["requests_per_s"] > 0
    assert figures["booking_create"]["at_offered_rate"]["statuses"] == {"201": 40}
    assert figures["direct"]["requests_per_s"] > 0 and figures["cost_of_the_bus"]["ratio"] > 0
    assert figures["reserve_race"]["oversold"] == 0 and figures["reserve_race"]["handled"] == 40
    assert figures["reserve_race"]["reserved"] == figures["reserve_race"]["stock"]
    assert figures["event_lag_idle"]["samples"] == 10 and figures["event_lag_idle"]["p99_ms"] is not None
    assert figures["journey"]["journeys_per_s"] > 0
    assert figures["nameko_floor"]["calls_per_s"] > 0 and figures["nameko_floor"]["failures"] == 0
    for scenario in (figures["booking_create"]["throughput"], figures["journey"], figures["reserve_race"]):
        assert 0 < scenario["cores"]["busy_pct"] <= 100 and scenario["disk"]["syncs"] > 0
    # the CPU each process spent per unit of work: the service doing the work is charged for it
    for scenario, worker in ((figures["booking_create"]["throughput"], "booking"), (figures["journey"], "workshop"),
                             (figures["reserve_race"], "parts")):
        per = scenario["cpu_ms_per_unit"]
        assert per[worker] > 0 and per["all"] >= per[worker] and {"rabbitmq", "postgres", "load generator"} <= set(per)
    assert "CPU ms per journey:" in result.stdout
    assert figures["metrics_scrape"]["clocks"] == 2000 and figures["metrics_scrape"]["bytes"] > 0
    from bench.__main__ import TARGETS

    assert len(figures["targets"]) == len(TARGETS)
    two = figures["two_processes"]
    assert two["processes"] == 2 and two["journey"]["journeys_per_s"] > 0
    assert two["booking_create"]["throughput"]["requests_per_s"] > 0 and "2 processes " in result.stdout
    assert "targets:" in result.stdout
    # the processes' logs are where the README says test logs are, one directory per run
    logs = Path(figures["logs"])
    assert logs.parent == ROOT / ".test-logs" and logs.name.startswith("bench-")
    assert {"booking.log", "parts.log", "gateway.log"} <= {p.name for p in logs.iterdir()}
    assert f"logs are in {logs}" in result.stdout


def test_the_race_starts_only_once_every_earlier_reservation_is_handled(advisor, technician, inspector, world):
    """The race counts parts' inbox marks while it runs, so it waits for every quote.approved
    published before it to be handled first: one handled late was counted as the race's own."""
    from bench.__main__ import settle_reservations

    journey = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                      slot_start=fixtures.next_slot(hours_ahead=140))
    journey.run()
    dsn = os.environ["PITLANE_DSN"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        event_id = conn.execute("SELECT event_id FROM workshop.outbox WHERE event_type = 'quote.approved'"
                                " AND payload->>'repair_order_id' = %s",
                                (journey.state["ro"]["repair_order_id"],)).fetchone()[0]
        mark = "parts.reserve_for_repair_order"
        # as if parts had not handled this journey's approval yet
        applied = conn.execute("DELETE FROM parts.inbox WHERE consumer = %s AND event_id = %s RETURNING applied_at",
                               (mark, event_id)).fetchone()[0]
        restore = lambda: conn.execute("INSERT INTO parts.inbox (consumer, event_id, applied_at) VALUES (%s, %s, %s)"
                                       " ON CONFLICT DO NOTHING", (mark, event_id, applied))
        late = threading.Timer(1.5, restore)
        try:
            assert settle_reservations(dsn, timeout=0.5) is False
            started = time.monotonic()
            late.start()
            assert settle_reservations(dsn, timeout=30) is True
            assert time.monotonic() - started >= 1.4
        finally:
            late.cancel()
            if late.is_alive():
                late.join()
            restore()


def test_lookups_bench_runs_with_and_without_the_lookup_indexes():
    for flags, label in (([], "with the lookup indexes"), (["--without-lookup-indexes"], "without the lookup indexes")):
        result = subprocess.run([sys.executable, "-m", "bench.lookups", "--orders", "300", *flags], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"300 repair orders ({label};" in result.stdout
        medians = [float(line.split("median")[1].split("ms")[0]) for line in result.stdout.splitlines()
                   if "median" in line]
        assert len(medians) == 2 and all(m > 0 for m in medians)
