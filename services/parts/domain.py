"""Parts rules, no I/O: what each ledger movement changes, a shelf's threshold alerts, and who gets stock
that repair orders wait for (in order of need). The transfer life cycle is transfers.py's."""
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from services.parts import catalogue  # approved substitutes a short line may offer (parts catalogue)
from shared.contracts.api.parts import ORIGINS  # noqa: F401  (the API's words)
from shared.domain import Aggregate, RuleBroken

# domain.md s1 and s5: the order of need, most needed first; a priority not named here comes last
PRIORITIES = ("safety_critical", "vip", "routine", "cosmetic")
DEFAULT_PRIORITY = "routine"  # for an approval that names none

# Scope answers as shared/scope.py does: a record outside the caller's branches looks missing.
NOT_IN_SCOPE = "not found in your scope"


# -- the ledger: every change of a quantity is one movement ------------------------------------------
# kind -> what one unit of it does to (on_hand, reserved, in_transit, on_order) of the stock row it moves.
# "issue_to_job" is what users call the units a delivered repair order used; it was stored as
# "consumption" before migration 006 renamed it (the old name keeps its effect, for old ledgers).
EFFECTS = {
    "receipt": (1, 0, 0, 0),
    "reservation": (0, 1, 0, 0),
    "release": (0, -1, 0, 0),
    "issue_to_job": (-1, -1, 0, 0),
    "consumption": (-1, -1, 0, 0),
    "transfer_out": (-1, 0, 0, 0),
    "in_transit": (0, 0, 1, 0),
    "transfer_in": (1, 0, -1, 0),
    "transit_written_off": (0, 0, -1, 0),  # lost on the road, at the receiving branch; reason in reference
    "adjustment": (1, 0, 0, 0),  # signed quantity, reason in reference (ledger.ADJUSTMENT_REASONS)
    "count": (1, 0, 0, 0),  # signed: counted less what the shelf said
    "purchase_ordered": (0, 0, 0, 1),
    "purchase_received": (1, 0, 0, -1),
    "purchase_cancelled": (0, 0, 0, -1),
}
MOVEMENTS = tuple(EFFECTS)
# kinds whose quantity carries a sign (a correction either way); every other kind moves >= 1 unit
SIGNED = frozenset({"adjustment", "count"})


@dataclass(frozen=True)
class Movement:
    """One line of the ledger and the change it makes to one (branch, part) stock row."""

    kind: str
    branch_id: str
    part_number: str
    quantity: int
    on_hand: int
    reserved: int
    in_transit: int
    repair_order_id: UUID | None = None
    transfer_id: UUID | None = None
    reference: str = ""
    on_order: int = 0
    purchase_order_id: UUID | None = None


def movement(kind: str, branch_id: str, part_number: str, quantity: int, **refs) -> Movement:
    """A movement of `quantity` units of `kind`; the quantities it changes follow from the kind.
    Signed kinds (adjustment, count) move any number of units but none; the others at least one."""
    if kind in SIGNED:
        if quantity == 0:
            raise RuleBroken("a movement moves at least one unit", quantity="must not be 0")
    elif quantity < 1:
        raise RuleBroken("a movement moves at least one unit", quantity="must be at least 1")
    on_hand, reserved, in_transit, on_order = EFFECTS[kind]
    return Movement(kind, branch_id, part_number, quantity, on_hand * quantity, reserved * quantity,
                    in_transit * quantity, on_order=on_order * quantity, **refs)


def threshold_change(below_before: bool, available_now: int, reorder_point: int | None) -> str | None:
    """'below' when stock just fell under the reorder point, 'recovered' when it just came back.

    One alert per crossing: staying below says nothing new, and neither does staying above.
    """
    if reorder_point is None:
        return None
    below_now = available_now < reorder_point
    if below_now and not below_before:
        return "below"
    if below_before and not below_now:
        return "recovered"
    return None


@dataclass
class Stock(Aggregate):
    """One part at one branch, as its stock row stands after the movements of a command."""

    branch_id: str
    part_number: str
    on_hand: int = 0
    reserved: int = 0
    reorder_point: int | None = None
    safety_stock: int | None = None
    below_reorder: bool = False
    region_id: str | None = None
    below_safety: bool = False
    # what the last check_threshold found: "below_reorder", "recovered", "below_safety", "safety_recovered"
    crossings: tuple = field(default=(), kw_only=True, repr=False, compare=False)

    @classmethod
    def from_row(cls, branch_id: str, part_number: str, row: dict) -> "Stock":
        return cls(branch_id, part_number, row["on_hand"], row["reserved"], row["reorder_point"],
                   row["safety_stock"], row["below_reorder"], row.get("region_id"),
                   bool(row.get("below_safety", False)))

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def check_threshold(self) -> bool:
        """Alert purchasing, the warehouse and the desk when available stock crosses the reorder
        point (domain.md s5), once per crossing; and, louder, when it falls below the safety stock
        (stock.below_safety_stock), once per crossing, cleared when it is back at the safety stock
        or above. True when either crossed (`below_reorder` or `below_safety` changed); what
        crossed is in `crossings`."""
        crossings = []
        crossing = threshold_change(self.below_reorder, self.available, self.reorder_point)
        if crossing is not None:
            self.below_reorder = crossing == "below"
            crossings.append("below_reorder" if self.below_reorder else "recovered")
            if self.below_reorder:
                self.record("stock.below_threshold", part_number=self.part_number, available=self.available,
                            reorder_point=self.reorder_point, safety_stock=self.safety_stock or 0,
                            region_id=self.region_id or "")
            else:
                self.record("stock.recovered", part_number=self.part_number, available=self.available,
                            region_id=self.region_id or "")
        # a safety stock of 0 (or none) protects nothing: stock never falls below it; a shelf with no
        # reorder point is not managed, and raises neither alert
        levels = self.safety_stock if self.reorder_point is not None and self.safety_stock else None
        safety = threshold_change(self.below_safety, self.available, levels)
        if safety is None and self.below_safety and levels is None:
            safety = "recovered"  # the safety stock was taken away: nothing to be below any more
        if safety is not None:
            self.below_safety = safety == "below"
            crossings.append("below_safety" if self.below_safety else "safety_recovered")
            if self.below_safety:
                self.record("stock.below_safety_stock", part_number=self.part_number, available=self.available,
                            safety_stock=self.safety_stock, reorder_point=self.reorder_point or 0,
                            region_id=self.region_id or "")
        self.crossings = tuple(crossings)
        return bool(crossings)


