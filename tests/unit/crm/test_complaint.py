"""Complaints (services/crm/complaints.py): opening, levels, every escalation trigger, the third on
the same matter, a regulator, the first response, resolution and reopening."""
from datetime import datetime, timedelta, timezone

import pytest

from services.crm.complaints import (ESCALATED_RESPONSE_SECONDS, LIFE, RESPONSE_SECONDS, Complaint, matter_of,
                                     resolution_seconds)
from shared.contracts.api.crm import COMPLAINT_STATUSES
from shared.domain import IllegalTransition, NotPermitted, RuleBroken, StateConflict

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def opened(branch_id="S1", acting_for=None, **more):
    more.setdefault("repair_order_id", None)
    return Complaint.open("k1", branch_id=branch_id, customer_id="c1", acting_for=acting_for, opened_at=T0,
                          what_happened="the car came back dirty", category="repair_quality", **more)


def test_opening_a_complaint_records_complaint_opened():
    complaint = opened(repair_order_id="ro1", severity="high", level=2)
    [event] = complaint.events
    assert (event.type, event.branch_id) == ("complaint.opened", "S1")
    assert {k: event.facts[k] for k in ("complaint_id", "customer_id", "repair_order_id", "category", "severity",
                                        "level")} == {
        "complaint_id": "k1", "customer_id": "c1", "repair_order_id": "ro1", "category": "repair_quality",
        "severity": "high", "level": 2}
    assert event.facts["response_target_seconds"] == RESPONSE_SECONDS
    assert event.facts["resolution_target_seconds"] == 48 * 3600
    assert (complaint.status, complaint.source) == ("open", "staff")


def test_a_complaint_starts_at_the_front_line_unless_a_level_is_given():
    complaint = opened()
    assert complaint.level == 1 and complaint.trigger is None
    assert (complaint.response_target_seconds, complaint.resolution_target_seconds) == (2 * 3600, 24 * 3600)


@pytest.mark.parametrize("level", [0, 4])
def test_a_complaint_is_at_level_one_two_or_three(level):
    with pytest.raises(RuleBroken) as refused:
        opened(level=level)
    assert list(refused.value.fields) == ["level"]


def test_a_complaint_may_be_opened_at_any_branch_the_caller_acts_for_not_only_the_customers():
    assert opened(branch_id="S1", acting_for=frozenset({"S1", "S2"})).branch_id == "S1"
    assert opened(branch_id="N1", acting_for=None).branch_id == "N1"  # unscoped: any


def test_a_complaint_is_never_opened_at_a_branch_the_caller_does_not_act_for():
    with pytest.raises(NotPermitted) as refused:
        opened(branch_id="N1", acting_for=frozenset({"S1"}))
    assert list(refused.value.fields) == ["branch_id"]


def test_levels_resolve_within_24_48_and_72_hours():
    assert [resolution_seconds(level) for level in (1, 2, 3)] == [24 * 3600, 48 * 3600, 72 * 3600]


def test_a_public_complaint_from_social_media_gets_its_first_response_within_2_hours():
    complaint = opened(source="social_media")
    assert complaint.response_target_seconds == 2 * 3600
    assert complaint.events[0].facts["complaint_source"] == "social_media"


# -- every escalation trigger ---------------------------------------------------------------------------
@pytest.mark.parametrize("trigger", ["repeat_problem", "several_departments", "customer_request"])
def test_a_repeat_problem_several_departments_or_the_customers_request_escalate_to_level_2(trigger):
    complaint = opened()
    complaint.take_events()
    complaint.escalate(trigger, T0 + timedelta(minutes=10))
    assert complaint.level == 2
    [event] = complaint.events
    assert (event.type, event.facts["level"], event.facts["from_level"], event.facts["trigger"]) == (
        "complaint.escalated", 2, 1, trigger)
    assert event.facts["resolution_target_seconds"] == 48 * 3600


@pytest.mark.parametrize("trigger", ["safety", "media", "legal_threat", "vip"])
def test_safety_media_a_legal_threat_or_a_vip_escalate_to_level_3(trigger):
    complaint = opened()
    complaint.take_events()
    complaint.escalate(trigger, T0 + timedelta(minutes=10))
    assert complaint.level == 3
    assert complaint.events[0].facts["resolution_target_seconds"] == 72 * 3600


def test_an_escalated_complaint_owes_its_first_response_within_30_minutes_of_the_escalation():
    complaint = opened()
    complaint.take_events()
    complaint.escalate("media", T0 + timedelta(minutes=40))
    assert complaint.response_target_seconds == 40 * 60 + ESCALATED_RESPONSE_SECONDS
    assert complaint.events[0].facts["response_target_seconds"] == 70 * 60


def test_escalation_never_makes_the_first_response_due_later_than_before():
    complaint = opened()
    complaint.escalate("media", T0 + timedelta(minutes=110))  # 30 more minutes would be past the 2 h
    assert complaint.response_target_seconds == RESPONSE_SECONDS


def test_an_escalation_after_the_first_response_leaves_the_response_target_alone():
    complaint = opened()
    complaint.respond("ana", T0 + timedelta(minutes=5))
    complaint.take_events()
    complaint.escalate("customer_request", T0 + timedelta(minutes=50))
    assert complaint.response_target_seconds == RESPONSE_SECONDS
    assert complaint.events[0].facts["response_target_seconds"] is None


def test_a_complaint_is_not_escalated_to_a_level_it_is_already_at():
    complaint = opened(level=3)
    with pytest.raises(StateConflict) as refused:
        complaint.escalate("customer_request", T0)
    assert "level" in refused.value.fields


