"""Extras a booking may ask for, no I/O: loaner car, pickup, delivery; each a resource with a capacity per day
or per slot at the branch."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

from shared.contracts.api.booking import EXTRAS, PER  # noqa: F401  (the API's words)
from shared.domain import RuleBroken, StateConflict


class ExtraGone(StateConflict):
    def __init__(self, extra: str, per: str):
        super().__init__(f"no {extra} left", extras=f"{extra}: none left in that {per}")


def period_start(per: str, slot_start: datetime, tz: ZoneInfo) -> datetime:
    """The period an extra is counted in: the slot itself, or the branch's local day the slot is on."""
    if per == "slot":
        return slot_start
    return datetime.combine(slot_start.astimezone(tz).date(), time(0), tz)


def periods(asked: list, offered: dict, slot_start: datetime, tz: ZoneInfo) -> list[tuple[str, str, datetime]]:
    """[(extra, per, period start)] for the extras a booking asks for; an extra the branch does not offer
    (no capacity set) is refused. `offered`: {extra: per}."""
    missing = [e for e in asked if e not in offered]
    if missing:
        raise RuleBroken("the branch does not offer that extra", extras=f"not offered here: {', '.join(missing)}")
    return [(e, offered[e], period_start(offered[e], slot_start, tz)) for e in asked]
