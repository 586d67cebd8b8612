"""Booking rules, no I/O: the booking life cycle, slots cut from business hours, capacity."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from shared import errors

PRIORITIES = ("safety_critical", "vip", "routine", "cosmetic")
CHANNELS = ("hotline", "app", "messaging", "web", "walk_in")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# status -> the statuses a booking may move to from there
TRANSITIONS = {
    "requested": {"confirmed", "cancelled", "checked_in"},
    "confirmed": {"checked_in", "cancelled", "no_show"},
    "checked_in": set(),
    "cancelled": set(),
    "no_show": set(),
}
HOLDS_SLOT = {"requested", "confirmed"}


def transition(current: str, target: str) -> str:
    if target not in TRANSITIONS.get(current, set()):
        raise errors.Conflict(
            f"a {current} booking cannot become {target}",
            {"status": [f"is {current}; allowed next: {sorted(TRANSITIONS.get(current, ())) or 'none'}"]},
        )
    return target


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime


def opening_hours(business_hours: dict, day: date) -> list[tuple[time, time]]:
    spans = business_hours.get(WEEKDAYS[day.weekday()], [])
    return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans]


def slots_for_day(day: date, business_hours: dict, holidays, tz: ZoneInfo, slot_minutes: int) -> list[Slot]:
    """The day's slots in the branch's local hours, as UTC instants. A holiday has none, and no
    slot starts at a local time that the change to summer time skips."""
    if day.isoformat() in {str(h) for h in holidays}:
        return []
    step = timedelta(minutes=slot_minutes)
    slots = []
    for opens, closes in opening_hours(business_hours, day):
        start = datetime.combine(day, opens, tz)
        end_of_span = datetime.combine(day, closes, tz)
        while start + step <= end_of_span:
            utc = start.astimezone(timezone.utc)
            if utc.astimezone(tz).replace(tzinfo=None) == start.replace(tzinfo=None):  # not in a DST gap
                slots.append(Slot(utc, (start + step).astimezone(timezone.utc)))
            start += step
    return slots


def find_slot(slot_start: datetime, business_hours: dict, holidays, tz: ZoneInfo, slot_minutes: int) -> Slot:
    """The slot that begins exactly at `slot_start`, or a field error saying why there is none.

    The same slot slots_for_day lists, found without listing the day: every booking asks.
    """
    local = slot_start.astimezone(tz)
    day, wall = local.date(), local.replace(tzinfo=None, fold=0)
    step = timedelta(minutes=slot_minutes)
    if day.isoformat() not in {str(h) for h in holidays}:
        for opens, closes in opening_hours(business_hours, day):
            into_span = wall - datetime.combine(day, opens)
            if into_span >= timedelta(0) and into_span % step == timedelta(0) \
                    and wall + step <= datetime.combine(day, closes):
                start = datetime.combine(day, wall.time(), tz)  # as slots_for_day makes it (fold 0)
                utc = start.astimezone(timezone.utc)  # not `start == local`: that ignores the fold
                if utc == slot_start.astimezone(timezone.utc):
                    return Slot(utc, (start + step).astimezone(timezone.utc))
    raise errors.Unprocessable(
        "no slot starts at that time",
        {"slot_start": ["must be the start of a slot within the branch's business hours"]},
    )


def slot_capacity(bays: int, override: int | None) -> int:
    """How many bookings a slot takes: one per bay, unless the branch set the slot's maximum."""
    return override if override is not None else bays
