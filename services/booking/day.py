"""A branch's day as the workshop supervisor sees it, no I/O: the arrivals booked, what they need (skilled
hours, parts to pick), and the skilled hours on shift to do it."""
from collections import Counter
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


def with_parts(arrivals: list[dict], catalogue: capacity.Catalogue) -> list[dict]:
    """Each arrival with the parts to pick for it: before the car is diagnosed only its service type is known,
    so the type's standard kit ([] when it has none), as the catalogue says now."""
    return [{**a, "parts_to_pick": catalogue.kit_for(a["service_type"])} for a in arrivals]


def parts_total(arrivals: list[dict]) -> list[dict]:
    """Per part number, the pieces the day's arrivals need (their `parts_to_pick`), without no-shows and
    cancellations like the skilled hours; in part-number order, the order a picker walks the shelves."""
    total = Counter()
    for a in arrivals:
        if a["status"] in COUNTED:
            for line in a["parts_to_pick"]:
                total[line["part_number"]] += line["quantity"]
    return [{"part_number": p, "quantity": total[p]} for p in sorted(total)]
