"""The parts coordinator's screen: a part's stock across the group, the shelves below their reorder
point or safety stock with the replenishment proposals made for them, the open transfers with their
SLA badge, and the repair orders short of parts by escalation tier with their donors ranked.

A proposal is taken in one click: a donor (POST /donors/acceptance: the transfer request it becomes),
a replenishment proposal (POST /replenishments/<id>/acceptance: a transfer request or a purchase
order), or a shortage's purchase proposal (POST /purchase-orders for the order). The API decides
what the coordinator may see and do (their region's branches; /stock/group shows every branch).
"""
from flask import g, render_template, request, url_for

from gateway.console import present
from gateway.console.changes import FEED
from gateway.console.client import Refused
from gateway.console.views import act, branches, console, currency, idempotency_key, open_clocks, signed_in

OPEN_TRANSFER = ("requested", "approved", "picked", "dispatched", "received")
TIERS = ("local", "region", "group")
TIER_LABELS = {"local": "Local (own branch)", "region": "Region", "group": "Group"}
MOST_SHORTAGES_RANKED = 30  # donors are ranked for this many shortages (the oldest first); the rest list only


def _scope() -> tuple[list[dict], str | None]:
    """The branches the screen shows, and the region it shows (None: every region)."""
    known = branches()
    mine, region = g.me.get("branch_id"), g.me.get("region_id")
    if mine:
        return [b for b in known if b["branch_id"] == mine], None
    if not region:
        region = request.args.get("region") or None
    if region:
        return [b for b in known if b.get("region_id") == region], region
    return known, None


def _int(value, default=1) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


@console.get("/parts")
@signed_in
def parts():
    shown, region = _scope()
    by_id = {b["branch_id"]: b for b in branches()}
    ids = {b["branch_id"] for b in shown}
    scoped = bool(g.me.get("branch_id") or g.me.get("region_id"))
    narrow = {} if scoped or not region else {"region_id": region}  # the API scopes a coordinator itself

    # a part across the group
    part_number = (request.args.get("part_number") or "").strip().upper()
    part, group, lookup_error = None, [], None
    if part_number:
        try:
            part = g.api.get(f"/parts/{part_number}")
            group = sorted(g.api.get("/stock/group", part_number=part_number),
                           key=lambda s: (s.get("region_id") != (region or g.me.get("region_id")),
                                          -(s.get("available") or 0), s["branch_id"]))
        except Refused as refused:
            lookup_error = refused

    # shelves below their levels, and the proposals made for them; those below safety stock come first,
    # asked for on their own so that no number of shelves merely below the reorder point pushes one off
    safety = [s for s in g.api.pages("/stock", below_safety=True, most=500, **narrow) if s["branch_id"] in ids]
    listed = {(s["branch_id"], s["part_number"]) for s in safety}
    reorder = [s for s in g.api.pages("/stock", below_reorder=True, most=500, **narrow)
               if s["branch_id"] in ids and (s["branch_id"], s["part_number"]) not in listed]
    low = [{**s, "alert": alert} for alert, shelves in (("safety", safety), ("reorder", reorder))
           for s in sorted(shelves, key=lambda s: (s["branch_id"], s["part_number"]))]
    proposals = [r for r in g.api.pages("/replenishments", status="proposed", most=500, **narrow)
                 if r["branch_id"] in ids or r.get("from_branch_id") in ids]
    proposals.sort(key=lambda r: (r.get("alert") != "safety_stock", r.get("created_at") or ""))

    # open transfers, either way
    transfers = []
    for status in OPEN_TRANSFER:
        transfers += [t for t in g.api.pages("/transfers", status=status, most=500, **narrow)
                      if t["branch_id"] in ids or t["from_branch_id"] in ids]
    transfers.sort(key=lambda t: t.get("created_at") or "")

    # orders short of parts, by tier, each with its donors ranked
    shortages = g.api.pages("/shortages", most=500, **narrow)
    shortages = [s for s in shortages if s["branch_id"] in ids]
    shortages.sort(key=lambda s: s.get("waiting_since") or "")

    # SLA clocks of the branches these records belong to (the clocks are parts')
    clocks: dict[str, list[dict]] = {}
    for branch_id in sorted({t["branch_id"] for t in transfers} | {t["from_branch_id"] for t in transfers}
                            | {s["branch_id"] for s in shortages}):
        if branch_id in ids:
            for subject, found in open_clocks("parts", branch_id).items():
                clocks.setdefault(subject, []).extend(found)
    for transfer in transfers:
        transfer["badge"] = present.badge(clocks.get(str(transfer["transfer_id"])))
        transfer["tz"] = by_id.get(transfer["branch_id"], {}).get("timezone")

    orders = {}
    for i, shortage in enumerate(shortages):
        ro = str(shortage["repair_order_id"])
        shortage["badge"] = present.badge(clocks.get(ro))
        shortage["tz"] = by_id.get(shortage["branch_id"], {}).get("timezone")
        shortage["currency"] = currency(by_id.get(shortage["branch_id"], {}))
        try:
            orders[ro] = g.api.get(f"/repair-orders/{ro}")
        except Refused:
            orders[ro] = {}
        shortage["order"] = orders[ro]
        shortage["rankings"] = []
        if i >= MOST_SHORTAGES_RANKED:
            continue
        for needed, quantity in sorted((shortage.get("needs") or {}).items()):
            try:
                ranking = g.api.get("/donors", branch_id=shortage["branch_id"], part_number=needed,
                                    quantity=quantity)
            except Refused as refused:
                ranking = {"part_number": needed, "quantity": quantity, "donors": [], "proposal": None,
                           "error": refused.message}
            shortage["rankings"].append(ranking)
    by_tier = {tier: [s for s in shortages if s.get("tier") == tier] for tier in TIERS}
    for s in shortages:
        if s.get("tier") not in TIERS:
            by_tier.setdefault(s.get("tier") or "other", []).append(s)

    everything = len(shown) == len(by_id)
    changes = url_for("console.changes") if everything else \
        url_for("console.changes", branch=sorted(ids))
    regions = sorted({b.get("region_id") for b in by_id.values() if b.get("region_id")})
    return render_template(
        "console/parts.html", shown=shown, region=region, regions=regions, scoped=scoped, part_number=part_number,
        part=part, group=group, lookup_error=lookup_error, ids=ids, low=low, proposals=proposals,
        transfers=transfers, by_tier=by_tier, tier_labels=TIER_LABELS, shortage_count=len(shortages),
        ranked_most=MOST_SHORTAGES_RANKED, stamp=FEED.stamp(None if everything else sorted(ids)),
        changes=changes, by_id=by_id,
        live_url=url_for("console.parts", part_number=part_number or None, region=None if scoped else region,
                         fragment=1),
        fragment=request.args.get("fragment") == "1")


