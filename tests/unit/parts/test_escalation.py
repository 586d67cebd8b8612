"""Shortage escalation through the tiers (services/parts/escalation.py), without broker or database."""
import uuid
from datetime import datetime, timedelta, timezone

from services.parts import donors, escalation
from services.parts.escalation import Escalation
from shared.sla import rules as sla

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
RO = uuid.UUID(int=7)


def shelf(branch_id, region_id, available, safety_stock=0):
    return {"branch_id": branch_id, "region_id": region_id, "available": available, "safety_stock": safety_stock}


def waiting(tier="local", **kw):
    e = Escalation(RO, "N1", "north", {"PAD": 2}, tier, T0, [], T0, **kw)
    return e


def test_the_tiers_are_local_then_region_then_group_each_its_own_clock():
    assert escalation.TIERS == ("local", "region", "group")
    assert [escalation.next_tier(t) for t in escalation.TIERS] == ["region", "group", None]
    assert escalation.tier_of("parts_shortage_region") == "region" and escalation.tier_of("diagnosis") is None
    targets = {t: sla.policy(p).target_seconds for t, p in escalation.POLICIES.items()}
    assert targets == {"local": 3600, "region": 4 * 3600, "group": 24 * 3600}


def test_each_tier_clock_is_started_by_the_previous_tiers_escalation_event():
    assert sla.policy("parts_shortage_local").start == "parts.shortage"
    for tier, event in escalation.ESCALATED.items():
        assert sla.policy(escalation.POLICIES[tier]).start == event


def test_taking_the_action_stops_the_tier_clock_and_served_or_cancelled_ends_it():
    for name in escalation.POLICIES.values():
        policy = sla.policy(name)
        assert policy.move("transfer.requested") == "stop" and policy.move("purchase.ordered") == "stop"
        assert policy.move("parts.reserved") == "stop" and policy.move("repair_order.cancelled") == "cancel"


def test_units_short_are_what_was_requested_less_what_was_available():
    assert escalation.needs([{"part_number": "PAD", "requested": 3, "available": 1},
                             {"part_number": "DISC", "requested": 2, "available": -1}]) == {"PAD": 2, "DISC": 2}


def test_the_local_tier_proposes_a_purchase_from_the_local_supplier():
    table = donors.LeadTimes([{"kind": "purchase", "from_id": "*", "to_id": "*", "hours": 12}])
    proposal = escalation.propose("local", "N1", "north", {"PAD": 2}, {"PAD": [shelf("N2", "north", 9)]}, table)
    assert proposal == [{"part_number": "PAD", "quantity": 2, "kind": "purchase", "from_branch_id": None,
                         "lead_time_hours": 12}]


def test_the_region_tier_proposes_the_best_donor_in_the_same_region():
    shelves = {"PAD": [shelf("S1", "south", 9), shelf("N2", "north", 1), shelf("N3", "north", 5, 1)]}
    proposal = escalation.propose("region", "N1", "north", {"PAD": 2}, shelves, donors.LeadTimes())
    assert [(p["kind"], p["from_branch_id"]) for p in proposal] == [("transfer", "N3")]


def test_the_group_tier_proposes_the_best_donor_in_another_region_else_a_purchase():
    shelves = {"PAD": [shelf("N2", "north", 9), shelf("S1", "south", 9)], "DISC": [shelf("N2", "north", 9)]}
    proposal = escalation.propose("group", "N1", "north", {"PAD": 2, "DISC": 1}, shelves, donors.LeadTimes())
    assert [(p["part_number"], p["kind"], p["from_branch_id"]) for p in proposal] == [
        ("DISC", "purchase", None), ("PAD", "transfer", "S1")]


def test_a_waiting_order_is_offered_a_loaner_once_when_it_starts_to_wait():
    opened = Escalation.open(RO, "N1", "north", {"PAD": 2}, T0, [])
    loaner = opened.recorded("parts.loaner_suggested")
    assert len(loaner) == 1 and loaner[0].facts["repair_order_id"] == RO and loaner[0].facts["tier"] == "local"
    assert loaner[0].facts["waiting_since"] == T0
    opened.escalate("region", T0 + timedelta(hours=1), [])
    assert len(opened.recorded("parts.loaner_suggested")) == 1  # escalating suggests no second loaner


def test_a_tier_that_runs_out_without_an_action_escalates_to_the_next():
    e = waiting()
    assert e.due_to_escalate("parts_shortage_local") == "region"
    e.escalate("region", T0 + timedelta(hours=1), [{"part_number": "PAD"}])
    assert (e.tier, e.tier_since) == ("region", T0 + timedelta(hours=1))
    assert e.recorded("parts.escalated_region")[0].facts["tier"] == "region"
    assert e.due_to_escalate("parts_shortage_local") is None  # an old tier's breach moves nothing
    assert e.due_to_escalate("parts_shortage_region") == "group"


def test_the_group_tier_is_the_last():
    assert waiting("group").due_to_escalate("parts_shortage_group") is None


def test_a_tier_whose_action_was_taken_does_not_escalate():
    e = waiting("region")
    assert e.take({"kind": "transfer", "reference": "t-1", "part_number": "PAD", "quantity": 2})
    assert e.actions[0]["tier"] == "region"
    assert e.due_to_escalate("parts_shortage_region") is None


def test_an_action_is_recorded_once():
    e = waiting()
    action = {"kind": "transfer", "reference": "t-1", "part_number": "PAD", "quantity": 2}
    assert e.take(action) and not e.take(action)
    assert len(e.actions) == 1


def test_a_served_or_cancelled_shortage_escalates_no_further_and_records_nothing():
    for end in ("serve", "cancel"):
        e = waiting()
        getattr(e, end)()
        assert e.due_to_escalate("parts_shortage_local") is None
        assert not e.take({"kind": "purchase", "reference": "p-1", "part_number": "PAD", "quantity": 2})
