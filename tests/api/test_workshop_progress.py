"""Progress for the customer through the real stack: an event at each stage with what a message
needs, an update at least every interval while work runs (the progress_update SLA clock), and the
delay told at once when the repair runs 20 % past its estimate."""
import os
import uuid

import psycopg

from tests.api.test_workshop_rules import approve, approved, checked_in, diagnose, since
from tests.support.journey import until


def published(ro, event_type):
    """The events workshop published about a repair order (its outbox), oldest first."""
    with psycopg.connect(os.environ["PITLANE_DSN"], autocommit=True) as conn:
        rows = conn.execute("SELECT payload FROM workshop.outbox WHERE event_type = %s"
                            " AND payload->>'repair_order_id' = %s ORDER BY payload->>'occurred_at', id",
                            (event_type, ro)).fetchall()
    return [r[0] for r in rows]


def clocks(admin, ro, started):
    items = admin.ok("GET", "/sla/clocks", service="workshop", policy="progress_update", limit=200,
                     **{"from": started})["items"]
    return {c["subject_id"]: c for c in items if c["subject_id"].startswith(ro)}


def test_each_stage_reaches_the_customer_and_an_update_is_due_while_work_runs(advisor, technician, colleague,
                                                                               inspector, admin, world):
    started = since()
    tech = colleague(f"tech-pr-{uuid.uuid4().hex[:6]}")
    ro = approved(advisor, technician, world, 100)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    running = until(lambda: clocks(admin, ro, started), lambda c: f"{ro}:1" in c, what="the update clock")
    assert running[f"{ro}:1"]["state"] == "running" and running[f"{ro}:1"]["target_seconds"] == 7200
    advisor.ok("POST", f"/repair-orders/{ro}/hold", {"reason": "sublet"})
    assert clocks(admin, ro, started)[f"{ro}:1"]["outcome"] == "cancelled"  # no update owed while work stops
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/resumption")
    assert clocks(admin, ro, started)[f"{ro}:2"]["state"] == "running"
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
    inspector.ok("POST", f"/repair-orders/{ro}/quality-check", {"passed": True})

    stages = [(p["stage"], p["update_due"]) for p in published(ro, "repair_order.progress")]
    assert [s for s, _ in stages] == ["checked_in", "diagnosed", "work_started", "qc_done", "ready"]
    first = published(ro, "repair_order.progress")[0]
    assert first["customer_id"] and first["number"].startswith("RO-") and first["text"] == "Your car is checked in."


def test_while_work_runs_the_customer_hears_every_interval(advisor, technician, colleague, admin, world):
    started = since()
    tech = colleague(f"tech-pu-{uuid.uuid4().hex[:6]}")
    ro = approved(advisor, technician, world, 101)
    job = tech.ok("POST", f"/repair-orders/{ro}/jobs", {}, status=201)
    branch = world["branch"]
    admin.ok("POST", f"/branches/{branch}/workshop-settings", {"progress_every_seconds": 1})
    try:
        until(lambda: published(ro, "repair_order.progress"),
              lambda items: any(p["stage"] == "work_in_progress" for p in items), what="an update", timeout=30)
    finally:
        admin.ok("POST", f"/branches/{branch}/workshop-settings", {"progress_every_seconds": None})
    update = next(p for p in published(ro, "repair_order.progress") if p["stage"] == "work_in_progress")
    assert update["update_due"] == f"{ro}:1" and update["text"] == "Work on your car is going on."
    assert clocks(admin, ro, started)[f"{ro}:1"]["outcome"] == "met"
    tech.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})


def test_a_repair_20_percent_past_its_estimate_is_told_at_once(advisor, technician, world):
    ro = checked_in(advisor, world, 102)
    assert diagnose(technician, ro).status_code == 200
    issued = advisor.ok("POST", f"/repair-orders/{ro}/quotes", {
        "lines": [{"kind": "labour", "description": "replace the bush", "quantity": "1"}],
        "estimate": {"labour": {"shortest": 0.0002, "likely": 0.0003, "longest": 0.0004}}})  # about a second
    assert approve(advisor, ro, issued).status_code == 200

    order = until(lambda: advisor.ok("GET", f"/repair-orders/{ro}"), lambda r: r["delayed_at"], timeout=30,
                  what="the delay told")

    (delayed,) = published(ro, "repair_order.delayed")
    assert delayed["reason"] == "the work takes longer than estimated" and delayed["new_time"]
    assert "later than promised" in delayed["text"] and delayed["number"] == order["number"]
    assert any(s["note"].startswith("delayed: the work takes longer") for s in order["timeline"])
