"""The SLA engine's rules, no I/O: business time of a branch, the policies, and `Clock`, whose commands
(start, stop, cancel, pause, resume, breach, warn at risk) decide a clock's life and record its sla.* events."""
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from shared.domain import Aggregate, RuleBroken

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POLICIES_FILE = Path(__file__).parent / "policies.json"
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


# -- the catalogue: what moves a clock, as data (sla_policies.json) ------------------------------------
@dataclass(frozen=True)
class Policy:
    name: str
    host: str
    subject: str
    start: str
    stop: tuple
    target_seconds: int
    calendar: str = "business"
    cancel: tuple = ()  # the subject was cancelled: the clock ends `cancelled`, neither met nor breached
    pause: dict = field(default_factory=dict)  # event -> reason code, for an event that gives no reason
    resume: tuple = ()
    at_risk_share: float = 0.8
    safety_critical_when: dict | None = None  # fact -> value on the start event, e.g. priority
    predictor: str | None = None
    # a fact of the start event that, when given (seconds > 0), is this subject's own target: a
    # repair promised for its estimate rather than the branch's fixed target
    target_fact: str | None = None
    # event -> the fact that gives the running clock its new target (seconds since its start): a
    # complaint escalated to a level with another deadline
    retarget: dict = field(default_factory=dict)
    active: bool = True
    inactive_reason: str = ""
    description: str = ""

    def __post_init__(self):
        named = [e for e in (self.start, *self.stop, *self.cancel, *self.pause, *self.resume, *self.retarget) if e]
        twice = sorted({e for e in named if named.count(e) > 1})
        if twice:
            raise ValueError(f"{self.name}: {', '.join(twice)} would move a clock two ways at once")

    def clock(self, branch: dict | None):
        if self.calendar == "calendar" or branch is None:
            return CalendarTime()
        return BusinessCalendar.of_branch(branch)

    @property
    def events(self) -> set:
        return {self.start, *self.stop, *self.cancel, *self.pause, *self.resume, *self.retarget}

    def move(self, event_type: str) -> str | None:
        """What `event_type` does to this policy's clock: start, stop, cancel, pause, resume, retarget, or None."""
        if event_type == self.start:
            return "start"
        for move, moving in (("stop", self.stop), ("cancel", self.cancel), ("pause", self.pause),
                             ("resume", self.resume), ("retarget", self.retarget)):
            if event_type in moving:
                return move
        return None

    def target_given(self, facts: dict) -> int | None:
        """The target the start event gives its subject (`target_fact`), or None: the branch's then."""
        if not self.target_fact:
            return None
        value = facts.get(self.target_fact)
        return int(value) if isinstance(value, (int, float)) and value > 0 else None

    def is_safety_critical(self, facts: dict) -> bool:
        """Whether the start event's facts make the clock safety-critical (a brake repair)."""
        when = self.safety_critical_when
        return bool(when) and all(str(facts.get(k)) == str(v) for k, v in when.items())

    def pause_reason(self, event_type: str, facts: dict) -> str:
        """The reason the pausing event gives (on hold for parts, approval, sublet), else the policy's code."""
        return facts.get("reason") or self.pause[event_type]

    def check_target_change(self, host: str):
        """A branch's own target is set on the service that keeps these clocks, for an active policy."""
        if not self.active:
            raise RuleBroken(f"{self.name} keeps no clocks ({self.inactive_reason}): it has no target to set",
                             policy=f"inactive: {self.inactive_reason}")
        if self.host != host:
            raise RuleBroken(f"{self.name} clocks are kept by {self.host}", policy=f"set it on {self.host}")


