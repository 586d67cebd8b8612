"""Sign-in, the console's shell, the workshop board, the API page and the change feed's endpoint.

Every screen is a function of what the API answers the signed-in person (`g.api`): a screen
never reads a service or a database of its own. An action posts a form; the view calls the
API and comes back to the screen, with the API's refusal shown as it was given. console.js
sends the same forms with fetch and shows the answer in place.
"""
import functools
import hashlib
import hmac
import os
import secrets
import uuid

import swagger_ui_bundle
from flask import (Blueprint, flash, g, jsonify, redirect, render_template, request, send_from_directory,
                   session, url_for)

from gateway import auth
from gateway.console import present
from gateway.console.changes import FEED
from gateway.console.client import Api, Refused
from shared import config

console = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
                    static_folder="static", static_url_path="/static")

HOME = {"advisor": "console.day_board", "technician": "console.my_jobs", "parts_coordinator": "console.parts",
        "operations": "console.operations", "admin": "console.operations"}
# what each role finds in the navigation: (endpoint, label); the API decides what each may do
NAVIGATION = {
    "advisor": [("console.day_board", "Day board"), ("console.workshop_board", "Workshop board"),
                ("console.api_page", "API")],
    "technician": [("console.my_jobs", "My jobs"), ("console.workshop_board", "Workshop board")],
    "parts_coordinator": [("console.parts", "Parts"), ("console.api_page", "API")],
    "operations": [("console.operations", "Operations"), ("console.workshop_board", "Workshop board"),
                   ("console.day_board", "Day board"), ("console.parts", "Parts"), ("console.api_page", "API"),
                   ("console.webhooks", "Webhooks")],
}
NAVIGATION["admin"] = NAVIGATION["operations"]
# the workshop board's columns: the repair order's open statuses, in the order work flows
COLUMNS = ("checked_in", "diagnosed", "awaiting_approval", "approved", "waiting_for_parts", "in_progress",
           "on_hold", "quality_check", "ready")
COLUMN_LABELS = {"checked_in": "Checked in", "diagnosed": "Diagnosed", "awaiting_approval": "Awaiting approval",
                 "approved": "Approved", "waiting_for_parts": "Waiting for parts", "in_progress": "In progress",
                 "on_hold": "On hold", "quality_check": "Quality check", "ready": "Ready"}


def session_secret() -> bytes:
    """The session cookie's signing key, derived from the token secret (one secret to keep)."""
    return hmac.new(config.jwt_secret().encode(), b"pitlane console session", hashlib.sha256).digest()


def secure_cookies() -> bool:
    return os.environ.get("PITLANE_CONSOLE_SECURE_COOKIES", "").lower() in ("1", "true", "yes") or \
        config.public_url().startswith("https://")


def root():
    return redirect(url_for("console.home"))


# -- who is signed in ------------------------------------------------------------------------------
def signed_in(view):
    """The screen needs a signed-in person: `g.me` (their session) and `g.api` (the API as them)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        me = session.get("me")
        if not me:
            return redirect(url_for("console.sign_in", next=request.full_path if request.method == "GET" else None))
        try:  # the gateway's cache of verified tokens: the API call below finds it there too
            auth.verified_claims(me["token"])
        except auth.Unauthenticated:
            session.clear()
            flash("Your session has ended; sign in again.", "info")
            return redirect(url_for("console.sign_in"))
        if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), me.get("csrf", "")):
            return refused_here(Refused(400, "the form has expired; reload the page and try again",
                                    {"csrf": ["missing or stale"]}), request.referrer or url_for("console.home"))
        g.me = me
        g.api = Api(me["token"], request.remote_addr)
        return view(*args, **kwargs)
    return wrapper


def refused_here(refused: Refused, back: str):
    """An action the API refused: in place for console.js, else on the screen it came from."""
    if wants_json():
        return jsonify({"error": refused.message, "reasons": refused.reasons}), refused.status
    flash(refused.message + (": " + "; ".join(refused.reasons) if refused.reasons else ""), "error")
    return redirect(back)


def wants_json() -> bool:
    return request.headers.get("X-Console") == "fetch"


def act(call, done: str, said: str | None = None):
    """Run one action through the API: back to `done` with `said`, or with the API's refusal."""
    try:
        result = call()
    except Refused as refused:
        return refused_here(refused, request.referrer or done)
    if wants_json():
        return jsonify({"ok": True, "said": said, "result": result})
    if said:
        flash(said, "ok")
    return redirect(done)


