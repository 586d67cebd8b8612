"""The benchmark suite runs end to end in a few seconds, so it cannot rot (its figures mean nothing here)."""
import json
import subprocess
import sys

from tests.support.infra import ROOT


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
    assert len(figures["targets"]) == 10
    assert "targets:" in result.stdout


def test_lookups_bench_runs_with_and_without_the_lookup_indexes():
    for flags, label in (([], "with the lookup indexes"), (["--without-lookup-indexes"], "without the lookup indexes")):
        result = subprocess.run([sys.executable, "-m", "bench.lookups", "--orders", "300", *flags], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"300 repair orders ({label};" in result.stdout
        medians = [float(line.split("median")[1].split("ms")[0]) for line in result.stdout.splitlines()
                   if "median" in line]
        assert len(medians) == 2 and all(m > 0 for m in medians)
