"""Booking rules, no I/O: a branch's timetable of slots, what a slot takes, and the booking's life cycle."""
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from shared.domain import Aggregate, RuleBroken, StateConflict, StateMachine

PRIORITIES = ("safety_critical", "vip", "routine", "cosmetic")
WALK_IN = "walk_in"
CHANNELS = ("hotline", "app", "messaging", "web", WALK_IN)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

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


class SlotFull(StateConflict):
    def __init__(self):
        super().__init__("the slot is fully booked", slot_start="no capacity left in this slot")


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
    def request(cls, booking_id, request: dict, timetable: Timetable, now: datetime) -> "Booking":
        """A customer asks for the slot starting at request["slot_start"]: the booking holds it as `requested`."""
        slot = timetable.slot_at(request["slot_start"])
        slot.check_open_to(request["channel"], now)
        booking = cls(booking_id=booking_id, branch_id=request["branch_id"], customer_id=request["customer_id"],
                      vehicle_id=request["vehicle_id"], slot_start=slot.start, slot_end=slot.end,
                      service_type=request["service_type"], priority=request["priority"],
                      channel=request["channel"], symptoms=request["symptoms"], status="requested",
                      requested_at=now)
        booking.record("booking.created", booking_id=booking_id, customer_id=booking.customer_id,
                       vehicle_id=booking.vehicle_id, slot_start=slot.start, slot_end=slot.end,
                       service_type=booking.service_type, priority=booking.priority, channel=booking.channel,
                       requested_at=now)
        return booking

    def check_vehicle(self, vehicle: dict):
        """The vehicle named must be the booking customer's."""
        if str(vehicle["customer_id"]) != str(self.customer_id):
            raise RuleBroken("the vehicle belongs to another customer", vehicle_id="not this customer's vehicle")

    def confirm(self, now: datetime):
        self._become("confirmed")
        self.confirmed_at = now
        self.record("booking.confirmed", booking_id=self.booking_id, slot_start=self.slot_start)

    def reschedule(self, timetable: Timetable, slot_start: datetime, now: datetime, note: str = "") -> datetime:
        """Move the booking to the slot starting at `slot_start`; returns the start of the slot it gave up."""
        if self.status not in HOLDS_SLOT:
            raise StateConflict(f"a {self.status} booking cannot be moved", status=f"is {self.status}")
        slot = timetable.slot_at(slot_start)
        if slot.start == self.slot_start:
            raise RuleBroken("the booking is already in that slot", slot_start="is the current slot")
        slot.check_open_to(self.channel, now)
        previous = self.slot_start
        self.slot_start, self.slot_end = slot.start, slot.end
        self.history.append(HistoryLine(self.status, self.status, slot.start, note or "rescheduled"))
        self.record("booking.rescheduled", booking_id=self.booking_id, previous_slot_start=previous,
                    slot_start=slot.start)
        return previous

    def cancel(self, reason: str, now: datetime) -> datetime:
        """Cancel the booking; returns the start of the slot it frees."""
        self._become("cancelled", reason)
        self.cancelled_at = now
        self.record("booking.cancelled", booking_id=self.booking_id, reason=reason)
        return self.slot_start

    def check_in(self, odometer_km: int, fault_description: str, advisor: str, plate: str, now: datetime):
        """The car arrived and was received. From `requested` too: receiving a walk-in answers its request."""
        self._become("checked_in")
        self.checked_in_at = now
        self.odometer_km, self.fault_description, self.advisor = odometer_km, fault_description, advisor
        self.record("booking.checked_in", booking_id=self.booking_id, customer_id=self.customer_id,
                    vehicle_id=self.vehicle_id, priority=self.priority, service_type=self.service_type,
                    checked_in_at=now, plate=plate, odometer_km=odometer_km,
                    fault_description=fault_description, advisor=advisor)

    def no_show(self, now: datetime, after: timedelta = NO_SHOW_AFTER) -> datetime:
        """A confirmed customer more than `after` late without word; returns the start of the slot it frees."""
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