def idempotency_key() -> str:
    """The form's own key (rendered with it), so a double-clicked or resent form acts once."""
    return request.form.get("key") or str(uuid.uuid4())


@console.app_context_processor
def _helpers():
    return {"local": present.local, "money": present.money, "left": present.left,
            "navigation": NAVIGATION.get((session.get("me") or {}).get("role"), []),
            "form_key": lambda: str(uuid.uuid4())}


# -- branches ----------------------------------------------------------------------------------------
def branches() -> list[dict]:
    if "branches" not in g:
        g.branches = g.api.get("/branches")
    return g.branches


def branch_shown() -> dict:
    """The branch a screen shows: a branch's own staff see theirs; others choose (?branch=)."""
    mine = g.me.get("branch_id")
    wanted = request.args.get("branch") or mine
    known = {b["branch_id"]: b for b in branches()}
    if wanted and mine and wanted != mine:
        # the API would refuse this branch's records; say so rather than show an empty board
        raise Refused(403, "this branch is not yours to see", {"branch": [f"you act for {mine}"]})
    if not wanted:
        wanted = next(iter(sorted(known)), None)
    if wanted not in known:
        raise Refused(404, "no such branch", {"branch": [str(wanted)]})
    return known[wanted]


def currency(branch: dict) -> str:
    return branch.get("currency") or present.DEFAULT_CURRENCY


def open_clocks(service: str, branch_id: str) -> dict[str, list[dict]]:
    """The SLA clocks open at a branch, by the record they time."""
    by_subject: dict[str, list[dict]] = {}
    for state in ("running", "paused"):
        for clock in g.api.pages("/sla/clocks", service=service, branch_id=branch_id, state=state, most=1000):
            by_subject.setdefault(str(clock["subject_id"]), []).append(clock)
    return by_subject


def open_jobs(branch_id: str, technician_id: str | None = None) -> list[dict]:
    """The jobs not finished at a branch (clocked on or paused)."""
    return g.api.pages("/jobs", branch_id=branch_id, technician_id=technician_id, open="true")


@console.errorhandler(Refused)
def _screen_refused(refused: Refused):
    """A screen the API will not show this person (another branch's board, say)."""
    if wants_json():
        return jsonify({"error": refused.message, "reasons": refused.reasons}), refused.status
    return render_template("console/refused.html", refused=refused), refused.status


# -- sign-in -------------------------------------------------------------------------------------------
@console.get("/")
def home():
    me = session.get("me")
    if not me:
        return redirect(url_for("console.sign_in"))
    return redirect(url_for(HOME[me["role"]]))


@console.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    error = None
    if request.method == "POST":
        try:  # the API's own sign-in: the same check, the same token, the same rate limit
            member = Api(None, request.remote_addr).post("/sessions", {"login": request.form.get("login", ""),
                                                                      "password": request.form.get("password", "")})
        except Refused as refused:
            error = refused.message
        else:
            session.clear()
            session.permanent = True
            session["me"] = {key: member[key] for key in ("login", "name", "role", "branch_id", "region_id", "token")}
            session["me"]["csrf"] = secrets.token_urlsafe(24)
            target = request.args.get("next") or ""
            if not target.startswith("/console/") or target.startswith("//"):
                target = url_for(HOME[member["role"]])
            return redirect(target)
    return render_template("console/sign_in.html", error=error), 401 if error else 200


