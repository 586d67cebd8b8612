"""Replenishment proposals, no I/O ("Threshold alerts"): made at once with a threshold alert,
how much to bring and from where, who sees it, and its life (proposed -> accepted | dismissed |
superseded).

How much: up to the reorder point plus the safety stock (`target`), less what is available and
less what is already coming (`incoming`: units in transit to the branch, units on order for it from
the supplier, and units of transfers requested for it that have not left yet), so that nothing is
ordered twice. Nothing to bring (the incoming stock covers the target) proposes nothing.

From where: the best donor of donors.rank (a transfer when a branch can give it all above its own
safety stock: same region first, then the shorter lead time), else a purchase.

One open proposal per shelf: an alert while one is proposed proposes nothing new (the louder alert
below safety stock after the reorder alert keeps the first proposal). Stock back at or above the
reorder point supersedes the open proposal.
"""
from dataclasses import dataclass
from uuid import UUID

from shared.domain import Aggregate, NotPermitted, StateConflict

STATUSES = ("proposed", "accepted", "dismissed", "superseded")
KINDS = ("transfer", "purchase")
AUDIENCES = ("purchasing", "warehouse", "desk")
DOWN = {"below_reorder": "reorder_point", "below_safety": "safety_stock"}
NOT_IN_SCOPE = "not found in your scope"


def target(reorder_point: int | None, safety_stock: int | None) -> int:
    """The level a replenishment brings the shelf back to: reorder point plus safety stock."""
    return (reorder_point or 0) + (safety_stock or 0)


def incoming(in_transit: int, on_order: int, requested: int) -> int:
    """Units already coming to the branch: dispatched to it, on order for it, requested for it."""
    return max(in_transit or 0, 0) + max(on_order or 0, 0) + max(requested or 0, 0)


def quantity_to_bring(available: int, reorder_point: int | None, safety_stock: int | None, coming: int) -> int:
    """Up to the reorder point plus safety stock, counting what is already coming; never less than nothing."""
    return max(0, target(reorder_point, safety_stock) - available - coming)


def alert_of(crossings) -> str | None:
    """The alert a stock check raised that asks for stock ('reorder_point' or 'safety_stock', the
    louder first), or None when it fell below nothing."""
    found = [DOWN[c] for c in ("below_safety", "below_reorder") if c in crossings]
    return found[0] if found else None


def supersedes(crossings) -> bool:
    """Stock recovered above the reorder point: an open proposal is no longer wanted."""
    return "recovered" in crossings


@dataclass
class Replenishment(Aggregate):
    replenishment_id: UUID
    branch_id: str
    region_id: str | None
    part_number: str
    alert: str
    kind: str
    from_branch_id: str | None
    quantity: int
    lead_time_hours: int
    available: int
    incoming: int
    target: int
    status: str = "proposed"
    transfer_id: UUID | None = None
    accepted_by: str | None = None
    purchase_order_id: UUID | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Replenishment":
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k != "events"})

    @classmethod
    def propose(cls, replenishment_id, stock, alert: str, coming: int, plan: dict | None) -> "Replenishment | None":
        """The proposal made with `alert` for `stock` (domain.Stock), from `plan` (donors.rank for
        the quantity); None when what is coming already covers the target."""
        quantity = quantity_to_bring(stock.available, stock.reorder_point, stock.safety_stock, coming)
        if quantity < 1 or plan is None:
            return None
        chosen = plan["proposal"]
        proposal = cls(replenishment_id, stock.branch_id, stock.region_id, stock.part_number, alert, chosen["kind"],
                       chosen["from_branch_id"], quantity, chosen["lead_time_hours"], stock.available, coming,
                       target(stock.reorder_point, stock.safety_stock))
        proposal.record("stock.replenishment_proposed", replenishment_id=replenishment_id,
                        part_number=stock.part_number, alert=alert, kind=proposal.kind,
                        from_branch_id=proposal.from_branch_id, quantity=quantity,
                        lead_time_hours=proposal.lead_time_hours, region_id=stock.region_id or "")
        return proposal

    def may_act(self, by):
        """The branch the stock is for accepts or dismisses its proposal; a caller who acts for
        neither side cannot tell it from none."""
        if by is None or self.branch_id in by:
            return
        if self.from_branch_id in by:
            raise NotPermitted(f"the branch the stock is for ({self.branch_id}) decides on its replenishment")
        raise NotPermitted(NOT_IN_SCOPE)

    def check_open(self, by=None, status: str = "accepted"):
        """The caller may decide on this proposal, and it is still proposed (nothing changes)."""
        self.may_act(by)
        if self.status != "proposed":
            raise StateConflict(f"the replenishment is {self.status}, no longer proposed",
                                status=f"{self.status}: only a proposed replenishment can be {status}")

    def _decide(self, status: str, by):
        self.check_open(by, status)
        self.status = status

    def accept(self, by=None, who: str | None = None, transfer_id=None, purchase_order_id=None):
        """Taken with one call: a transfer proposal becomes the transfer request `transfer_id`, a
        purchase proposal the purchase order `purchase_order_id`."""
        self._decide("accepted", by)
        self.transfer_id, self.purchase_order_id, self.accepted_by = transfer_id, purchase_order_id, who
        self.record("stock.replenishment_accepted", replenishment_id=self.replenishment_id,
                    part_number=self.part_number, kind=self.kind, from_branch_id=self.from_branch_id,
                    quantity=self.quantity, transfer_id=transfer_id, purchase_order_id=purchase_order_id)

    def dismiss(self, by=None):
        self._decide("dismissed", by)


def audience_filter(audience: str | None) -> tuple[str | None, bool]:
    """(the kind of proposal the audience sees or None for every kind, whether the branches filter
    matches the giving branch too):

    purchasing sees purchase proposals for its branches; the warehouse sees the transfers its branch
    is to give or to receive; the service desk sees everything for its branch."""
    if audience == "purchasing":
        return "purchase", False
    if audience == "warehouse":
        return "transfer", True
    return None, False
