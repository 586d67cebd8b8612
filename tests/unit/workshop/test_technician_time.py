"""A technician's time (services/workshop/domain.py Job, technician_time.py), one test per rule."""
import uuid
from datetime import timedelta

import pytest

from services.workshop.domain import Job
from services.workshop.technician_time import TechnicianClock, technician_time
from shared.domain import NotPermitted, RuleBroken, StateConflict
from tests.unit.workshop.test_repair_order import T0, job, order, types

H = timedelta(hours=1)


# -- the job clock ----------------------------------------------------------------------------------------
def test_a_job_clock_pauses_and_resumes_and_the_time_clocked_excludes_pauses():
    ro = order("in_progress", jobs=[job()])
    running = ro.jobs[0]
    ro.pause_job(running.job_id, T0 + H)
    assert not running.running and running.clocked_until(T0 + 3 * H) == 3600
    ro.resume_job(running.job_id, T0 + 2 * H)
    finished = ro.finish_job(running.job_id, "", T0 + 3 * H)
    assert finished.clocked_seconds == 2 * 3600 and finished.paused_seconds == 3600
    assert types(ro) == ["job.paused", "job.resumed", "job.finished"]
    assert ro.status == "quality_check"


def test_a_paused_job_may_be_clocked_off_and_its_pause_is_not_clocked():
    ro = order("in_progress", jobs=[job()])
    ro.pause_job(ro.jobs[0].job_id, T0 + H)
    assert ro.finish_job(ro.jobs[0].job_id, "", T0 + 5 * H).clocked_seconds == 3600


def test_a_job_clock_pauses_only_when_running_and_resumes_only_when_paused():
    ro = order("in_progress", jobs=[job()])
    with pytest.raises(StateConflict, match="running, not paused"):
        ro.resume_job(ro.jobs[0].job_id, T0 + H)
    ro.pause_job(ro.jobs[0].job_id, T0 + H)
    with pytest.raises(StateConflict, match="paused already"):
        ro.pause_job(ro.jobs[0].job_id, T0 + H)
    done = job(finished=T0 + H)
    with pytest.raises(StateConflict, match="finished"):
        order("in_progress", jobs=[done]).pause_job(done.job_id, T0 + 2 * H)


def test_a_technician_clocks_off_pauses_and_resumes_only_their_own_job():
    mine, theirs = job("tech-1"), job("tech-2")
    ro = order("in_progress", jobs=[mine, theirs])
    for command in (lambda: ro.pause_job(theirs.job_id, T0 + H, by="tech-1"),
                    lambda: ro.finish_job(theirs.job_id, "", T0 + H, by="tech-1")):
        with pytest.raises(NotPermitted) as refused:
            command()
        assert "job_id" in refused.value.fields
    assert theirs.running and ro.recorded("job.paused") == []
    ro.pause_job(mine.job_id, T0 + H, by="tech-1")
    ro.resume_job(mine.job_id, T0 + 2 * H, by="tech-1")
    ro.pause_job(theirs.job_id, T0 + 2 * H)  # an advisor or admin (no `by`) may act for a technician
    assert not theirs.running and mine.running


def test_the_job_clocks_pause_when_the_order_goes_on_hold():
    paused, running = job("tech-1"), job("tech-2")
    ro = order("in_progress", jobs=[paused, running])
    ro.pause_job(paused.job_id, T0 + H)
    ro.hold("parts", T0 + 2 * H)
    assert not running.running and running.pause_reason == "order on hold: parts"
    assert paused.pause_reason == "paused by the technician"  # its own pause goes on
    assert [e.facts["technician_id"] for e in ro.recorded("job.paused")] == ["tech-1", "tech-2"]
    assert ro.finish_job(running.job_id, "", T0 + 3 * H).clocked_seconds == 2 * 3600


def test_resuming_a_job_on_an_order_on_hold_resumes_the_order():
    ro = order("in_progress", jobs=[job()])
    ro.hold("sublet", T0 + H)
    ro.events.clear()
    ro.resume_job(ro.jobs[0].job_id, T0 + 2 * H)
    assert ro.status == "in_progress" and ro.jobs[0].running
    assert types(ro) == ["repair_order.resumed", "job.resumed"]


def test_a_job_does_not_resume_before_the_parts_are_reserved():
    ro = order("on_hold", jobs=[job()], parts_status="short")
    ro.jobs[0].pause(T0 + H, "order on hold: parts")
    with pytest.raises(StateConflict) as refused:
        ro.resume_job(ro.jobs[0].job_id, T0 + 2 * H)
    assert "parts_status" in refused.value.fields and ro.status == "on_hold"


