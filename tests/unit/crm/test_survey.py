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


# -- issue 25: the branch's threshold, invitations and reminders, figures --------------------------------
from datetime import datetime, timedelta, timezone  # noqa: E402

from services.crm.surveys import Invitation, figures  # noqa: E402
from shared.domain import StateConflict  # noqa: E402

AT = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)


def test_the_survey_threshold_is_the_branchs_own():
    strict = Survey.answer("s1", DELIVERY, repair_order_id="ro1", score=8, threshold=8)
    assert strict.opens_complaint and strict.complaint("k1") is not None
    lenient = Survey.answer("s1", DELIVERY, repair_order_id="ro1", score=5, threshold=4)
    assert not lenient.opens_complaint and lenient.complaint("k1") is None
    assert answered(6).opens_complaint  # no setting: the default, 6


@pytest.mark.parametrize("score", [0, 11])
def test_a_score_is_1_to_10(score):
    with pytest.raises(RuleBroken) as refused:
        Survey.answer("s1", DELIVERY, repair_order_id="ro1", score=score)
    assert list(refused.value.fields) == ["score"]


def invited():
    return Invitation.invite("s1", repair_order_id="ro1", branch_id="S1", customer_id="c1", number="RO-1", at=AT)


def test_a_survey_is_invited_at_delivery():
    [event] = invited().events
    assert (event.type, event.facts) == ("survey.invited", {
        "survey_id": "s1", "repair_order_id": "ro1", "customer_id": "c1", "number": "RO-1", "reminder": False})


def test_an_unanswered_survey_is_reminded_once_after_48_hours():
    invitation = invited()
    invitation.take_events()
    assert not invitation.remind(AT + timedelta(hours=47))
    assert invitation.remind(AT + timedelta(hours=48))
    assert not invitation.remind(AT + timedelta(hours=96))
    assert [e.facts["reminder"] for e in invitation.events] == [True]


def test_the_reminder_delay_is_the_branchs_setting():
    invitation = invited()
    assert invitation.remind(AT + timedelta(hours=2), reminder_hours=2)


def test_an_answered_survey_is_not_reminded_nor_answered_twice():
    invitation = invited()
    invitation.answer(AT + timedelta(hours=1))
    assert not invitation.remind(AT + timedelta(hours=49))
    with pytest.raises(StateConflict):
        invitation.answer(AT + timedelta(hours=2))


def test_satisfaction_figures_are_average_shares_and_response_rate():
    got = figures([10, 9, 7, 6, 3], invited=10)
    assert got == {"answered": 5, "invited": 10, "average": 7.0, "promoter_share": 0.4, "detractor_share": 0.4,
                   "net_promoter_score": 0.0, "response_rate": 0.5}


def test_figures_of_a_branch_without_answers_have_nothing_to_divide():
    assert figures([], invited=0) == {"answered": 0, "invited": 0, "average": None, "promoter_share": None,
                                      "detractor_share": None, "net_promoter_score": None, "response_rate": None}
