"""Every event crm's rules record builds against the catalogue (shared/contracts/events.py)."""
import uuid
from datetime import datetime, timedelta, timezone

from services.crm.complaints import Complaint
from services.crm.domain import Customer, FollowUp
from services.crm.feedback import Feedback
from services.crm.surveys import Invitation
from shared.contracts import events

AT = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def test_every_event_crms_rules_record_matches_the_catalogue():
    ids = {name: uuid.uuid4() for name in ("c", "k", "ro", "v", "f", "s", "fb")}
    complaint = Complaint.open(ids["k"], branch_id="N1", customer_id=ids["c"], opened_at=AT, vehicle_id=ids["v"],
                               repair_order_id=ids["ro"], what_happened="x", category="parts", source="comeback",
                               triggers=["repeat_problem"])
    complaint.respond("ana", AT + timedelta(minutes=5))
    complaint.escalate("media", AT + timedelta(minutes=10))
    complaint.resolve(measures=["m"], deadline=AT + timedelta(days=1), owner="ana", at=AT + timedelta(hours=1))
    complaint.reopen("again", AT + timedelta(hours=2))
    follow_up = FollowUp.schedule(ids["f"], repair_order_id=ids["ro"], branch_id="N1", customer_id=ids["c"],
                                  delivered_at=AT, kind="major_7d")
    follow_up.announce_due()
    follow_up.complete("issue_found", "noise", AT)
    follow_up.booking_request(ids["v"], "noise", AT)
    invitation = Invitation.invite(ids["s"], repair_order_id=ids["ro"], branch_id="N1", customer_id=ids["c"],
                                   number="RO-1", at=AT)
    invitation.remind(AT + timedelta(days=3))
    feedback = Feedback.receive(ids["fb"], customer_id=ids["c"], branch_id="N1", text="t", channel="phone", at=AT)
    feedback.answer("thanks", "ana", AT)
    customer = Customer.register(ids["c"], branch_id="N1", name="Ada")
    customer.erase(AT)
    recorded = [e for obj in (complaint, follow_up, invitation, feedback, customer) for e in obj.events]
    for event in recorded:
        built = events.build(event.type, event.branch_id, "crm", **event.facts)
        assert events.load(event.type, built)["branch_id"] == "N1"
    assert {e.type for e in recorded} >= {"complaint.opened", "complaint.responded", "complaint.escalated",
                                          "complaint.resolved", "complaint.reopened", "follow_up.due",
                                          "follow_up.booking_requested", "survey.invited", "feedback.received",
                                          "feedback.replied", "customer.erased"}
