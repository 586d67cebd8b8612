"""Sites, no I/O (docs/sites.md): regional stacks, each with its own broker, database, services and
gateway, linked by RabbitMQ shovels. Only what the group shares crosses from one site to the others:
each site's figures (stock above safety, SLA compliance) and the steps of transfers between branches
of different sites. Everything else stays at the site where it happened.
"""
from dataclasses import dataclass
from datetime import datetime

from shared.sla import rules as sla_rules

SITE_FIGURES = ("stock.site_figures", "sla.site_figures")  # published every interval, always crossing


def crosses(event_type: str, event: dict) -> bool:
    """Whether an event goes to the other sites as well as to its own site's services.

    A site's figures always do. A transfer's step does when the transfer's two branches are at two
    sites and the step was taken here: a step mirrored from the other site (mirrored_from) is that
    site's, and never goes back. Nothing else leaves its site."""
    if event_type in SITE_FIGURES:
        return True
    if event_type.startswith("transfer."):
        return event.get("mirrored_from") is None and event.get("from_site") != event.get("to_site")
    return False


def stays_home_too(event_type: str) -> bool:
    """Whether a crossing event goes to its own site's services as well. A site's figures do not: they
    are for the other sites (nothing here consumes them, and integrators need no heartbeat every interval);
    a transfer's step does."""
    return event_type not in SITE_FIGURES


@dataclass(frozen=True)
class Site:
    """This stack as a site: its name and the regions it hosts (None: every region)."""

    name: str | None
    regions: frozenset | None = None

    @property
    def linked(self) -> bool:
        """A named site publishes its figures and takes part in transfers across sites."""
        return self.name is not None

    def hosts(self, region_id: str | None) -> bool:
        return self.regions is None or region_id in self.regions

    def may_configure(self, region_id: str) -> str | None:
        """None when a branch of `region_id` may be configured here, else why not: a region is hosted
        by one site, whose branches it serves through every cut of the link."""
        if self.hosts(region_id):
            return None
        return (f"region {region_id} is not hosted by site {self.name}"
                f" (it hosts {', '.join(sorted(self.regions))})")


@dataclass
class RemoteSite:
    """What this site holds of another site's figures, and since when they are good.

    Figures come as deltas: each names the time of the previous publication (`since`), or none for a
    whole snapshot. The site's figures are good as of the latest publication only when no delta
    between was missed: a publication that does not follow on from what is held waits (it is
    retried) until the one before it arrived. Each shelf keeps the time of the figures it came with."""

    site: str
    as_of: datetime | None = None

    def follows_on(self, since: datetime | None) -> bool:
        """A publication of `since` can be applied: a snapshot, or the next after what is held."""
        return since is None or (self.as_of is not None and since <= self.as_of)

    def take(self, as_of: datetime) -> bool:
        """The figures are good as of `as_of` now; False for an older publication (nothing changes)."""
        if self.as_of is not None and as_of <= self.as_of:
            return False
        self.as_of = as_of
        return True


def age_seconds(as_of: datetime | None, now: datetime) -> float | None:
    """How old figures of `as_of` are at `now`; None when there are none."""
    return None if as_of is None else max(0.0, (now - as_of).total_seconds())


def stale(as_of: datetime | None, now: datetime, max_age: float) -> bool:
    """Figures too old (or none at all) to act on."""
    age = age_seconds(as_of, now)
    return age is None or age > max_age


# -- the group's SLA view ------------------------------------------------------------------------------------
def compliance_rows(outcomes, open_) -> list[dict]:
    """One service's compliance per policy and branch, from its figures (shared/sla/store.py, figures):
    clocks met, breached (ended, or breached while still open), cancelled, and open, as the summary
    counts them."""
    rows: dict[tuple, dict] = {}

    def row(r):
        key = (r["policy"], r["branch_id"])
        return rows.setdefault(key, {"policy": r["policy"], "branch_id": r["branch_id"],
                                     "region_id": r.get("region_id"), "met": 0, "breached": 0,
                                     "cancelled": 0, "open": 0})

    for r in outcomes:
        if r["outcome"] in ("met", "breached", "cancelled"):
            row(r)[r["outcome"]] += int(r["count"])
    for r in open_:
        if r["outcome"] is None:
            row(r)["open"] += int(r["count"])
    return [rows[k] for k in sorted(rows)]


def select(rows, filters: dict) -> list[dict]:
    """Another site's compliance rows that a summary query asks for: its policy, and the caller's
    branches or region. They are totals as of the site's figures; time windows do not apply."""
    def wanted(r):
        return ((filters.get("policy") is None or r["policy"] == filters["policy"])
                and (filters.get("branch_id") is None or r["branch_id"] == filters["branch_id"])
                and (filters.get("branch_ids") is None or r["branch_id"] in filters["branch_ids"])
                and (filters.get("region_id") is None or r.get("region_id") == filters["region_id"]))
    return [r for r in rows if wanted(r)]


def group_view(local_site: str | None, local_rows, remote, now: datetime) -> list[dict]:
    """Every site's compliance per policy, with the age of its figures: this site's as of now, each
    other site's as of its oldest service figures (`remote`: one entry per service and site, as each
    service keeps them). Compliance is met / (met + breached), None with neither."""
    by_site: dict[str, dict] = {}
    here = local_site or "local"
    by_site[here] = {"site": here, "as_of": now, "rows": list(local_rows)}
    for entry in remote:
        site = by_site.setdefault(entry["site"], {"site": entry["site"], "as_of": entry["as_of"], "rows": []})
        site["as_of"] = min(site["as_of"], entry["as_of"])
        site["rows"] += entry["compliance"]
    view = []
    for name in sorted(by_site, key=lambda n: (n != here, n)):
        site = by_site[name]
        policies: dict[str, dict] = {}
        for r in site["rows"]:
            p = policies.setdefault(r["policy"], {"policy": r["policy"], "met": 0, "breached": 0,
                                                   "cancelled": 0, "open": 0})
            for key in ("met", "breached", "cancelled", "open"):
                p[key] += int(r.get(key) or 0)
        for p in policies.values():
            p["compliance"] = sla_rules.compliance(p["met"], p["breached"])
        view.append({"site": name, "local": name == here, "as_of": site["as_of"],
                     "age_seconds": round(age_seconds(site["as_of"], now), 1),
                     "compliance": [policies[k] for k in sorted(policies)]})
    return view