def load_policies(path: Path = POLICIES_FILE) -> list[Policy]:
    raw = json.loads(path.read_text())
    return [Policy(**{**p, **{k: tuple(p.get(k, ())) for k in ("stop", "cancel", "resume")}})
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


def standing(state: str, at_risk: bool, outcome: str | None) -> str:
    """Where a clock stands, as /sla shows it and pitlane_sla_open's `state` label counts it: an ended
    clock by its outcome (met, breached, cancelled); an open one `breached` once past its target (never
    at risk again), else paused, at_risk (past its share, or predicted late) or running."""
    if state == "stopped":
        return outcome
    if outcome == "breached":
        return "breached"
    if state == "paused":
        return "paused"
    return "at_risk" if at_risk else "running"


def starts_here(event: dict) -> bool:
    """A clock starts at the site where its starting event happened (docs/sites.md): a step taken at
    another site and applied here (mirrored_from) stops or moves this site's clocks, and starts none,
    so no clock is kept twice in the group."""
    return event.get("mirrored_from") is None


def compliance(met: int, breached: int) -> float | None:
    """Share of decided clocks that were met; cancelled and open clocks are not decided."""
    decided = met + breached
    return round(met / decided, 4) if decided else None


def open_by_standing(rows) -> list[dict]:
    """Open clocks counted by (policy, branch, region, standing), from counts by state, at_risk, outcome."""
    counts: dict = {}
    for r in rows:
        key = (r["policy"], r["branch_id"], r["region_id"], standing(r["state"], r["at_risk"], r["outcome"]))
        counts[key] = counts.get(key, 0) + r["count"]
    return [{"policy": p, "branch_id": b, "region_id": region, "state": s, "count": n}
            for (p, b, region, s), n in counts.items()]


# -- one clock ------------------------------------------------------------------------------------------
CHANGING = ("state", "running_since", "spent_seconds", "deadline", "at_risk_at", "outcome", "at_risk",
            "pause_reason", "breached_at", "ended_at", "duration_seconds", "target_seconds")


@dataclass
class Clock(Aggregate):
    """One subject's clock of one policy, from its stored row.

    Commands take the moment they happen (`at`) and count time in the branch's calendar; each
    returns whether the clock moved. sla.met, sla.breached and sla.at_risk are recorded at most
    once each, and a clock that breached is never announced at risk afterwards. `pauses` lists the
    pauses opened and closed, for the store to write.
    """

    clock_id: object
    policy: str
    subject_type: str
    subject_id: str
    branch_id: str
    target_seconds: int
    started_at: datetime
    state: str = "running"
    running_since: datetime | None = None
    spent_seconds: float = 0.0  # counted before running_since
    deadline: datetime | None = None  # while running
    at_risk_at: datetime | None = None  # while running
    outcome: str | None = None  # met, breached, cancelled; breached may come while still running
    at_risk: bool = False  # announced at risk
    pause_reason: str | None = None
    breached_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    safety_critical: bool = False
    region_id: str | None = None
    calendar: object = field(default_factory=CalendarTime, repr=False, compare=False)
    at_risk_share: float = field(default=0.8, repr=False, compare=False)
    pauses: list = field(default_factory=list, repr=False, compare=False)  # ("paused", at, reason) | ("resumed", at)

    @classmethod
    def from_row(cls, row: dict, policy: Policy, calendar) -> "Clock":
        known = {k: row[k] for k in cls.__dataclass_fields__ if k in row and k not in ("events", "pauses")}
        return cls(**{**known, "subject_id": str(row["subject_id"])}, calendar=calendar,
                   at_risk_share=policy.at_risk_share)

    @classmethod
    def start(cls, policy: Policy, facts: dict, target_seconds: int, calendar, clock_id) -> "Clock":
        """The clock the policy's start event starts, at the moment the event occurred."""
        at = facts["occurred_at"]
        return cls(clock_id=clock_id, policy=policy.name, subject_type=policy.subject.removesuffix("_id"),
                   subject_id=str(facts[policy.subject]), branch_id=facts["branch_id"],
                   safety_critical=policy.is_safety_critical(facts), target_seconds=target_seconds,
                   started_at=at, running_since=at, deadline=deadline(calendar, at, target_seconds, 0),
                   at_risk_at=at_risk_from(calendar, at, target_seconds, 0, policy.at_risk_share),
                   calendar=calendar, at_risk_share=policy.at_risk_share)

    def changes(self) -> dict:
        """The stored columns a command may change."""
        return {k: getattr(self, k) for k in CHANGING}

    @property
    def standing(self) -> str:
        return standing(self.state, self.at_risk, self.outcome)

    def spent(self, at: datetime) -> float:
        """Seconds of its calendar the clock has run by `at`."""
        if self.state != "running" or self.running_since is None:
            return self.spent_seconds
        return self.spent_seconds + self.calendar.seconds_between(self.running_since, at)

    # -- what the subject's events do ------------------------------------------------------------------
    def follow(self, policy: Policy, event_type: str, facts: dict) -> bool:
        """Move as `policy` says `event_type` moves this clock, at the moment the event occurred."""
        at = facts["occurred_at"]
        move = policy.move(event_type)
        if move == "stop":
            return self.stop(at)
        if move == "cancel":
            return self.cancel(at)
        if move == "pause":
            return self.pause(policy.pause_reason(event_type, facts), at)
        if move == "resume":
            return self.resume(at)
        if move == "retarget":
            value = facts.get(policy.retarget[event_type])
            return isinstance(value, (int, float)) and value > 0 and self.retarget(int(value), at)
        return False

    def stop(self, at: datetime) -> bool:
        """The subject got its answer: met, or breached if the clock ran past its target."""
        if self.state == "stopped":
            return False
        spent = self.spent(at)
        self._end(at, spent, outcome(spent, self.target_seconds, self.outcome))
        return True

    def cancel(self, at: datetime) -> bool:
        """The subject was cancelled: the clock ends `cancelled`, counted neither met nor breached;
        a clock that had already run past its target stays breached."""
        if self.state == "stopped":
            return False
        spent = self.spent(at)
        late = self.outcome == "breached" or spent > self.target_seconds
        self._end(at, spent, "breached" if late else "cancelled")
        return True

    def pause(self, reason: str, at: datetime) -> bool:
        """The subject waits on something outside the branch's hands: time stops counting."""
        if self.state != "running":
            return False
        self.breach(at)  # a clock paused past its deadline breached first
        self.spent_seconds = self.spent(at)
        self.state, self.running_since, self.pause_reason = "paused", None, reason
        self.deadline = self.at_risk_at = None
        self.pauses.append(("paused", at, reason))
        return True

    def resume(self, at: datetime) -> bool:
        """Time counts again; the deadline moves by the time spent paused."""
        if self.state != "paused":
            return False
        self.state, self.running_since, self.pause_reason = "running", at, None
        self.deadline = deadline(self.calendar, at, self.target_seconds, self.spent_seconds)
        self.at_risk_at = at_risk_from(self.calendar, at, self.target_seconds, self.spent_seconds,
                                       self.at_risk_share)
        self.pauses.append(("resumed", at))
        return True

    def retarget(self, target_seconds: int, at: datetime) -> bool:
        """The subject's target changed while the clock is open (a complaint escalated): the deadline
        and the at-risk point are counted again from the time already spent; a new target already
        spent breaches at the watch's next look. An ended clock keeps its target and outcome."""
        if self.state == "stopped" or target_seconds == self.target_seconds:
            return False
        self.target_seconds = target_seconds
        if self.state == "running":
            spent_before = self.spent_seconds
            self.deadline = deadline(self.calendar, self.running_since, target_seconds, spent_before)
            self.at_risk_at = at_risk_from(self.calendar, self.running_since, target_seconds, spent_before,
                                           self.at_risk_share)
        return True

    # -- what the watch finds --------------------------------------------------------------------------
    def breach(self, at: datetime) -> bool:
        """A running clock past its deadline has breached; it runs on until its subject is answered."""
        if self.state != "running" or self.outcome is not None or self.deadline is None or self.deadline > at:
            return False
        self.outcome, self.breached_at = "breached", self.deadline
        self._announce("sla.breached", at)
        return True

    def warn_at_risk(self, at: datetime, predicted_finish: datetime | None = None) -> bool:
        """At risk, announced once: a running clock that has used its share of the target, or whose
        work is predicted to finish after its deadline. Never a clock that breached or is past its
        deadline: that is a breach, which the watch claims first."""
        if self.state != "running" or self.outcome is not None or self.at_risk:
            return False
        if self.deadline is None or self.deadline <= at:
            return False
        share_used = self.at_risk_at is not None and self.at_risk_at <= at
        late = predicted_finish is not None and predicted_finish > self.deadline
        if not (share_used or late):
            return False
        self.at_risk = True
        self._announce("sla.at_risk", at)
        return True

    # -- helpers ---------------------------------------------------------------------------------------
    def _end(self, at: datetime, spent: float, result: str):
        newly_breached = result == "breached" and self.breached_at is None
        if newly_breached:  # past its deadline while running, or found only now that it stops
            self.breached_at = self.deadline if self.deadline is not None and self.deadline <= at else at
        if self.state == "paused":
            self.pauses.append(("resumed", at))
        self.state, self.outcome, self.ended_at = "stopped", result, at
        self.running_since = self.deadline = self.at_risk_at = self.pause_reason = None
        self.spent_seconds = self.duration_seconds = spent
        if result == "met":
            self._announce("sla.met", at)
        elif newly_breached:
            self._announce("sla.breached", at)

    def _announce(self, event_type: str, at: datetime):
        self.record(event_type, clock_id=self.clock_id, policy=self.policy, subject_type=self.subject_type,
                    subject_id=self.subject_id, region_id=self.region_id, started_at=self.started_at,
                    deadline=self.deadline or self.ended_at or at, elapsed_seconds=int(self.spent(at)),
                    target_seconds=self.target_seconds)
