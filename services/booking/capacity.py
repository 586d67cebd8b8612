"""What a slot can take beyond its bays, no I/O: the work a service type needs, technicians on shift, and
why a slot is or is not free for that work."""
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from shared.domain import RuleBroken

SKILLS = ("general", "diagnostics", "ev_high_voltage", "body")
GENERAL = "general"
DEFAULT_ESTIMATE_HOURS = 1.0  # a service type the catalogue does not know: general work of one hour

# The shipped catalogue: service type -> (skill, estimated labour hours). A branch may override an entry
# (store.branch_service_types). Names are compared in their key form (service_key).
CATALOGUE = {
    "annual_service": ("general", 2.0),
    "service": ("general", 2.0),
    "oil_change": ("general", 1.0),
    "inspection": ("general", 1.0),
    "brakes": ("general", 1.5),
    "tyres": ("general", 1.0),
    "suspension": ("general", 2.0),
    "clutch": ("general", 4.0),
    "timing_belt": ("general", 3.0),
    "air_conditioning": ("general", 1.5),
    "glass": ("body", 2.0),
    "diagnostics": ("diagnostics", 1.0),
    "diagnosis": ("diagnostics", 1.0),
    "electrical": ("diagnostics", 2.0),
    "ev_battery": ("ev_high_voltage", 1.5),
    "ev_service": ("ev_high_voltage", 2.0),
    "body_repair": ("body", 3.0),
    "paint": ("body", 3.0),
}


def service_key(service_type: str) -> str:
    """"Annual service", "annual-service" and "annual_service" name the same entry."""
    return re.sub(r"[^a-z0-9]+", "_", service_type.strip().lower()).strip("_")


@dataclass(frozen=True)
class Work:
    """What a booking needs from the slot: a skill for so many labour seconds."""

    service_type: str
    skill: str
    seconds: int
    catalogued: bool

    @property
    def hours(self) -> float:
        return round(self.seconds / 3600, 2)

    def seconds_in(self, slot_seconds: int | None) -> int:
        """What the work takes from the slot it arrives in: one technician works on a car, so at most the
        slot's length; a longer job runs on past its slot, and that rest is not counted against later slots."""
        return self.seconds if slot_seconds is None else min(self.seconds, slot_seconds)


@dataclass(frozen=True)
class Catalogue:
    """The branch's service types: the shipped defaults with the branch's own entries over them."""

    entries: dict  # key -> (skill, seconds)

    @classmethod
    def of(cls, overrides=()) -> "Catalogue":
        entries = {key: (skill, int(hours * 3600)) for key, (skill, hours) in CATALOGUE.items()}
        entries.update({service_key(o["service_type"]): (o["skill"], o["labour_seconds"]) for o in overrides})
        return cls(entries)

    def work_for(self, service_type: str) -> Work:
        """An unknown service type stays bookable as general work with the default estimate, so clients
        that name their own types keep working."""
        found = self.entries.get(service_key(service_type))
        if found is None:
            return Work(service_type, GENERAL, int(DEFAULT_ESTIMATE_HOURS * 3600), False)
        return Work(service_type, found[0], found[1], True)


def catalogue_entry(service_type: str, skill: str, hours: float) -> dict:
    """A branch's own entry, checked: a known skill and a positive estimate of at most a working week."""
    if skill not in SKILLS:
        raise RuleBroken("unknown skill", skill=f"must be one of {', '.join(SKILLS)}")
    if not 0 < hours <= 40:
        raise RuleBroken("the estimate is out of range", labour_hours="must be more than 0 and at most 40")
    return {"service_type": service_key(service_type), "skill": skill, "labour_seconds": round(hours * 3600)}


