"""The technician's screen, phone-sized: my jobs on the clock, the approved orders waiting to start,
the cars waiting for a diagnosis, and the cars waiting for a quality check.

Everything is read and done through the API as the signed-in technician (`g.api`): clocking on
names them (the API sets `technician_id` from the token and refuses another name), pause, resume
and clock off act on their own job, findings and supplements are recorded with their name as
`diagnosed_by`, and a peer check is refused by the API when they worked on the car themselves.

A finding carries its reading and the standard value it is compared with (domain.md s2: "the
diagnostic report compares readings with standard values"), as the technician writes them with units.
"""

from flask import g, render_template, request, url_for

from gateway.console import present
from gateway.console.changes import FEED
from gateway.console.client import Refused
from gateway.console.views import act, branch_shown, console, idempotency_key, open_clocks, open_jobs, signed_in

PAUSE_REASONS = ("break", "waiting for parts", "waiting for a tool", "waiting for the advisor", "another job")
FINDING_ROWS = 3  # finding rows on the diagnosis form (blank rows are left out)
CHECK_KINDS = {"self": "Self-check", "peer": "Peer check", "road_test": "Road test", "function_test": "Function test"}


def duration(seconds) -> str:
    """Clocked time: hours and minutes, or minutes and seconds under an hour."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _order(order_id: str, cache: dict) -> dict | None:
    if order_id not in cache:
        try:
            cache[order_id] = g.api.get(f"/repair-orders/{order_id}")
        except Refused:
            cache[order_id] = None
    return cache[order_id]


@console.get("/my-jobs")
@signed_in
def my_jobs():
    branch = branch_shown()
    branch_id, me = branch["branch_id"], g.me["login"]
    tz = branch.get("timezone")
    orders: dict[str, dict | None] = {}

    mine = []
    for job in sorted(open_jobs(branch_id, me), key=lambda j: j.get("started_at") or ""):
        job["order"] = _order(str(job["repair_order_id"]), orders) or {}
        job["state"] = "paused" if job.get("paused_at") else "running"
        mine.append(job)
    on_the_clock = {str(j["repair_order_id"]) for j in mine}

    clocks = open_clocks("workshop", branch_id)
    waiting = [o for o in g.api.pages("/repair-orders", branch_id=branch_id, status="approved")
               if str(o["repair_order_id"]) not in on_the_clock]
    # an order in progress that someone else started may take a second technician too
    joinable = [o for o in g.api.pages("/repair-orders", branch_id=branch_id, status="in_progress")
                if str(o["repair_order_id"]) not in on_the_clock]
    to_diagnose = g.api.pages("/repair-orders", branch_id=branch_id, status="checked_in")
    for order in waiting + joinable + to_diagnose:
        order["badge"] = present.badge(clocks.get(str(order["repair_order_id"])))
    for job in mine:
        job["badge"] = present.badge(clocks.get(str(job["repair_order_id"])))
    for group in (waiting, joinable, to_diagnose):
        group.sort(key=lambda o: (o.get("priority") != "safety_critical", o.get("created_at") or ""))

    checks = []
    for summary in g.api.pages("/repair-orders", branch_id=branch_id, status="quality_check"):
        order = _order(str(summary["repair_order_id"]), orders)
        if not order:
            continue
        worked = {j["technician_id"] for j in order.get("jobs") or []}
        done = {(c["kind"], c["passed"]) for c in order.get("quality_checks") or []}
        order["mine"] = me in worked
        order["worked_by"] = sorted(worked)
        order["self_checked"] = ("self", True) in done
        order["tests_open"] = [t for t in order.get("tests_required") or [] if (t, True) not in done]
        order["badge"] = present.badge(clocks.get(str(order["repair_order_id"])))
        checks.append(order)

    finished = [j for j in g.api.pages("/jobs", branch_id=branch_id, technician_id=me,
                                       **{"from": present.day_start(tz).isoformat()})
                if j.get("finished_at")]
    finished.sort(key=lambda j: j["finished_at"], reverse=True)
    for job in finished:
        job["order"] = _order(str(job["repair_order_id"]), orders) or {}
        job["clocked"] = duration(job.get("clocked_seconds"))

    return render_template("console/technician.html", branch=branch, tz=tz, mine=mine, waiting=waiting,
                           joinable=joinable, to_diagnose=to_diagnose, checks=checks, finished=finished,
                           pause_reasons=PAUSE_REASONS, finding_rows=range(FINDING_ROWS),
                           check_kinds=CHECK_KINDS, stamp=FEED.stamp([branch_id]),
                           fragment=request.args.get("fragment") == "1")


def _back() -> str:
    return url_for("console.my_jobs")


def _findings(form) -> list[dict]:
    """The finding rows of a form: what, the reading against its standard, red/amber/green."""
    out = []
    for i in range(FINDING_ROWS):
        what = (form.get(f"finding-{i}-description") or "").strip()
        if not what:
            continue
        out.append({"code": (form.get(f"finding-{i}-code") or "").strip() or None, "description": what,
                    "reading": (form.get(f"finding-{i}-reading") or "").strip() or None,
                    "standard": (form.get(f"finding-{i}-standard") or "").strip() or None,
                    "status": form.get(f"finding-{i}-status") or "amber"})
    return out


def _no_findings():
    raise Refused(422, "write at least one finding", {"findings": ["describe what you found"]})


@console.post("/my-jobs/<uuid:order_id>/clock-on")
@signed_in
def clock_on(order_id):
    body = {"technician_id": g.me["login"], "description": request.form.get("description") or "work as approved"}
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/jobs", body, key=idempotency_key()), _back(),
               "clocked on")


@console.post("/my-jobs/<uuid:order_id>/jobs/<uuid:job_id>/pause")
@signed_in
def pause(order_id, job_id):
    reason = request.form.get("reason") or ""
    if reason == "other":
        reason = request.form.get("other_reason") or "other"
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/jobs/{job_id}/pause", {"reason": reason},
                                  key=idempotency_key()), _back(), "paused")


@console.post("/my-jobs/<uuid:order_id>/jobs/<uuid:job_id>/resume")
@signed_in
def resume(order_id, job_id):
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/jobs/{job_id}/resumption", key=idempotency_key()),
               _back(), "back on the clock")


@console.post("/my-jobs/<uuid:order_id>/jobs/<uuid:job_id>/off")
@signed_in
def clock_off(order_id, job_id):
    body = {"notes": request.form.get("notes") or ""}
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/jobs/{job_id}/finish", body, key=idempotency_key()),
               _back(), "clocked off")


@console.post("/my-jobs/<uuid:order_id>/diagnosis")
@signed_in
def diagnosis(order_id):
    findings = _findings(request.form)

    def call():
        if not findings:
            _no_findings()
        return g.api.post(f"/repair-orders/{order_id}/diagnosis",
                          {"findings": findings, "diagnosed_by": g.me["login"]}, key=idempotency_key())
    return act(call, _back(), "findings recorded")


@console.post("/my-jobs/<uuid:order_id>/supplement")
@signed_in
def supplement(order_id):
    findings, form = _findings(request.form), request.form
    lines = []
    if (form.get("labour_description") or "").strip():
        lines.append({"kind": "labour", "group": form.get("group") or "must",
                      "description": form["labour_description"].strip(), "quantity": form.get("labour_hours") or "1"})
    if (form.get("part_number") or "").strip():
        lines.append({"kind": "part", "group": form.get("group") or "must",
                      "description": (form.get("part_description") or "").strip() or form["part_number"].strip(),
                      "part_number": form["part_number"].strip().upper(),
                      "quantity": form.get("part_quantity") or "1"})

    def call():
        if not findings:
            _no_findings()
        if not lines:
            raise Refused(422, "say what work or part the finding needs", {"lines": ["give labour or a part"]})
        return g.api.post(f"/repair-orders/{order_id}/supplements",
                          {"findings": findings, "lines": lines, "diagnosed_by": g.me["login"]},
                          key=idempotency_key())
    return act(call, _back(), "supplement sent to the advisor for the customer's approval")


@console.post("/my-jobs/<uuid:order_id>/quality-check")
@signed_in
def quality_check(order_id):
    form = request.form
    body = {"checked_by": g.me["login"], "kind": form.get("kind") or "peer", "passed": form.get("passed") == "yes",
            "notes": form.get("notes") or ""}
    said = "check recorded: passed" if body["passed"] else "check recorded: failed, the work goes back"
    return act(lambda: g.api.post(f"/repair-orders/{order_id}/quality-check", body, key=idempotency_key()),
               _back(), said)
