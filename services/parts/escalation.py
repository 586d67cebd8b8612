"""Shortage escalation, no I/O ("Shortage escalation"): a repair order that waits for parts
moves through three tiers, each an SLA clock that, when it runs out, starts the next.

    tier    clock (shared/sla/policies.json)   started by             proposal
    local   parts_shortage_local  (1 h)         parts.shortage          purchase from the local supplier
    region  parts_shortage_region (4 h)         parts.escalated_region  best donor in the same region
    group   parts_shortage_group  (24 h)        parts.escalated_group   best donor in another region, else purchase

A tier's action is proposed when the tier starts and recorded when it is taken: a transfer requested
for the repair order (transfer.requested with its repair_order_id) or a purchase ordered for it. Taking
the action stops the tier's clock (met: the shortage is sourced, the order now waits for delivery, whose
own clock is transfer_delivery), so it escalates no further. A clock that breaches with no action taken
at its tier moves the shortage to the next tier; the group tier is the last. Served (parts.reserved) stops
every clock; a cancelled repair order cancels them.

While the order waits the advisor is told to offer a loaner car: parts.loaner_suggested, once per
shortage (when it starts to wait).
"""
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from services.parts import donors
from shared.domain import Aggregate

TIERS = ("local", "region", "group")
POLICIES = {tier: f"parts_shortage_{tier}" for tier in TIERS}
ESCALATED = {"region": "parts.escalated_region", "group": "parts.escalated_group"}


def tier_of(policy: str) -> str | None:
    """The tier whose clock `policy` is, or None for any other policy."""
    return next((t for t, p in POLICIES.items() if p == policy), None)


def next_tier(tier: str) -> str | None:
    i = TIERS.index(tier)
    return TIERS[i + 1] if i + 1 < len(TIERS) else None


def needs(short_lines) -> dict:
    """Part number -> units the branch is short of, from parts.shortage's lines (requested, available)."""
    short = {}
    for line in short_lines:
        missing = int(line["requested"]) - max(int(line["available"]), 0)
        if missing > 0:
            short[line["part_number"]] = short.get(line["part_number"], 0) + missing
    return short


def _purchase(part_number, quantity, lead_times) -> dict:
    return {"part_number": part_number, "quantity": quantity, "kind": "purchase", "from_branch_id": None,
            "lead_time_hours": lead_times.purchase()}


def propose(tier: str, branch_id: str, region_id: str | None, short: dict, shelves: dict, lead_times,
            now=None, max_age=None) -> list[dict]:
    """The tier's proposal, one entry per part short: the local tier buys from the local supplier; the
    region tier takes the best donor of the same region; the group tier the best donor of another
    region; with no such donor that can give all of it above its safety stock, a purchase.
    `shelves` is part number -> every branch's stock rows of it (store.group_stock), other sites'
    included: their figures as of `now`, too old after `max_age` seconds (donors.rank)."""
    proposal = []
    for part_number, quantity in sorted(short.items()):
        if tier == "local":
            proposal.append(_purchase(part_number, quantity, lead_times))
            continue
        same = tier == "region"
        rows = [r for r in shelves.get(part_number, ()) if (r["region_id"] == region_id) == same]
        plan = donors.rank(branch_id, region_id, quantity, rows, lead_times, now, max_age)["proposal"]
        if plan["kind"] == "transfer":
            proposal.append({"part_number": part_number, **plan})
        else:
            proposal.append(_purchase(part_number, quantity, lead_times))
    return proposal


@dataclass
class Escalation(Aggregate):
    """One waiting repair order's escalation: its tier, the tier's proposal, the actions taken."""

    repair_order_id: UUID
    branch_id: str
    region_id: str | None
    needs: dict
    tier: str
    tier_since: datetime
    proposal: list
    waiting_since: datetime
    actions: list = field(default_factory=list)
    status: str = "open"

    @classmethod
    def from_row(cls, row: dict) -> "Escalation":
        return cls(row["repair_order_id"], row["branch_id"], row["region_id"], dict(row["needs"]), row["tier"],
                   row["tier_since"], list(row["proposal"]), row["waiting_since"], list(row["actions"]),
                   row["status"])

    @classmethod
    def open(cls, repair_order_id, branch_id, region_id, short: dict, waiting_since: datetime,
             proposal: list) -> "Escalation":
        """The order starts to wait (parts.shortage): the local tier, and the advisor is told to offer
        a loaner car."""
        escalation = cls(repair_order_id, branch_id, region_id, short, "local", waiting_since, proposal, waiting_since)
        escalation.record("parts.loaner_suggested", repair_order_id=repair_order_id, waiting_since=waiting_since,
                          tier="local", lines=[{"part_number": p, "quantity": q} for p, q in sorted(short.items())])
        return escalation

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def acted_at_tier(self) -> bool:
        return any(a.get("tier") == self.tier for a in self.actions)

    def due_to_escalate(self, breached_policy: str) -> str | None:
        """The tier to move to when `breached_policy`'s clock breached: the next one, if the shortage is
        open, at the breached clock's tier and no action was taken at it; else None."""
        if not self.is_open or tier_of(breached_policy) != self.tier or self.acted_at_tier():
            return None
        return next_tier(self.tier)

    def escalate(self, tier: str, at: datetime, proposal: list):
        """The previous tier's clock ran out: the next tier's clock starts with its event."""
        self.tier, self.tier_since, self.proposal = tier, at, proposal
        self.record(ESCALATED[tier], repair_order_id=self.repair_order_id, tier=tier, proposal=proposal,
                    waiting_since=self.waiting_since)

    def take(self, action: dict) -> bool:
        """Record an action taken for the order (a transfer requested, a purchase ordered) at the
        current tier; the same action twice (its reference) is recorded once. False when not recorded."""
        if not self.is_open or any(a["reference"] == action["reference"] for a in self.actions):
            return False
        self.actions.append({**action, "tier": self.tier})
        return True

    def serve(self):
        self.status = "served"

    def cancel(self):
        self.status = "cancelled"
