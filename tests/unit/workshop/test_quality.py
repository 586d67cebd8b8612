"""Quality (domain.md s4): self-check, road and function tests, peer check, rework; one test per rule."""
from datetime import timedelta

import pytest

from services.workshop.domain import needs_tests
from shared.domain import RuleBroken, StateConflict
from tests.unit.workshop.test_repair_order import T0, job, line, order, types, ruled

H = timedelta(hours=1)


def finished(service_type=None, *lines, passed=()):
    """An order in the quality check, its work done by tech-1."""
    return order("quality_check", jobs=[job("tech-1", finished=T0 + H)], service_type=service_type,
                 approved_lines=list(lines), checks_passed=set(passed))


def test_work_on_brakes_steering_or_suspension_needs_a_road_test_and_a_function_test():
    assert needs_tests("brakes", []) == ["brakes"]
    assert needs_tests("service", [line(description="replace front brake pads")]) == ["brakes"]
    assert needs_tests(None, [line(description="Replace track rod end"), line(description="new strut mount")]) \
        == ["steering", "suspension"]
    assert needs_tests("service", [line(description="oil service"), line("consumable", description="brake cleaner")]) \
        == []  # a consumable line is not work on the system
    assert finished("brakes").tests_required == ["road_test", "function_test"]
    assert finished("service", line(description="oil service")).tests_required == []


def test_the_self_check_is_done_by_a_technician_who_worked_on_the_order():
    ro = finished()
    with pytest.raises(RuleBroken) as refused:
        ro.check("self", "tech-2", True, "", T0 + 2 * H)
    assert "checked_by" in refused.value.fields
    ro.check("self", "tech-1", True, "", T0 + 2 * H)
    assert ro.status == "quality_check" and ro.checks_passed == {"self"}
    assert [(e.type, e.facts["kind"]) for e in ruled(ro)] == [("qc.check_recorded", "self")]


def test_the_peer_check_is_done_by_someone_who_did_not_work_on_the_order():
    with pytest.raises(RuleBroken):
        finished().check("peer", "tech-1", True, "", T0 + 2 * H)


def test_checks_wait_for_the_work_to_be_finished():
    with pytest.raises(StateConflict):
        order("in_progress", jobs=[job()]).check("road_test", "tech-2", True, "", T0)


def test_work_that_needs_tests_is_ready_after_the_recorded_tests_and_the_peer_check():
    ro = finished("brakes")
    ro.check("road_test", "tech-2", True, "", T0 + 2 * H)
    ro.check("function_test", "tech-2", True, "", T0 + 2 * H)
    ro.check("peer", "tech-3", True, "", T0 + 3 * H)
    assert ro.status == "ready"
    assert ro.checks_done == [("road_test", True), ("function_test", True), ("peer", True)]


def test_a_peer_check_records_the_tests_not_recorded_before_with_the_results_it_states():
    ro = finished("brakes", passed={"road_test"})
    ro.check("peer", "tech-3", True, "", T0 + 3 * H)  # a client that does not know the tests
    assert ro.status == "ready" and ro.checks_done == [("function_test", True), ("peer", True)]
    failing = finished("brakes")
    failing.check("peer", "tech-3", True, "pulls to the left", T0 + 3 * H, {"road_test": False})
    assert failing.status == "in_progress"
    assert failing.checks_done == [("road_test", False), ("function_test", True), ("peer", False)]
    assert failing.recorded("qc.failed")[0].facts == {
        "repair_order_id": failing.repair_order_id, "checked_by": "tech-3", "reason": "pulls to the left",
        "kind": "road_test"}


@pytest.mark.parametrize("kind,by", [("self", "tech-1"), ("road_test", "tech-2"), ("function_test", "tech-2"),
                                     ("peer", "tech-2")])
def test_a_failed_check_sends_the_work_back_with_its_reason(kind, by):
    ro = finished("brakes", passed={"self"})
    ro.check(kind, by, False, "brake pedal soft", T0 + 2 * H)
    assert ro.status == "in_progress" and not ro.work_done and ro.checks_passed == set()
    assert types(ro) == ["qc.failed"] and ruled(ro)[0].facts["reason"] == "brake pedal soft"
    assert ro.take_notes()[0].note.endswith("failed, checked by " + by + ": brake pedal soft")
