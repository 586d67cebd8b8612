"""What a slot can take beyond its bays, no I/O: the work a service type needs, technicians on shift, and
why a slot is or is not free for that work."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from shared.contracts.api.booking import MAX_KIT_LINES, SKILLS
from shared.domain import RuleBroken

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


# The parts a service type usually takes, picked the evening before: before a car is diagnosed only its service
# type is known, so the kit is a standard one (part numbers of the parts catalogue). A type without an entry
# has no kit; a branch may give its own type a kit (catalogue_entry). Stock is parts' business, not checked here.
KITS = {
    "annual_service": (("FLT-OIL-01", 1), ("FLT-AIR-01", 1), ("FLT-CAB-01", 1)),
    "service": (("FLT-OIL-01", 1), ("FLT-AIR-01", 1), ("FLT-CAB-01", 1)),
    "oil_change": (("FLT-OIL-01", 1),),
    "brakes": (("BRK-PAD-F01", 1),),
    "clutch": (("CLT-KIT-01", 1),),
    "timing_belt": (("BLT-TMG-KIT", 1),),
    "air_conditioning": (("CLN-AC-01", 1),),
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
    kits: dict = field(default_factory=dict)  # key -> [{part_number, quantity}]

    @classmethod
    def of(cls, overrides=()) -> "Catalogue":
        """`overrides`: the branch's own entries; one whose `parts` is None (not given) keeps the shipped kit."""
        entries = {key: (skill, int(hours * 3600)) for key, (skill, hours) in CATALOGUE.items()}
        kits = {key: [{"part_number": p, "quantity": q} for p, q in lines] for key, lines in KITS.items()}
        for o in overrides:
            entries[service_key(o["service_type"])] = (o["skill"], o["labour_seconds"])
            if o.get("parts") is not None:
                kits[service_key(o["service_type"])] = list(o["parts"])
        return cls(entries, kits)

    def kit_for(self, service_type: str) -> list[dict]:
        """The parts to pick for a car booked for this type: its kit, [] when the type has none (an unknown
        type too). Copies, so a caller cannot change the catalogue."""
        return [dict(line) for line in self.kits.get(service_key(service_type), ())]

    def work_for(self, service_type: str) -> Work:
        """An unknown service type stays bookable as general work with the default estimate, so clients
        that name their own types keep working."""
        found = self.entries.get(service_key(service_type))
        if found is None:
            return Work(service_type, GENERAL, int(DEFAULT_ESTIMATE_HOURS * 3600), False)
        return Work(service_type, found[0], found[1], True)


def catalogue_entry(service_type: str, skill: str, hours: float, parts: list | None = None) -> dict:
    """A branch's own entry, checked: a known skill, a positive estimate of at most a working week and, when
    given, its kit (`parts`; None keeps the shipped kit of that type, [] says the type takes none)."""
    if skill not in SKILLS:
        raise RuleBroken("unknown skill", skill=f"must be one of {', '.join(SKILLS)}")
    if not 0 < hours <= 40:
        raise RuleBroken("the estimate is out of range", labour_hours="must be more than 0 and at most 40")
    return {"service_type": service_key(service_type), "skill": skill, "labour_seconds": round(hours * 3600),
            "parts": None if parts is None else kit(parts)}


def kit(parts: list) -> list[dict]:
    """A service type's kit, checked: at most MAX_KIT_LINES lines, each part once, each a positive whole
    number of pieces. `parts`: [{part_number, quantity}]."""
    if len(parts) > MAX_KIT_LINES:
        raise RuleBroken("too many parts in the kit", parts=f"at most {MAX_KIT_LINES} lines")
    seen = set()
    for line in parts:
        quantity = line["quantity"]
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise RuleBroken("a kit takes whole parts",
                             parts=f"{line['part_number']}: quantity must be a positive whole number")
        if line["part_number"] in seen:
            raise RuleBroken("a part twice in the kit", parts=f"{line['part_number']}: name each part once")
        seen.add(line["part_number"])
    return [{"part_number": line["part_number"], "quantity": line["quantity"]} for line in parts]


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
