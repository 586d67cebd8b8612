"""The customer's page, no staff token: their repair by number and plate, or by the signed link a
message carried. Progress and the promised time, the approved work, each line waiting for their
decision with its gross price (approve or decline each: recorded as their online consent, with
the time), and the invoice once there is one.

The page reads and decides through the public self-service routes (the same answers an app
would get); the number and plate a customer typed are kept in their session cookie, not in the
address, so a shared screenshot or a browser history does not carry the plate.
"""
import hmac
import secrets

from flask import flash, redirect, render_template, request, session, url_for

from gateway.console import present
from gateway.console.client import Api, Refused
from gateway.console.views import console, wants_json


def _api() -> Api:
    return Api(None, request.remote_addr)


def _csrf() -> str:
    if "customer_csrf" not in session:
        session["customer_csrf"] = secrets.token_urlsafe(24)
    return session["customer_csrf"]


def _checked() -> bool:
    return hmac.compare_digest(request.form.get("csrf", ""), session.get("customer_csrf", "") or "-")


@console.route("/customer", methods=["GET", "POST"])
def customer_lookup():
    error = None
    if request.method == "POST":
        number, plate = request.form.get("number", "").strip(), request.form.get("plate", "").strip()
        try:
            if not _checked():
                raise Refused(400, "the form has expired; try again", {})
            _api().get(f"/self-service/repair-orders/{number}", plate=plate)
        except Refused as refused:
            error = refused.message if refused.status != 404 else \
                "we found no repair with that number and plate; check both and try again"
        else:
            session["customer"] = {"number": number, "plate": plate}
            return redirect(url_for("console.customer_order"))
    return render_template("console/customer_lookup.html", error=error, csrf=_csrf()), 200 if not error else 404


@console.get("/customer/order")
def customer_order():
    held = session.get("customer")
    if not held:
        return redirect(url_for("console.customer_lookup"))
    view = _api().get(f"/self-service/repair-orders/{held['number']}", plate=held["plate"])
    return _page(view, url_for("console.customer_order_decisions"))


@console.post("/customer/order/decisions")
def customer_order_decisions():
    held = session.get("customer")
    if not held or not _checked():
        return redirect(url_for("console.customer_lookup"))
    return _decide(lambda body: _api().post(f"/self-service/repair-orders/{held['number']}/decisions", body,
                                            plate=held["plate"]), url_for("console.customer_order"))


def link_page(token: str):
    """/customer/<token>, the address a message carries (shared/links.py): the customer's page."""
    try:
        view = _api().get(f"/customer/{token}")
    except Refused as refused:
        return render_template("console/customer_lookup.html", error=(
            "this link has expired or is not valid; look up your repair with its number and plate"
            if refused.status == 404 else refused.message), csrf=_csrf()), refused.status
    return _page(view, url_for("console.customer_link_decisions", token=token))


@console.post("/customer/<token>/decisions")
def customer_link_decisions(token):
    if not _checked():
        return redirect(f"/customer/{token}")
    return _decide(lambda body: _api().post(f"/customer/{token}/decisions", body), f"/customer/{token}")


def _page(view: dict, decide_url: str):
    branch = view.get("branch") or {}
    return render_template("console/customer.html", view=view, decide_url=decide_url, csrf=_csrf(),
                           tz=branch.get("timezone"), currency=branch.get("currency") or present.DEFAULT_CURRENCY)


def _decide(send, back: str):
    waiting_quote = request.form.get("quote_id", "")
    decisions = [{"line_id": name.removeprefix("line-"), "approved": value == "approve"}
                 for name, value in request.form.items() if name.startswith("line-")]
    body = {"quote_id": waiting_quote, "decisions": decisions, "name": request.form.get("name", "").strip()}
    try:
        send(body)
    except Refused as refused:
        flash(refused.message + (": " + "; ".join(refused.reasons) if refused.reasons else ""), "error")
        return redirect(back)
    approved = sum(d["approved"] for d in decisions)
    said = f"Thank you: {approved} of {len(decisions)} lines approved, the others declined."
    if wants_json():
        from flask import jsonify

        return jsonify({"ok": True, "said": said})
    flash(said, "ok")
    return redirect(back)
