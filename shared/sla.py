"""The SLA engine's rules, no I/O: business time of a branch, policies, what a clock's state means."""
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POLICIES_FILE = Path(__file__).parent / "sla_policies.json"
# Upper bounds (seconds) of the duration histogram's buckets: 5 min ... 3 days.
DURATION_BUCKETS = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200)
MAX_DAYS = 3660  # a calendar with no business hours at all must not loop for ever


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours of a branch in its own time zone, minus its holidays."""

    zone: ZoneInfo
    hours: dict  # weekday -> [[open "HH:MM", close "HH:MM"], ...]
    holidays: frozenset = frozenset()

    @classmethod
    def of_branch(cls, branch: dict) -> "BusinessCalendar":
        return cls(ZoneInfo(branch["timezone"]), branch["business_hours"],
                   frozenset(str(h) for h in branch.get("holidays") or ()))

    def _spans(self, day: date):
        if day.isoformat() in self.holidays:
            return []
        return [(datetime.combine(day, time.fromisoformat(a), self.zone),
                 datetime.combine(day, time.fromisoformat(b), self.zone))
                for a, b in self.hours.get(WEEKDAYS[day.weekday()], [])]

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end)."""
        if end <= start:
            return 0.0
        total, day = 0.0, start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self._spans(day):
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of business time have passed after `start`."""
        remaining = max(seconds, 0.0)
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for opens, closes in self._spans(day):
                lo = max(opens, start)
                if closes <= lo:
                    continue
                available = (closes - lo).total_seconds()
                if remaining <= available:
                    return (lo + timedelta(seconds=remaining)).astimezone(timezone.utc)
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("the branch has no business hours in ten years")


class CalendarTime:
    """Round-the-clock time, for SLAs that count calendar hours."""

    def seconds_between(self, start, end):
        return max((end - start).total_seconds(), 0.0)

    def add(self, start, seconds):
        return (start + timedelta(seconds=seconds)).astimezone(timezone.utc)


@dataclass(frozen=True)
class Policy:
    name: str
    host: str
    subject: str
    start: str
    stop: tuple
    target_seconds: int
    calendar: str = "business"
    pause: dict = field(default_factory=dict)  # event -> reason code
    resume: tuple = ()
    at_risk_share: float = 0.8
    safety_critical_when: dict | None = None  # fact -> value on the start event, e.g. priority
    predictor: str | None = None
    active: bool = True
    inactive_reason: str = ""
    description: str = ""

    def clock(self, branch: dict | None):
        if self.calendar == "calendar" or branch is None:
            return CalendarTime()
        return BusinessCalendar.of_branch(branch)

    @property
    def events(self) -> set:
        return {self.start, *self.stop, *self.pause, *self.resume}


def load_policies(path: Path = POLICIES_FILE) -> list[Policy]:
    raw = json.loads(path.read_text())
    return [Policy(**{**p, "stop": tuple(p.get("stop", ())), "resume": tuple(p.get("resume", ()))})
            for p in raw["policies"]]


POLICIES = load_policies()


def hosted_by(service: str) -> list[Policy]:
    return [p for p in POLICIES if p.active and p.host == service]


def policy(name: str) -> Policy:
    for p in POLICIES:
        if p.name == name:
            return p
    raise LookupError(name)


def deadline(calendar, running_since: datetime, target: int, spent: float) -> datetime:
    """When a running clock breaches: the rest of its target, counted in its calendar."""
    return calendar.add(running_since, target - spent)


def at_risk_from(calendar, running_since: datetime, target: int, spent: float, share: float) -> datetime:
    """When a running clock has used `share` of its target."""
    return calendar.add(running_since, max(share * target - spent, 0.0))


def outcome(spent: float, target: int, already: str | None) -> str:
    """met or breached once the clock stops; a clock that breached stays breached."""
    return "breached" if already == "breached" or spent > target else "met"


def state_label(state: str, at_risk: bool) -> str:
    """The `state` label of pitlane_sla_open: paused, at_risk (running past its share) or running."""
    if state == "paused":
        return "paused"
    return "at_risk" if at_risk else "running"
