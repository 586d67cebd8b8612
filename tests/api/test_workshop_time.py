"""Technician time through the gateway: job clocks pause and resume, one running clock per
technician across every repair order (also under parallel requests), the order's hold pauses its
job clocks, and efficiency / productivity per technician and branch (GET and Prometheus gauges)."""
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import requests

from tests.api.test_workshop_rules import approved
from tests.support.journey import until


def someone(colleague):
    """A technician no other test uses: their running clock is theirs alone."""
    return colleague(f"tech-time-{uuid.uuid4().hex[:8]}")


def clock_on(tech, ro):
    return tech.post(f"/repair-orders/{ro}/jobs", {})


def job_path(ro, job):
    return f"/repair-orders/{ro}/jobs/{job['job_id']}"


def test_a_job_clock_pauses_and_resumes_and_the_time_clocked_excludes_pauses(advisor, technician, colleague, world):
    tech = someone(colleague)
    ro = approved(advisor, technician, world, hours_ahead=40)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    paused = tech.ok("POST", job_path(ro, job) + "/pause", {"reason": "lunch"})
    assert paused["paused_at"] and paused["pause_reason"] == "lunch"
    twice = tech.post(job_path(ro, job) + "/pause", {})
    assert twice.status_code == 409 and "job_id" in twice.json()["error"]["fields"], twice.text
    time.sleep(1.6)
    resumed = tech.ok("POST", job_path(ro, job) + "/resumption")
    assert resumed["paused_at"] is None and resumed["paused_seconds"] >= 1
    done = tech.ok("POST", job_path(ro, job) + "/finish", {})
    elapsed = (datetime.fromisoformat(done["finished_at"]) - datetime.fromisoformat(done["started_at"])).total_seconds()
    assert done["clocked_seconds"] <= elapsed - 1 + 0.5, done
    again = tech.post(job_path(ro, job) + "/resumption")
    assert again.status_code == 409, again.text


def test_a_technician_clocks_off_pauses_and_resumes_only_their_own_job(advisor, technician, colleague, admin, world):
    tech, other = someone(colleague), someone(colleague)
    ro = approved(advisor, technician, world, hours_ahead=40)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    for step, body in (("/pause", {}), ("/finish", {})):
        refused = other.post(job_path(ro, job) + step, body)
        assert refused.status_code == 403 and "job_id" in refused.json()["error"]["fields"], refused.text
    assert advisor.ok("GET", "/jobs", repair_order_id=ro)["items"][0]["finished_at"] is None  # nothing changed
    tech.ok("POST", job_path(ro, job) + "/pause", {})
    assert other.post(job_path(ro, job) + "/resumption").status_code == 403
    done = admin.ok("POST", job_path(ro, job) + "/finish", {})  # an admin may clock off for them
    assert done["finished_at"] and done["technician_id"] == tech.subject


def test_one_running_clock_per_technician_across_all_orders(advisor, technician, colleague, world):
    tech = someone(colleague)
    first, second = approved(advisor, technician, world, 41), approved(advisor, technician, world, 41)
    running = tech.ok("POST", f"/repair-orders/{first}/jobs", {}, status=201)

    refused = clock_on(tech, second)

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert running["job_id"] in error["message"] and running["job_id"] in error["fields"]["technician_id"][0]
    assert advisor.ok("GET", "/jobs", repair_order_id=second)["items"] == []  # nothing written
    tech.ok("POST", job_path(first, running) + "/pause", {})
    other = tech.ok("POST", f"/repair-orders/{second}/jobs", {}, status=201)  # paused there: free to clock on
    back = tech.post(job_path(first, running) + "/resumption")
    assert back.status_code == 409 and other["job_id"] in back.json()["error"]["message"], back.text
    tech.ok("POST", job_path(second, other) + "/finish", {})
    tech.ok("POST", job_path(first, running) + "/resumption")
    tech.ok("POST", job_path(first, running) + "/finish", {})


