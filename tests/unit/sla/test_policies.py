"""The SLA catalogue as data (shared/sla/policies.json): what each event does to a policy's clock."""
import pytest

from shared.contracts import events
from shared.sla import rules as sla
from shared.domain import RuleBroken

FACTS = {"occurred_at": None, "branch_id": "N1"}


def test_the_catalogue_is_data_and_names_only_catalogued_events():
    active = [p for p in sla.POLICIES if p.active]
    assert {p.name for p in active} >= {"booking_first_response", "repair_promise", "follow_up"}
    for p in active:
        assert p.events <= set(events.CATALOGUE), (p.name, p.events - set(events.CATALOGUE))
    assert all(p.inactive_reason for p in sla.POLICIES if not p.active)


def test_a_cancelled_repair_order_cancels_its_clocks_rather_than_stopping_them():
    for name in ("diagnosis", "repair_promise", "parts_shortage_local"):
        assert sla.policy(name).move("repair_order.cancelled") == "cancel", name


def test_a_cancelled_booking_request_is_the_branchs_answer_so_it_stops_the_first_response_clock():
    assert sla.policy("booking_first_response").move("booking.cancelled") == "stop"


def test_a_walk_in_checked_in_without_confirmation_has_been_answered():
    assert sla.policy("booking_first_response").move("booking.checked_in") == "stop"


def test_an_event_moves_a_clock_one_way_only():
    with pytest.raises(ValueError, match="two ways"):
        sla.Policy("odd", "workshop", "repair_order_id", "repair_order.opened", ("quote.issued",), 60,
                   cancel=("quote.issued",))


def test_a_pause_records_the_reason_the_event_gives():
    promise = sla.policy("repair_promise")
    assert promise.pause_reason("repair_order.on_hold", {**FACTS, "reason": "sublet"}) == "sublet"


def test_a_pause_whose_event_gives_no_reason_records_the_policys_code():
    promise = sla.policy("repair_promise")
    assert promise.pause_reason("repair_order.on_hold", FACTS) == "on_hold"


def test_a_safety_critical_approval_makes_a_safety_critical_repair_promise():
    promise = sla.policy("repair_promise")
    assert promise.is_safety_critical({**FACTS, "priority": "safety_critical"})
    assert not promise.is_safety_critical({**FACTS, "priority": "routine"})
    assert not sla.policy("follow_up").is_safety_critical({**FACTS, "priority": "safety_critical"})


def test_a_target_for_an_inactive_policy_is_refused():
    p1_response = sla.policy("p1_response")
    assert not p1_response.active
    with pytest.raises(RuleBroken) as refused:
        p1_response.check_target_change(p1_response.host)
    assert "policy" in refused.value.fields


def test_a_target_is_set_on_the_service_that_keeps_the_clocks():
    diagnosis = sla.policy("diagnosis")
    diagnosis.check_target_change("workshop")
    with pytest.raises(RuleBroken) as refused:
        diagnosis.check_target_change("booking")
    assert refused.value.fields == {"policy": ["set it on workshop"]}
