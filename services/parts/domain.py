"""Parts rules, no I/O: what each ledger movement changes, a shelf's threshold alerts, who gets stock
that repair orders wait for (in order of need), and the transfer life cycle with who acts on each step."""
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from shared.domain import Aggregate, NotPermitted, RuleBroken, StateMachine

ORIGINS = ("oem", "alternative")

# domain.md s1 and s5: the order of need, most needed first; a priority not named here comes last
PRIORITIES = ("safety_critical", "vip", "routine", "cosmetic")
DEFAULT_PRIORITY = "routine"  # for an approval that names none

# Scope answers as shared/scope.py does: a record outside the caller's branches looks missing.
NOT_IN_SCOPE = "not found in your scope"


# -- the ledger: every change of a quantity is one movement ------------------------------------------
# kind -> what one unit of it does to (on_hand, reserved, in_transit) of the stock row it moves
EFFECTS = {
    "receipt": (1, 0, 0),
    "reservation": (0, 1, 0),
    "release": (0, -1, 0),
    "consumption": (-1, -1, 0),
    "transfer_out": (-1, 0, 0),
    "in_transit": (0, 0, 1),
    "transfer_in": (1, 0, -1),
}
MOVEMENTS = tuple(EFFECTS)


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


def movement(kind: str, branch_id: str, part_number: str, quantity: int, **refs) -> Movement:
    """A movement of `quantity` units of `kind`; the quantities it changes follow from the kind."""
    if quantity < 1:
        raise RuleBroken("a movement moves at least one unit", quantity="must be at least 1")
    on_hand, reserved, in_transit = EFFECTS[kind]
    return Movement(kind, branch_id, part_number, quantity, on_hand * quantity, reserved * quantity,
                    in_transit * quantity, **refs)


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

    @classmethod
    def from_row(cls, branch_id: str, part_number: str, row: dict) -> "Stock":
        return cls(branch_id, part_number, row["on_hand"], row["reserved"], row["reorder_point"],
                   row["safety_stock"], row["below_reorder"], row.get("region_id"))

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def check_threshold(self) -> bool:
        """Alert purchasing, the warehouse and the desk when available stock crosses the reorder
        point (domain.md s5), once per crossing; True when it crossed (`below_reorder` changed)."""
        crossing = threshold_change(self.below_reorder, self.available, self.reorder_point)
        if crossing is None:
            return False
        self.below_reorder = crossing == "below"
        if self.below_reorder:
            self.record("stock.below_threshold", part_number=self.part_number, available=self.available,
                        reorder_point=self.reorder_point, safety_stock=self.safety_stock or 0,
                        region_id=self.region_id or "")
        else:
            self.record("stock.recovered", part_number=self.part_number, available=self.available,
                        region_id=self.region_id or "")
        return True


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

    def short_lines(self, free: dict) -> list[dict]:
        return [{"part_number": p, "requested": q, "available": max(free.get(p, 0), 0)}
                for p, q in sorted(self.wanted.items()) if free.get(p, 0) < q]

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

    def reserve(self, order: Shortage) -> bool:
        """An order just approved: its parts, all of them, if they are free; else it starts to wait
        (parts.shortage with what is missing) and False."""
        if order.fits(self.free):
            self._give(order)
            return True
        self.record("parts.shortage", repair_order_id=order.repair_order_id, lines=order.short_lines(self.free))
        return False

    def serve(self, waiting) -> list[Shortage]:
        """Stock arrived: the open shortages it can now cover, most needed first; each gets all its
        parts (parts.reserved) or stays open."""
        served = []
        for order in sorted((s for s in waiting if s.is_open), key=lambda s: s.need):
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


# -- transfers between branches and regions ------------------------------------------------------------------
# domain.md s5: requested -> approved -> picked -> dispatched (in transit) -> received -> closed; or
# cancelled before dispatch. A partly received transfer stays `dispatched`: the rest is still on the
# road (in transit at the receiving branch), and it is `received` when all that was sent has arrived.
TRANSFER = StateMachine("transfer", {
    "requested": {"approved", "cancelled"},
    "approved": {"picked", "cancelled"},
    "picked": {"dispatched", "cancelled"},
    "dispatched": {"received"},
    "received": {"closed"},
    "closed": set(),
    "cancelled": set(),
})
OPEN_TRANSFER = {"requested", "approved", "picked", "dispatched", "received"}

SENDING, RECEIVING = "from_branch_id", "branch_id"
# Who acts on each step: the branch that gives the stock approves, picks and dispatches it (and may
# cancel before it leaves); the branch that needs it asks for it, receives it and closes the transfer.
ACTS_ON = {"requested": RECEIVING, "approved": SENDING, "picked": SENDING, "dispatched": SENDING,
           "cancelled": SENDING, "received": RECEIVING, "closed": RECEIVING}
SIDE = {SENDING: "sending", RECEIVING: "receiving"}
VERB = {"requested": "requests", "approved": "approves", "picked": "picks", "dispatched": "dispatches",
        "cancelled": "cancels", "received": "receives", "closed": "closes"}


