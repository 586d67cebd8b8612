"""crm's rules, no I/O: customers and their vehicles (VINs, plates), the follow-up after delivery,
what a survey score means, and complaints (domain.md s7)."""
import hashlib
import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from services.crm.complaints import LEVELS, Complaint  # noqa: F401  (complaints' rules live there)
from shared.contracts.api.crm import (COMPLAINT_SCORE, LANGUAGES, MAJOR_LABOUR_HOURS,  # the API's words
                                      MAJOR_TOTAL_CENTS, OUTCOMES, SEARCH_MIN)
from shared.domain import Aggregate, RuleBroken, StateConflict, stored  # noqa: F401  (store.py writes through it)

VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # 17 characters, never I, O or Q
VIN_SHAPE = "17 characters, letters and digits, no I, O or Q"
FOLLOW_UP_HOURS = 72  # domain.md s7: within 72 h of delivery; a branch may set its own


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
# SEARCH_MIN: the shortest part of a key a search looks for: one trigram (pg_trgm), so an index serves it
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
    language: str = "en"
    vip: bool = False
    preferred_advisor: str | None = None
    contacts: list = field(default_factory=list)  # other contact entries: [{"label", "value"}]
    erased_at: datetime | None = None

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

    UPDATABLE = ("name", "email", "phone", "language", "vip", "preferred_advisor", "contacts")

    def update(self, **changes):
        """Change the record's details (those given); an erased customer's record is not filled
        again (409): the person asked to be forgotten."""
        if self.erased_at is not None:
            raise StateConflict("the customer's data was erased", status="is erased")
        if "language" in changes and changes["language"] not in LANGUAGES:
            raise RuleBroken("unknown language", language=f"one of {', '.join(LANGUAGES)}")
        for name, value in changes.items():
            if name in self.UPDATABLE:
                setattr(self, name, value)

    def erase(self, at: datetime) -> bool:
        """Erasure on request (GDPR art. 17): the person's data goes (name, email, phone, other
        contacts, the preferred advisor stays - it is staff's); the record stays, pseudonymised, so
        invoices and warranty records kept by law still name a customer_id. Erasing twice changes
        nothing and records nothing (False)."""
        if self.erased_at is not None:
            return False
        self.name, self.email, self.phone, self.contacts = pseudonym(self.customer_id), None, None, []
        self.consent_marketing, self.erased_at = False, at
        self.record("customer.erased", customer_id=self.customer_id)
        return True

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
    purchase_date: object | None = None

    @classmethod
    def register(cls, owner: Customer, vehicle_id, *, vin, plate, model, year=None, odometer_km=None,
                 purchase_date=None) -> "Vehicle":
        normalised = normalise_vin(vin)
        if normalised is None:
            raise RuleBroken("invalid VIN", vin=VIN_SHAPE)
        vehicle = cls(vehicle_id=vehicle_id, customer_id=owner.customer_id, branch_id=owner.branch_id,
                      vin=normalised, plate=plate, model=model, year=year, odometer_km=odometer_km,
                      purchase_date=purchase_date)
        vehicle.record("vehicle.registered", vehicle_id=vehicle_id, customer_id=owner.customer_id,
                       vin=normalised, plate=plate, model=model)
        return vehicle

    @property
    def plate_key(self) -> str:
        return normalise_plate(self.plate)


def pseudonym(customer_id) -> str:
    """What an erased customer is called: 'erased customer' and a short hash of the id, the same
    every time, revealing nothing of the person."""
    return "erased customer " + hashlib.sha256(str(customer_id).encode()).hexdigest()[:10]


ERASED_PLATE = ""  # the plate is the person's; the VIN stays for warranty and recalls


# -- odometer readings -------------------------------------------------------------------------------
def check_reading(last_km: int | None, km: int, correction: bool = False):
    """An odometer reading never goes below the last one (422) unless it is marked as a correction
    of a wrong reading."""
    if km < 0:
        raise RuleBroken("an odometer reading is not negative", odometer_km="0 or more")
    if last_km is not None and km < last_km and not correction:
        raise RuleBroken("the reading is below the last one", odometer_km=f"at least {last_km}, or mark it a correction")


def odometer_after(last_km: int | None, km: int, correction: bool = False) -> int:
    """The vehicle's odometer once a reading is recorded: a correction sets it; any other reading never
    lowers it (a lower reading at check-in stays in the history: no one is there to refuse it)."""
    return km if correction or last_km is None else max(last_km, km)


