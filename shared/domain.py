"""The shape every rule takes: a small object that checks its guards, changes its state and records
the events it causes. No I/O here or in any service's domain; docs/shape.md shows the whole path.

A service method loads the object from its stored row, calls one command on it, saves what
changed and publishes `obj.events` in the same transaction (`Transaction.publish_recorded`).
A rule that says no raises one of the plain exceptions below; the service's edge maps each to a
typed RPC error once (`shared/contracts/errors.py`, `from_domain`), and the gateway maps that to HTTP.
"""
from dataclasses import dataclass, field, fields


# -- what a rule says when it says no ----------------------------------------------------------------
class DomainError(Exception):
    """A rule refused a command. `fields` name what was wrong, as the API shows them."""

    def __init__(self, message: str, **fields):
        super().__init__(message)
        self.message = message
        self.fields = {k: [v] if isinstance(v, str) else list(v) for k, v in fields.items()}

    def __str__(self):
        return self.message


class IllegalTransition(DomainError):
    """The record's state does not allow that step (HTTP 409)."""

    def __init__(self, noun: str, current: str, target: str, allowed):
        allowed = ", ".join(sorted(allowed)) or "none"
        super().__init__(f"a {noun} that is {current} cannot become {target} (allowed next: {allowed})",
                         status=f"is {current}; allowed next: {allowed}")
        self.current, self.target = current, target


class StateConflict(DomainError):
    """The record's state forbids the command though the step itself exists: a full slot, a
    finished job, an invoice already paid (HTTP 409)."""


class RuleBroken(DomainError):
    """Well-formed input that breaks a business rule: approving a line not on the quote, more
    received than was sent (HTTP 422)."""


class NotPermitted(DomainError):
    """The caller's place (branch, region) may not take this step of this record (HTTP 403)."""


class UnknownRecord(DomainError):
    """A record the command names does not exist (HTTP 404, or 403 for a scoped caller)."""


# -- one state machine helper for every life cycle ----------------------------------------------------
@dataclass(frozen=True)
class StateMachine:
    """A life cycle as data: status -> the statuses it may move to."""

    noun: str
    transitions: dict

    def allowed(self, current: str) -> frozenset:
        return frozenset(self.transitions.get(current, ()))

    def can(self, current: str, target: str) -> bool:
        return target in self.allowed(current)

    def check(self, current: str, target: str) -> str:
        """`target`, if a `current` record may move there; IllegalTransition otherwise."""
        if not self.can(current, target):
            raise IllegalTransition(self.noun, current, target, self.allowed(current))
        return target

    @property
    def statuses(self) -> tuple:
        return tuple(self.transitions)


# -- events a command caused ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Recorded:
    """An event a domain object caused, not yet published: its catalogue name, branch and facts."""

    type: str
    branch_id: str
    facts: dict


@dataclass
class Aggregate:
    """Base of the domain objects: `events` is what their commands caused, in order."""

    events: list = field(default_factory=list, kw_only=True, repr=False, compare=False)

    def record(self, event_type: str, branch_id: str | None = None, **facts) -> Recorded:
        """Note an event to publish; its branch is the object's own unless given."""
        event = Recorded(event_type, branch_id if branch_id is not None else getattr(self, "branch_id"), facts)
        self.events.append(event)
        return event

    def recorded(self, event_type: str) -> list[Recorded]:
        """The events of one type this object recorded (for tests and the service layer)."""
        return [e for e in self.events if e.type == event_type]

    def take_events(self) -> list[Recorded]:
        """The recorded events, handed over once: the object forgets them."""
        taken, self.events = self.events, []
        return taken


def stored(obj) -> dict:
    """A domain object's fields as store.py writes them (not the events it recorded)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "events"}
