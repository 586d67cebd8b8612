"""The service advisor's screens: the day board of one branch, the customer search, and the repair
order page it links to.

The day board is what the front desk works from all day: today's arrivals by slot with what each
needs (and a check-in form), the walk-in queue with its estimated waits, the repair orders in the
workshop with their promised time and SLA badge, the quotes waiting for the customer, the cars
ready to hand over, and a booking form (customer and car chosen from the search, a slot from the
day's free capacity). Everything is read and done through the API as the signed-in advisor; a
refusal is the API's own, shown in place (console.js) or on the screen it came from.
"""
import hashlib
import json
import uuid
from datetime import date as Date
from datetime import datetime, timedelta

from flask import flash, g, jsonify, redirect, render_template, request, url_for

from gateway.console import present
from gateway.console.changes import FEED
from gateway.console.client import Refused
from gateway.console.views import (
    COLUMN_LABELS,
    refused_here,
    act,
    branch_shown,
    branches,
    console,
    currency,
    open_clocks,
    signed_in,
    wants_json,
)

PRIORITIES = (("routine", "Routine"), ("safety_critical", "Safety-critical"), ("vip", "VIP"), ("cosmetic", "Cosmetic"))
CHANNELS = (("hotline", "Hotline"), ("web", "Web"), ("app", "App"), ("messaging", "Messaging"))
EXTRAS = (("loaner_car", "Loaner car"), ("pickup", "Pickup"), ("delivery", "Delivery"))
CONSENT_METHODS = (("signature", "Signature"), ("recorded_verbal", "Recorded verbal consent"), ("app", "In the app"))
LINE_KINDS = (("labour", "Labour"), ("part", "Part"), ("consumable", "Consumable"))
LINE_GROUPS = (("must", "Must repair"), ("recommended", "Recommended"), ("watch", "Watch"))
QUOTE_LINE_ROWS = 4  # empty rows of the quote form (a row left empty is not a line)
# the repair order's statuses the day board shows: in the workshop, then ready to hand over
IN_WORKSHOP = ("checked_in", "diagnosed", "awaiting_approval", "approved", "waiting_for_parts", "in_progress",
               "on_hold", "quality_check")
READY = "ready"
QUOTABLE = ("checked_in", "diagnosed", "awaiting_approval")
CHECKS_IN = ("requested", "confirmed")  # the booking statuses a car can be checked in from
STATUS_LABELS = {**COLUMN_LABELS, "delivered": "Handed over", "closed": "Closed", "cancelled": "Cancelled",
                 "requested": "Requested", "confirmed": "Confirmed", "no_show": "No-show", "waiting": "Waiting"}


# -- small helpers -----------------------------------------------------------------------------------
def _today(tz: str) -> Date:
    return datetime.now(present.zone(tz)).date()


def _day_asked(tz: str) -> Date:
    asked = request.args.get("date")
    if asked:
        try:
            return Date.fromisoformat(asked)
        except ValueError:
            raise Refused(400, "not a date", {"date": ["YYYY-MM-DD"]}) from None
    return _today(tz)


def _try(call, default=None):
    """A read the screen can do without (a name beside a plate): the default when the API says no."""
    try:
        return call()
    except Refused:
        return default


def _lookup(path: str, ids) -> dict:
    """Records by id, one read each (the API has no bulk read), each read at most once per request."""
    cache = g.setdefault("advisor_lookups", {})
    out = {}
    for record_id in {str(i) for i in ids if i}:
        key = (path, record_id)
        if key not in cache:
            cache[key] = _try(lambda r=record_id: g.api.get(f"{path}/{r}"))
        out[record_id] = cache[key]
    return out


def _key(body: dict) -> str:
    """The form's key, bound to what is asked: a double-click acts once, and the same form sent again for
    another car or slot (console.js keeps the key after a success) is a new action, not a replay."""
    form_key = request.form.get("key") or str(uuid.uuid4())
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{form_key[:60]}.{digest}"


def _promise(order: dict, clocks: list[dict]) -> dict | None:
    """When the car was promised: the order's own time if it has one, else its SLA clock's deadline
    (the repair promise first, then the nearest open deadline)."""
    if order.get("promised_at"):
        return {"at": order["promised_at"], "source": "promised"}
    open_ = [c for c in clocks or [] if c.get("deadline") and c.get("state") in ("running", "paused")]
    promise = [c for c in open_ if c.get("policy") == "repair_promise"]
    chosen = (promise or sorted(open_, key=lambda c: c["deadline"]) or [None])[0]
    if chosen is None:
        return None
    return {"at": chosen["deadline"], "source": chosen["policy"].replace("_", " ") + " deadline"}


