"""A clock's life (shared/sla/rules.py, Clock): each command decides, changes the clock and records its sla.* events."""
import uuid
from datetime import datetime, timedelta, timezone

from shared.sla import rules as sla

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
CALENDAR = sla.CalendarTime()


def seconds(n):
    return T0 + timedelta(seconds=n)


def started(policy="diagnosis", target=1000, **facts):
    p = sla.policy(policy)
    facts = {"occurred_at": T0, "branch_id": "N1", p.subject: uuid.uuid4(), "priority": "routine", **facts}
    return sla.Clock.start(p, facts, target, CALENDAR, uuid.uuid4())


def types(clock):
    return [e.type for e in clock.events]


def test_a_clock_starts_when_its_event_occurred_with_the_deadline_of_its_target():
    clock = started(target=1000)
    assert clock.state == "running" and clock.running_since == T0 and clock.outcome is None
    assert clock.deadline == seconds(1000) and clock.at_risk_at == seconds(800)
    assert clock.subject_type == "repair_order" and clock.events == []


def test_a_clock_stopped_within_its_target_is_met():
    clock = started(target=1000)
    assert clock.stop(seconds(600))
    assert (clock.state, clock.outcome, clock.duration_seconds) == ("stopped", "met", 600)
    assert types(clock) == ["sla.met"] and clock.events[0].facts["elapsed_seconds"] == 600


def test_a_clock_stopped_past_its_target_is_breached_when_it_stops():
    clock = started(target=1000)
    clock.stop(seconds(1500))
    assert clock.outcome == "breached" and clock.breached_at == seconds(1000)
    assert types(clock) == ["sla.breached"]


def test_a_stopped_clock_does_not_move_again():
    clock = started()
    clock.stop(seconds(10))
    clock.take_events()
    assert not clock.stop(seconds(20)) and not clock.cancel(seconds(20)) and not clock.pause("parts", seconds(20))
    assert clock.ended_at == seconds(10) and clock.events == []


def test_a_clock_whose_subject_is_cancelled_ends_cancelled_neither_met_nor_breached():
    clock = started(target=1000)
    assert clock.cancel(seconds(300))
    assert (clock.state, clock.outcome, clock.ended_at) == ("stopped", "cancelled", seconds(300))
    assert clock.events == []  # neither sla.met nor sla.breached
    assert clock.standing == "cancelled"


def test_a_repair_order_cancelled_cancels_its_diagnosis_clock_through_the_policy():
    diagnosis = sla.policy("diagnosis")
    clock = started("diagnosis")
    clock.follow(diagnosis, "repair_order.cancelled", {"occurred_at": seconds(60), "reason": "customer left"})
    assert clock.outcome == "cancelled"


def test_a_clock_that_breached_before_its_subject_was_cancelled_stays_breached():
    clock = started(target=1000)
    clock.breach(seconds(1001))
    clock.take_events()
    clock.cancel(seconds(2000))
    assert clock.outcome == "breached" and clock.breached_at == seconds(1000) and clock.events == []
    late = started(target=1000)  # past its deadline, not yet marked by the watch
    late.cancel(seconds(1200))
    assert late.outcome == "breached" and types(late) == ["sla.breached"]


def test_cancelling_a_paused_clock_closes_its_pause():
    clock = started("repair_promise")
    clock.pause("parts", seconds(100))
    clock.cancel(seconds(400))
    assert clock.pauses == [("paused", seconds(100), "parts"), ("resumed", seconds(400))]
    assert clock.outcome == "cancelled" and clock.spent_seconds == 100


def test_a_pause_records_the_reason_the_event_gives():
    promise = sla.policy("repair_promise")
    clock = started("repair_promise")
    assert clock.follow(promise, "repair_order.on_hold", {"occurred_at": seconds(60), "reason": "sublet"})
    assert clock.state == "paused" and clock.pause_reason == "sublet"
    assert clock.pauses == [("paused", seconds(60), "sublet")]


def test_a_pause_is_not_counted_and_resuming_moves_the_deadline():
    clock = started("repair_promise", target=1000)
    clock.pause("parts", seconds(200))
    assert clock.deadline is None and clock.spent(seconds(5000)) == 200
    clock.resume(seconds(3000))
    assert clock.deadline == seconds(3800) and clock.at_risk_at == seconds(3600)
    clock.stop(seconds(3500))
    assert clock.outcome == "met" and clock.duration_seconds == 700


def test_a_clock_paused_past_its_deadline_breached_first():
    clock = started("repair_promise", target=1000)
    clock.pause("approval", seconds(1100))
    assert clock.outcome == "breached" and clock.state == "paused" and types(clock) == ["sla.breached"]


