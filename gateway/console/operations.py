"""The operations screen: SLA compliance by policy, by branch and by region (GET /sla/summary), each
site's of the group with the age of its figures when there are several (docs/sites.md), the
clocks at risk or breached and still open now, the clocks that breached today (GET /sla/clocks of
every service), where to find the dead letters, and a link to Grafana when PITLANE_GRAFANA_URL is set.

"Today" is each branch's own day, in its time zone: each service is asked for the clocks breached
since the earliest start of today among the branches shown (GET /sla/clocks?breached_from=), open
or ended. Only when those branches keep different time zones does a branch's list need trimming
here, of what breached before its own day began.

The dead letters (GET /dead-letters): how many wait, and the oldest with their last error; replaying
one stays an operator's command (`pitlane dlq replay`).
"""
import os
from datetime import datetime, timezone

from flask import g, render_template, request, url_for

from gateway.console import present
from gateway.console.changes import FEED
from gateway.console.client import Refused
from gateway.console.views import branches, console, signed_in
from shared import config

MOST_CLOCKS = 2000
DEAD_LETTERS_SHOWN = 10


def _compliance(met: int, breached: int):
    decided = met + breached
    return None if not decided else met / decided


def _rollup(rows, key) -> list[dict]:
    out: dict[str, dict] = {}
    for row in rows:
        k = key(row) or "—"
        agg = out.setdefault(k, {"key": k, "met": 0, "breached": 0, "cancelled": 0, "open": 0})
        for field in ("met", "breached", "cancelled", "open"):
            agg[field] += int(row.get(field) or 0)
    for agg in out.values():
        agg["compliance"] = _compliance(agg["met"], agg["breached"])
    return sorted(out.values(), key=lambda a: (a["compliance"] if a["compliance"] is not None else 2, a["key"]))


@console.get("/operations")
@signed_in
def operations():
    known = {b["branch_id"]: b for b in branches()}
    regions = sorted({b.get("region_id") for b in known.values() if b.get("region_id")})
    query = {}
    for name in ("region_id", "branch_id", "policy"):
        value = (request.args.get(name) or "").strip()
        if value:
            query[name] = value

    summary = g.api.get("/sla/summary", **query)
    rows = summary.get("compliance") or []
    for row in rows:
        row["region_id"] = known.get(row["branch_id"], {}).get("region_id")
    by_policy = _rollup(rows, lambda r: r["policy"])
    by_branch = _rollup(rows, lambda r: r["branch_id"])
    by_region = _rollup(rows, lambda r: r["region_id"])
    policies = sorted({r["policy"] for r in rows} | ({query["policy"]} if "policy" in query else set()))

    # the group across sites (docs/sites.md): each site's compliance as of its figures, with their age
    sites = []
    for site in summary.get("sites") or []:
        totals = {k: sum(p[k] for p in site["compliance"]) for k in ("met", "breached", "cancelled", "open")}
        sites.append({"key": site["site"], **totals, "compliance": _compliance(totals["met"], totals["breached"]),
                      "local": site["local"], "age_seconds": site["age_seconds"],
                      "old": site["age_seconds"] > 3 * config.site_figures_interval()})

    at_risk = summary.get("at_risk") or []
    for clock in at_risk:
        clock["tz"] = known.get(clock["branch_id"], {}).get("timezone")
        clock["badge"] = present.badge([clock])

    now = datetime.now(timezone.utc)
    shown = [b for b in known.values() if query.get("branch_id") in (None, b["branch_id"])
             and query.get("region_id") in (None, b.get("region_id"))]
    since = min((present.day_start(b.get("timezone"), now) for b in shown), default=present.day_start(None, now))
    breaches, unanswered = [], []
    for service in config.SERVICES:
        try:
            breached = g.api.pages("/sla/clocks", service=service, breached_from=since.isoformat(),
                                   most=MOST_CLOCKS, **query)
        except Refused as refused:
            unanswered.append((service, refused.message))
            continue
        for clock in breached:
            tz = known.get(clock["branch_id"], {}).get("timezone")
            if present.parse(clock["breached_at"]) >= present.day_start(tz, now):  # not yesterday at a later zone
                clock["service"], clock["tz"] = service, tz
                breaches.append(clock)
    breaches.sort(key=lambda c: c.get("breached_at") or "", reverse=True)

    grafana = os.environ.get("PITLANE_GRAFANA_URL", "").strip() or None
    if "branch_id" in query:
        watched = [query["branch_id"]]
    elif "region_id" in query:
        watched = sorted(b for b, branch in known.items() if branch.get("region_id") == query["region_id"])
    else:
        watched = None  # every branch
    try:
        dead = g.api.get("/dead-letters", limit=DEAD_LETTERS_SHOWN)
    except Refused as refused:
        dead = {"count": None, "items": [], "error": refused.message}
    return render_template(
        "console/operations.html", dead=dead, rows=rows, sites=sites, by_policy=by_policy, by_branch=by_branch, by_region=by_region,
        at_risk=at_risk, breaches=breaches, unanswered=unanswered, grafana=grafana, known=known, regions=regions,
        policies=policies, query=query, stamp=FEED.stamp(watched),
        changes=url_for("console.changes", branch=watched) if watched else url_for("console.changes"),
        live_url=url_for("console.operations", fragment=1, **query),
        fragment=request.args.get("fragment") == "1")
