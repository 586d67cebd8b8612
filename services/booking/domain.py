"""Booking rules, no I/O: a branch's timetable of slots, what a slot takes, and the booking's life cycle."""
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from services.booking import waiting
from shared.contracts.api.booking import CHANNELS, PRIORITIES, WALK_IN, WEEKDAYS  # noqa: F401  (the API's words)
from shared.domain import Aggregate, RuleBroken, StateConflict, StateMachine

LIFE_CYCLE = StateMachine("booking", {
    # a walk-in may be checked in straight from `requested`: receiving the car answers the request
    "requested": {"confirmed", "cancelled", "checked_in"},
    "confirmed": {"checked_in", "cancelled", "no_show"},
    "checked_in": set(),
    "cancelled": set(),
    "no_show": set(),
})
HOLDS_SLOT = frozenset({"requested", "confirmed"})
NO_SHOW_AFTER = timedelta(minutes=30)  # domain.md s1: more than 30 minutes late without word
REMIND_BEFORE = timedelta(days=1)  # domain.md s1: a reminder goes out a day before the visit


class SlotFull(StateConflict):
    """A full slot is refused with the next slots that fit the same work (capacity.alternatives), so the
    caller can offer them at once."""

    def __init__(self, alternatives=()):
        super().__init__("the slot is fully booked", slot_start="no capacity left in this slot",
                         alternatives=[{"slot_start": s.start.isoformat(), "slot_end": s.end.isoformat()}
                                       for s in alternatives])


# -- slots ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime

    def open_to(self, channel: str, now: datetime) -> bool:
        """A slot can be booked until it starts; a walk-in may take the slot running now, until it ends."""
        return now < (self.end if channel == WALK_IN else self.start)

    def check_open_to(self, channel: str, now: datetime):
        if not self.open_to(channel, now):
            raise RuleBroken(
                "that slot is over" if now >= self.end else "that slot has already started",
                slot_start="is in the past: a slot can be booked until it starts, a walk-in until it ends",
            )

    def available(self, capacity: int, booked: int, now: datetime) -> int:
        """Places left for appointments: none once the slot has started (a walk-in may still take
        the running slot while booked < capacity)."""
        return 0 if now >= self.start else max(capacity - booked, 0)


def slot_capacity(bays: int, override: int | None) -> int:
    """How many bookings a slot takes: one per bay, unless the branch set the slot's maximum.

    store.take_slot applies the same rule inside the statement that takes a place, atomically.
    """
    return override if override is not None else bays


@dataclass(frozen=True)
class Timetable:
    """A branch's working days cut into slots, in its own time zone."""

    business_hours: dict
    holidays: frozenset
    tz: ZoneInfo
    slot_minutes: int

    @classmethod
    def of(cls, branch: dict) -> "Timetable":
        return cls(branch["business_hours"], frozenset(str(h) for h in branch["holidays"]),
                   ZoneInfo(branch["timezone"]), branch["slot_minutes"])

    def opening_hours(self, day: date) -> list[tuple[time, time]]:
        if day.isoformat() in self.holidays:
            return []
        spans = self.business_hours.get(WEEKDAYS[day.weekday()], [])
        return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans]

    def slots_on(self, day: date) -> list[Slot]:
        """The day's slots in the branch's local hours, as UTC instants. A holiday has none, and no
        slot starts at a local time that the change to summer time skips."""
        step = timedelta(minutes=self.slot_minutes)
        slots = []
        for opens, closes in self.opening_hours(day):
            start = datetime.combine(day, opens, self.tz)
            end_of_span = datetime.combine(day, closes, self.tz)
            while start + step <= end_of_span:
                utc = start.astimezone(timezone.utc)
                if utc.astimezone(self.tz).replace(tzinfo=None) == start.replace(tzinfo=None):  # not in a DST gap
                    slots.append(Slot(utc, (start + step).astimezone(timezone.utc)))
                start += step
        return slots

    def slot_at(self, slot_start: datetime) -> Slot:
        """The slot that begins exactly at `slot_start`, or RuleBroken saying why there is none.

        The same slot slots_on lists, found without listing the day: every booking asks.
        """
        local = slot_start.astimezone(self.tz)
        day, wall = local.date(), local.replace(tzinfo=None, fold=0)
        step = timedelta(minutes=self.slot_minutes)
        for opens, closes in self.opening_hours(day):
            into_span = wall - datetime.combine(day, opens)
            if into_span >= timedelta(0) and into_span % step == timedelta(0) \
                    and wall + step <= datetime.combine(day, closes):
                start = datetime.combine(day, wall.time(), self.tz)  # as slots_on makes it (fold 0)
                utc = start.astimezone(timezone.utc)  # not `start == local`: that ignores the fold
                if utc == slot_start.astimezone(timezone.utc):
                    return Slot(utc, (start + step).astimezone(timezone.utc))
        raise RuleBroken("no slot starts at that time",
                         slot_start="must be the start of a slot within the branch's business hours")


