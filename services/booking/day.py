"""A branch's day as the workshop supervisor sees it, no I/O: the arrivals booked, what they need, and the
skilled hours on shift to do it."""
from datetime import datetime

from services.booking import capacity

COUNTED = ("requested", "confirmed", "checked_in")  # holding or having used their place; not cancelled, no-show


def skills_needed(arrivals: list[dict], shifts: list[dict], start: datetime, end: datetime) -> list[dict]:
    """Per skill: the labour hours the day's arrivals need and the technician hours on shift with it."""
    out = []
    for skill in capacity.SKILLS:
        needed = sum(a["labour_seconds"] or 0 for a in arrivals if a["skill"] == skill and a["status"] in COUNTED)
        on_shift = capacity.seconds_on_shift(shifts, start, end, skill)
        out.append({"skill": skill, "hours_needed": round(needed / 3600, 2),
                    "hours_on_shift": round(on_shift / 3600, 2), "short": bool(shifts) and needed > on_shift})
    return out


def by_slot(slots, arrivals: list[dict]) -> list[dict]:
    """Each slot with the arrivals booked into it, in the order they were asked."""
    return [{"slot_start": s.start, "slot_end": s.end,
             "booking_ids": [a["booking_id"] for a in arrivals if a["slot_start"] == s.start]} for s in slots]
