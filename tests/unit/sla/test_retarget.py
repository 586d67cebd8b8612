"""A running clock retargeted by an event (shared/sla/rules.py Policy.retarget, Clock.retarget): a
complaint escalated gets the new level's deadline and a 30-minute first response."""
from datetime import datetime, timedelta, timezone

from shared.sla import rules as sla

AT = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def started(policy_name, target):
    policy = sla.policy(policy_name)
    facts = {"occurred_at": AT, "branch_id": "N1", "complaint_id": "k1"}
    return policy, sla.Clock.start(policy, facts, target, sla.CalendarTime(), "c-1")


def test_complaint_clocks_start_on_opening_with_the_target_the_event_gives():
    response = sla.policy("complaint_first_response")
    assert response.active and response.move("complaint.opened") == "start"
    assert response.move("complaint.responded") == "stop"
    assert response.target_given({"response_target_seconds": 1800}) == 1800
    resolution = sla.policy("complaint_resolution")
    assert resolution.move("complaint.resolved") == "stop"
    assert resolution.target_given({"resolution_target_seconds": 172800}) == 172800


def test_an_escalation_retargets_a_running_clock_and_moves_its_deadline():
    policy, clock = started("complaint_resolution", 86400)
    assert policy.move("complaint.escalated") == "retarget"
    later = AT + timedelta(hours=3)
    assert clock.follow(policy, "complaint.escalated", {"occurred_at": later, "resolution_target_seconds": 172800})
    assert clock.target_seconds == 172800 and clock.deadline == AT + timedelta(hours=48)
    assert clock.at_risk_at == AT + timedelta(seconds=0.8 * 172800)


def test_a_retarget_to_a_time_already_spent_breaches_at_the_next_look():
    policy, clock = started("complaint_first_response", 7200)
    later = AT + timedelta(minutes=50)
    clock.follow(policy, "complaint.escalated", {"occurred_at": later, "response_target_seconds": 1800})
    assert clock.deadline == AT + timedelta(minutes=30)
    assert clock.breach(later) and clock.outcome == "breached"


def test_an_event_without_the_target_fact_leaves_the_clock_alone():
    policy, clock = started("complaint_first_response", 7200)
    assert not clock.follow(policy, "complaint.escalated", {"occurred_at": AT, "response_target_seconds": None})
    assert clock.target_seconds == 7200


def test_an_ended_clock_is_not_retargeted():
    policy, clock = started("complaint_first_response", 7200)
    clock.stop(AT + timedelta(minutes=10))
    assert not clock.retarget(1800, AT + timedelta(minutes=20))
    assert (clock.target_seconds, clock.outcome) == (7200, "met")


def test_feedback_gets_a_reply_within_24_calendar_hours_and_reschedule_offers_stay_active():
    feedback = sla.policy("feedback_reply")
    assert (feedback.active, feedback.target_seconds, feedback.calendar) == (True, 86400, "calendar")
    assert sla.policy("reschedule_offer").active