def _slot_label(start, end, tz, with_day=False) -> str:
    fmt = "%a %d %b %H:%M" if with_day else "%H:%M"
    return f"{present.local(start, tz, fmt)}–{present.local(end, tz)}" if end else present.local(start, tz, fmt)


def _said_refusal(refused: Refused, tz: str) -> Refused:
    """A full slot's refusal, its alternatives in the branch's clock (the API gives them in UTC)."""
    fields = dict(refused.fields or {})
    alternatives = fields.get("alternatives")
    if isinstance(alternatives, list):
        shown = [_slot_label(a.get("slot_start"), a.get("slot_end"), tz, with_day=True)
                 for a in alternatives if isinstance(a, dict)]
        fields["alternatives"] = ["next slots that fit: " + ", ".join(shown)] if shown else \
            ["no other slot fits in the next days"]
    return Refused(refused.status, refused.message, fields)


def _service_types(branch_id: str) -> list[dict]:
    return _try(lambda: g.api.get("/service-types", branch_id=branch_id), []) or []


# -- the day board ---------------------------------------------------------------------------------------
@console.get("/day")
@signed_in
def day_board():
    branch = branch_shown()
    branch_id, tz = branch["branch_id"], branch.get("timezone")
    day = _day_asked(tz)
    today = _today(tz)

    plan = g.api.get("/arrivals", branch_id=branch_id, date=day.isoformat())
    walk_ins = g.api.get("/walk-ins", branch_id=branch_id) if day == today else []
    orders = [o for o in g.api.pages("/repair-orders", branch_id=branch_id, open="true")
              if o["status"] in IN_WORKSHOP + (READY,)]
    clocks = open_clocks("workshop", branch_id)
    quotes = g.api.pages("/quotes", branch_id=branch_id, status="open")

    by_order = {str(o["repair_order_id"]): o for o in orders}
    by_booking = {str(o["booking_id"]): o for o in orders if o.get("booking_id")}
    for order in orders:
        mine = clocks.get(str(order["repair_order_id"]))
        order["badge"] = present.badge(mine)
        order["promise"] = _promise(order, mine)
    in_workshop = sorted((o for o in orders if o["status"] != READY),
                         key=lambda o: ((o.get("promise") or {}).get("at") or "9999", o["number"]))
    ready = sorted((o for o in orders if o["status"] == READY), key=lambda o: o["number"])

    customers = _lookup("/customers", [a["customer_id"] for a in plan["arrivals"]] +
                        [w["customer_id"] for w in walk_ins] + [o["customer_id"] for o in ready])
    vehicles = _lookup("/vehicles", [w["vehicle_id"] for w in walk_ins])

    arrivals = {str(a["booking_id"]): a for a in plan["arrivals"]}
    slots = []
    for slot in plan.get("slots", []):
        booked = [arrivals.pop(str(b)) for b in slot["booking_ids"] if str(b) in arrivals]
        if booked:
            slots.append({**slot, "arrivals": booked})
    if arrivals:  # an arrival the day's slots do not name (it should not happen): still shown
        slots.append({"slot_start": None, "slot_end": None, "arrivals": list(arrivals.values())})
    for slot in slots:
        for arrival in slot["arrivals"]:
            arrival["order"] = by_booking.get(str(arrival["booking_id"]))

    for quote in quotes:
        order = by_order.get(str(quote["repair_order_id"]))
        quote["order"] = order or _lookup("/repair-orders", [quote["repair_order_id"]]).get(str(quote["repair_order_id"]))

    booking = _booking_form(branch, day)
    return render_template(
        "console/day_board.html", branch=branch, branches=branches(), tz=tz, day=day, today=today,
        previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1), plan=plan, slots=slots,
        walk_ins=walk_ins, in_workshop=in_workshop, ready=ready, quotes=quotes, customers=customers,
        vehicles=vehicles, labels=STATUS_LABELS, currency=currency(branch), booking=booking,
        priorities=PRIORITIES, channels=CHANNELS, extras=EXTRAS, checks_in=CHECKS_IN,
        stamp=FEED.stamp([branch_id]), fragment=request.args.get("fragment") == "1")


