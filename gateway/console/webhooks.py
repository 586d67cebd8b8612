"""The webhooks screen (operations and admin): integrators' subscriptions with what waits and what was
delivered or given up, and one subscription's delivery log with each delivery's tries.

Admins subscribe a URL, pause, resume and unsubscribe, and send events again from the archive (one, or a
window of occurrence); operations read the same pages without the forms. The forms are shown to the roles
the API's own policy table lets write webhooks, and the API still decides each action.

A new subscription's secret is in the API's answer only: it is kept in the session until the next page
shows it, once. Times are in UTC (a subscription belongs to the dealer group, not a branch); the range
to send again is typed in UTC too.
"""
import re
from datetime import UTC, datetime, timedelta

from flask import flash, g, redirect, render_template, request, session, url_for

from gateway.console import present
from gateway.console.client import Refused
from gateway.console.views import act, console, idempotency_key, refused_here, signed_in
from gateway.policy import WRITE, allows

SUBSCRIPTIONS_SHOWN = 500
DELIVERIES_PER_PAGE = 50
STATUS_LEVELS = {"active": "on-track", "paused": "at-risk", "disabled": "none",
                 "pending": "paused", "delivered": "on-track", "failed": "breached"}
STATUS_LABELS = {"active": "active", "paused": "paused", "disabled": "unsubscribed",
                 "pending": "waiting", "delivered": "delivered", "failed": "failed"}
# the delivery log's "created" filter: key -> (label, how far back); the API pages oldest first
WINDOWS = {"": ("everything kept", None), "7d": ("in the last 7 days", timedelta(days=7)),
           "24h": ("in the last 24 hours", timedelta(hours=24)), "1h": ("in the last hour", timedelta(hours=1))}
SUBSCRIPTION_FILTERS = ("active", "paused", "disabled")
DELIVERY_FILTERS = ("pending", "delivered", "failed")


def _may_write() -> bool:
    """The forms are for those the API lets write webhooks (admin); it checks each action again."""
    return allows(g.me["role"], "webhooks", WRITE)


