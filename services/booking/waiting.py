"""Customers waiting at the branch, no I/O: when they are owed an apology with the reason, and how often."""
from datetime import datetime, timedelta

FIRST_APOLOGY_AFTER = timedelta(minutes=15)  # domain.md s1: 15 minutes past the promised time
APOLOGY_EVERY = timedelta(minutes=30)  # then an update every 30 minutes

BOOKED_LATE = "reception is running late: the advisors are still with the customers before you"
WALK_IN_LATE = "the workshop is busier than estimated when you arrived: appointments go first"


def next_apology_at(promised: datetime, sent: int) -> datetime:
    return promised + FIRST_APOLOGY_AFTER + APOLOGY_EVERY * sent


def apology(subject, promised: datetime, sent: int, reason: str, now: datetime) -> dict | None:
    """The facts of the apology due now to a customer promised `promised` and sent `sent` apologies, else None."""
    if now < next_apology_at(promised, sent):
        return None
    return {"promised_at": promised, "minutes_late": int((now - promised).total_seconds() // 60), "reason": reason,
            "apology_number": sent + 1, **subject}
