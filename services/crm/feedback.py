"""Feedback a customer gives outside a survey, no I/O: every piece gets a reply within
24 hours (SLA policy feedback_reply, calendar time), and one reply closes it."""
from dataclasses import dataclass
from datetime import datetime

from shared.domain import Aggregate, NotPermitted, RuleBroken, StateConflict


@dataclass
class Feedback(Aggregate):
    feedback_id: object
    customer_id: object
    branch_id: str
    text: str
    channel: str
    received_at: datetime
    status: str = "open"
    reply: str | None = None
    replied_by: str | None = None
    replied_at: datetime | None = None

    @classmethod
    def receive(cls, feedback_id, *, customer_id, branch_id, text, channel, at, acting_for=None) -> "Feedback":
        """Feedback is recorded at a branch the caller acts for; the reply clock starts."""
        if acting_for is not None and branch_id not in acting_for:
            raise NotPermitted("outside your scope", branch_id="not a branch you act for")
        feedback = cls(feedback_id=feedback_id, customer_id=customer_id, branch_id=branch_id, text=text,
                       channel=channel, received_at=at)
        feedback.record("feedback.received", feedback_id=feedback_id, customer_id=customer_id)
        return feedback

    @classmethod
    def from_row(cls, row: dict) -> "Feedback":
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k != "events"})

    def answer(self, text: str, by: str, at: datetime):
        """One reply per feedback (409 for a second); a reply says something (422 for blank)."""
        if self.status != "open":
            raise StateConflict("the feedback has its reply", status=f"is {self.status}")
        if not text.strip():
            raise RuleBroken("a reply says something", text="not blank")
        self.status, self.reply, self.replied_by, self.replied_at = "replied", text.strip(), by, at
        self.record("feedback.replied", feedback_id=self.feedback_id, customer_id=self.customer_id)
