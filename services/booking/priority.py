"""Who goes first, no I/O: safety-critical work takes the first slot that fits, today if possible, and may
displace cosmetic work into another slot."""
from dataclasses import dataclass, replace
from datetime import datetime

from services.booking import capacity

SAFETY_CRITICAL, VIP, ROUTINE, COSMETIC = "safety_critical", "vip", "routine", "cosmetic"
DISPLACED = "displaced by safety-critical work"


@dataclass(frozen=True)
class Holder:
    """A booking holding a place (and hours) in a slot."""

    booking_id: object
    slot_start: datetime
    priority: str
    skill: str | None
    seconds: int | None


def without(room: capacity.SlotRoom, holder: Holder, skill: str) -> capacity.SlotRoom:
    """The slot's room once `holder` gives back its place and hours."""
    seconds = holder.seconds or 0
    return replace(room, booked=max(room.booked - 1, 0), booked_seconds=max(room.booked_seconds - seconds, 0),
                   skill_booked_seconds=max(room.skill_booked_seconds - (seconds if holder.skill == skill else 0), 0))


def displaceable(slot, room, holders, work: capacity.Work, now: datetime) -> Holder | None:
    """A cosmetic booking in the slot whose place and hours, given back, let the work in; only cosmetic
    work is ever moved, and only by safety-critical work (the caller asks only for that)."""
    for holder in holders:
        if holder.priority == COSMETIC and holder.slot_start == slot.start \
                and without(room, holder, work.skill).why_not(work, slot.start, now) is None:
            return holder
    return None


def emergency_slot(rooms, holders, work: capacity.Work, now: datetime, today_ends: datetime):
    """(slot, holder to displace or None) for safety-critical work: the first slot today that fits; else the
    first slot today where a cosmetic booking can make room; else the first slot that fits later; else
    (None, None). `rooms`: [(Slot, SlotRoom)] in time order; `holders`: today's cosmetic bookings, each of
    which can be moved (the caller found it an alternative)."""
    today = [(slot, room) for slot, room in rooms if now < slot.start < today_ends]
    for slot, room in today:
        if room.why_not(work, slot.start, now) is None:
            return slot, None
    for slot, room in today:
        holder = displaceable(slot, room, holders, work, now)
        if holder is not None:
            return slot, holder
    for slot, room in rooms:
        if slot.start >= today_ends and room.why_not(work, slot.start, now) is None:
            return slot, None
    return None, None
