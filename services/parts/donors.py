"""Donor ranking across the group, no I/O: which branches can give a part a branch is short of, in
what order, and when a purchase is proposed instead (domain.md s5).

A donor gives only what it holds above its own safety stock: a transfer never leaves the giving
branch below the level that protects its own customers. Lead times are a per-group table, by branch
pair first, then by region pair, else the defaults below.

Branches of other sites (docs/sites.md) take part with the figures their site last sent: each such
donor shows the age of its figures, and one whose figures are older than the limit is listed as stale
and never proposed (its stock may be gone; ask its site).
"""
from dataclasses import dataclass
from datetime import datetime

from shared import sites
from shared.domain import RuleBroken

SAME_REGION_HOURS = 24  # domain.md s5: delivery within a region (province) in 24 hours
OTHER_REGION_HOURS = 72
PURCHASE_HOURS = 48  # domain.md s5 names no supplier delivery time (its 1 h is the escalation tier)
LEAD_TIME_KINDS = ("branch", "region", "purchase")
ANY = "*"  # from_id and to_id of a purchase entry: the group's supplier, to every branch


def can_give(available: int, safety_stock: int | None) -> int:
    """Units a branch can give and keep its safety stock; never less than nothing."""
    return max(0, available - (safety_stock or 0))


class LeadTimes:
    """Hours from one branch to another: a branch-pair entry, else a region-pair entry, else the defaults."""

    def __init__(self, entries=()):
        self.hours = {(e["kind"], e["from_id"], e["to_id"]): e["hours"] for e in entries}

    def between(self, from_branch, from_region, to_branch, to_region) -> int:
        for key in (("branch", from_branch, to_branch), ("region", from_region, to_region)):
            if key in self.hours:
                return self.hours[key]
        return SAME_REGION_HOURS if from_region == to_region else OTHER_REGION_HOURS

    def purchase(self) -> int:
        return self.hours.get(("purchase", ANY, ANY), PURCHASE_HOURS)


@dataclass(frozen=True)
class Donor:
    branch_id: str
    region_id: str | None
    available: int
    safety_stock: int | None
    can_give: int
    lead_time_hours: int
    same_region: bool
    enough: bool
    site: str | None = None  # another site's branch: its site, the time and age of its figures
    as_of: datetime | None = None
    age_seconds: float | None = None
    stale: bool = False


def freshness(row: dict, now: datetime | None, max_age: float | None) -> dict:
    """A remote shelf's site, the time and age of its figures, and whether they are too old to act on;
    a shelf of this site is as of now."""
    if row.get("site") is None:
        return {"site": None, "as_of": None, "age_seconds": None, "stale": False}
    age = sites.age_seconds(row["as_of"], now)
    return {"site": row["site"], "as_of": row["as_of"], "age_seconds": None if age is None else round(age, 1),
            "stale": sites.stale(row["as_of"], now, max_age)}


def shelf(row: dict, now: datetime | None = None, max_age: float | None = None) -> dict:
    """One branch's stock of the part as the group view shows it."""
    return {"branch_id": row["branch_id"], "region_id": row["region_id"], "available": row["available"],
            "safety_stock": row["safety_stock"], "can_give": can_give(row["available"], row["safety_stock"]),
            **(freshness(row, now, max_age) if row.get("site") else {})}


def rank(branch_id: str, region_id: str | None, quantity: int, shelves, lead_times: LeadTimes,
         now: datetime | None = None, max_age: float | None = None) -> dict:
    """Every other branch that can give something, best first, and the proposal.

    Donors that can give the whole quantity come first; among them (and among the rest) the same
    region first, then the shorter lead time, then the larger stock above safety. Another site's
    branch whose figures are older than `max_age` seconds at `now` comes last, marked stale, and is
    never proposed. The proposal is a transfer from the best donor when it can give enough, else a
    purchase of the quantity.
    """
    donors = []
    for row in shelves:
        if row["branch_id"] == branch_id:
            continue
        give = can_give(row["available"], row["safety_stock"])
        if give <= 0:
            continue
        donors.append(Donor(row["branch_id"], row["region_id"], row["available"], row["safety_stock"], give,
                            lead_times.between(row["branch_id"], row["region_id"], branch_id, region_id),
                            row["region_id"] == region_id, give >= quantity, **freshness(row, now, max_age)))
    donors.sort(key=lambda d: (d.stale, not d.enough, not d.same_region, d.lead_time_hours, -d.can_give,
                               d.branch_id))
    if donors and donors[0].enough and not donors[0].stale:
        proposal = {"kind": "transfer", "from_branch_id": donors[0].branch_id, "quantity": quantity,
                    "lead_time_hours": donors[0].lead_time_hours}
    else:
        proposal = {"kind": "purchase", "from_branch_id": None, "quantity": quantity,
                    "lead_time_hours": lead_times.purchase()}
    return {"branch_id": branch_id, "quantity": quantity, "donors": [_shown(d) for d in donors],
            "proposal": proposal}


def _shown(donor: Donor) -> dict:
    """A donor as the ranking lists it; the site, time and age of figures for another site's only."""
    shown = vars(donor).copy()
    if donor.site is None:
        for key in ("site", "as_of", "age_seconds", "stale"):
            del shown[key]
    return shown


def accept(donor_row: dict | None, quantity: int, now: datetime | None = None, max_age: float | None = None) -> int:
    """A coordinator takes a donor: it must still give the quantity above its safety stock, now; a
    branch of another site, by figures not older than `max_age` seconds."""
    if donor_row is not None and freshness(donor_row, now, max_age)["stale"]:
        raise RuleBroken("the donor's figures are too old to act on: ask its site, or wait for its figures",
                         from_branch_id=f"figures of site {donor_row['site']} are older than {int(max_age)} s")
    give = 0 if donor_row is None else can_give(donor_row["available"], donor_row["safety_stock"])
    if give < quantity:
        raise RuleBroken("the donor cannot give that many without falling below its safety stock",
                         from_branch_id=f"can give {give} of {quantity}")
    return give


def lead_time_entry(kind: str, from_id: str, to_id: str, hours: int) -> dict:
    """An entry of the table; a purchase has one time for the group, from its supplier to every branch."""
    if kind == "purchase":
        from_id = to_id = ANY
    elif from_id == to_id and kind == "branch":
        raise RuleBroken("a lead time is between two branches", to_id="must differ from from_id")
    return {"kind": kind, "from_id": from_id, "to_id": to_id, "hours": hours}
