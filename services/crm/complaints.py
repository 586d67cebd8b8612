"""Complaints (domain.md s7), no I/O: levels, escalation triggers, the first response,
resolution with measures, deadline and owner, and reopening.

Levels: 1 front line (resolved within 24 h), 2 supervisor (48 h), 3 senior management (72 h), each
counted from opening. A first response is due within 2 h of opening; once a complaint is
escalated, within 30 minutes of the escalation (never later than it was due before). The targets
travel on the events as `response_target_seconds` and `resolution_target_seconds` (seconds from
opening), which the SLA policies complaint_first_response and complaint_resolution read (their
clocks start on complaint.opened and are retargeted by complaint.escalated).

Escalation triggers: a repeat problem, several departments or the customer's request raise a
complaint to level 2; safety, media, a legal threat or a VIP customer to level 3. The third
complaint on the same matter and a regulator mentioned escalate at once with a 30-minute response
target (the third on the same matter to level 2, a regulator to level 3).

The matter of a complaint: the same customer's complaints about the same vehicle (or about no
vehicle) in the same category (`matter_of`).
"""
from dataclasses import dataclass, field, fields
from datetime import datetime

from shared.contracts.api.crm import COMPLAINT_STATUSES as STATUSES  # noqa: F401  (the API's words)
from shared.contracts.api.crm import CATEGORIES, LEVELS, SEVERITIES, SOURCES, TRIGGER_LEVEL, TRIGGERS  # noqa: F401
from shared.domain import Aggregate, NotPermitted, RuleBroken, StateConflict, StateMachine

RESOLUTION_HOURS = {1: 24, 2: 48, 3: 72}
RESPONSE_SECONDS = 2 * 3600
ESCALATED_RESPONSE_SECONDS = 30 * 60
AT_ONCE = ("third_on_same_matter", "regulator")  # escalate at once: 30-minute response from opening
THIRD = 3  # the third complaint on the same matter escalates
LIFE = StateMachine("complaint", {"open": ("resolved",), "resolved": ("open",)})


def matter_of(customer_id, vehicle_id, category: str) -> str:
    """The matter a complaint is about: one customer's vehicle (or none) and a category."""
    return f"{customer_id}/{vehicle_id or '-'}/{category}"


def resolution_seconds(level: int) -> int:
    return RESOLUTION_HOURS[level] * 3600


def _highest(triggers) -> tuple[int, str | None]:
    """The level the triggers call for, and the trigger that calls for it (1, None for none)."""
    best, which = 1, None
    for trigger in triggers:
        if TRIGGER_LEVEL[trigger] > best:
            best, which = TRIGGER_LEVEL[trigger], trigger
    return best, which


