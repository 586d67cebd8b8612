"""Estimates through the gateway: the quote's shortest / likely / longest times, and the repair
promise clock started with the likely time plus the branch's buffer instead of the fixed 4 h."""
from tests.api.test_workshop_rules import approve, checked_in, diagnose, promise_clock, since

LINES = [{"kind": "labour", "group": "must", "description": "replace the clutch", "quantity": "2"}]
ESTIMATE = {"diagnosis": {"shortest": 0.25, "likely": 0.5, "longest": 1},
            "labour": {"shortest": 1.5, "likely": 2, "longest": 3}}


def quoted(advisor, technician, world, hours_ahead, **body):
    ro = checked_in(advisor, world, hours_ahead)
    assert diagnose(technician, ro, "clutch slips").status_code == 200
    return ro, advisor.post(f"/repair-orders/{ro}/quotes", {"lines": LINES, **body})


def test_the_repair_promise_is_the_likely_time_plus_the_branchs_buffer(advisor, technician, admin, world):
    started = since()
    ro, issued = quoted(advisor, technician, world, 80, estimate=ESTIMATE)
    assert issued.status_code == 201 and issued.json()["estimate"] == ESTIMATE, issued.text
    assert approve(advisor, ro, issued.json()).status_code == 200
    assert promise_clock(admin, ro, started)["target_seconds"] == int(2.5 * 3600 * 1.25)

    branch = world["branch"]
    admin.ok("POST", f"/branches/{branch}/workshop-settings", {"promise_buffer_pct": 20})
    try:
        ro2, issued2 = quoted(advisor, technician, world, 81, estimate=ESTIMATE)
        assert approve(advisor, ro2, issued2.json()).status_code == 200
        assert promise_clock(admin, ro2, started)["target_seconds"] == int(2.5 * 3600 * 1.2)
    finally:
        admin.ok("POST", f"/branches/{branch}/workshop-settings", {"promise_buffer_pct": None})


def test_without_an_estimate_the_promise_keeps_the_fixed_target(advisor, technician, admin, world):
    started = since()
    ro, issued = quoted(advisor, technician, world, 82)
    assert issued.json()["estimate"] is None
    assert approve(advisor, ro, issued.json()).status_code == 200
    assert promise_clock(admin, ro, started)["target_seconds"] == 4 * 3600


def test_an_estimate_out_of_order_is_refused(advisor, technician, world):
    _, refused = quoted(advisor, technician, world, 83,
                        estimate={"labour": {"shortest": 3, "likely": 2, "longest": 1}})
    assert refused.status_code == 400 and "estimate" in refused.json()["error"]["fields"], refused.text
