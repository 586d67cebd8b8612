from datetime import datetime, timedelta, timezone

import pytest

from services.crm.domain import FollowUp
from shared.domain import RuleBroken, StateConflict

DELIVERED = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def scheduled(branch_hours=None):
    return FollowUp.schedule("f1", repair_order_id="ro1", branch_id="N1", customer_id="c1", delivered_at=DELIVERED,
                             branch_hours=branch_hours)


def test_a_follow_up_is_due_72_hours_after_delivery_by_default():
    assert scheduled().due_at == DELIVERED + timedelta(hours=72)


def test_a_branch_sets_its_own_follow_up_hours():
    assert scheduled(branch_hours=24).due_at == DELIVERED + timedelta(hours=24)


def test_scheduling_records_follow_up_scheduled():
    follow_up = scheduled()
    [event] = follow_up.events
    assert (event.type, event.branch_id, event.facts) == ("follow_up.scheduled", "N1", {
        "follow_up_id": "f1", "repair_order_id": "ro1", "customer_id": "c1", "due_at": follow_up.due_at})
    assert follow_up.status == "due"


def test_completing_a_follow_up_records_the_outcome_and_follow_up_completed():
    follow_up = scheduled()
    follow_up.take_events()
    follow_up.complete("issue_found", "brakes squeal again", NOW)
    assert (follow_up.status, follow_up.outcome, follow_up.notes, follow_up.completed_at) == (
        "done", "issue_found", "brakes squeal again", NOW)
    [event] = follow_up.events
    assert (event.type, event.facts) == ("follow_up.completed", {
        "follow_up_id": "f1", "repair_order_id": "ro1", "outcome": "issue_found"})


def test_a_follow_up_is_completed_once():
    follow_up = scheduled()
    follow_up.complete("reached", "", NOW)
    follow_up.take_events()
    with pytest.raises(StateConflict) as refused:
        follow_up.complete("no_answer", "", NOW + timedelta(hours=1))
    assert refused.value.fields == {"status": ["is done"]}
    assert follow_up.outcome == "reached" and follow_up.events == []


def test_a_follow_up_ends_with_a_known_outcome():
    with pytest.raises(RuleBroken):
        scheduled().complete("maybe", "", NOW)


def test_a_follow_up_is_rebuilt_from_its_stored_row():
    row = {"follow_up_id": "f1", "repair_order_id": "ro1", "branch_id": "N1", "customer_id": "c1",
           "delivered_at": DELIVERED, "due_at": DELIVERED, "status": "done", "outcome": "reached", "notes": "",
           "completed_at": NOW, "created_at": DELIVERED}
    with pytest.raises(StateConflict):
        FollowUp.from_row(row).complete("reached", "", NOW)
