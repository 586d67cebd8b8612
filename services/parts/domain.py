"""Parts rules, no I/O: what each ledger movement changes, a shelf's threshold alerts, who gets stock
that repair orders wait for (in order of need), and the transfer life cycle with who acts on each step."""
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from services.parts import catalogue  # approved substitutes a short line may offer (parts catalogue)
from shared.contracts.api.parts import ORIGINS, WRITE_OFF_REASONS  # noqa: F401  (the API's words)
from shared.domain import Aggregate, NotPermitted, RuleBroken, StateConflict, StateMachine

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


# -- transfers between branches and regions ------------------------------------------------------------------
# domain.md s5: requested -> approved -> picked -> dispatched (in transit) -> received -> closed; or
# cancelled before dispatch. A partly received transfer stays `dispatched`: the rest is still on the
# road (in transit at the receiving branch) until it arrives or the receiving branch writes it off with
# a reason; the transfer is `received` when nothing of it is in transit any more.
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
TRANSFER_ORDER = ("requested", "approved", "picked", "dispatched", "received", "closed", "cancelled")


class TransferBehind(Exception):
    """A step of another site arrived before a step it follows (docs/sites.md): it waits, and is tried again."""

SENDING, RECEIVING = "from_branch_id", "branch_id"
# Who acts on each step: the branch that gives the stock approves, picks and dispatches it, sends the
# carrier's tracking reference (and may cancel before it leaves); the branch that needs it asks for it,
# receives it, writes off what never came and closes the transfer.
ACTS_ON = {"requested": RECEIVING, "approved": SENDING, "picked": SENDING, "dispatched": SENDING,
           "partly_received": RECEIVING,
           "cancelled": SENDING, "tracking_sent": SENDING, "received": RECEIVING, "written_off": RECEIVING,
           "closed": RECEIVING}
SIDE = {SENDING: "sending", RECEIVING: "receiving"}
VERB = {"requested": "requests", "approved": "approves", "picked": "picks", "dispatched": "dispatches",
        "cancelled": "cancels", "tracking_sent": "sends the tracking reference of", "received": "receives",
        "written_off": "writes off what never came of", "closed": "closes"}


@dataclass(frozen=True)
class Step:
    """One step of a transfer as its history keeps it: what happened, who did it, how many units."""

    step: str
    acted_by: str | None
    quantity: int | None = None
    reason: str | None = None


