"""crm's rules, no I/O: customers and their vehicles (VINs, plates), the follow-up after delivery,
what a survey score means, and complaints (domain.md s7)."""
import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from shared.domain import Aggregate, NotPermitted, RuleBroken, StateConflict

VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # 17 characters, never I, O or Q
VIN_SHAPE = "17 characters, letters and digits, no I, O or Q"
FOLLOW_UP_HOURS = 72  # domain.md s7: within 72 h of delivery; a branch may set its own
OUTCOMES = ("reached", "no_answer", "issue_found")
COMPLAINT_SCORE = 6  # a survey score at or below this opens a complaint
LEVELS = (1, 2, 3)  # 1 front line (24 h), 2 supervisor (48 h), 3 senior management (72 h)


def stored(obj) -> dict:
    """A domain object's fields as store.py writes them (not the events it recorded)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "events"}


def _from_row(cls, row: dict):
    return cls(**{f.name: row[f.name] for f in fields(cls) if f.name != "events"})


# -- customers and vehicles ------------------------------------------------------------------------
def normalise_vin(vin: str) -> str | None:
    """The VIN in capitals without surrounding spaces; None if it is not a VIN."""
    vin = vin.strip().upper()
    return vin if VIN.match(vin) else None


def normalise_plate(plate: str) -> str:
    """Plates are compared without spaces or dashes and in capitals: 'b-pl 1' is 'BPL1'."""
    return re.sub(r"[\s-]", "", plate).upper()


def normalise_phone(phone: str | None) -> str | None:
    """Phone numbers are compared by their digits alone, without leading zeros: spaces, dashes,
    brackets, dots and slashes are dropped, and so are the + or 00 of an international prefix and
    the 0 of a national trunk prefix. '+49 40 123-456', '0049 (40) 123456' are '4940123456';
    '040 123456' is '40123456', found inside both. None for no number."""
    if phone is None:
        return None
    return re.sub(r"[^0-9]", "", phone).lstrip("0") or None


# -- finding customers and vehicles (GET /customers?q=, GET /vehicles?q=) ---------------------------
SEARCH_MIN = 3  # the shortest part of a key a search looks for: one trigram (pg_trgm), so an index serves it
PHONE_SHAPED = re.compile(r"^\+?[0-9\s()./-]+$")


@dataclass(frozen=True)
class Search:
    """What an advisor typed, as the keys it is looked for in; each key only where what was typed
    can be part of one, and only with at least SEARCH_MIN characters:

    - `text`: in a customer's name or email, case ignored;
    - `plate`: in a vehicle's plate key or VIN (normalise_plate: no spaces or dashes, capitals;
      only letters and digits can be part of either);
    - `phone`: in a customer's phone key (normalise_phone), when what was typed is a number
      (digits, spaces, dashes, brackets, dots, slashes, a leading +).
    """

    text: str
    plate: str | None = None
    phone: str | None = None

    @classmethod
    def of(cls, typed: str) -> "Search":
        text = typed.strip()
        if len(text) < SEARCH_MIN:
            raise RuleBroken("a search needs at least 3 characters", q=f"at least {SEARCH_MIN} characters")
        plate = normalise_plate(text)
        phone = normalise_phone(text) if PHONE_SHAPED.match(text) else None
        return cls(text=text,
                   plate=plate if len(plate) >= SEARCH_MIN and plate.isalnum() else None,
                   phone=phone if phone is not None and len(phone) >= SEARCH_MIN else None)


@dataclass
class Customer(Aggregate):
    customer_id: object
    branch_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    consent_marketing: bool = False

    @classmethod
    def register(cls, customer_id, **details) -> "Customer":
        customer = cls(customer_id=customer_id, **details)
        customer.record("customer.registered", customer_id=customer_id, name=customer.name)
        return customer

    @classmethod
    def from_row(cls, row: dict) -> "Customer":
        return _from_row(cls, row)

    @property
    def phone_key(self) -> str | None:
        """How the phone number compares (normalise_phone); stored beside it, for the search."""
        return normalise_phone(self.phone)

    def register_vehicle(self, vehicle_id, **details) -> "Vehicle":
        return Vehicle.register(self, vehicle_id, **details)


@dataclass
class Vehicle(Aggregate):
    """A customer's car. It belongs to its owner's branch; its VIN is kept in capitals, its plate
    as written (plate_key is how plates compare)."""

    vehicle_id: object
    customer_id: object
    branch_id: str
    vin: str
    plate: str
    model: str
    year: int | None = None
    odometer_km: int | None = None

    @classmethod
    def register(cls, owner: Customer, vehicle_id, *, vin, plate, model, year=None, odometer_km=None) -> "Vehicle":
        normalised = normalise_vin(vin)
        if normalised is None:
            raise RuleBroken("invalid VIN", vin=VIN_SHAPE)
        vehicle = cls(vehicle_id=vehicle_id, customer_id=owner.customer_id, branch_id=owner.branch_id,
                      vin=normalised, plate=plate, model=model, year=year, odometer_km=odometer_km)
        vehicle.record("vehicle.registered", vehicle_id=vehicle_id, customer_id=owner.customer_id,
                       vin=normalised, plate=plate, model=model)
        return vehicle

    @property
    def plate_key(self) -> str:
        return normalise_plate(self.plate)


# -- the follow-up after delivery --------------------------------------------------------------------
@dataclass
class FollowUp(Aggregate):
    """The call after a delivery: due within the branch's hours (72 by default), done once."""

    follow_up_id: object
    repair_order_id: object
    branch_id: str
    customer_id: object
    delivered_at: datetime
    due_at: datetime
    status: str = "due"
    outcome: str | None = None
    notes: str | None = None
    completed_at: datetime | None = None

    @classmethod
    def schedule(cls, follow_up_id, *, repair_order_id, branch_id, customer_id, delivered_at,
                 branch_hours: int | None = None) -> "FollowUp":
        """Scheduled at delivery, due `branch_hours` later, or FOLLOW_UP_HOURS for a branch that set none."""
        due = delivered_at + timedelta(hours=branch_hours if branch_hours is not None else FOLLOW_UP_HOURS)
        follow_up = cls(follow_up_id=follow_up_id, repair_order_id=repair_order_id, branch_id=branch_id,
                        customer_id=customer_id, delivered_at=delivered_at, due_at=due)
        follow_up.record("follow_up.scheduled", follow_up_id=follow_up_id, repair_order_id=repair_order_id,
                         customer_id=customer_id, due_at=due)
        return follow_up

    @classmethod
    def from_row(cls, row: dict) -> "FollowUp":
        return _from_row(cls, row)

    def complete(self, outcome: str, notes: str, now: datetime):
        if self.status != "due":
            raise StateConflict("the follow-up is already done", status="is done")
        if outcome not in OUTCOMES:
            raise RuleBroken("unknown outcome", outcome=f"one of {', '.join(OUTCOMES)}")
        self.status, self.outcome, self.notes, self.completed_at = "done", outcome, notes, now
        self.record("follow_up.completed", follow_up_id=self.follow_up_id, repair_order_id=self.repair_order_id,
                    outcome=outcome)