@console.post("/sign-out")
def sign_out():
    session.clear()
    return redirect(url_for("console.sign_in"))


# -- what changed ---------------------------------------------------------------------------------------
@console.get("/changes")
@signed_in
def changes():
    """The newest change among the branches a board shows (all the caller may see without ?branch=)."""
    wanted = request.args.getlist("branch")
    mine = g.me.get("branch_id")
    if mine:
        wanted = [mine]
    return jsonify({"stamp": FEED.stamp(wanted or None)})


# -- the workshop board -----------------------------------------------------------------------------
@console.get("/workshop")
@signed_in
def workshop_board():
    branch = branch_shown()
    branch_id = branch["branch_id"]
    orders = g.api.pages("/repair-orders", branch_id=branch_id, open="true")
    clocks = open_clocks("workshop", branch_id)
    running = {}
    for job in open_jobs(branch_id) if orders else []:
        running.setdefault(str(job["repair_order_id"]), []).append(job)
    columns = {status: [] for status in COLUMNS}
    for order in orders:
        order["badge"] = present.badge(clocks.get(str(order["repair_order_id"])))
        order["running_jobs"] = running.get(str(order["repair_order_id"]), [])
        columns.setdefault(order["status"], []).append(order)
    for cards in columns.values():
        cards.sort(key=lambda o: o.get("promised_at") or "9999")
    page = render_template("console/workshop_board.html", branch=branch, branches=branches(), columns=columns,
                           labels=COLUMN_LABELS, stamp=FEED.stamp([branch_id]), currency=currency(branch),
                           fragment=request.args.get("fragment") == "1")
    return page


# a card moved to a column: the API call that makes that move, with what the form adds to it
def _move_call(order_id: str, target: str, form, me):
    base = f"/repair-orders/{order_id}"
    if target == "on_hold":
        return base + "/hold", {"reason": form.get("reason") or "parts"}
    if target == "in_progress":
        if form.get("from") == "on_hold":
            return base + "/resumption", {}
        return base + "/jobs", {"technician_id": form.get("technician_id") or me["login"],
                                "description": form.get("description") or "work as approved"}
    if target == "ready":
        return base + "/quality-check", {"checked_by": me["login"], "passed": True, "kind": "peer"}
    if target == "delivered":
        return base + "/delivery", {"delivered_by": me["login"]}
    if target == "cancelled":
        return base + "/cancellation", {"reason": form.get("reason") or "cancelled on the workshop board"}
    return None, None


NEEDS_CONTENT = {"diagnosed": "record the diagnosis on the repair order's page",
                 "awaiting_approval": "issue a quote on the repair order's page",
                 "approved": "record the customer's approval on the repair order's page",
                 "waiting_for_parts": "the order waits for parts when a reservation falls short",
                 "quality_check": "the order goes to quality check when its technicians finish their jobs",
                 "checked_in": "an order does not go back to checked in"}


@console.post("/workshop/<uuid:order_id>/move")
@signed_in
def move_card(order_id):
    target = request.form.get("to", "")
    back = request.referrer or url_for("console.workshop_board")
    path, body = _move_call(str(order_id), target, request.form, g.me)
    if path is None:
        reason = NEEDS_CONTENT.get(target, "no such column")
        return refused_here(Refused(409, f"cannot move the card to {COLUMN_LABELS.get(target, target)}: {reason}",
                                {"to": [reason]}), back)
    return act(lambda: g.api.post(path, body, key=idempotency_key()), back,
               f"moved to {COLUMN_LABELS.get(target, target.replace('_', ' '))}")


# -- the API page ------------------------------------------------------------------------------------------
@console.get("/api")
def api_page():
    return render_template("console/api.html", spec_url="/api/v1/openapi.json")


@console.get("/vendor/swagger-ui/<path:name>")
def swagger_asset(name):
    """Swagger UI's files, served from the swagger-ui-bundle package as installed (not kept here)."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, name, max_age=3600)
