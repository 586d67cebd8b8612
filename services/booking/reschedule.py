"""Alternatives for a customer who asked to move, no I/O: one slot each in the morning, at midday and in the
evening, the earliest that fit the booking's work."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

from services.booking import capacity

# parts of the day by the slot's local start: before 11:00, 11:00 to 14:00, from 14:00
PARTS_OF_DAY = (("morning", time(0), time(11)), ("midday", time(11), time(14)), ("evening", time(14), time(23, 59)))
FEWEST, MOST = 2, 3


def part_of_day(slot_start: datetime, tz: ZoneInfo) -> str:
    local = slot_start.astimezone(tz).time()
    return next(name for name, start, end in PARTS_OF_DAY if start <= local < end or name == "evening")


def alternatives(rooms, work: capacity.Work, tz: ZoneInfo, current: datetime, now: datetime) -> list[dict]:
    """The earliest slot that fits in each part of the day (not the booking's own), in time order:
    [{slot_start, slot_end, part_of_day}], at most three. `rooms`: [(Slot, SlotRoom)] in time order."""
    chosen = {}
    for slot, room in rooms:
        part = part_of_day(slot.start, tz)
        if part not in chosen and slot.start != current and room.why_not(work, slot.start, now) is None:
            chosen[part] = {"slot_start": slot.start, "slot_end": slot.end, "part_of_day": part}
    return sorted(chosen.values(), key=lambda a: a["slot_start"])[:MOST]
