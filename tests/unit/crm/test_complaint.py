import pytest

from services.crm.domain import Complaint
from shared.domain import NotPermitted, RuleBroken


def opened(branch_id="S1", acting_for=None, **more):
    return Complaint.open("k1", branch_id=branch_id, customer_id="c1", acting_for=acting_for,
                          what_happened="the car came back dirty", category="repair_quality", **more)


def test_opening_a_complaint_records_complaint_opened():
    complaint = opened(repair_order_id="ro1", severity="high", level=2)
    [event] = complaint.events
    assert (event.type, event.branch_id, event.facts) == ("complaint.opened", "S1", {
        "complaint_id": "k1", "customer_id": "c1", "repair_order_id": "ro1", "category": "repair_quality",
        "severity": "high", "level": 2})
    assert (complaint.status, complaint.source) == ("open", "staff")


def test_a_complaint_starts_at_the_front_line_unless_a_level_is_given():
    assert opened(repair_order_id=None).level == 1


@pytest.mark.parametrize("level", [0, 4])
def test_a_complaint_is_at_level_one_two_or_three(level):
    with pytest.raises(RuleBroken) as refused:
        opened(repair_order_id=None, level=level)
    assert list(refused.value.fields) == ["level"]


def test_a_complaint_may_be_opened_at_any_branch_the_caller_acts_for_not_only_the_customers():
    # the customer (of N1, say) was served at S1: S1 handles the complaint
    assert opened(branch_id="S1", acting_for=frozenset({"S1", "S2"}), repair_order_id=None).branch_id == "S1"
    assert opened(branch_id="N1", acting_for=None, repair_order_id=None).branch_id == "N1"  # unscoped: any


def test_a_complaint_is_never_opened_at_a_branch_the_caller_does_not_act_for():
    with pytest.raises(NotPermitted) as refused:
        opened(branch_id="N1", acting_for=frozenset({"S1"}), repair_order_id=None)
    assert list(refused.value.fields) == ["branch_id"]