def _booking_form(branch: dict, day: Date) -> dict:
    """What the booking form needs: the customer and car chosen in the search, the work, the day's slots
    with their free capacity for that work, and alternatives a full slot's refusal offered."""
    args = request.args
    customer_id, vehicle_id = args.get("customer_id"), args.get("vehicle_id")
    customer = _lookup("/customers", [customer_id]).get(customer_id) if customer_id else None
    vehicle = _lookup("/vehicles", [vehicle_id]).get(vehicle_id) if vehicle_id else None
    types = _service_types(branch["branch_id"])
    service_type = args.get("service_type") or (types[0]["service_type"] if types else "")
    slots, slots_refused = [], None
    if customer and vehicle:
        try:
            slots = g.api.get("/slots", branch_id=branch["branch_id"], date=day.isoformat(),
                              service_type=service_type or None)
        except Refused as refused:
            slots_refused = refused
    tz = branch.get("timezone")
    alternatives = []
    for start in args.getlist("alt"):
        try:
            alternatives.append({"slot_start": start, "label": _slot_label(start, None, tz, with_day=True)})
        except ValueError:
            continue
    return {"customer": customer, "vehicle": vehicle, "service_types": types, "service_type": service_type,
            "slots": slots, "slots_refused": slots_refused, "alternatives": alternatives,
            "symptoms": args.get("symptoms", ""), "priority": args.get("priority", "routine"),
            "channel": args.get("channel", "hotline")}


@console.post("/day/bookings")
@signed_in
def book():
    branch = branch_shown()
    form = request.form
    body = {"branch_id": branch["branch_id"], "customer_id": form.get("customer_id", ""),
            "vehicle_id": form.get("vehicle_id", ""), "slot_start": form.get("slot_start") or None,
            "service_type": form.get("service_type", ""), "priority": form.get("priority") or "routine",
            "channel": form.get("channel") or "hotline", "symptoms": form.get("symptoms", ""),
            "extras": form.getlist("extras")}
    tz = branch.get("timezone")
    back = request.referrer or url_for("console.day_board")
    try:
        booked = g.api.post("/bookings", body, key=_key(body))
    except Refused as refused:
        shown = _said_refusal(refused, tz)
        alternatives = (refused.fields or {}).get("alternatives")
        if wants_json() or not isinstance(alternatives, list) or not alternatives:
            return refused_here(shown, back)
        # without JavaScript: back to the form on the first alternative's day, the alternatives offered
        first = alternatives[0].get("slot_start")
        back = url_for("console.day_board", branch=branch["branch_id"],
                       date=present.local(first, tz, "%Y-%m-%d"), customer_id=body["customer_id"],
                       vehicle_id=body["vehicle_id"], service_type=body["service_type"],
                       priority=body["priority"], channel=body["channel"], symptoms=body["symptoms"] or None,
                       alt=[a.get("slot_start") for a in alternatives if isinstance(a, dict)]) + "#book"
        return refused_here(shown, back)
    said = f"booked for {_slot_label(booked['slot_start'], booked.get('slot_end'), tz, True)}"
    if wants_json():
        return jsonify({"ok": True, "said": said, "result": booked})
    flash(said, "ok")
    return redirect(url_for("console.day_board", branch=branch["branch_id"],
                            date=present.local(booked["slot_start"], tz, "%Y-%m-%d")))


def _check_in_body(form) -> dict:
    odometer = (form.get("odometer_km") or "").strip().replace(" ", "").replace(",", "").replace(".", "")
    return {"odometer_km": int(odometer) if odometer.isdigit() else (odometer or None),
            "fault_description": (form.get("fault_description") or "").strip()}


@console.post("/day/bookings/<uuid:booking_id>/check-in")
@signed_in
def check_in(booking_id):
    body = _check_in_body(request.form)
    return act(lambda: g.api.post(f"/bookings/{booking_id}/check-in", body, key=_key(body)),
               request.referrer or url_for("console.day_board"), "checked in: the repair order is open")


@console.post("/day/walk-ins/<uuid:walk_in_id>/check-in")
@signed_in
def check_in_walk_in(walk_in_id):
    body = _check_in_body(request.form)
    return act(lambda: g.api.post(f"/walk-ins/{walk_in_id}/check-in", body, key=_key(body)),
               request.referrer or url_for("console.day_board"), "walk-in checked in: the repair order is open")


@console.post("/day/walk-ins")
@signed_in
def walk_in():
    branch = branch_shown()
    form = request.form
    body = {"branch_id": branch["branch_id"], "customer_id": form.get("customer_id", ""),
            "vehicle_id": form.get("vehicle_id", ""), "service_type": form.get("service_type", ""),
            "priority": form.get("priority") or "routine", "symptoms": form.get("symptoms", "")}
    return act(lambda: g.api.post("/walk-ins", body, key=_key(body)),
               url_for("console.day_board", branch=branch["branch_id"]), "added to the walk-in queue")


