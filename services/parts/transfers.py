"""The transfer life cycle, no I/O: stock sent from one branch to another step by step, who acts on each
step, what each moves in the ledger; and, between two sites (docs/sites.md), which site takes each step
and how the other site's steps are applied to this site's copy."""
from dataclasses import dataclass, field
from uuid import UUID

from services.parts.domain import NOT_IN_SCOPE, KnownRepairOrder, Movement, movement
from shared.contracts.api.parts import WRITE_OFF_REASONS
from shared.domain import Aggregate, NotPermitted, RuleBroken, StateConflict, StateMachine

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
