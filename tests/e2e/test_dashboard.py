"""Every query of the Grafana dashboard runs on a real Prometheus that scrapes the test stack.

Grafana itself is not packaged here; what can break in a dashboard is its queries, so each one is
sent to Prometheus' HTTP API and must succeed, and the core ones must return series.
"""
import json
import shutil
import subprocess

import pytest
import requests

from tests.support.gateway import free_port
from tests.support.infra import ROOT, wait_for

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "pitlane-sla.json"


@pytest.fixture
def prometheus(gateway, tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus missing: apt-get install prometheus")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{ROOT / 'deploy' / 'prometheus' / 'rules.yml'}']\n"
        "scrape_configs:\n"
        f"  - job_name: pitlane-gateway\n    static_configs: [{{targets: ['127.0.0.1:{gateway.port}']}}]\n")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _scraped(url), timeout=60, interval=0.5,
                 message="Prometheus to scrape the gateway")
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def _scraped(url):
    try:
        return _query(url, 'up{job="pitlane-gateway"}') == 1.0
    except requests.ConnectionError:
        return False  # still starting


def _query(url, expr):
    body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", body
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_every_dashboard_query_runs_against_the_scraped_stack(prometheus, advisor, world):
    from tests.e2e.test_sla import _booking

    open_clock = _booking(advisor, world["branch"])  # opens a booking_first_response clock
    ended = _booking(advisor, world["branch"])
    advisor.ok("POST", f"/bookings/{ended['booking_id']}/confirmation")  # and ends one, met
    assert open_clock["status"] == "requested"
    wait_for(lambda: _query(prometheus, 'count(pitlane_sla_clocks_total{outcome="met"})'), timeout=30,
             message="the met clock in Prometheus")
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert len(panels) >= 8
    for panel in panels:
        for target in panel["targets"]:
            expr = target["expr"].replace("$policy", ".*")
            body = requests.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10).json()
            assert body["status"] == "success", (panel["title"], expr, body)
    # the metrics the dashboard is built on are really there
    for series in ("pitlane_sla_open", "pitlane_sla_clocks_total", "pitlane_http_request_duration_seconds_bucket"):
        assert _query(prometheus, f"count({series})") >= 1, series
    rules = requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert {g["name"] for g in rules} == {"pitlane-sla", "pitlane-operations"}
    assert all(r["health"] == "ok" for g in rules for r in g["rules"]), rules
