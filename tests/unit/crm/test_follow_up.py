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
        "follow_up_id": "f1", "repair_order_id": "ro1", "customer_id": "c1", "due_at": follow_up.due_at,
        "kind": "after_72h"})
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
           "completed_at": NOW, "created_at": DELIVERED, "kind": "after_72h", "opens_at": DELIVERED,
           "booking_requested_at": None, "booked_at": None}
    with pytest.raises(StateConflict):
        FollowUp.from_row(row).complete("reached", "", NOW)


# -- follow-ups by kind ----------------------------------------------------------------------
from services.crm.domain import follow_up_kinds, is_major  # noqa: E402

SMALL = [{"kind": "labour", "quantity": "1.0", "net_cents": 9_000}, {"kind": "part", "quantity": "1", "net_cents": 4_000}]
EXPENSIVE = [{"kind": "part", "quantity": "1", "net_cents": 100_001}]
LONG_LABOUR = [{"kind": "labour", "quantity": "4.5", "net_cents": 40_000}]


def test_every_delivery_gets_the_72_hour_follow_up():
    assert follow_up_kinds(SMALL, first_time=False) == ["after_72h"]


def test_a_major_repair_adds_follow_ups_7_and_30_days_after_delivery():
    assert follow_up_kinds(EXPENSIVE, first_time=False) == ["after_72h", "major_7d", "major_30d"]
    seven = FollowUp.schedule("f7", repair_order_id="ro1", branch_id="N1", customer_id="c1", delivered_at=DELIVERED,
                              kind="major_7d")
    assert (seven.opens_at, seven.due_at) == (DELIVERED + timedelta(days=7), DELIVERED + timedelta(days=10))
    thirty = FollowUp.schedule("f30", repair_order_id="ro1", branch_id="N1", customer_id="c1",
                               delivered_at=DELIVERED, kind="major_30d")
    assert thirty.opens_at == DELIVERED + timedelta(days=30)


def test_a_repair_is_major_over_the_branchs_total_or_with_a_long_labour_line():
    assert not is_major(SMALL) and is_major(EXPENSIVE) and is_major(LONG_LABOUR)
    assert not is_major([{"kind": "part", "quantity": "1", "net_cents": 100_000}])  # over, not at
    assert is_major(SMALL, threshold_cents=10_000)  # the branch's own threshold
    assert not is_major(LONG_LABOUR, labour_hours=5)


def test_a_first_time_customer_gets_follow_ups_after_1_and_3_months():
    assert follow_up_kinds(SMALL, first_time=True) == ["after_72h", "first_1m", "first_3m"]
    assert follow_up_kinds(EXPENSIVE, first_time=True) == ["after_72h", "major_7d", "major_30d", "first_1m",
                                                          "first_3m"]
    month = FollowUp.schedule("f1m", repair_order_id="ro1", branch_id="N1", customer_id="c1",
                              delivered_at=DELIVERED, kind="first_1m")
    quarter = FollowUp.schedule("f3m", repair_order_id="ro1", branch_id="N1", customer_id="c1",
                                delivered_at=DELIVERED, kind="first_3m")
    assert (month.opens_at, quarter.opens_at) == (DELIVERED + timedelta(days=30), DELIVERED + timedelta(days=91))


def test_the_72_hour_follow_up_opens_a_day_after_delivery():
    follow_up = scheduled()
    assert follow_up.opens_at == DELIVERED + timedelta(hours=24) and follow_up.kind == "after_72h"
    assert scheduled(branch_hours=12).opens_at == DELIVERED + timedelta(hours=12)


def test_a_follow_up_whose_window_opens_announces_follow_up_due():
    follow_up = scheduled()
    follow_up.take_events()
    follow_up.announce_due()
    [event] = follow_up.events
    assert (event.type, event.facts) == ("follow_up.due", {
        "follow_up_id": "f1", "repair_order_id": "ro1", "customer_id": "c1", "kind": "after_72h",
        "due_at": follow_up.due_at})


def test_an_issue_found_may_ask_booking_for_an_appointment():
    follow_up = scheduled()
    follow_up.complete("issue_found", "noise again", NOW)
    follow_up.take_events()
    follow_up.booking_request("v1", "noise again", NOW)
    assert follow_up.booking_requested_at == NOW and follow_up.booked_at is None
    [event] = follow_up.events
    assert (event.type, event.facts["vehicle_id"], event.facts["note"]) == (
        "follow_up.booking_requested", "v1", "noise again")


def test_only_an_issue_found_opens_a_complaint_or_asks_for_a_booking():
    follow_up = scheduled()
    follow_up.complete("no_answer", "", NOW)
    with pytest.raises(RuleBroken) as refused:
        follow_up.check_next_steps(opens_complaint=True, requests_booking=False)
    assert list(refused.value.fields) == ["outcome"]
    follow_up.check_next_steps(opens_complaint=False, requests_booking=False)
    found = scheduled()
    found.complete("issue_found", "noise", NOW)
    found.check_next_steps(opens_complaint=True, requests_booking=True)


def test_only_an_issue_found_asks_for_a_booking():
    follow_up = scheduled()
    follow_up.complete("reached", "", NOW)
    with pytest.raises(RuleBroken):
        follow_up.booking_request("v1", "x", NOW)


def test_a_booking_made_after_the_request_answers_it_once():
    follow_up = scheduled()
    follow_up.complete("issue_found", "noise again", NOW)
    assert not follow_up.booked(NOW + timedelta(hours=1))  # nothing was asked
    follow_up.booking_request("v1", "noise again", NOW)
    assert not follow_up.booked(NOW - timedelta(minutes=1))  # a booking from before the call
    assert follow_up.booked(NOW + timedelta(hours=2)) and follow_up.booked_at == NOW + timedelta(hours=2)
    assert not follow_up.booked(NOW + timedelta(hours=3))
