import pytest

from services.crm.domain import COMPLAINT_SCORE, Survey
from shared.domain import RuleBroken

DELIVERY = {"repair_order_id": "ro1", "branch_id": "S1", "customer_id": "c1"}


def answered(score, comment=""):
    return Survey.answer("s1", DELIVERY, repair_order_id="ro1", score=score, comment=comment)


def test_a_survey_is_answered_for_a_delivered_repair_order_at_its_branch_and_records_survey_answered():
    survey = answered(9)
    assert (survey.branch_id, survey.customer_id) == ("S1", "c1")
    [event] = survey.events
    assert (event.type, event.branch_id, event.facts) == ("survey.answered", "S1", {
        "survey_id": "s1", "repair_order_id": "ro1", "customer_id": "c1", "score": 9})


def test_a_survey_needs_a_repair_order_crm_saw_delivered():
    with pytest.raises(RuleBroken) as refused:
        Survey.answer("s1", None, repair_order_id="ro1", score=9)
    assert refused.value.fields == {"repair_order_id": ["not delivered, or unknown"]}


def test_a_low_score_opens_a_complaint_at_the_front_line_where_the_car_was_delivered():
    complaint = answered(COMPLAINT_SCORE, "too slow").complaint("k1")
    assert (complaint.complaint_id, complaint.branch_id, complaint.customer_id, complaint.repair_order_id) == (
        "k1", "S1", "c1", "ro1")
    assert (complaint.level, complaint.source, complaint.category, complaint.severity) == (1, "survey", "other",
                                                                                          "medium")
    assert complaint.what_happened == "survey score 6/10: too slow"
    assert [e.type for e in complaint.events] == ["complaint.opened"]


def test_a_good_score_opens_no_complaint():
    assert answered(COMPLAINT_SCORE + 1).complaint("k1") is None