@dataclass
class Complaint(Aggregate):
    complaint_id: object
    branch_id: str
    customer_id: object
    repair_order_id: object | None
    what_happened: str
    category: str
    source: str  # staff, survey, follow_up, comeback, social_media, ...
    customer_wants: str = ""
    severity: str = "medium"
    owner: str | None = None
    level: int = 1
    status: str = "open"
    vehicle_id: object | None = None
    happened_at: datetime | None = None  # when
    place: str | None = None  # where
    reported_by: str | None = None  # who
    matter: str | None = None
    trigger: str | None = None
    opened_at: datetime | None = None
    response_target_seconds: int = RESPONSE_SECONDS
    resolution_target_seconds: int = RESPONSE_SECONDS * 12
    first_response_at: datetime | None = None
    measures: list = field(default_factory=list)
    resolution_deadline: datetime | None = None
    resolution_owner: str | None = None
    resolved_at: datetime | None = None
    reopened: int = 0

    @classmethod
    def open(cls, complaint_id, *, branch_id, customer_id, opened_at: datetime | None = None, acting_for=None,
             source="staff",
             triggers=(), earlier_on_matter: int = 0, vip: bool = False, **details) -> "Complaint":
        """Open a complaint at `branch_id`: the branch that handles it, where the customer was served,
        which need not be the customer's own branch. A caller who acts for some branches only
        (`acting_for`, their scope) may open it only at one of them. Its level is the highest of the
        level asked for and what its triggers call for: the triggers named, safety for a safety
        severity, vip for a VIP customer, third_on_same_matter when `earlier_on_matter` complaints
        on its matter came before. Escalated at opening, its first response is due in 30 minutes."""
        if acting_for is not None and branch_id not in acting_for:
            raise NotPermitted("outside your scope", branch_id="not a branch you act for")
        complaint = cls(complaint_id=complaint_id, branch_id=branch_id, customer_id=customer_id, source=source,
                        opened_at=opened_at, **details)
        if complaint.level not in LEVELS:
            raise RuleBroken("a complaint is at level 1, 2 or 3", level="1, 2 or 3")
        unknown = [t for t in triggers if t not in TRIGGER_LEVEL]
        if unknown:
            raise RuleBroken("unknown escalation trigger", triggers=f"each one of {', '.join(TRIGGERS)}")
        found = list(triggers)
        if complaint.severity == "safety":
            found.append("safety")
        if vip:
            found.append("vip")
        if earlier_on_matter + 1 >= THIRD:
            found.append("third_on_same_matter")
        complaint.matter = matter_of(customer_id, complaint.vehicle_id, complaint.category)
        level, trigger = _highest(found)
        if level > complaint.level:
            complaint.level, complaint.trigger = level, trigger
        at_once = [t for t in found if t in AT_ONCE]
        if complaint.trigger is not None or at_once:
            complaint.trigger = complaint.trigger or at_once[0]
            complaint.response_target_seconds = ESCALATED_RESPONSE_SECONDS
        complaint.resolution_target_seconds = resolution_seconds(complaint.level)
        complaint.record("complaint.opened", complaint_id=complaint_id, customer_id=customer_id,
                         repair_order_id=complaint.repair_order_id, category=complaint.category,
                         severity=complaint.severity, level=complaint.level, complaint_source=source,
                         vehicle_id=complaint.vehicle_id, matter=complaint.matter, owner=complaint.owner,
                         trigger=complaint.trigger, response_target_seconds=complaint.response_target_seconds,
                         resolution_target_seconds=complaint.resolution_target_seconds)
        return complaint

    @classmethod
    def from_row(cls, row: dict) -> "Complaint":
        known = {f.name: row[f.name] for f in fields(cls) if f.name != "events" and f.name in row}
        return cls(**{**known, "measures": list(row.get("measures") or [])})

    # -- what happens to it -------------------------------------------------------------------
    def escalate(self, trigger: str, at: datetime, by: str | None = None):
        """Raise the complaint to the level `trigger` calls for (TRIGGER_LEVEL). Its first response,
        if still owed, is then due within 30 minutes; its resolution within the new level's hours
        from opening. A resolved complaint is not escalated (409: reopen it), nor one already at
        or above that level (409)."""
        if trigger not in TRIGGER_LEVEL:
            raise RuleBroken("unknown escalation trigger", trigger=f"one of {', '.join(TRIGGERS)}")
        if self.status != "open":
            raise StateConflict("a resolved complaint is not escalated; reopen it first", status=f"is {self.status}")
        level = TRIGGER_LEVEL[trigger]
        if level <= self.level:
            raise StateConflict(f"the complaint is at level {self.level} already",
                                level=f"is {self.level}; {trigger} calls for level {level}")
        from_level, self.level, self.trigger = self.level, level, trigger
        response = None
        if self.first_response_at is None:
            spent = max((at - self.opened_at).total_seconds(), 0) if self.opened_at else 0
            response = min(self.response_target_seconds, int(spent) + ESCALATED_RESPONSE_SECONDS)
            self.response_target_seconds = response
        self.resolution_target_seconds = resolution_seconds(level)
        if by is not None and self.owner is None:
            self.owner = by
        self.record("complaint.escalated", complaint_id=self.complaint_id, customer_id=self.customer_id,
                    level=level, from_level=from_level, trigger=trigger, response_target_seconds=response,
                    resolution_target_seconds=self.resolution_target_seconds)

    def respond(self, by: str, at: datetime):
        """Someone answered the customer; the first answer stops the response clock. Only an open
        complaint is answered (409 for a resolved one)."""
        if self.status != "open":
            raise StateConflict("the complaint is resolved; reopen it to answer again", status=f"is {self.status}")
        if self.first_response_at is None:
            self.first_response_at = at
        if self.owner is None:
            self.owner = by  # the first to answer takes it
        self.record("complaint.responded", complaint_id=self.complaint_id, customer_id=self.customer_id,
                    level=self.level, responded_by=by, responded_at=at)

    def resolve(self, *, measures, deadline: datetime | None, owner: str | None, at: datetime):
        """A resolution names its measures, the deadline by which they are done and their owner
        (422 without any of them); only an open complaint is resolved (409)."""
        LIFE.check(self.status, "resolved")
        measures = [m.strip() for m in (measures or []) if m and m.strip()]
        missing = {}
        if not measures:
            missing["measures"] = "name at least one measure"
        if deadline is None:
            missing["deadline"] = "when the measures are done"
        elif deadline <= at:
            missing["deadline"] = "must be in the future"
        if not (owner or "").strip():
            missing["owner"] = "who owns the measures"
        if missing:
            raise RuleBroken("a resolution names measures, a deadline and an owner", **missing)
        self.status, self.measures, self.resolution_deadline = "resolved", measures, deadline
        self.resolution_owner, self.resolved_at = owner.strip(), at
        self.record("complaint.resolved", complaint_id=self.complaint_id, customer_id=self.customer_id,
                    level=self.level, measures=measures, deadline=deadline, owner=self.resolution_owner,
                    repair_order_id=self.repair_order_id)

    def reopen(self, reason: str, at: datetime):
        """A resolved complaint may be reopened (409 for an open one); it is open again at its level,
        to be resolved again within that level's deadline from now (the complaint_reopened clock)."""
        self.status = LIFE.check(self.status, "open")
        self.reopened += 1
        self.resolved_at = None
        self.record("complaint.reopened", complaint_id=self.complaint_id, customer_id=self.customer_id,
                    level=self.level, reason=reason, resolution_target_seconds=resolution_seconds(self.level))