@dataclass
class Transfer(Aggregate):
    """Stock sent from one branch (from_branch_id) to another (branch_id), step by step.

    `by` in each command is the caller's branches (None: every branch, as for admins and services).
    `movements` are the ledger movements the last command causes, for the service to apply.
    """

    transfer_id: UUID
    branch_id: str  # the receiving branch, which asked for the stock
    from_branch_id: str
    part_number: str
    quantity: int
    status: str = "requested"
    received_quantity: int = 0
    repair_order_id: UUID | None = None
    tracking_reference: str | None = None
    movements: list = field(default_factory=list, kw_only=True, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: dict) -> "Transfer":
        return cls(row["transfer_id"], row["branch_id"], row["from_branch_id"], row["part_number"],
                   row["quantity"], row["status"], row["received_quantity"], row["repair_order_id"],
                   row["tracking_reference"])

    @classmethod
    def request(cls, transfer_id, branch_id, from_branch_id, part_number, quantity, repair_order_id=None,
                repair_order: KnownRepairOrder | None = None, by=None) -> "Transfer":
        """The receiving branch asks for stock; a repair order it names must be one of its own."""
        transfer = cls(transfer_id, branch_id, from_branch_id, part_number, quantity,
                       repair_order_id=repair_order_id)
        transfer._may_act("requested", by)
        if repair_order_id is not None and (repair_order is None or repair_order.branch_id != branch_id):
            if by is not None:  # a scoped caller cannot tell another branch's order from none
                raise NotPermitted(NOT_IN_SCOPE)
            raise RuleBroken("the repair order is not one of the receiving branch",
                             repair_order_id="no repair order with this id at branch_id")
        transfer._announce("requested")
        return transfer

    @property
    def in_transit(self) -> int:
        """Units dispatched and not received yet."""
        return self.quantity - self.received_quantity if self.status == "dispatched" else 0

    def advance(self, step: str, by=None, received_quantity: int | None = None,
                tracking_reference: str | None = None):
        """The step a caller asks for, by its target status."""
        if step == "received":
            return self.receive(received_quantity, by)
        if step == "dispatched":
            return self.dispatch(tracking_reference, by)
        if step == "requested":  # a transfer is requested once, when it is made
            TRANSFER.check(self.status, step)
        return {"approved": self.approve, "picked": self.pick, "closed": self.close,
                "cancelled": self.cancel}[step](by)

    def approve(self, by=None):
        self._step("approved", by)

    def pick(self, by=None):
        self._step("picked", by)

    def dispatch(self, tracking_reference: str | None = None, by=None):
        """The stock leaves the sending branch and is in transit to the receiving one."""
        self._step("dispatched", by, announce=False)
        self.tracking_reference = tracking_reference or f"TR-{str(self.transfer_id)[:8].upper()}"
        refs = {"transfer_id": self.transfer_id}
        self.movements += [movement("transfer_out", self.from_branch_id, self.part_number, self.quantity, **refs),
                           movement("in_transit", self.branch_id, self.part_number, self.quantity, **refs)]
        self._announce("dispatched")

    def receive(self, quantity: int | None = None, by=None):
        """Units arrive at the receiving branch: all still in transit unless `quantity` says fewer.
        A part receipt leaves the rest in transit; never more than was sent is received."""
        self._may_act("received", by)
        TRANSFER.check(self.status, "received")
        outstanding = self.quantity - self.received_quantity
        quantity = outstanding if quantity is None else quantity
        if quantity < 1:
            raise RuleBroken("a receipt receives at least one unit", received_quantity="must be at least 1")
        if quantity > outstanding:
            raise RuleBroken("more received than sent",
                             received_quantity=f"at most {outstanding}: {self.received_quantity} of"
                                               f" {self.quantity} received already")
        self.received_quantity += quantity
        self.movements.append(movement("transfer_in", self.branch_id, self.part_number, quantity,
                                       transfer_id=self.transfer_id))
        if self.received_quantity == self.quantity:
            self.status = "received"
            self._announce("received")  # in full: the delivery clock stops here
        else:
            self._announce("partly_received")

    def close(self, by=None):
        self._step("closed", by)

    def cancel(self, by=None):
        self._step("cancelled", by)

    def take_movements(self) -> list[Movement]:
        taken, self.movements = self.movements, []
        return taken

    # -- guards ---------------------------------------------------------------------------------------------
    def _step(self, status: str, by, announce=True):
        self._may_act(status, by)
        self.status = TRANSFER.check(self.status, status)
        if announce:
            self._announce(status)

    def _may_act(self, step: str, by):
        """The caller acts for the side of the transfer that owns `step`; a caller who acts for
        neither side is told the transfer is not there, as for any record outside their scope."""
        if by is None:
            return
        side = ACTS_ON[step]
        if getattr(self, side) in by:
            return
        if not {self.branch_id, self.from_branch_id} & set(by):
            raise NotPermitted(NOT_IN_SCOPE)
        other = SENDING if side == RECEIVING else RECEIVING
        raise NotPermitted(f"only the {SIDE[side]} branch ({getattr(self, side)}) {VERB[step]} a transfer;"
                           f" you act for the {SIDE[other]} branch ({getattr(self, other)})",
                           status=f"the {SIDE[side]} branch ({side}) {VERB[step]} a transfer")

    def _announce(self, step: str):
        self.record(f"transfer.{step}", transfer_id=self.transfer_id, from_branch_id=self.from_branch_id,
                    part_number=self.part_number, quantity=self.quantity, repair_order_id=self.repair_order_id,
                    tracking_reference=self.tracking_reference, received_quantity=self.received_quantity)