def test_parallel_clock_ons_by_one_technician_leave_one_running_clock(gateway, advisor, technician, colleague, world):
    tech = someone(colleague)
    orders = [approved(advisor, technician, world, 42) for _ in range(4)]
    with ThreadPoolExecutor(len(orders)) as pool:
        answers = list(pool.map(lambda ro: clock_on(tech, ro), orders))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409, 409], [a.text for a in answers]
    jobs = advisor.ok("GET", "/jobs", technician_id=tech.subject)["items"]
    assert len(jobs) == 1 and jobs[0]["finished_at"] is None
    winner = next(a.json() for a in answers if a.status_code == 201)
    for lost in (a for a in answers if a.status_code == 409):
        assert winner["job_id"] in lost.json()["error"]["fields"]["technician_id"][0]
    # resuming races too: two paused jobs resumed at once, one runs
    ro_b = next(ro for ro in orders if ro != winner["repair_order_id"])
    tech.ok("POST", job_path(winner["repair_order_id"], winner) + "/pause", {})
    second = tech.ok("POST", f"/repair-orders/{ro_b}/jobs", {}, status=201)
    tech.ok("POST", job_path(ro_b, second) + "/pause", {})
    with ThreadPoolExecutor(2) as pool:
        resumed = list(pool.map(lambda j: tech.post(job_path(j["repair_order_id"], j) + "/resumption"),
                                [winner, second]))
    assert sorted(r.status_code for r in resumed) == [200, 409], [r.text for r in resumed]
    for j in (winner, second):
        tech.ok("POST", job_path(j["repair_order_id"], j) + "/finish", {})


def test_the_order_on_hold_pauses_its_job_clocks_until_the_technician_resumes(advisor, technician, colleague, world):
    tech = someone(colleague)
    ro = approved(advisor, technician, world, 43)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    advisor.ok("POST", f"/repair-orders/{ro}/hold", {"reason": "parts"})
    (held,) = advisor.ok("GET", "/jobs", repair_order_id=ro)["items"]
    assert held["paused_at"] and held["pause_reason"] == "order on hold: parts", held
    assert advisor.ok("POST", f"/repair-orders/{ro}/resumption")["status"] == "in_progress"
    assert advisor.ok("GET", "/jobs", repair_order_id=ro)["items"][0]["paused_at"]  # still paused
    assert tech.ok("POST", job_path(ro, job) + "/resumption")["paused_at"] is None
    tech.ok("POST", job_path(ro, job) + "/finish", {})


def test_efficiency_and_productivity_per_technician_and_branch(gateway, advisor, technician, colleague, admin, world):
    tech = someone(colleague)
    ro = approved(advisor, technician, world, 44)  # 1 labour hour approved (test_workshop_rules.quote)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    time.sleep(1.1)
    tech.ok("POST", job_path(ro, job) + "/finish", {})
    today = datetime.now(timezone.utc).date().isoformat()

    figures = advisor.ok("GET", "/technician-time", branch_id=world["branch"], **{"from": today, "to": today})

    (mine,) = [t for t in figures["technicians"] if t["technician_id"] == tech.subject]
    assert mine["billed_hours"] == 1.0 and mine["efficiency"] > 1, mine  # the order's only job earns its hour
    assert figures["branch"]["clocked_hours"] >= mine["clocked_hours"]
    assert "shared among its jobs" in figures["billed_hours_rule"]
    if figures["available_hours_source"] == "unknown":
        assert mine["productivity"] is None and mine["available_hours"] is None
    assert technician.get("/technician-time", branch_id=world["branch"], **{"from": today}).status_code == 403
    backwards = admin.get("/technician-time", branch_id=world["branch"], **{"from": today, "to": "2020-01-01"})
    assert backwards.status_code == 400 and "to" in backwards.json()["error"]["fields"], backwards.text
    missing = admin.get("/technician-time", **{"from": today, "to": today})
    assert missing.status_code == 400 and "branch_id" in missing.json()["error"]["fields"], missing.text
    far = advisor.get("/technician-time", branch_id=world["far_branch"], **{"from": today, "to": today})
    assert far.status_code == 403

    def gauge():
        text = requests.get(gateway.url + "/metrics", timeout=30).text
        return [l for l in text.splitlines()
                if l.startswith("pitlane_technician_billed_hours") and f'technician="{tech.subject}"' in l]

    (line,) = until(gauge, bool, what="the technician's gauge")
    assert f'branch="{world["branch"]}"' in line and line.endswith(" 1.0")
