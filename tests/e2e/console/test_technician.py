"""The technician's screen on a phone, in Chromium against the real stack: clock on, pause, resume and
clock off through the screen, and the clocked time as the API recorded it."""
from playwright.sync_api import expect

from tests.e2e.console.conftest import accessible, checked_in_order, shot
from tests.support.journey import until

CONSENT = {"method": "signature", "by": "Cora Console"}


def approved_order(advisor, technician, branch_id, slot_hours):
    """A checked-in order diagnosed, quoted (labour only) and approved through the API: ready to start."""
    made = checked_in_order(advisor, branch_id, slot_hours=slot_hours, fault="knocking over bumps")
    ro = made["order"]["repair_order_id"]
    technician.ok("POST", f"/repair-orders/{ro}/diagnosis", {
        "findings": [{"description": "front left drop link worn", "status": "red"}]})
    quote = advisor.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "replace front left drop link", "quantity": "0.8"}]})
    advisor.ok("POST", f"/repair-orders/{ro}/approval", {
        "quote_id": quote["quote_id"], "consent": CONSENT,
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})
    until(lambda: advisor.ok("GET", f"/repair-orders/{ro}"), lambda o: o["status"] == "approved",
          what="the order approved")
    return made


def test_a_technician_clocks_on_pauses_and_off_on_a_phone(sign_in, advisor, technician, colleague, world):
    made = approved_order(advisor, technician, world["branch"], slot_hours=241)
    ro, number = made["order"]["repair_order_id"], made["order"]["number"]
    me = colleague("console-tech")

    page = sign_in("technician", phone=True)
    page.goto("/console/my-jobs")
    waiting = page.locator(f"article.start[data-number='{number}']")
    expect(waiting).to_contain_text(made["plate"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    shot(page, "technician")
    accessible(page)

    waiting.get_by_role("button", name="Clock on").click()
    job = page.locator(f"article.job[data-number='{number}']")
    expect(job).to_have_attribute("data-state", "running")
    expect(waiting).to_have_count(0)
    box = job.get_by_role("button", name="Clock off").first.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 150  # a thumb's target
    accessible(page)

    job.get_by_label("Pause reason").select_option("waiting for a tool")
    job.get_by_role("button", name="Pause").click()
    expect(job).to_have_attribute("data-state", "paused")
    expect(job).to_contain_text("waiting for a tool")
    paused = until(lambda: me.ok("GET", "/jobs", repair_order_id=ro)["items"], lambda js: js and js[0]["paused_at"],
                   what="the pause")[0]
    assert paused["pause_reason"] == "waiting for a tool" and paused["technician_id"] == "console-tech"
    page.wait_for_timeout(1200)  # a second paused, so paused time is counted

    job.get_by_role("button", name="Resume").click()
    expect(job).to_have_attribute("data-state", "running")
    page.wait_for_timeout(1200)  # and a second worked after it
    job.get_by_role("button", name="Clock off").first.click()
    expect(job).to_have_count(0)
    done = page.locator(f"tr.finished[data-number='{number}']")
    expect(done).to_be_visible()
    expect(done.locator(".clocked")).to_contain_text("min")
    # the order goes to quality check when its jobs are done; this technician may not peer-check it
    qc = page.locator(f"article.qc[data-number='{number}']")
    expect(qc).to_have_attribute("data-mine", "yes")
    shot(page, "technician-done")

    [recorded] = me.ok("GET", "/jobs", repair_order_id=ro)["items"]
    assert recorded["finished_at"] and recorded["clocked_seconds"] is not None, recorded
    assert recorded["paused_seconds"] >= 1, recorded
    assert recorded["clocked_seconds"] >= 1, recorded
    assert me.ok("GET", f"/repair-orders/{ro}")["status"] == "quality_check"
