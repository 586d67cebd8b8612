"""Progress for the customer (domain.md s4): an event at each stage with what a message needs, an
update always due while work runs (the progress_update clock), and a delay told at once. One test per rule."""
import uuid
from datetime import timedelta

from services.workshop.domain import Quote, RepairOrder, estimate_seconds
from tests.unit.workshop.test_repair_order import CONSENT, FINDINGS, T0, all_approved, job, line, order

H = timedelta(hours=1)


def progress(ro: RepairOrder) -> list:
    return [(e.facts["stage"], e.facts["update_due"]) for e in ro.recorded("repair_order.progress")]


def test_each_stage_tells_the_customer_with_what_a_message_needs():
    ro = order(plate="B AB 1")
    ro.opened("sam")
    ro.record_diagnosis(FINDINGS, "tina")
    (checked_in, diagnosed) = ro.recorded("repair_order.progress")
    assert checked_in.facts["stage"] == "checked_in" and diagnosed.facts["stage"] == "diagnosed"
    assert diagnosed.facts["text"] == "The diagnosis is done." and diagnosed.facts["number"] == ro.number
    assert diagnosed.facts["customer_id"] == ro.customer_id and diagnosed.facts["plate"] == "B AB 1"


def test_parts_work_quality_check_and_ready_are_stages_too():
    ro = order("approved", parts_status="pending")
    ro.parts_short([{"part_number": "P1", "available": 0, "requested": 1}])
    ro.parts_reserved()
    started = ro.start_job(uuid.uuid4(), "tech-1", "", T0)
    ro.finish_job(started.job_id, "", T0 + H)
    ro.pass_qc("tech-2")
    assert [stage for stage, _ in progress(ro)] == ["waiting_for_parts", "work_started", "qc_done", "ready"]


def test_while_work_runs_an_update_is_always_due_and_each_update_answers_it():
    ro = order("approved", parts_status="reserved")
    ro.start_job(uuid.uuid4(), "tech-1", "", T0)
    first_due = ro.update_due
    assert first_due == f"{ro.repair_order_id}:1" and ro.recorded("progress.due")[0].facts["update_due"] == first_due
    assert ro.progress_update(T0 + H, 6300, T0) is False  # heard an hour ago
    assert ro.progress_update(T0 + 2 * H, 6300, T0) is True
    assert progress(ro)[-1] == ("work_in_progress", first_due)  # answers the due one: its clock stops
    assert ro.update_due == f"{ro.repair_order_id}:2"


def test_no_update_is_due_while_work_stops():
    ro = order("approved", parts_status="reserved")
    ro.start_job(uuid.uuid4(), "tech-1", "", T0)
    due = ro.update_due
    ro.hold("sublet", T0 + H)
    assert ro.update_due is None and ro.recorded("progress.not_due")[0].facts["update_due"] == due
    assert ro.progress_update(T0 + 5 * H, 6300, T0) is False
    ro.resume()
    assert ro.update_due == f"{ro.repair_order_id}:2"


def test_a_repair_20_percent_past_its_estimate_is_told_at_once_with_reason_and_new_time():
    estimate = {"labour": {"shortest": 1, "likely": 2, "longest": 3}}
    assert estimate_seconds(estimate) == 7200 and estimate_seconds(None) == 4 * 3600
    ro = order("diagnosed")
    quote, _ = ro.issue_quote(uuid.uuid4(), [line()], 9500, {}, estimate)
    ro.approve(quote.quote_id, all_approved(quote), CONSENT, 25, T0)
    assert ro.delay_if_late(T0 + timedelta(seconds=7200 * 1.2), 20, 3600) is False  # just at 20 %
    assert ro.delay_if_late(T0 + 3 * H, 20, 3600) is True
    (delayed,) = ro.recorded("repair_order.delayed")
    assert delayed.facts["reason"] == "the work takes longer than estimated"
    assert delayed.facts["new_time"] == T0 + 4 * H and "later than promised" in delayed.facts["text"]
    assert ro.delay_if_late(T0 + 5 * H, 20, 3600) is False  # once


def test_the_delay_names_its_reason():
    held = order("on_hold", jobs=[job()], approved_at=T0, estimate_seconds=3600, hold_reason="sublet")
    held.delay_if_late(T0 + 2 * H, 20, 0)
    assert held.recorded("repair_order.delayed")[0].facts["reason"] == "on hold: waiting for sublet"
    parts = order("waiting_for_parts", approved_at=T0, estimate_seconds=3600, parts_status="short")
    parts.delay_if_late(T0 + 2 * H, 20, 0)
    assert parts.recorded("repair_order.delayed")[0].facts["reason"] == "waiting for parts"
    assert order("ready", approved_at=T0, estimate_seconds=1).delay_if_late(T0 + 9 * H, 20, 0) is False


def test_a_quote_without_estimate_is_a_standard_repairs_4_hours():
    assert Quote(uuid.uuid4(), [line()]).estimate is None and estimate_seconds({}) == 4 * 3600
