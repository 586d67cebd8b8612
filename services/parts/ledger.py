"""The parts ledger's rules, no I/O ("Ledger", "A live view for the service desk").

Every change of a stock quantity is one movement (domain.EFFECTS): a stock row is what its movements
add up to, and `replay` adds them up again to prove it. Adjustments and counts correct the shelf, a
purchase order is stock on order until it is received or called off, and the desk's outlook says when
a branch will have the units a customer needs.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from services.parts.domain import EFFECTS, NOT_IN_SCOPE, KnownRepairOrder, Movement, movement
from shared.contracts.api.parts import ADJUSTMENT_REASONS
from shared.domain import Aggregate, NotPermitted, RuleBroken, StateConflict, StateMachine

QUANTITIES = ("on_hand", "reserved", "in_transit", "on_order")


# -- replay: the stock rows again, from their movements --------------------------------------------------------
def replay(movements) -> dict:
    """(branch_id, part_number) -> {on_hand, reserved, in_transit, on_order, available}, from ledger
    lines as GET /stock-movements gives them (kind, branch_id, part_number, signed quantity), in any
    order: every movement's effect is a sum, so the order does not change the total."""
    totals: dict = {}
    for m in movements:
        effect = EFFECTS[m["kind"]]
        row = totals.setdefault((m["branch_id"], m["part_number"]), dict.fromkeys(QUANTITIES, 0))
        for name, per_unit in zip(QUANTITIES, effect):
            row[name] += per_unit * m["quantity"]
    for row in totals.values():
        row["available"] = row["on_hand"] - row["reserved"]
    return totals


def disagreements(stock_rows, movements) -> list[dict]:
    """The stock rows whose quantities are not what their movements add up to (none, when the ledger
    and the rows agree); a row without movements must be all zeros."""
    replayed = replay(movements)
    wrong = []
    for row in stock_rows:
        key = (row["branch_id"], row["part_number"])
        expected = replayed.get(key, dict.fromkeys(QUANTITIES + ("available",), 0))
        got = {name: row.get(name, 0) for name in QUANTITIES}
        if any(got[name] != expected[name] for name in QUANTITIES):
            wrong.append({"branch_id": key[0], "part_number": key[1], "stock": got,
                          "ledger": {n: expected[n] for n in QUANTITIES}})
    return wrong


def check(stock_row: dict | None, branch_id: str, part_number: str, totals) -> dict:
    """One stock row against its ledger: `totals` are (kind, summed quantity) of its movements; it
    agrees when every quantity is what they add up to (a missing row counts as all zeros)."""
    replayed = replay({"kind": kind, "branch_id": branch_id, "part_number": part_number, "quantity": quantity}
                      for kind, quantity in totals).get((branch_id, part_number),
                                                        dict.fromkeys(QUANTITIES + ("available",), 0))
    row = {name: (stock_row or {}).get(name, 0) for name in QUANTITIES}
    row["available"] = row["on_hand"] - row["reserved"]
    return {"branch_id": branch_id, "part_number": part_number, "stock": row, "ledger": replayed,
            "agrees": all(row[name] == replayed[name] for name in QUANTITIES)}


# -- adjustments and counts ---------------------------------------------------------------------------------------
# ADJUSTMENT_REASONS (reason -> the sign its quantity must have) are the API's words: shared/contracts/api/parts.py


def adjustment(branch_id: str, part_number: str, quantity: int, reason: str, note: str = "") -> Movement:
    """A signed correction of what is on the shelf, for a reason from the list; the reason says which
    way it may go (damaged units leave the shelf, found ones come back). A negative adjustment cannot
    take reserved units: store.apply's guard refuses one that would leave less than nothing available."""
    if reason not in ADJUSTMENT_REASONS:
        raise RuleBroken("unknown adjustment reason", reason=f"one of {', '.join(sorted(ADJUSTMENT_REASONS))}")
    if quantity == 0:
        raise RuleBroken("an adjustment moves at least one unit", quantity="must not be 0")
    sign = ADJUSTMENT_REASONS[reason]
    if sign and (quantity > 0) != (sign > 0):
        raise RuleBroken(f"a {reason} adjustment {'adds' if sign > 0 else 'takes'} units",
                         quantity=f"must be {'positive' if sign > 0 else 'negative'} for reason {reason}")
    return movement("adjustment", branch_id, part_number, quantity,
                    reference=f"{reason}: {note}" if note else reason)