# -- the customer search ---------------------------------------------------------------------------------
@console.get("/day/search")
@signed_in
def advisor_search():
    branch = branch_shown()
    q = (request.args.get("q") or "").strip()
    customer_id = request.args.get("customer_id")
    day = request.args.get("date") or None
    found, matched_vehicles, refused = [], set(), None
    customer, orders, customer_vehicles = None, [], []
    if q:
        try:
            found = g.api.get("/customers", q=q, limit=25)["items"]
            matched_vehicles = {str(v["vehicle_id"]) for v in g.api.get("/vehicles", q=q, limit=50)["items"]}
        except Refused as error:
            refused = error
        for person in found:
            person["vehicles"] = _try(lambda p=person: g.api.get("/vehicles", customer_id=p["customer_id"],
                                                              limit=50)["items"], [])
    if customer_id:
        customer = g.api.get(f"/customers/{customer_id}")
        customer_vehicles = g.api.get("/vehicles", customer_id=customer_id, limit=50)["items"]
        orders = g.api.pages("/repair-orders", customer_id=customer_id, most=200)
        orders.sort(key=lambda o: o.get("created_at") or "", reverse=True)
    return render_template("console/search.html", branch=branch, branches=branches(), tz=branch.get("timezone"),
                           q=q, found=found, matched=matched_vehicles, refused=refused, customer=customer,
                           customer_vehicles=customer_vehicles, orders=orders, labels=STATUS_LABELS, day=day,
                           service_types=_service_types(branch["branch_id"]), priorities=PRIORITIES,
                           currency=currency(branch))


# -- the repair order page ---------------------------------------------------------------------------------
@console.get("/repair-orders/<uuid:order_id>")
@signed_in
def repair_order(order_id):
    order = g.api.get(f"/repair-orders/{order_id}")
    known = {b["branch_id"]: b for b in branches()}
    branch = known.get(order["branch_id"], {"branch_id": order["branch_id"], "name": order["branch_id"]})
    tz = branch.get("timezone")
    clocks = [c for state in ("running", "paused")
              for c in _try(lambda s=state: g.api.pages("/sla/clocks", subject_id=str(order_id), state=s), [])]
    customer = _lookup("/customers", [order["customer_id"]]).get(str(order["customer_id"]))
    vehicle = _lookup("/vehicles", [order["vehicle_id"]]).get(str(order["vehicle_id"]))
    quotes = _try(lambda: g.api.pages("/quotes", repair_order_id=str(order_id)), []) or []
    quotes.sort(key=lambda q: q.get("created_at") or "", reverse=True)
    quote = order.get("quote") or (quotes[0] if quotes else None)
    open_quote = quote if quote and quote.get("status") == "open" else None
    return render_template("console/repair_order.html", order=order, branch=branch, tz=tz, customer=customer,
                           vehicle=vehicle, badge=present.badge(clocks), promise=_promise(order, clocks),
                           quote=quote, open_quote=open_quote, older_quotes=[q for q in quotes if not quote or
                                                                          q["quote_id"] != quote["quote_id"]],
                           currency=currency(branch), labels=STATUS_LABELS, quotable=order["status"] in QUOTABLE,
                           line_rows=range(QUOTE_LINE_ROWS), kinds=LINE_KINDS, groups=LINE_GROUPS,
                           consent_methods=CONSENT_METHODS)


@console.post("/repair-orders/<uuid:order_id>/quotes")
@signed_in
def issue_quote(order_id):
    form = request.form
    lines = []
    for i in range(QUOTE_LINE_ROWS):
        description = (form.get(f"description-{i}") or "").strip()
        part_number = (form.get(f"part_number-{i}") or "").strip().upper()
        quantity = (form.get(f"quantity-{i}") or "").strip().replace(",", ".")
        if not description and not part_number:
            continue  # an empty row
        lines.append({"kind": form.get(f"kind-{i}") or "labour", "group": form.get(f"group-{i}") or "must",
                      "description": description, "quantity": quantity or "1", "part_number": part_number or None})
    back = url_for("console.repair_order", order_id=order_id)
    if not lines:
        return refused_here(Refused(400, "the quote has no lines", {"lines": ["fill in at least one line"]}), back)
    body = {"lines": lines}
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/quotes", body, key=_key(body)), back,
               f"quote issued with {len(lines)} line{'s' if len(lines) != 1 else ''}")


@console.post("/repair-orders/<uuid:order_id>/approval")
@signed_in
def record_approval(order_id):
    form = request.form
    approved = set(form.getlist("approve"))
    decisions = [{"line_id": line_id, "approved": line_id in approved} for line_id in form.getlist("line_id")]
    body = {"quote_id": form.get("quote_id", ""), "decisions": decisions,
            "consent": {"method": form.get("method", ""), "by": (form.get("by") or "").strip()}}
    said = f"{len(approved)} of {len(decisions)} lines approved" if approved else "the quote was declined"
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/approval", body, key=_key(body)),
               url_for("console.repair_order", order_id=order_id), said)


@console.post("/repair-orders/<uuid:order_id>/delivery")
@signed_in
def hand_over(order_id):
    body = {"delivered_by": g.me["login"]}
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/delivery", body, key=_key(body)),
               request.referrer or url_for("console.day_board"), "handed over")
