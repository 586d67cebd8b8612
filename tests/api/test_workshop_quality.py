"""Quality through the gateway: self-check, road and function tests for brake work, the peer check,
a failed check sending the work back with its reason, and replaced parts kept for the customer."""
import uuid

from tests.api.test_workshop_rules import approve, checked_in, diagnose
from tests.support.journey import until


def brake_job(advisor, technician, world, hours_ahead):
    """An approved brake repair whose replaced pads the customer wants to see."""
    ro = checked_in(advisor, world, hours_ahead)
    assert diagnose(technician, ro, "front pads at 2 mm").status_code == 200
    issued = advisor.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "replace front brake pads", "quantity": "1"},
        {"kind": "part", "group": "must", "description": "front brake pads", "part_number": world["part"],
         "quantity": "1", "keep_for_customer": True}]})
    assert approve(advisor, ro, issued).status_code == 200
    until(lambda: advisor.ok("GET", f"/repair-orders/{ro}")["parts_status"], lambda s: s == "reserved",
          what="the pads reserved")
    return ro


def work(tech, ro):
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})


def check(api, ro, **body):
    return api.post(f"/repair-orders/{ro}/quality-check", {"passed": True, **body})


def test_brake_work_is_self_checked_road_and_function_tested_and_peer_checked_before_ready(
        advisor, technician, colleague, world):
    tech, tester, peer = (colleague(f"tech-q{i}-{uuid.uuid4().hex[:6]}") for i in range(3))
    ro = brake_job(advisor, technician, world, 60)
    work(tech, ro)
    order = advisor.ok("GET", f"/repair-orders/{ro}")
    assert order["tests_required"] == ["road_test", "function_test"]
    assert [(p["part_number"], p["description"]) for p in order["parts_kept_for_customer"]] == [
        (world["part"], "front brake pads")]

    not_hers = check(tester, ro, kind="self")
    assert not_hers.status_code == 422 and "checked_by" in not_hers.json()["error"]["fields"], not_hers.text
    assert check(tech, ro, kind="self").status_code == 200
    failed = check(tester, ro, kind="road_test", passed=False, notes="pulls to the left under braking")
    assert failed.status_code == 200 and failed.json()["status"] == "in_progress", failed.text
    assert failed.json()["timeline"][-1]["note"] == ("road test failed, checked by "
                                                     f"{tester.subject}: pulls to the left under braking")
    work(tech, ro)  # rework, then every check again
    for kind in ("road_test", "function_test"):
        assert check(tester, ro, kind=kind).json()["status"] == "quality_check"
    ready = check(peer, ro)
    assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
    kinds = [(c["kind"], c["passed"]) for c in ready.json()["quality_checks"]]
    assert kinds == [("self", True), ("road_test", False), ("road_test", True), ("function_test", True),
                     ("peer", True)]
    number, plate = ready.json()["number"], ready.json()["plate"]
    view = advisor.session.get(f"{advisor.base}/self-service/repair-orders/{number}", params={"plate": plate},
                               headers={"Authorization": ""}).json()
    assert [l["keep_for_customer"] for l in view["approved_lines"]] == [False, True]


def test_a_peer_check_stating_a_failed_road_test_sends_the_work_back(advisor, technician, colleague, world):
    tech, peer = colleague(f"tech-q-{uuid.uuid4().hex[:6]}"), colleague(f"tech-p-{uuid.uuid4().hex[:6]}")
    ro = brake_job(advisor, technician, world, 61)
    work(tech, ro)
    back = check(peer, ro, road_test=False, notes="noise from the front left")
    assert back.status_code == 200 and back.json()["status"] == "in_progress", back.text
    assert [(c["kind"], c["passed"]) for c in back.json()["quality_checks"]] == [
        ("road_test", False), ("function_test", True), ("peer", False)]
    bad = check(peer, ro, kind="x-ray")
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]
    not_a_part = advisor.post(f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "description": "x", "quantity": "1", "keep_for_customer": True}]})
    assert not_a_part.status_code == 400
    assert "keep_for_customer" in not_a_part.json()["error"]["fields"]["lines"]["0"], not_a_part.text