# -- complaints and surveys --------------------------------------------------------------------------
@dataclass
class Complaint(Aggregate):
    complaint_id: object
    branch_id: str
    customer_id: object
    repair_order_id: object | None
    what_happened: str
    category: str
    source: str  # "staff" or "survey"
    customer_wants: str = ""
    severity: str = "medium"
    owner: str | None = None
    level: int = 1
    status: str = "open"

    @classmethod
    def open(cls, complaint_id, *, branch_id, customer_id, acting_for=None, source="staff", **details) -> "Complaint":
        """Open a complaint at `branch_id`: the branch that handles it, where the customer was served,
        which need not be the customer's own branch (a customer of N1 may bring the car to S1; a low
        survey score opens the complaint at the repair order's branch). A caller who acts for some
        branches only (`acting_for`, their scope) may open it only at one of them; the customer and
        any repair order named are checked against the same scope before (service.py)."""
        if acting_for is not None and branch_id not in acting_for:
            raise NotPermitted("outside your scope", branch_id="not a branch you act for")
        complaint = cls(complaint_id=complaint_id, branch_id=branch_id, customer_id=customer_id, source=source,
                        **details)
        if complaint.level not in LEVELS:
            raise RuleBroken("a complaint is at level 1, 2 or 3", level="1, 2 or 3")
        complaint.record("complaint.opened", complaint_id=complaint_id, customer_id=customer_id,
                         repair_order_id=complaint.repair_order_id, category=complaint.category,
                         severity=complaint.severity, level=complaint.level)
        return complaint


@dataclass
class Survey(Aggregate):
    """A customer's score (1 to 10) for a delivered repair order; one per repair order."""

    survey_id: object
    repair_order_id: object
    branch_id: str
    customer_id: object
    score: int
    comment: str = ""

    @classmethod
    def answer(cls, survey_id, delivery: dict | None, *, repair_order_id, score, comment="") -> "Survey":
        """The answer for a repair order crm saw delivered (`delivery`: its branch and customer)."""
        if delivery is None:
            raise RuleBroken("no delivered repair order with that id", repair_order_id="not delivered, or unknown")
        survey = cls(survey_id=survey_id, repair_order_id=repair_order_id, branch_id=delivery["branch_id"],
                     customer_id=delivery["customer_id"], score=score, comment=comment)
        survey.record("survey.answered", survey_id=survey_id, repair_order_id=repair_order_id,
                      customer_id=survey.customer_id, score=score)
        return survey

    @property
    def opens_complaint(self) -> bool:
        return self.score <= COMPLAINT_SCORE

    def complaint(self, complaint_id) -> Complaint | None:
        """The complaint a low score opens, at level 1, where the repair order was delivered; None
        for a good score."""
        if not self.opens_complaint:
            return None
        return Complaint.open(complaint_id, branch_id=self.branch_id, customer_id=self.customer_id,
                              repair_order_id=self.repair_order_id, source="survey", category="other",
                              what_happened=f"survey score {self.score}/10: {self.comment}".strip())