# -- technicians on shift ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shift:
    """A technician's working hours on one day, in the branch's local time."""

    technician_id: str
    day: date
    start: time
    end: time

    def instants(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants the shift covers; a shift ends after it starts, on the same day."""
        if self.end <= self.start:
            raise RuleBroken("a shift ends before it starts",
                             shifts=f"{self.day}: {self.start:%H:%M}-{self.end:%H:%M} ends before it starts")
        return (datetime.combine(self.day, self.start, tz).astimezone(ZoneInfo("UTC")),
                datetime.combine(self.day, self.end, tz).astimezone(ZoneInfo("UTC")))


def plan_shifts(technician_id: str, skills: list, shifts: list, tz: ZoneInfo) -> list[dict]:
    """The rows of a technician's shifts: one per day, skills known. `shifts`: [{date, start, end}]."""
    unknown = sorted(set(skills) - set(SKILLS))
    if unknown or not skills:
        raise RuleBroken("unknown skill", skills=f"each must be one of {', '.join(SKILLS)}")
    days = [s["date"] for s in shifts]
    if len(days) != len(set(days)):
        raise RuleBroken("two shifts on one day", shifts="one shift per technician per day")
    rows = []
    for s in shifts:
        shift = Shift(technician_id, s["date"], time.fromisoformat(s["start"]), time.fromisoformat(s["end"]))
        starts_at, ends_at = shift.instants(tz)
        rows.append({"day": shift.day, "start_local": s["start"], "end_local": s["end"],
                     "starts_at": starts_at, "ends_at": ends_at})
    return rows


def seconds_on_shift(shifts, start: datetime, end: datetime, skill: str | None = None) -> int:
    """Technician seconds on shift between `start` and `end`, of those with `skill` (all when None).
    `shifts`: [{starts_at, ends_at, skills}]. store.taking_slot counts the same in SQL."""
    total = 0
    for s in shifts:
        if skill is None or skill in s["skills"]:
            overlap = (min(s["ends_at"], end) - max(s["starts_at"], start)).total_seconds()
            total += max(int(overlap), 0)
    return total


# -- is the slot free for this work ----------------------------------------------------------------------
NO_BAY, OVER, NO_HOURS = "no bay", "over", "no technician hours"


@dataclass(frozen=True)
class SlotRoom:
    """A slot's room for one more booking: bays (capacity and bookings), and, at a branch with shifts,
    the technician seconds on shift (all, and of the work's skill) less those already booked.

    A booking's hours count against the slot it arrives in. A branch with no shifts recorded counts bays
    only. store.taking_slot applies the same rule atomically when a booking takes the slot.
    """

    capacity: int
    booked: int
    staffed: bool = False
    shift_seconds: int = 0
    booked_seconds: int = 0
    skill_seconds: int = 0
    skill_booked_seconds: int = 0
    slot_seconds: int | None = None  # the slot's length: no booking takes more of it (Work.seconds_in)

    @property
    def free_bays(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def free_skill_seconds(self) -> int | None:
        if not self.staffed:
            return None
        return max(min(self.skill_seconds - self.skill_booked_seconds, self.shift_seconds - self.booked_seconds), 0)

    def why_not(self, work: Work, slot_start: datetime, now: datetime) -> str | None:
        """None when the slot can take the work; else the first reason it cannot."""
        if now >= slot_start:
            return OVER
        if self.free_bays < 1:
            return NO_BAY
        if self.staffed:
            need = work.seconds_in(self.slot_seconds)
            if self.skill_booked_seconds + need > self.skill_seconds:
                return f"no {work.skill} hours"
            if self.booked_seconds + need > self.shift_seconds:
                return NO_HOURS
        return None


ALTERNATIVES = 3  # a full slot answers with the next slots that fit the same work
ALTERNATIVES_WITHIN_DAYS = 14


def alternatives(rooms, work: Work, after: datetime, now: datetime, n: int = ALTERNATIVES) -> list:
    """The first `n` slots starting after `after` that can take the work now. `rooms`: [(Slot, SlotRoom)]
    in time order."""
    return [slot for slot, room in rooms if slot.start > after and room.why_not(work, slot.start, now) is None][:n]