def test_a_running_clock_past_its_deadline_breaches_once_and_runs_on():
    clock = started(target=1000)
    assert not clock.breach(seconds(999))
    assert clock.breach(seconds(1002))
    assert not clock.breach(seconds(1500))
    assert clock.state == "running" and clock.breached_at == seconds(1000) and types(clock) == ["sla.breached"]
    assert clock.events[0].facts["elapsed_seconds"] == 1002


def test_a_clock_is_announced_at_risk_once_past_its_share():
    clock = started(target=1000)
    assert not clock.warn_at_risk(seconds(799))
    assert clock.warn_at_risk(seconds(850))
    assert not clock.warn_at_risk(seconds(900))
    assert clock.at_risk and types(clock) == ["sla.at_risk"]


def test_a_breached_clock_is_never_announced_at_risk_afterwards():
    clock = started(target=1)  # a short target: the share and the deadline come due at one look
    assert clock.breach(seconds(2))
    assert not clock.warn_at_risk(seconds(2))
    assert not clock.warn_at_risk(seconds(3), predicted_finish=seconds(99))
    assert types(clock) == ["sla.breached"]


def test_a_clock_past_its_deadline_is_not_at_risk_even_before_its_breach_is_marked():
    clock = started(target=1000)
    assert not clock.warn_at_risk(seconds(1000))
    assert not clock.warn_at_risk(seconds(1200), predicted_finish=seconds(5000))
    assert clock.events == []


def test_a_clock_predicted_to_finish_after_its_deadline_is_at_risk_before_its_share():
    clock = started("repair_promise", target=1000)
    assert not clock.warn_at_risk(seconds(100), predicted_finish=seconds(900))
    assert clock.warn_at_risk(seconds(100), predicted_finish=seconds(1100))
    assert types(clock) == ["sla.at_risk"]


def test_a_safety_critical_approval_starts_a_safety_critical_repair_clock():
    assert started("repair_promise", priority="safety_critical").safety_critical
    assert not started("repair_promise", priority="routine").safety_critical


def test_a_walk_in_checked_in_without_confirmation_meets_the_first_response_clock():
    policy = sla.policy("booking_first_response")
    clock = started("booking_first_response", target=900)
    clock.follow(policy, "booking.checked_in", {"occurred_at": seconds(120)})
    assert clock.outcome == "met" and types(clock) == ["sla.met"]


def test_the_events_carry_the_clock_its_region_and_its_branch():
    row = {"clock_id": uuid.uuid4(), "policy": "diagnosis", "subject_type": "repair_order", "subject_id": "ro-1",
           "branch_id": "N1", "region_id": "NORTH", "target_seconds": 1000, "started_at": T0, "state": "running",
           "running_since": T0, "spent_seconds": 0.0, "deadline": seconds(1000), "at_risk_at": seconds(800),
           "outcome": None, "at_risk": False, "created_at": T0}
    clock = sla.Clock.from_row(row, sla.policy("diagnosis"), CALENDAR)
    clock.stop(seconds(400))
    (met,) = clock.events
    assert met.branch_id == "N1" and met.facts["region_id"] == "NORTH" and met.facts["subject_id"] == "ro-1"
    assert met.facts["deadline"] == seconds(400) and met.facts["target_seconds"] == 1000


def test_a_breached_clock_still_open_stands_breached_not_at_risk():
    assert sla.standing("running", True, "breached") == "breached"
    assert sla.standing("paused", False, "breached") == "breached"
    assert sla.standing("running", True, None) == "at_risk"
    assert sla.standing("paused", True, None) == "paused"
    assert sla.standing("stopped", True, "met") == "met"
    rows = [{"policy": "diagnosis", "branch_id": "N1", "region_id": "NORTH", "state": "running", "at_risk": True,
             "outcome": "breached", "count": 2},
            {"policy": "diagnosis", "branch_id": "N1", "region_id": "NORTH", "state": "running", "at_risk": False,
             "outcome": "breached", "count": 1},
            {"policy": "diagnosis", "branch_id": "N1", "region_id": "NORTH", "state": "running", "at_risk": True,
             "outcome": None, "count": 4}]
    counted = {r["state"]: r["count"] for r in sla.open_by_standing(rows)}
    assert counted == {"breached": 3, "at_risk": 4}


def test_compliance_counts_met_and_breached_clocks_only():
    assert sla.compliance(met=3, breached=1) == 0.75
    assert sla.compliance(met=0, breached=0) is None  # only cancelled or open clocks: nothing decided