def _back() -> str:
    return request.referrer or url_for("console.parts")


@console.post("/parts/donors")
@signed_in
def take_donor():
    form = request.form
    body = {"branch_id": form.get("branch_id", ""), "from_branch_id": form.get("from_branch_id", ""),
            "part_number": form.get("part_number", ""), "quantity": _int(form.get("quantity")),
            "repair_order_id": form.get("repair_order_id") or None}
    said = f"transfer requested: {body['quantity']} × {body['part_number']} from {body['from_branch_id']}"
    return act(lambda: g.api.post("/donors/acceptance", body, key=idempotency_key()), _back(), said)


@console.post("/parts/purchases")
@signed_in
def order_purchase():
    form = request.form
    body = {"branch_id": form.get("branch_id", ""), "part_number": form.get("part_number", ""),
            "quantity": _int(form.get("quantity")), "repair_order_id": form.get("repair_order_id") or None}
    said = f"purchase order placed: {body['quantity']} × {body['part_number']} for {body['branch_id']}"
    return act(lambda: g.api.post("/purchase-orders", body, key=idempotency_key()), _back(), said)


@console.post("/parts/replenishments/<uuid:replenishment_id>/accept")
@signed_in
def accept_replenishment(replenishment_id):
    return act(lambda: g.api.post(f"/replenishments/{replenishment_id}/acceptance", {}, key=idempotency_key()),
               _back(), "proposal accepted")


@console.post("/parts/replenishments/<uuid:replenishment_id>/dismiss")
@signed_in
def dismiss_replenishment(replenishment_id):
    return act(lambda: g.api.post(f"/replenishments/{replenishment_id}/dismissal", {}, key=idempotency_key()),
               _back(), "proposal dismissed")