def merge_lines(lines) -> dict:
    """Quantities per part number, summing repeated lines of the same part."""
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line["part_number"]] = wanted.get(line["part_number"], 0) + int(line["quantity"])
    return wanted


# -- repair orders waiting for parts, and who gets stock that arrives --------------------------------------
@dataclass(frozen=True)
class KnownRepairOrder:
    """A repair order as workshop answers for it: where it is, how urgent."""

    repair_order_id: UUID
    branch_id: str
    priority: str


def need_priority(approved_priority: str | None) -> str:
    """The priority an approved order waits with: the one quote.approved names, else routine (an
    event from before the fact existed)."""
    return approved_priority or DEFAULT_PRIORITY


def need_rank(priority: str) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


@dataclass
class Shortage(Aggregate):
    """A repair order whose approved parts its branch could not all give: it waits for them, open,
    until stock arriving at the branch covers every line (served) or the order is cancelled (closed)."""

    repair_order_id: UUID
    branch_id: str
    wanted: dict  # part number -> quantity
    priority: str
    approved_at: datetime
    status: str = "open"

    @classmethod
    def from_row(cls, row: dict) -> "Shortage":
        return cls(row["repair_order_id"], row["branch_id"], dict(row["wanted"]), row["priority"],
                   row["approved_at"], row["status"])

    @property
    def need(self) -> tuple:
        """Sorts the most needed first: priority, then who was approved first."""
        return need_rank(self.priority), self.approved_at, str(self.repair_order_id)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def fits(self, free: dict) -> bool:
        return all(free.get(part, 0) >= quantity for part, quantity in self.wanted.items())

    def lines(self) -> list[dict]:
        return [{"part_number": p, "quantity": q} for p, q in sorted(self.wanted.items())]

    def short_lines(self, free: dict, substitutes: dict | None = None) -> list[dict]:
        """The lines the branch cannot give. With `substitutes` (part number -> its approved substitutes,
        each with what the branch has of it), each line carries those the branch could fit instead
        (catalogue: approved substitutes in enough quantity), for the advisor to offer."""
        lines = [{"part_number": p, "requested": q, "available": max(free.get(p, 0), 0)}
                 for p, q in sorted(self.wanted.items()) if free.get(p, 0) < q]
        if substitutes is not None:
            for line in lines:
                line["substitutes"] = catalogue.substitutes_for_short_line(line["requested"],
                                                                           substitutes.get(line["part_number"]))
        return lines

    def add(self, wanted: dict):
        """A supplement approved while the order waits: it now waits for those parts too, and is
        served when all of them, its quote's and its supplement's, are there."""
        for part, quantity in wanted.items():
            self.wanted[part] = self.wanted.get(part, 0) + quantity

    def close(self):
        """The order was cancelled: it waits no more (repair_order.cancelled said so already)."""
        self.status = "closed"


@dataclass
class Allocation(Aggregate):
    """The free stock (on hand less reserved) of one branch, given to repair orders.

    An order gets every part it was approved, or nothing (a half-fitted car helps nobody and holds
    stock another order could finish with). Orders that wait get stock in order of need: safety
    critical, then VIP, routine, cosmetic, each by approval time; one that cannot be given all it
    wants does not hold back the next, which may want less. What was given is in `taken`, as
    (repair order, part, quantity), for the service to reserve with the conditional update.
    """

    branch_id: str
    free: dict  # part number -> available
    taken: list = field(default_factory=list, repr=False)

    def reserve(self, order: Shortage, substitutes: dict | None = None) -> bool:
        """An order just approved: its parts, all of them, if they are free; else it starts to wait
        (parts.shortage with what is missing, and the approved `substitutes` the branch could give
        instead) and False."""
        if order.fits(self.free):
            self._give(order)
            return True
        self.record("parts.shortage", repair_order_id=order.repair_order_id,
                    lines=order.short_lines(self.free, substitutes))
        return False

    def serve(self, waiting, linked: UUID | None = None) -> list[Shortage]:
        """Stock arrived: the open shortages it can now cover, most needed first; each gets all its
        parts (parts.reserved) or stays open. A transfer sent for a repair order (`linked`) serves
        that order first: the units were found and sent for it."""
        served = []
        first = sorted((s for s in waiting if s.is_open), key=lambda s: (s.repair_order_id != linked, s.need))
        for order in first:
            if order.fits(self.free):
                self._give(order)
                served.append(order)
        return served

    def _give(self, order: Shortage):
        for part, quantity in sorted(order.wanted.items()):
            self.free[part] = self.free.get(part, 0) - quantity
            self.taken.append((order.repair_order_id, part, quantity))
        order.status = "served"
        self.record("parts.reserved", repair_order_id=order.repair_order_id, lines=order.lines())
