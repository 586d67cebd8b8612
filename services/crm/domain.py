"""crm rules, no I/O: VINs, when a follow-up is due, what a survey score means."""
import re
from datetime import datetime, timedelta

from shared import errors

VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # 17 characters, never I, O or Q
FOLLOW_UP_HOURS = 72  # domain.md s7: within 72 h of delivery; a branch may set its own
OUTCOMES = ("reached", "no_answer", "issue_found")
COMPLAINT_SCORE = 6  # a survey score at or below this opens a complaint
LEVELS = (1, 2, 3)


def normalise_vin(vin: str) -> str:
    vin = vin.strip().upper()
    if not VIN.match(vin):
        raise errors.ValidationFailed("invalid VIN", {"vin": ["17 characters, letters and digits, no I, O or Q"]})
    return vin


def normalise_plate(plate: str) -> str:
    """Plates are compared without spaces or dashes and in capitals: 'b-pl 1' is 'BPL1'."""
    return re.sub(r"[\s-]", "", plate).upper()


def follow_up_due(delivered_at: datetime, hours: int | None = None) -> datetime:
    return delivered_at + timedelta(hours=hours if hours is not None else FOLLOW_UP_HOURS)


def survey_opens_complaint(score: int) -> bool:
    return score <= COMPLAINT_SCORE