def not_taking_reserved(available: int, quantity: int):
    """A negative adjustment may take only units nobody holds: refused when it would leave less than
    nothing available (reserved units belong to repair orders; release them first)."""
    if available + quantity < 0:
        raise StateConflict("an adjustment cannot take reserved units",
                            quantity=f"at least {-available}: only {max(available, 0)} available (not reserved)")


@dataclass(frozen=True)
class Count:
    """A stock count: what was counted on the shelf against what the row says is on hand."""

    branch_id: str
    part_number: str
    counted: int
    on_hand: int
    reserved: int

    @property
    def difference(self) -> int:
        return self.counted - self.on_hand

    def movement(self) -> Movement | None:
        """The count movement of the difference (None when the shelf agrees). A count below what is
        reserved is refused: those units are promised to repair orders, and a count that loses them
        must first release them (cancel the orders, or adjust once they are free)."""
        if self.counted < self.reserved:
            raise StateConflict("counted fewer than are reserved",
                                counted_quantity=f"at least {self.reserved}: reserved for repair orders")
        if self.difference == 0:
            return None
        return movement("count", self.branch_id, self.part_number, self.difference,
                        reference=f"counted {self.counted}, was {self.on_hand}")


# -- purchase orders ----------------------------------------------------------------------------------------------
# open -> received (all units in) or cancelled (the rest called off); a part receipt stays open.
PURCHASE_ORDER = StateMachine("purchase order", {"open": {"received", "cancelled"}, "received": set(),
                                                 "cancelled": set()})


def expected_at(ordered_at: datetime, purchase_hours: int) -> datetime:
    """When an order arrives, unless the caller says: the group's purchase lead time after ordering."""
    return ordered_at + timedelta(hours=purchase_hours)


@dataclass
class PurchaseOrder(Aggregate):
    """Units of one part ordered from the supplier for one branch: on order until received (in one
    or more receipts, never more than is outstanding) or cancelled (what is still out comes off)."""

    purchase_order_id: UUID
    branch_id: str
    part_number: str
    quantity: int
    expected_at: datetime
    repair_order_id: UUID | None = None
    supplier_reference: str | None = None
    received_quantity: int = 0
    cancelled_quantity: int = 0
    status: str = "open"
    movements: list = field(default_factory=list, kw_only=True, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: dict) -> "PurchaseOrder":
        return cls(row["purchase_order_id"], row["branch_id"], row["part_number"], row["quantity"],
                   row["expected_at"], row["repair_order_id"], row["supplier_reference"],
                   row["received_quantity"], row["cancelled_quantity"], row["status"])

    @classmethod
    def place(cls, purchase_order_id, branch_id, part_number, quantity, expected_at, repair_order_id=None,
              supplier_reference=None, repair_order: KnownRepairOrder | None = None, by=None) -> "PurchaseOrder":
        """A branch orders units; a repair order it names must be one of its own (as a transfer's)."""
        order = cls(purchase_order_id, branch_id, part_number, quantity, expected_at, repair_order_id,
                     supplier_reference)
        order._may_act(by)
        if repair_order_id is not None and (repair_order is None or repair_order.branch_id != branch_id):
            if by is not None:
                raise NotPermitted(NOT_IN_SCOPE)
            raise RuleBroken("the repair order is not one of the ordering branch",
                             repair_order_id="no repair order with this id at branch_id")
        order.movements.append(movement("purchase_ordered", branch_id, part_number, quantity,
                                        purchase_order_id=purchase_order_id))
        order._announce("purchase.ordered", quantity=quantity, expected_at=expected_at)
        return order

    @property
    def outstanding(self) -> int:
        """Units ordered and neither received nor called off: this order's share of on_order."""
        return self.quantity - self.received_quantity - self.cancelled_quantity

    def receive(self, quantity: int, branch_id: str | None = None, part_number: str | None = None, by=None):
        """Units arrive against the order: on hand up, on order down; never more than outstanding. A
        receipt that names a branch or part names the order's own."""
        self._may_act(by)
        if (branch_id or self.branch_id, part_number or self.part_number) != (self.branch_id, self.part_number):
            raise RuleBroken("the purchase order is for another branch or part",
                             purchase_order_id=f"is for {self.part_number} at {self.branch_id}")
        if self.status != "open":
            raise StateConflict(f"a purchase order that is {self.status} receives nothing",
                                purchase_order_id=f"is {self.status}")
        if quantity > self.outstanding:
            raise RuleBroken("more received than is outstanding on the order",
                             quantity=f"at most {self.outstanding}: {self.received_quantity} of {self.quantity}"
                                      " received already")
        self.received_quantity += quantity
        self.movements.append(movement("purchase_received", self.branch_id, self.part_number, quantity,
                                       purchase_order_id=self.purchase_order_id))
        if self.outstanding == 0:
            self.status = PURCHASE_ORDER.check(self.status, "received")
        self._announce("purchase.received", quantity=quantity, received_quantity=self.received_quantity,
                       outstanding=self.outstanding)

    def cancel(self, reason: str = "", by=None):
        """The rest is called off: what is still outstanding comes off on_order; what arrived stays."""
        self._may_act(by)
        self.status = PURCHASE_ORDER.check(self.status, "cancelled")
        rest = self.outstanding
        self.cancelled_quantity += rest
        self.movements.append(movement("purchase_cancelled", self.branch_id, self.part_number, rest,
                                       purchase_order_id=self.purchase_order_id, reference=reason))
        self._announce("purchase.cancelled", quantity=rest, received_quantity=self.received_quantity,
                       reason=reason)

    def take_movements(self) -> list[Movement]:
        taken, self.movements = self.movements, []
        return taken

    def _may_act(self, by):
        if by is not None and self.branch_id not in by:
            raise NotPermitted(NOT_IN_SCOPE)

    def _announce(self, event_type: str, **facts):
        self.record(event_type, purchase_order_id=self.purchase_order_id, part_number=self.part_number,
                    repair_order_id=self.repair_order_id, **facts)