def age(since, now: datetime | None = None) -> str:
    """How long ago, in days, hours or minutes: the age of the oldest waiting delivery."""
    at = present.parse(since)
    if at is None:
        return ""
    seconds = max(int(((now or datetime.now(UTC)) - at).total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def answer(status: int | None, error: str | None) -> dict:
    """The receiver's answer as the log shows it: the status code, or the error's kind (ReadTimeout) and text."""
    if status is not None:
        return {"head": f"HTTP {status}", "rest": (error or "")[:160], "good": 200 <= status < 300}
    if error:
        kind, _, rest = error.partition(": ")
        return {"head": kind, "rest": rest[:160], "good": False}
    return {"head": "", "rest": "", "good": None}


def event_catalogue() -> dict[str, list[str]]:
    """The catalogue's event types by family, from the API (GET /events)."""
    families: dict[str, list[str]] = {}
    for name in sorted(g.api.get("/events")):
        families.setdefault(name.split(".")[0], []).append(name)
    return families


def wanted_event_types(form) -> list[str]:
    """The ticked families (`<family>.*`, or `*`) and the names typed, comma or space separated."""
    typed = [t for t in re.split(r"[\s,]+", form.get("event_names", "")) if t]
    chosen = list(dict.fromkeys(form.getlist("event_types") + typed))
    return ["*"] if "*" in chosen else chosen


def _back(default: str) -> str:
    """Where an action returns: the page its form was on, when that is one of these pages."""
    back = request.form.get("back") or ""
    return back if back.startswith("/console/webhooks") and not back.startswith("//") else default


def _utc(value: str, name: str) -> str | None:
    """A datetime-local field's value, read as UTC."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    except ValueError:
        raise Refused(400, "not a date and time", {name: ["a date and time, in UTC"]}) from None


def _dress(subscription: dict, now: datetime) -> dict:
    subscription["level"] = STATUS_LEVELS.get(subscription["status"], "none")
    subscription["label"] = STATUS_LABELS.get(subscription["status"], subscription["status"])
    subscription["waiting_for"] = age(subscription.get("oldest_pending_at"), now)
    subscription["failing_for"] = age(subscription.get("failing_since"), now)
    return subscription


def _dress_delivery(delivery: dict) -> dict:
    delivery["level"] = STATUS_LEVELS.get(delivery["status"], "none")
    delivery["label"] = STATUS_LABELS.get(delivery["status"], delivery["status"])
    delivery["answer"] = answer(delivery.get("last_status"), delivery.get("last_error"))
    return delivery


# -- the subscriptions --------------------------------------------------------------------------------------
@console.get("/webhooks")
@signed_in
def webhooks():
    return _subscriptions_page()


def _subscriptions_page(form=None, refusal=None, status_code=200):
    shown = request.args.get("status") if request.args.get("status") in SUBSCRIPTION_FILTERS else None
    subscriptions = g.api.pages("/webhooks/subscriptions", status=shown, most=SUBSCRIPTIONS_SHOWN)
    now = datetime.now(UTC)
    order = {"paused": 0, "active": 1, "disabled": 2}  # what needs someone first; unsubscribed last
    subscriptions.sort(key=lambda s: (order.get(s["status"], 3), s.get("created_at") or ""))
    may_write = _may_write()
    return render_template(
        "console/webhooks.html", subscriptions=[_dress(s, now) for s in subscriptions], shown=shown,
        filters=SUBSCRIPTION_FILTERS, labels=STATUS_LABELS, may_write=may_write,
        families=event_catalogue() if may_write else {}, new=session.pop("webhook_secret", None) if may_write else None,
        form=form or {}, refusal=refusal, most=SUBSCRIPTIONS_SHOWN), status_code


@console.post("/webhooks")
@signed_in
def subscribe():
    body = {"url": request.form.get("url", "").strip(), "event_types": wanted_event_types(request.form),
            "description": request.form.get("description", "").strip()}
    if request.form.get("secret", "").strip():
        body["secret"] = request.form["secret"].strip()
    try:
        created = g.api.post("/webhooks/subscriptions", body, key=idempotency_key())
    except Refused as refused:  # the page again, with what was typed and the API's reasons
        if not _may_write():  # no form to come back to
            return refused_here(refused, url_for("console.webhooks"))
        typed = {"url": body["url"], "description": body["description"], "event_types": body["event_types"],
                 "event_names": request.form.get("event_names", "")}
        return _subscriptions_page(form=typed, refusal=refused, status_code=refused.status)
    # shown once, on the next page, then gone (the API does not show it again either)
    session["webhook_secret"] = {key: created[key] for key in ("subscription_id", "url", "secret")}
    return redirect(url_for("console.webhooks") + "#new-secret")


def _change(said: str, call):
    return act(call, _back(url_for("console.webhooks")), said)


@console.post("/webhooks/<uuid:subscription_id>/pause")
@signed_in
def pause_webhook(subscription_id):
    return _change("paused: new deliveries wait until it is resumed",
                   lambda: g.api.post(f"/webhooks/subscriptions/{subscription_id}/pause", key=idempotency_key()))


@console.post("/webhooks/<uuid:subscription_id>/resume")
@signed_in
def resume_webhook(subscription_id):
    return _change("resumed: the waiting deliveries go first",
                   lambda: g.api.post(f"/webhooks/subscriptions/{subscription_id}/resume", key=idempotency_key()))


@console.post("/webhooks/<uuid:subscription_id>/unsubscribe")
@signed_in
def unsubscribe_webhook(subscription_id):
    return _change("unsubscribed: no more deliveries; the log stays",
                   lambda: g.api.delete(f"/webhooks/subscriptions/{subscription_id}"))


# -- one subscription's delivery log -----------------------------------------------------------------------------
@console.get("/webhooks/<uuid:subscription_id>")
@signed_in
def webhook_subscription(subscription_id):
    subscription = _dress(g.api.get(f"/webhooks/subscriptions/{subscription_id}"), datetime.now(UTC))
    status = request.args.get("status") if request.args.get("status") in DELIVERY_FILTERS else None
    event_type = (request.args.get("event_type") or "").strip() or None
    since = request.args.get("since") if request.args.get("since") in WINDOWS else ""
    window = WINDOWS[since][1]
    query = {"status": status, "event_type": event_type, "limit": DELIVERIES_PER_PAGE,
             "cursor": request.args.get("cursor") or None,
             "from": (datetime.now(UTC) - window).isoformat() if window else None}
    page = g.api.get(f"/webhooks/subscriptions/{subscription_id}/deliveries", **query)
    chosen = None
    if request.args.get("delivery"):
        chosen = _dress_delivery(g.api.get(f"/webhooks/deliveries/{request.args['delivery']}"))
        if chosen["subscription_id"] != str(subscription_id):
            raise Refused(404, "no such delivery of this subscription", {"delivery": ["unknown delivery"]})
        for attempt in chosen["tries"]:
            attempt["answer"] = answer(attempt.get("status_code"), attempt.get("error"))
    filters = {"status": status, "event_type": event_type, "since": since or None}
    return render_template(
        "console/webhook_subscription.html", s=subscription, deliveries=[_dress_delivery(d) for d in page["items"]],
        more=url_for("console.webhook_subscription", subscription_id=subscription_id, cursor=page["next_cursor"],
                     **filters) if page.get("next_cursor") else None,
        first_page=not request.args.get("cursor"), filters=filters, chosen=chosen, labels=STATUS_LABELS,
        statuses=DELIVERY_FILTERS, windows=WINDOWS, may_write=_may_write(),
        here=request.full_path.rstrip("?"))


@console.post("/webhooks/<uuid:subscription_id>/redeliveries")
@signed_in
def send_again(subscription_id):
    done = _back(url_for("console.webhook_subscription", subscription_id=subscription_id))
    if request.form.get("event_id"):
        body = {"event_id": request.form["event_id"]}
    else:
        try:
            body = {"from": _utc(request.form.get("from", ""), "from"), "to": _utc(request.form.get("to", ""), "to")}
        except Refused as refused:
            return refused_here(refused, done)
        body = {k: v for k, v in body.items() if v}

    try:
        sent = g.api.post(f"/webhooks/subscriptions/{subscription_id}/redeliveries", body, key=idempotency_key())
    except Refused as refused:
        return refused_here(refused, done)
    flash(f"{sent['queued']} queued to send again" + (
        f"; {sent['already_pending']} waiting already" if sent["already_pending"] else ""), "ok")
    return redirect(done)