def test_an_unknown_trigger_is_refused():
    with pytest.raises(RuleBroken):
        opened().escalate("weather", T0)


def test_a_safety_severity_opens_at_level_3_with_a_30_minute_response():
    complaint = opened(severity="safety")
    assert (complaint.level, complaint.trigger, complaint.response_target_seconds) == (3, "safety", 1800)


def test_a_vip_customers_complaint_opens_at_level_3():
    complaint = opened(vip=True)
    assert (complaint.level, complaint.trigger) == (3, "vip")


def test_triggers_named_at_opening_raise_the_level_to_the_highest_they_call_for():
    complaint = opened(triggers=["customer_request", "legal_threat"])
    assert (complaint.level, complaint.trigger) == (3, "legal_threat")


def test_the_third_complaint_on_the_same_matter_escalates_at_once_with_a_30_minute_response():
    second = opened(earlier_on_matter=1)
    assert (second.level, second.response_target_seconds) == (1, RESPONSE_SECONDS)
    third = opened(earlier_on_matter=2)
    assert (third.level, third.trigger, third.response_target_seconds) == (2, "third_on_same_matter", 1800)
    assert third.events[0].facts["trigger"] == "third_on_same_matter"


def test_a_regulator_mentioned_escalates_at_once_to_level_3_with_a_30_minute_response():
    complaint = opened(triggers=["regulator"])
    assert (complaint.level, complaint.trigger, complaint.response_target_seconds) == (3, "regulator", 1800)


def test_a_regulator_mentioned_on_a_level_3_complaint_still_gets_the_30_minute_response():
    complaint = opened(level=3, triggers=["regulator"])
    assert (complaint.level, complaint.response_target_seconds) == (3, 1800)


def test_the_matter_is_the_customers_vehicle_and_the_category():
    assert matter_of("c1", "v1", "parts") == matter_of("c1", "v1", "parts")
    assert matter_of("c1", "v1", "parts") != matter_of("c1", "v2", "parts")
    assert matter_of("c1", "v1", "parts") != matter_of("c1", "v1", "price")
    assert opened(vehicle_id="v1").matter == matter_of("c1", "v1", "repair_quality")


# -- response, resolution, reopening -----------------------------------------------------------------
def test_the_first_response_is_kept_and_the_responder_takes_an_unowned_complaint():
    complaint = opened()
    complaint.take_events()
    complaint.respond("ana", T0 + timedelta(minutes=20))
    complaint.respond("bo", T0 + timedelta(minutes=50))
    assert (complaint.first_response_at, complaint.owner) == (T0 + timedelta(minutes=20), "ana")
    assert [e.type for e in complaint.events] == ["complaint.responded", "complaint.responded"]


def test_a_resolution_needs_measures_a_deadline_and_an_owner():
    complaint = opened()
    with pytest.raises(RuleBroken) as refused:
        complaint.resolve(measures=[" "], deadline=None, owner="", at=T0)
    assert set(refused.value.fields) == {"measures", "deadline", "owner"}
    assert complaint.status == "open"


def test_a_resolution_deadline_lies_in_the_future():
    with pytest.raises(RuleBroken) as refused:
        opened().resolve(measures=["clean"], deadline=T0 - timedelta(hours=1), owner="ana", at=T0)
    assert list(refused.value.fields) == ["deadline"]


def test_resolving_records_measures_deadline_and_owner():
    complaint = opened()
    complaint.take_events()
    complaint.resolve(measures=["free valet"], deadline=T0 + timedelta(days=2), owner="ana", at=T0)
    [event] = complaint.events
    assert (event.type, event.facts["measures"], event.facts["deadline"], event.facts["owner"],
            event.facts["level"]) == ("complaint.resolved", ["free valet"], T0 + timedelta(days=2), "ana", 1)
    assert complaint.status == "resolved"


def test_a_resolved_complaint_is_not_resolved_again_escalated_or_answered():
    complaint = opened()
    complaint.resolve(measures=["x"], deadline=T0 + timedelta(days=1), owner="ana", at=T0)
    with pytest.raises(IllegalTransition):
        complaint.resolve(measures=["x"], deadline=T0 + timedelta(days=1), owner="ana", at=T0)
    with pytest.raises(StateConflict):
        complaint.escalate("media", T0)
    with pytest.raises(StateConflict):
        complaint.respond("ana", T0)


def test_a_resolved_complaint_may_be_reopened_and_an_open_one_not():
    complaint = opened()
    with pytest.raises(IllegalTransition):
        complaint.reopen("still dirty", T0)
    complaint.resolve(measures=["x"], deadline=T0 + timedelta(days=1), owner="ana", at=T0)
    complaint.take_events()
    complaint.reopen("still dirty", T0 + timedelta(hours=3))
    assert (complaint.status, complaint.reopened) == ("open", 1)
    assert [(e.type, e.facts["level"]) for e in complaint.events] == [("complaint.reopened", 1)]


def test_a_reopened_complaint_is_due_again_within_its_levels_deadline():
    complaint = opened()
    complaint.escalate("customer_request", T0)
    complaint.resolve(measures=["x"], deadline=T0 + timedelta(days=1), owner="ana", at=T0)
    complaint.take_events()
    complaint.reopen("still dirty", T0 + timedelta(hours=3))
    [event] = complaint.events
    assert (event.facts["level"], event.facts["resolution_target_seconds"]) == (2, 48 * 3600)


def test_the_complaint_life_cycle_has_the_statuses_the_api_names():
    assert LIFE.statuses == COMPLAINT_STATUSES
