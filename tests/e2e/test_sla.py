"""SLA clocks in a real flow: a breach is announced as it happens and moves the metrics."""
import re

import requests

from tests.support import fixtures
from tests.support.bus import EventRecorder
from tests.support.gateway import metric
from tests.support.infra import wait_for
from tests.support.journey import vin


def _booking(advisor, branch_id, priority="routine"):
    customer = advisor.ok("POST", "/customers", {"branch_id": branch_id, "name": "Clock Watcher"})
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": "SLA 1", "model": "Zoe"})
    request = fixtures.booking_request(branch_id, customer["customer_id"], vehicle["vehicle_id"],
                                       slot_start=fixtures.next_slot(hours_ahead=5), priority=priority)
    return wait_for(lambda: (r := advisor.post("/bookings", request)).status_code == 201 and r.json(),
                    message="the booking")


def test_unanswered_booking_breaches_on_time_and_moves_the_metrics(gateway, admin, advisor, world):
    branch = world["branch"]
    admin.ok("POST", "/sla/targets", {"policy": "booking_first_response", "branch_id": branch,
                                      "target_seconds": 2})
    met_before = metric(gateway, "pitlane_sla_clocks_total", policy="booking_first_response", branch=branch,
                        outcome="met")
    breached_before = metric(gateway, "pitlane_sla_clocks_total", policy="booking_first_response",
                             branch=branch, outcome="breached")
    safety_before = metric(gateway, "pitlane_sla_safety_critical_breaches_total", branch=branch)
    with EventRecorder("sla.*") as recorder:
        late = _booking(advisor, branch, priority="safety_critical")
        on_time = _booking(advisor, branch)
        advisor.ok("POST", f"/bookings/{on_time['booking_id']}/confirmation")
        met = recorder.wait_for("sla.met", subject_id=on_time["booking_id"])
        breached = recorder.wait_for("sla.breached", timeout=20, subject_id=late["booking_id"])
    assert met["policy"] == breached["policy"] == "booking_first_response"
    assert breached["target_seconds"] == 2 and breached["region_id"] == world["region"]
    wait_for(lambda: metric(gateway, "pitlane_sla_clocks_total", policy="booking_first_response", branch=branch,
                            outcome="breached") >= breached_before + 1, message="the breach counter")
    assert metric(gateway, "pitlane_sla_clocks_total", policy="booking_first_response", branch=branch,
                  outcome="met") >= met_before + 1
    assert metric(gateway, "pitlane_sla_safety_critical_breaches_total", branch=branch) >= safety_before + 1
    summary = advisor.ok("GET", "/sla/summary")
    row = next(r for r in summary["compliance"] if r["policy"] == "booking_first_response")
    assert row["branch_id"] == branch and row["breached"] >= 1 and row["met"] >= 1
    assert any(c["subject_id"] == late["booking_id"] for c in summary["at_risk"])
    admin.ok("POST", "/sla/targets", {"policy": "booking_first_response", "branch_id": branch,
                                      "target_seconds": 900})


def test_metrics_expose_the_operations_gauges_and_request_histograms(gateway, advisor, world):
    advisor.ok("GET", "/bookings")
    text = requests.get(gateway.url + "/metrics", timeout=30).text
    assert re.search(r'pitlane_http_request_duration_seconds_count\{method="GET",route="/api/v1/bookings",'
                     r'status="200"\} [1-9]', text)
    for family in ("pitlane_sla_open", "pitlane_parts_below_reorder", "pitlane_dead_letters",
                   "pitlane_sla_duration_seconds_bucket"):
        assert family in text, family
