"""Survey invitations and satisfaction figures, no I/O.

A survey is invited at delivery (survey.invited, reminder false) and, if still unanswered after the
branch's reminder delay (default REMINDER_HOURS), once more (reminder true); never a third time.
Answering an invited survey answers its invitation (domain.Survey keeps the score and what a low
score opens)."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain import Aggregate, StateConflict

REMINDER_HOURS = 48
PROMOTER = 9  # scores 9 and 10
DETRACTOR = 6  # scores 1 to 6


@dataclass
class Invitation(Aggregate):
    survey_id: object
    repair_order_id: object
    branch_id: str
    customer_id: object
    number: str | None
    invited_at: datetime
    reminded_at: datetime | None = None
    answered_at: datetime | None = None

    @classmethod
    def invite(cls, survey_id, *, repair_order_id, branch_id, customer_id, number, at) -> "Invitation":
        """Invited at delivery: survey.invited with reminder false."""
        invitation = cls(survey_id=survey_id, repair_order_id=repair_order_id, branch_id=branch_id,
                         customer_id=customer_id, number=number, invited_at=at)
        invitation._announce(reminder=False)
        return invitation

    @classmethod
    def from_row(cls, row: dict) -> "Invitation":
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k != "events"})

    def remind(self, at: datetime, reminder_hours: int | None = None) -> bool:
        """One reminder, once the delay has passed and only while unanswered."""
        hours = REMINDER_HOURS if reminder_hours is None else reminder_hours
        if self.answered_at is not None or self.reminded_at is not None:
            return False
        if at < self.invited_at + timedelta(hours=hours):
            return False
        self.reminded_at = at
        self._announce(reminder=True)
        return True

    def answer(self, at: datetime):
        """An invitation is answered once (409 the second time)."""
        if self.answered_at is not None:
            raise StateConflict("the survey is answered already", survey_id="answered")
        self.answered_at = at

    def _announce(self, reminder: bool):
        self.record("survey.invited", survey_id=self.survey_id, repair_order_id=self.repair_order_id,
                    customer_id=self.customer_id, number=self.number, reminder=reminder)


def figures(scores: list[int], invited: int) -> dict:
    """A branch's satisfaction: the answers' average, the shares of 9-10 (promoters) and of 1-6
    (detractors), the net promoter score, and the response rate (answers of invited surveys per
    invitation). None where there is nothing to divide by."""
    answered = len(scores)
    promoters = sum(1 for s in scores if s >= PROMOTER)
    detractors = sum(1 for s in scores if s <= DETRACTOR)
    share = (lambda n: round(n / answered, 4)) if answered else (lambda n: None)
    return {
        "answered": answered, "invited": invited,
        "average": round(sum(scores) / answered, 2) if answered else None,
        "promoter_share": share(promoters), "detractor_share": share(detractors),
        "net_promoter_score": round(100 * (promoters - detractors) / answered, 1) if answered else None,
        "response_rate": round(min(answered, invited) / invited, 4) if invited else None,
    }