@dataclass
class Transfer(Aggregate):
    """Stock sent from one branch (from_branch_id) to another (branch_id), step by step.

    `by` in each command is the caller's branches (None: every branch, as for admins and services);
    `actor` the person (the caller's token subject, or whom an admin names). `movements` are the
    ledger movements the last command causes, and `steps` its lines of the history, for the service
    to apply and keep.
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
    written_off_quantity: int = 0
    # between two sites (docs/sites.md): the site of each branch, and the site this copy is kept at
    from_site: str | None = None
    to_site: str | None = None
    here: str | None = field(default=None, kw_only=True, compare=False)
    movements: list = field(default_factory=list, kw_only=True, repr=False, compare=False)
    steps: list = field(default_factory=list, kw_only=True, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: dict, here: str | None = None) -> "Transfer":
        return cls(row["transfer_id"], row["branch_id"], row["from_branch_id"], row["part_number"],
                   row["quantity"], row["status"], row["received_quantity"], row["repair_order_id"],
                   row["tracking_reference"], row.get("written_off_quantity") or 0, row.get("from_site"),
                   row.get("to_site"), here=here)

    @classmethod
    def request(cls, transfer_id, branch_id, from_branch_id, part_number, quantity, repair_order_id=None,
                repair_order: KnownRepairOrder | None = None, by=None, actor: str | None = None,
                from_site: str | None = None, here: str | None = None) -> "Transfer":
        """The receiving branch asks for stock; a repair order it names must be one of its own. From a
        branch of another site (`from_site`), the transfer is between this site (`here`) and that one."""
        transfer = cls(transfer_id, branch_id, from_branch_id, part_number, quantity,
                       repair_order_id=repair_order_id, from_site=from_site,
                       to_site=here if from_site is not None else None, here=here)
        transfer._may_act("requested", by)
        if repair_order_id is not None and (repair_order is None or repair_order.branch_id != branch_id):
            if by is not None:  # a scoped caller cannot tell another branch's order from none
                raise NotPermitted(NOT_IN_SCOPE)
            raise RuleBroken("the repair order is not one of the receiving branch",
                             repair_order_id="no repair order with this id at branch_id")
        transfer._announce("requested", actor)
        return transfer

    @property
    def outstanding(self) -> int:
        """Units sent that have neither arrived nor been written off."""
        return self.quantity - self.received_quantity - self.written_off_quantity

    @property
    def in_transit(self) -> int:
        """Units dispatched and not received (or written off) yet."""
        return self.outstanding if self.status == "dispatched" else 0

    def advance(self, step: str, by=None, received_quantity: int | None = None,
                tracking_reference: str | None = None, actor: str | None = None, delivery_hours: int | None = None):
        """The step a caller asks for, by its target status."""
        if step == "received":
            return self.receive(received_quantity, by, actor)
        if step == "dispatched":
            return self.dispatch(tracking_reference, by, actor, delivery_hours)
        if step == "requested":  # a transfer is requested once, when it is made
            TRANSFER.check(self.status, step)
        return {"approved": self.approve, "picked": self.pick, "closed": self.close,
                "cancelled": self.cancel}[step](by, actor)

    def approve(self, by=None, actor=None):
        self._step("approved", by, actor)

    def pick(self, by=None, actor=None):
        self._step("picked", by, actor)

    def dispatch(self, tracking_reference: str | None = None, by=None, actor=None, delivery_hours: int | None = None):
        """The stock leaves the sending branch and is in transit to the receiving one, due within the
        lead time between them (`delivery_hours`: the delivery clock's target; the policy's 24 h when
        not known). The carrier's tracking reference goes with it when the sender has it, else within
        30 minutes (send_tracking)."""
        self._step("dispatched", by, actor, announce=False)
        refs = {"transfer_id": self.transfer_id}
        self.movements.append(movement("transfer_out", self.from_branch_id, self.part_number, self.quantity, **refs))
        if self._kept_here(RECEIVING):  # else the receiving site moves it into transit when the dispatch arrives
            self.movements.append(movement("in_transit", self.branch_id, self.part_number, self.quantity, **refs))
        self.tracking_reference = tracking_reference or self.tracking_reference
        self._announce("dispatched", actor, delivery_seconds=delivery_hours * 3600 if delivery_hours else None)
        if tracking_reference:
            self.send_tracking(tracking_reference, by, actor)

    def send_tracking(self, tracking_reference: str, by=None, actor=None):
        """The carrier's tracking reference, to the receiving branch and the repair order the transfer
        is for (transfer.tracking_sent, which stops the 30-minute tracking clock). Sent again, a
        corrected reference replaces the first."""
        self._may_act("tracking_sent", by)
        if self.status not in ("dispatched", "received"):
            raise StateConflict("a tracking reference follows the dispatch", status=f"is {self.status}")
        self.tracking_reference = tracking_reference
        self._announce("tracking_sent", actor)

    def receive(self, quantity: int | None = None, by=None, actor=None):
        """Units arrive at the receiving branch: all still in transit unless `quantity` says fewer.
        A part receipt leaves the rest in transit; never more than was sent is received."""
        self._may_act("received", by)
        TRANSFER.check(self.status, "received")
        quantity = self._units(quantity, "received_quantity", "received")
        self.received_quantity += quantity
        self.movements.append(movement("transfer_in", self.branch_id, self.part_number, quantity,
                                       transfer_id=self.transfer_id))
        self._arrived_or_not(actor, quantity)

    def write_off(self, reason: str, quantity: int | None = None, by=None, actor=None):
        """Units that will not come (lost, damaged, never packed): the receiving branch takes them out
        of transit with the reason; with nothing left on the road the transfer is received."""
        self._may_act("written_off", by)
        if self.status != "dispatched":
            raise StateConflict("only units still in transit are written off", status=f"is {self.status}")
        if reason not in WRITE_OFF_REASONS:
            raise RuleBroken("a write-off names why", reason=f"one of {', '.join(WRITE_OFF_REASONS)}")
        quantity = self._units(quantity, "quantity", "written off")
        self.written_off_quantity += quantity
        self.movements.append(movement("transit_written_off", self.branch_id, self.part_number, quantity,
                                       transfer_id=self.transfer_id, reference=reason))
        self._announce("written_off", actor, quantity=quantity, reason=reason)
        self._arrived_or_not(actor)

    def close(self, by=None, actor=None):
        self._step("closed", by, actor)

    def cancel(self, by=None, actor=None):
        self._step("cancelled", by, actor)

    # -- between two sites: the other site's steps, applied to this site's copy --------------------------------
    @classmethod
    def mirror_request(cls, facts: dict, here: str) -> "Transfer":
        """A branch of another site asked this site's branch for stock: this site's copy of the transfer,
        for the sending branch to approve, pick and dispatch here."""
        transfer = cls(facts["transfer_id"], facts["branch_id"], facts["from_branch_id"], facts["part_number"],
                       facts["quantity"], repair_order_id=facts["repair_order_id"], from_site=facts["from_site"],
                       to_site=facts["to_site"], here=here)
        if transfer._kept_here(RECEIVING) or not transfer._kept_here(SENDING):
            raise RuleBroken("a transfer between sites is requested at the receiving branch's site, for a branch"
                             " of this one", from_site=f"is {transfer.from_site}, this site is {here}")
        transfer._announce("requested", facts["acted_by"], mirrored_from=transfer.to_site)
        return transfer

    def mirror(self, step: str, facts: dict) -> bool:
        """A step the other site took (its event, crossed by the shovel), applied to this copy once and in
        order: True when it changed the copy (and recorded the step here, mirrored_from that site); False
        when the copy has it already (a copy of the event sent twice, or an older step); TransferBehind
        when a step it follows has not arrived yet (the event waits and is tried again)."""
        side = ACTS_ON[step]
        if self._kept_here(side):
            raise RuleBroken("this site takes that step itself", status=f"{step} is this site's step")
        acted, quantity = facts.get("acted_by"), None
        if step == "tracking_sent":
            if self.status not in ("dispatched", "received", "closed"):
                raise TransferBehind(f"{step} before the dispatch of {self.transfer_id}")
            if self.tracking_reference == facts["tracking_reference"]:
                return False
            self.tracking_reference = facts["tracking_reference"]
        elif step in ("partly_received", "written_off", "received"):
            if self.status in ("received", "closed"):
                return False
            if self.status != "dispatched":
                raise TransferBehind(f"{step} before the dispatch of {self.transfer_id}")
            gone = (facts["received_quantity"] or 0) + (facts["written_off_quantity"] or 0)
            if gone < self.received_quantity + self.written_off_quantity or \
                    (gone == self.received_quantity + self.written_off_quantity and step != "received"):
                return False
            quantity = gone - self.received_quantity - self.written_off_quantity or None
            self.received_quantity = facts["received_quantity"] or 0
            self.written_off_quantity = facts["written_off_quantity"] or 0
            if step == "received":
                self.status = "received"
        else:
            if self.status == step or TRANSFER_ORDER.index(self.status) > TRANSFER_ORDER.index(step):
                return False
            if not TRANSFER.can(self.status, step):
                raise TransferBehind(f"{step} before the step it follows, of {self.transfer_id}")
            self.status = step
            if step == "dispatched":
                self.tracking_reference = facts["tracking_reference"] or self.tracking_reference
                if self._kept_here(RECEIVING):
                    self.movements.append(movement("in_transit", self.branch_id, self.part_number, self.quantity,
                                                   transfer_id=self.transfer_id))
        self._announce(step, acted, quantity=quantity, reason=facts.get("reason"),
                       mirrored_from=self._site_of(side), delivery_seconds=facts.get("delivery_seconds"))
        return True

    def _site_of(self, side: str) -> str | None:
        return self.from_site if side == SENDING else self.to_site

    def _kept_here(self, side: str) -> bool:
        """The branch of `side` is at this site (always so for a transfer within one site)."""
        site = self._site_of(side)
        return site is None or site == self.here

    def take_movements(self) -> list[Movement]:
        taken, self.movements = self.movements, []
        return taken

    def take_steps(self) -> list[Step]:
        taken, self.steps = self.steps, []
        return taken

    # -- guards ---------------------------------------------------------------------------------------------
    def _units(self, quantity: int | None, field_name: str, done: str) -> int:
        """Units a receipt or write-off moves: all still in transit unless it says fewer, never more."""
        quantity = self.outstanding if quantity is None else quantity
        if quantity < 1:
            raise RuleBroken(f"a transfer has at least one unit {done}", **{field_name: "must be at least 1"})
        if quantity > self.outstanding:
            raise RuleBroken(f"more {done} than is in transit",
                             **{field_name: f"at most {self.outstanding}: {self.received_quantity} of {self.quantity}"
                                            f" received, {self.written_off_quantity} written off"})
        return quantity

    def _arrived_or_not(self, actor, received: int | None = None):
        if self.outstanding == 0:
            self.status = "received"
            self._announce("received", actor, quantity=received)  # nothing on the road: the delivery clock stops
        elif received is not None:
            self._announce("partly_received", actor, quantity=received)

    def _step(self, status: str, by, actor, announce=True):
        self._may_act(status, by)
        self.status = TRANSFER.check(self.status, status)
        if announce:
            self._announce(status, actor)

    def _may_act(self, step: str, by):
        """The caller acts for the side of the transfer that owns `step`; a caller who acts for
        neither side is told the transfer is not there, as for any record outside their scope."""
        side = ACTS_ON[step]
        if by is None or getattr(self, side) in by:
            self._here_or_refuse(step, side)
            return
        if not {self.branch_id, self.from_branch_id} & set(by):
            raise NotPermitted(NOT_IN_SCOPE)
        self._here_or_refuse(step, side)
        other = SENDING if side == RECEIVING else RECEIVING
        raise NotPermitted(f"only the {SIDE[side]} branch ({getattr(self, side)}) {VERB[step]} a transfer;"
                           f" you act for the {SIDE[other]} branch ({getattr(self, other)})",
                           status=f"the {SIDE[side]} branch ({side}) {VERB[step]} a transfer")

    def _here_or_refuse(self, step: str, side: str):
        """A step is taken at the site of the branch that owns it; the other site gets it by the link."""
        if not self._kept_here(side):
            raise StateConflict(f"the {SIDE[side]} branch ({getattr(self, side)}) {VERB[step]} a transfer at its own"
                                f" site, {self._site_of(side)}; this site gets the step when it is taken there",
                                status=f"taken at site {self._site_of(side)}")

    def _announce(self, step: str, actor: str | None, quantity: int | None = None, reason: str | None = None,
                  **more):
        self.steps.append(Step(step, actor, quantity, reason))
        if self.from_site is not None:
            more.update(from_site=self.from_site, to_site=self.to_site)
        self.record(f"transfer.{step}", step=step, transfer_id=self.transfer_id, from_branch_id=self.from_branch_id,
                    part_number=self.part_number, quantity=self.quantity, repair_order_id=self.repair_order_id,
                    tracking_reference=self.tracking_reference, received_quantity=self.received_quantity,
                    written_off_quantity=self.written_off_quantity, acted_by=actor, reason=reason,
                    **{k: v for k, v in more.items() if v is not None})
