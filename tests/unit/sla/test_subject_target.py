"""A clock's target given by its start event (shared/sla/rules.py Policy.target_fact): a repair
promised for its own estimate rather than the branch's fixed target."""
from datetime import datetime, timezone

from shared.sla import rules as sla

AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def test_a_start_event_may_give_its_subject_its_own_target():
    promise = sla.policy("repair_promise")
    assert promise.target_fact == "promised_seconds"
    assert promise.target_given({"promised_seconds": 9000}) == 9000
    assert promise.target_given({"promised_seconds": None}) is None  # no estimate: the branch's target
    assert promise.target_given({}) is None and promise.target_given({"promised_seconds": 0}) is None
    assert sla.policy("diagnosis").target_given({"promised_seconds": 9000}) is None  # only where declared
    facts = {"occurred_at": AT, "branch_id": "N1", "repair_order_id": "ro-1", "priority": "routine"}
    clock = sla.Clock.start(promise, facts, promise.target_given({"promised_seconds": 9000}), sla.CalendarTime(),
                            "c-1")
    assert clock.target_seconds == 9000 and (clock.deadline - AT).total_seconds() == 9000