def test_an_order_resumed_leaves_its_job_clocks_paused_for_the_technicians_to_resume():
    ro = order("in_progress", jobs=[job()])
    ro.hold("approval", T0 + H)
    ro.resume()
    assert ro.status == "in_progress" and not ro.jobs[0].running


# -- one running clock per technician ------------------------------------------------------------------------
def test_one_running_clock_per_technician_across_all_orders():
    elsewhere = {"job_id": uuid.UUID(int=7), "repair_order_id": uuid.UUID(int=8), "number": "RO-B1-000008"}
    with pytest.raises(StateConflict) as refused:
        TechnicianClock("tech-1", elsewhere).clock_on()
    assert "RO-B1-000008" in refused.value.message and str(uuid.UUID(int=7)) in refused.value.fields["technician_id"][0]
    with pytest.raises(StateConflict):
        TechnicianClock("tech-1", elsewhere).clock_on(uuid.UUID(int=9))  # resuming another job
    TechnicianClock("tech-1", elsewhere).clock_on(uuid.UUID(int=7))  # the running job itself: nothing to refuse
    TechnicianClock("tech-1", None).clock_on()


# -- efficiency and productivity ------------------------------------------------------------------------------
def finished(technician, hours, ro, start=T0):
    return Job(uuid.uuid4(), technician, start, finished_at=start + hours * H, clocked_seconds=int(hours * 3600)), ro


def test_efficiency_is_billed_over_clocked_hours_with_an_orders_labour_shared_by_clocked_time():
    a, b = uuid.uuid4(), uuid.uuid4()
    jobs = [finished("anna", 3, a), finished("ben", 1, a), finished("anna", 2, b)]
    order_jobs = {a: [jobs[0][0], jobs[1][0]], b: [jobs[2][0]]}
    figures = technician_time(jobs, order_jobs, {a: 2.0, b: 3.0}, None, T0 + 10 * H)
    anna, ben = figures["technicians"]
    assert (anna["technician_id"], anna["clocked_hours"], anna["billed_hours"]) == ("anna", 5.0, 4.5)
    assert anna["efficiency"] == 0.9 and ben["billed_hours"] == 0.5 and ben["efficiency"] == 0.5
    assert figures["branch"]["billed_hours"] == 5.0 and figures["branch"]["efficiency"] == round(5 / 6, 3)


def test_a_share_of_billed_hours_counts_the_orders_jobs_outside_the_period():
    a = uuid.uuid4()
    early, late = finished("anna", 1, a), finished("anna", 1, a, start=T0 + 48 * H)
    figures = technician_time([late], {a: [early[0], late[0]]}, {a: 4.0}, None, T0 + 50 * H)
    assert figures["technicians"][0]["billed_hours"] == 2.0


def test_productivity_is_clocked_over_available_hours_and_unknown_without_shifts():
    a = uuid.uuid4()
    jobs = [finished("anna", 6, a)]
    known = technician_time(jobs, {a: [jobs[0][0]]}, {a: 6.0}, {"anna": 8 * 3600, "carl": 8 * 3600}, T0 + 9 * H)
    anna, carl = known["technicians"]
    assert anna["productivity"] == 0.75 and carl["clocked_hours"] == 0 and carl["productivity"] == 0.0
    assert known["branch"]["available_hours"] == 16.0 and known["branch"]["productivity"] == 0.375
    unknown = technician_time(jobs, {a: [jobs[0][0]]}, {a: 6.0}, None, T0 + 9 * H)
    assert unknown["technicians"][0]["productivity"] is None and unknown["branch"]["available_hours"] is None


def test_an_open_job_counts_its_clock_up_to_now_without_its_pause():
    a = uuid.uuid4()
    open_job = Job(uuid.uuid4(), "anna", T0, paused_at=T0 + 2 * H)
    figures = technician_time([(open_job, a)], {a: [open_job]}, {a: 1.0}, None, T0 + 5 * H)
    assert figures["technicians"][0]["clocked_hours"] == 2.0


# -- skills -----------------------------------------------------------------------------------------------------
def test_a_technician_without_the_skill_the_work_needs_is_refused_with_the_reason():
    ro = order("approved", parts_status="reserved", skill="ev_high_voltage")
    with pytest.raises(RuleBroken) as refused:
        ro.check_skill("tech-1", ["general", "body"])
    assert refused.value.fields["technician_id"] == ["needs the skill ev_high_voltage; has general, body"]
    ro.check_skill("tech-2", ["general", "ev_high_voltage"])
    ro.check_skill("tech-3", None)  # booking does not know them: nothing refused on a guess
    order(skill="general").check_skill("tech-1", [])  # general work: anyone
    assert order(skill="general").skill_needed is None and order().skill_needed is None