# -- the service desk's outlook -----------------------------------------------------------------------------------
def transit_eta(dispatched_at: datetime, lead_time_hours: int) -> datetime:
    """When units on the road arrive: their dispatch time plus the lead time between the branches."""
    return dispatched_at + timedelta(hours=lead_time_hours)


def earliest(quantity: int, available: int, arrivals, now: datetime) -> datetime | None:
    """The earliest time a branch has `quantity` units free: now if it has them, else the time of the
    arrival (units in transit, units on order; (when, units) pairs) that brings it to the quantity,
    counting the earliest first; None when even everything coming is not enough. An arrival already
    late counts as arriving now: the desk promises nothing earlier than the present."""
    have = available
    if have >= quantity:
        return now
    for when, units in sorted(arrivals, key=lambda a: a[0]):
        have += units
        if have >= quantity:
            return max(when, now)
    return None


def outlook(part_number: str, quantity: int, shelves, transits, orders, lead_times, now: datetime) -> dict:
    """Per branch of the group: what is free now, what is on the road to it (with ETA), what is on order
    for it (with the expected date), and the earliest time it has `quantity`: figures only.

    `shelves`: stock rows (branch_id, region_id, available); `transits`: dispatched transfers still
    on the road (transfer_id, branch_id, region_id, from_branch_id, from_region_id, quantity,
    dispatched_at); `orders`: open purchase orders (purchase_order_id, branch_id, outstanding, expected_at).
    """
    branches: dict = {}

    def branch(branch_id, region_id=None):
        return branches.setdefault(branch_id, {"branch_id": branch_id, "region_id": region_id, "available": 0,
                                               "in_transit": [], "on_order": []})

    for row in shelves:
        branch(row["branch_id"], row["region_id"])["available"] = row["available"]
    for t in transits:
        hours = lead_times.between(t["from_branch_id"], t["from_region_id"], t["branch_id"], t["region_id"])
        branch(t["branch_id"], t["region_id"])["in_transit"].append({
            "transfer_id": t["transfer_id"], "from_branch_id": t["from_branch_id"], "quantity": t["quantity"],
            "eta": transit_eta(t["dispatched_at"], hours)})
    for o in orders:
        branch(o["branch_id"], o.get("region_id"))["on_order"].append({
            "purchase_order_id": o["purchase_order_id"], "quantity": o["outstanding"],
            "expected_at": o["expected_at"]})
    answer = []
    for b in sorted(branches.values(), key=lambda b: b["branch_id"]):
        b["in_transit"].sort(key=lambda t: (t["eta"], str(t["transfer_id"])))
        b["on_order"].sort(key=lambda o: (o["expected_at"], str(o["purchase_order_id"])))
        arrivals = [(t["eta"], t["quantity"]) for t in b["in_transit"]] + \
                   [(o["expected_at"], o["quantity"]) for o in b["on_order"]]
        b["in_transit_quantity"] = sum(t["quantity"] for t in b["in_transit"])
        b["on_order_quantity"] = sum(o["quantity"] for o in b["on_order"])
        b["earliest_at"] = earliest(quantity, max(b["available"], 0), arrivals, now)
        answer.append(b)
    return {"part_number": part_number, "quantity": quantity, "branches": answer}
