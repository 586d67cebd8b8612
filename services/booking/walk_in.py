"""Walk-ins, no I/O: the queue of cars that came without an appointment, who is next, and how long the wait."""
import math
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from services.booking import capacity, waiting
from shared.domain import Aggregate, RuleBroken, StateConflict, StateMachine

RANK = {"safety_critical": 0, "vip": 1, "routine": 2, "cosmetic": 3}
LIFE_CYCLE = StateMachine("walk-in", {"waiting": {"checked_in"}, "checked_in": set()})


@dataclass
class WalkIn(Aggregate):
    walk_in_id: object
    branch_id: str
    customer_id: object
    vehicle_id: object
    service_type: str
    skill: str
    labour_seconds: int
    priority: str
    symptoms: str
    status: str
    arrived_at: datetime
    booking_id: object = None
    left_at: datetime | None = None
    promised_at: datetime | None = None  # arrival + the wait estimated then
    apologies_sent: int = 0

    @classmethod
    def from_row(cls, row: dict) -> "WalkIn":
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name != "events"})

    def row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "events"}

    @classmethod
    def arrive(cls, walk_in_id, arrival: dict, work: capacity.Work, now: datetime) -> "WalkIn":
        walk_in = cls(walk_in_id, arrival["branch_id"], arrival["customer_id"], arrival["vehicle_id"],
                      arrival["service_type"], work.skill, work.seconds, arrival["priority"], arrival["symptoms"],
                      "waiting", now)
        walk_in.record("walk_in.arrived", walk_in_id=walk_in_id, customer_id=walk_in.customer_id,
                       vehicle_id=walk_in.vehicle_id, service_type=walk_in.service_type,
                       priority=walk_in.priority, arrived_at=now)
        return walk_in

    def promise(self, estimated_wait_minutes: int):
        """The time told at arrival; waiting past it is apologised for."""
        self.promised_at = self.arrived_at + timedelta(minutes=estimated_wait_minutes)

    def apologise_for_the_wait(self, now: datetime):
        """15 minutes past the promised time an apology with the reason, then every 30 minutes."""
        if self.status != "waiting":
            raise StateConflict("nobody is waiting", status=f"is {self.status}")
        facts = waiting.apology({"walk_in_id": self.walk_in_id, "customer_id": self.customer_id}, self.promised_at,
                                self.apologies_sent, waiting.WALK_IN_LATE, now)
        if facts is None:
            raise StateConflict("no apology is due yet", apologies_sent="the next is not due yet")
        self.apologies_sent += 1
        self.record("booking.waiting_apology", **facts)

    def check_vehicle(self, vehicle: dict):
        """The vehicle named must be the customer's (as for a booking)."""
        if str(vehicle["customer_id"]) != str(self.customer_id):
            raise RuleBroken("the vehicle belongs to another customer", vehicle_id="not this customer's vehicle")

    def checked_in(self, booking_id):
        """Received at the desk: the booking made for it carries the check-in."""
        self.status = LIFE_CYCLE.check(self.status, "checked_in")
        self.booking_id = booking_id


def queue_order(walk_in: dict) -> tuple:
    """Who is served next among walk-ins: safety-critical, VIP, routine, cosmetic; then who came first."""
    return RANK.get(walk_in["priority"], len(RANK)), walk_in["arrived_at"]


def queue(waiting: list[dict], appointments_seconds: int, servers: int) -> list[dict]:
    """The waiting walk-ins in the order they are served, each with its position and estimated wait.

    Appointments go before walk-ins: the labour of the appointments due by now and not yet received
    (`appointments_seconds`) comes first, then the labour of the walk-ins ahead, shared by `servers`
    (the technicians on shift now, or the bays at a branch without shifts).
    """
    servers = max(servers, 1)
    ahead = appointments_seconds
    out = []
    for position, walk_in in enumerate(sorted(waiting, key=queue_order), start=1):
        out.append({**walk_in, "position": position, "estimated_wait_minutes": math.ceil(ahead / servers / 60)})
        ahead += walk_in["labour_seconds"]
    return out