# -- the follow-up after delivery --------------------------------------------------------------------
@dataclass
class FollowUp(Aggregate):
    """A call after a delivery, of one kind (KINDS): it opens at `opens_at` (follow_up.due is
    announced then) and is due at `due_at`; done once, with an outcome."""

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
    kind: str = "after_72h"
    opens_at: datetime | None = None
    booking_requested_at: datetime | None = None  # an issue found asked for the car back
    booked_at: datetime | None = None  # ... and a booking for the vehicle was made after it

    @classmethod
    def schedule(cls, follow_up_id, *, repair_order_id, branch_id, customer_id, delivered_at,
                 branch_hours: int | None = None, kind: str = "after_72h") -> "FollowUp":
        """Scheduled at delivery. after_72h: opens a day after delivery (or at once for a branch whose
        hours are fewer) and is due `branch_hours` after it, FOLLOW_UP_HOURS for a branch that set
        none. The others open KINDS[kind] days after delivery and are due WINDOW_DAYS later."""
        if kind == "after_72h":
            hours = branch_hours if branch_hours is not None else FOLLOW_UP_HOURS
            due = delivered_at + timedelta(hours=hours)
            opens = delivered_at + timedelta(hours=min(24, hours))
        else:
            opens = delivered_at + timedelta(days=KINDS[kind])
            due = opens + timedelta(days=WINDOW_DAYS)
        follow_up = cls(follow_up_id=follow_up_id, repair_order_id=repair_order_id, branch_id=branch_id,
                        customer_id=customer_id, delivered_at=delivered_at, due_at=due, kind=kind, opens_at=opens)
        follow_up.record("follow_up.scheduled", follow_up_id=follow_up_id, repair_order_id=repair_order_id,
                         customer_id=customer_id, due_at=due, kind=kind)
        return follow_up

    def check_next_steps(self, opens_complaint: bool, requests_booking: bool):
        """Only a follow-up that found an issue opens a complaint or asks for a booking (422)."""
        if self.outcome != "issue_found" and (opens_complaint or requests_booking):
            raise RuleBroken("only an issue found opens a complaint or asks for a booking",
                             outcome="issue_found needed")

    def announce_due(self):
        """Its window opened: tell whoever contacts the customer (follow_up.due)."""
        self.record("follow_up.due", follow_up_id=self.follow_up_id, repair_order_id=self.repair_order_id,
                    customer_id=self.customer_id, kind=self.kind, due_at=self.due_at)

    def booking_request(self, vehicle_id, note: str, now: datetime):
        """An issue found that needs the car back: on the branch's list of customers to book until a
        booking for the vehicle is made (follow_up.booking_requested tells whoever listens)."""
        if self.outcome != "issue_found":
            raise RuleBroken("only a follow-up that found an issue asks for a booking",
                             outcome="issue_found needed")
        self.booking_requested_at = now
        self.record("follow_up.booking_requested", follow_up_id=self.follow_up_id,
                    repair_order_id=self.repair_order_id, customer_id=self.customer_id, vehicle_id=vehicle_id,
                    note=note)

    def booked(self, at: datetime) -> bool:
        """A booking for the vehicle, made after the request, answers it (once)."""
        if self.booking_requested_at is None or self.booked_at is not None or at < self.booking_requested_at:
            return False
        self.booked_at = at
        return True

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


# follow-up kinds: days after delivery the window opens (after_72h is counted in hours, above)
KINDS = {"after_72h": 0, "major_7d": 7, "major_30d": 30, "first_1m": 30, "first_3m": 91}
WINDOW_DAYS = 3  # a follow-up after a week or more is due 3 days after its window opens
# a repair over MAJOR_TOTAL_CENTS (lines' net total) is major, unless the branch sets its own, and so is one
# with a labour line over MAJOR_LABOUR_HOURS


def is_major(lines, threshold_cents: int | None = None, labour_hours: float | None = None) -> bool:
    """A major repair: the delivered lines' net total over the branch's threshold (default
    MAJOR_TOTAL_CENTS), or any labour line over `labour_hours` (default MAJOR_LABOUR_HOURS)."""
    threshold = MAJOR_TOTAL_CENTS if threshold_cents is None else threshold_cents
    hours = MAJOR_LABOUR_HOURS if labour_hours is None else labour_hours
    total = sum(int(line["net_cents"]) for line in lines)
    long_labour = any(line["kind"] == "labour" and float(line["quantity"]) > hours for line in lines)
    return total > threshold or long_labour


def follow_up_kinds(lines, first_time: bool, threshold_cents=None, labour_hours=None) -> list[str]:
    """The follow-ups a delivery calls for: after_72h for every one; major_7d and major_30d after a
    major repair; first_1m and first_3m for a first-time customer (no earlier delivery crm knows)."""
    kinds = ["after_72h"]
    if is_major(lines, threshold_cents, labour_hours):
        kinds += ["major_7d", "major_30d"]
    if first_time:
        kinds += ["first_1m", "first_3m"]
    return kinds


# -- complaints and surveys --------------------------------------------------------------------------
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
    def answer(cls, survey_id, delivery: dict | None, *, repair_order_id, score, comment="",
               threshold: int | None = None) -> "Survey":
        """The answer for a repair order crm saw delivered (`delivery`: its branch and customer);
        `threshold`: the branch's score at or under which a complaint opens (COMPLAINT_SCORE if none)."""
        if delivery is None:
            raise RuleBroken("no delivered repair order with that id", repair_order_id="not delivered, or unknown")
        if not 1 <= score <= 10:
            raise RuleBroken("a score is 1 to 10", score="1 to 10")
        survey = cls(survey_id=survey_id, repair_order_id=repair_order_id, branch_id=delivery["branch_id"],
                     customer_id=delivery["customer_id"], score=score, comment=comment)
        survey.threshold = COMPLAINT_SCORE if threshold is None else threshold
        survey.record("survey.answered", survey_id=survey_id, repair_order_id=repair_order_id,
                      customer_id=survey.customer_id, score=score)
        return survey

    threshold: int = field(default=COMPLAINT_SCORE, repr=False, compare=False)

    @property
    def opens_complaint(self) -> bool:
        return self.score <= self.threshold

    def complaint(self, complaint_id, at: datetime | None = None, **more) -> Complaint | None:
        """The complaint a low score opens, at level 1, where the repair order was delivered; None
        for a good score."""
        if not self.opens_complaint:
            return None
        return Complaint.open(complaint_id, branch_id=self.branch_id, customer_id=self.customer_id,
                              repair_order_id=self.repair_order_id, source="survey", category="other",
                              what_happened=f"survey score {self.score}/10: {self.comment}".strip(),
                              opened_at=at, **more)