# -- the booking ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryLine:
    """A line of the booking's history: a status change or a move to another slot."""

    from_status: str | None
    to_status: str
    slot_start: datetime
    note: str = ""


@dataclass
class Booking(Aggregate):
    booking_id: object
    branch_id: str
    customer_id: object
    vehicle_id: object
    slot_start: datetime
    slot_end: datetime
    service_type: str
    priority: str
    channel: str
    symptoms: str
    status: str
    requested_at: datetime
    confirmed_at: datetime | None = None
    checked_in_at: datetime | None = None
    cancelled_at: datetime | None = None
    advisor: str | None = None
    odometer_km: int | None = None
    fault_description: str | None = None
    skill: str | None = None  # the work the booking takes from its slot (capacity.Work); None: booked before
    labour_seconds: int | None = None
    arrived_at: datetime | None = None
    fuel_level_pct: int | None = None
    charge_level_pct: int | None = None
    damage: list = field(default_factory=list)  # [{note, photo_ref}] recorded at check-in
    belongings: list = field(default_factory=list)
    reschedule_requested_at: datetime | None = None  # the customer asked to move; open until offered
    reschedule_offered_at: datetime | None = None
    reschedule_offer: list = field(default_factory=list)  # [{slot_start, slot_end, part_of_day}] offered
    reminder_sent_at: datetime | None = None  # the reminder went out: never twice, whatever restarts
    apologies_sent: int = 0  # to a customer kept waiting after arrival
    extras: list = field(default_factory=list)  # loaner_car, pickup, delivery (extras.py), taken with the slot
    # history lines the commands added, for the store to write (the first, "requested", is written
    # with the booking itself)
    history: list = field(default_factory=list, kw_only=True, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: dict) -> "Booking":
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name not in _NOT_STORED})

    def row(self) -> dict:
        """The stored columns."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_STORED}

    # -- commands ---------------------------------------------------------------------------------
    @classmethod
    def request(cls, booking_id, request: dict, timetable: Timetable, now: datetime, work=None) -> "Booking":
        """A customer asks for the slot starting at request["slot_start"]: the booking holds it as `requested`,
        with the skill and labour its service type needs (capacity.Work) taken from the slot."""
        if request.get("slot_start") is None:
            raise RuleBroken("no slot asked for", slot_start="required unless the priority is safety_critical"
                                                             " (which takes the first slot that fits)")
        slot = timetable.slot_at(request["slot_start"])
        slot.check_open_to(request["channel"], now)
        booking = cls(booking_id=booking_id, branch_id=request["branch_id"], customer_id=request["customer_id"],
                      vehicle_id=request["vehicle_id"], slot_start=slot.start, slot_end=slot.end,
                      service_type=request["service_type"], priority=request["priority"],
                      channel=request["channel"], symptoms=request["symptoms"], status="requested",
                      requested_at=now, skill=work.skill if work else None,
                      labour_seconds=work.seconds if work else None, extras=list(request.get("extras") or []))
        booking.record("booking.created", booking_id=booking_id, customer_id=booking.customer_id,
                       vehicle_id=booking.vehicle_id, slot_start=slot.start, slot_end=slot.end,
                       service_type=booking.service_type, priority=booking.priority, channel=booking.channel,
                       requested_at=now, extras=booking.extras)
        return booking

    @classmethod
    def from_walk_in(cls, booking_id, walk_in, now: datetime) -> "Booking":
        """A walk-in received from the queue: its booking starts now and holds no slot (a walk-in is served
        as the workshop frees up); the caller checks it in at once."""
        booking = cls(booking_id=booking_id, branch_id=walk_in.branch_id, customer_id=walk_in.customer_id,
                      vehicle_id=walk_in.vehicle_id, slot_start=now,
                      slot_end=now + timedelta(seconds=walk_in.labour_seconds), service_type=walk_in.service_type,
                      priority=walk_in.priority, channel=WALK_IN, symptoms=walk_in.symptoms, status="requested",
                      requested_at=walk_in.arrived_at, skill=walk_in.skill, labour_seconds=walk_in.labour_seconds)
        booking.record("booking.created", booking_id=booking_id, customer_id=booking.customer_id,
                       vehicle_id=booking.vehicle_id, slot_start=booking.slot_start, slot_end=booking.slot_end,
                       service_type=booking.service_type, priority=booking.priority, channel=WALK_IN,
                       requested_at=booking.requested_at)
        return booking

    @property
    def slot_seconds(self) -> int:
        """The technician seconds the booking holds in its slot: its labour, at most the slot's length
        (capacity.Work.seconds_in); None labour (booked before labour was counted) holds none."""
        return min(self.labour_seconds or 0, int((self.slot_end - self.slot_start).total_seconds()))

    def check_vehicle(self, vehicle: dict):
        """The vehicle named must be the booking customer's."""
        if str(vehicle["customer_id"]) != str(self.customer_id):
            raise RuleBroken("the vehicle belongs to another customer", vehicle_id="not this customer's vehicle")

    def confirm(self, now: datetime):
        self._become("confirmed")
        self.confirmed_at = now
        self.record("booking.confirmed", booking_id=self.booking_id, slot_start=self.slot_start)

    def reschedule(self, timetable: Timetable, slot_start: datetime, now: datetime, note: str = "",
                   reason: str | None = None) -> datetime:
        """Move the booking to the slot starting at `slot_start`; returns the start of the slot it gave up.
        A move the branch made (not the customer's wish) says why in the event's `reason`."""
        if self.status not in HOLDS_SLOT:
            raise StateConflict(f"a {self.status} booking cannot be moved", status=f"is {self.status}")
        slot = timetable.slot_at(slot_start)
        if slot.start == self.slot_start:
            raise RuleBroken("the booking is already in that slot", slot_start="is the current slot")
        slot.check_open_to(self.channel, now)
        previous = self.slot_start
        self.slot_start, self.slot_end = slot.start, slot.end
        self.history.append(HistoryLine(self.status, self.status, slot.start, note or "rescheduled"))
        why = {} if reason is None else {"reason": reason}
        self.record("booking.rescheduled", booking_id=self.booking_id, previous_slot_start=previous,
                    slot_start=slot.start, **why)
        return previous

    def displace(self, timetable: Timetable, slot_start: datetime, alternatives, by, reason: str,
                 now: datetime) -> datetime:
        """Cosmetic work moved out of its slot for safety-critical work: to `slot_start`, the first of the
        `alternatives` it was offered; the customer is told with the others. Returns the slot given up."""
        if self.priority != "cosmetic":
            raise StateConflict("only cosmetic work is displaced", priority=f"is {self.priority}")
        previous = self.reschedule(timetable, slot_start, now, reason, reason=reason)
        self.record("booking.displaced", booking_id=self.booking_id, previous_slot_start=previous,
                    slot_start=self.slot_start, reason=reason, displaced_by=by,
                    alternatives=[{"slot_start": s.start.isoformat(), "slot_end": s.end.isoformat()}
                                  for s in alternatives])
        return previous

    def ask_to_reschedule(self, note: str, now: datetime):
        """The customer asks to move: the branch owes an offer of alternatives (the reschedule_offer clock)."""
        if self.status not in HOLDS_SLOT:
            raise StateConflict(f"a {self.status} booking cannot be moved", status=f"is {self.status}")
        if self.reschedule_requested_at is not None and self.reschedule_offered_at is None:
            raise StateConflict("a reschedule request is already open",
                                reschedule_requested_at="already asked; the branch owes its offer")
        self.reschedule_requested_at, self.reschedule_offered_at, self.reschedule_offer = now, None, []
        self.history.append(HistoryLine(self.status, self.status, self.slot_start, note or "asked to reschedule"))
        self.record("booking.reschedule_requested", booking_id=self.booking_id, slot_start=self.slot_start,
                    note=note, requested_at=now)

    def offer_alternatives(self, alternatives: list[dict], now: datetime):
        """The branch offers 2 to 3 slots (morning / midday / evening) for the customer to pick one."""
        if self.reschedule_requested_at is None or self.reschedule_offered_at is not None:
            raise StateConflict("no reschedule request is open", reschedule_requested_at="the customer has not asked")
        if not 2 <= len(alternatives) <= 3:
            raise StateConflict("fewer than two alternatives fit", alternatives=f"{len(alternatives)} found; 2 to 3"
                                " are offered, call the customer")
        if any(a["slot_start"] == self.slot_start for a in alternatives):
            raise RuleBroken("an alternative is the booking's own slot", alternatives="must be other slots")
        offer = [{**a, "slot_start": a["slot_start"].isoformat(), "slot_end": a["slot_end"].isoformat()}
                 for a in alternatives]
        self.reschedule_offered_at, self.reschedule_offer = now, offer
        self.history.append(HistoryLine(self.status, self.status, self.slot_start,
                                        "offered " + ", ".join(a["slot_start"] for a in offer)))
        self.record("booking.reschedule_offered", booking_id=self.booking_id, alternatives=offer, offered_at=now)

    def cancel(self, reason: str, now: datetime) -> datetime:
        """Cancel the booking; returns the start of the slot it frees."""
        self._become("cancelled", reason)
        self.cancelled_at = now
        self.record("booking.cancelled", booking_id=self.booking_id, reason=reason)
        return self.slot_start

    def arrive(self, now: datetime):
        """The customer is at the desk with the car: the reception clock runs until check-in. Once."""
        if self.status not in HOLDS_SLOT:
            raise StateConflict(f"a {self.status} booking cannot arrive", status=f"is {self.status}")
        if self.arrived_at is not None:
            raise StateConflict("the car has already arrived", arrived_at=f"arrived at {self.arrived_at.isoformat()}")
        self.arrived_at = now
        self.history.append(HistoryLine(self.status, self.status, self.slot_start, "arrived"))
        self.record("booking.arrived", booking_id=self.booking_id, customer_id=self.customer_id,
                    vehicle_id=self.vehicle_id, slot_start=self.slot_start, arrived_at=now)

    def check_in(self, odometer_km: int, fault_description: str, advisor: str, plate: str, now: datetime,
                 fuel_level_pct: int | None = None, charge_level_pct: int | None = None, damage=(), belongings=()):
        """The car arrived and was received. From `requested` too: receiving a walk-in answers its request.
        The advisor who checks in owns the case; the record (fuel or charge, damage with photo references,
        belongings) travels to the repair order with the work the service type needs."""
        self._become("checked_in")
        self.checked_in_at = now
        self.odometer_km, self.fault_description, self.advisor = odometer_km, fault_description, advisor
        self.fuel_level_pct, self.charge_level_pct = fuel_level_pct, charge_level_pct
        self.damage, self.belongings = list(damage), list(belongings)
        self.record("booking.checked_in", booking_id=self.booking_id, customer_id=self.customer_id,
                    vehicle_id=self.vehicle_id, priority=self.priority, service_type=self.service_type,
                    checked_in_at=now, plate=plate, odometer_km=odometer_km,
                    fault_description=fault_description, advisor=advisor, fuel_level_pct=fuel_level_pct,
                    charge_level_pct=charge_level_pct, damage=self.damage, belongings=self.belongings,
                    skill=self.skill, estimated_hours=None if self.labour_seconds is None
                    else round(self.labour_seconds / 3600, 2))

    def reminder_due(self, now: datetime, before: timedelta = REMIND_BEFORE) -> bool:
        return (self.status in HOLDS_SLOT and self.reminder_sent_at is None
                and self.slot_start - before <= now < self.slot_start)

    def remind(self, now: datetime, before: timedelta = REMIND_BEFORE):
        """Once per booking, when its slot is less than `before` away (at once for one booked later than that)."""
        if not self.reminder_due(now, before):
            raise StateConflict("no reminder is due", reminder_sent_at="sent already, not yet due, or the booking"
                                                                       " no longer holds its slot")
        self.reminder_sent_at = now
        self.record("booking.reminder_due", booking_id=self.booking_id, customer_id=self.customer_id,
                    vehicle_id=self.vehicle_id, slot_start=self.slot_start, slot_end=self.slot_end,
                    service_type=self.service_type)

    def apologise_for_the_wait(self, now: datetime):
        """A customer who arrived and is not yet received is owed an apology with the reason 15 minutes past
        the promised time (the slot's start, or the arrival if later), then every 30 minutes."""
        if self.arrived_at is None or self.status not in HOLDS_SLOT:
            raise StateConflict("nobody is waiting", arrived_at="the customer has not arrived, or was received")
        facts = waiting.apology({"booking_id": self.booking_id, "customer_id": self.customer_id},
                                max(self.slot_start, self.arrived_at), self.apologies_sent, waiting.BOOKED_LATE, now)
        if facts is None:
            raise StateConflict("no apology is due yet", apologies_sent="the next is not due yet")
        self.apologies_sent += 1
        self.record("booking.waiting_apology", **facts)

    def no_show(self, now: datetime, after: timedelta = NO_SHOW_AFTER) -> datetime:
        """A confirmed customer more than `after` late without word; returns the start of the slot it frees.
        A customer who arrived is being received, not a no-show."""
        if self.arrived_at is not None:
            raise StateConflict("the customer arrived", arrived_at=f"arrived at {self.arrived_at.isoformat()}")
        if LIFE_CYCLE.can(self.status, "no_show") and now <= self.slot_start + after:
            minutes = int(after.total_seconds() // 60)
            raise RuleBroken(f"the customer is not yet {minutes} minutes late",
                             slot_start=f"a no-show is more than {minutes} minutes after the slot starts")
        self._become("no_show")
        self.record("booking.no_show", booking_id=self.booking_id, slot_start=self.slot_start)
        return self.slot_start

    def _become(self, target: str, note: str = ""):
        previous = self.status
        self.status = LIFE_CYCLE.check(previous, target)
        self.history.append(HistoryLine(previous, target, self.slot_start, note))


_NOT_STORED = ("events", "history")
