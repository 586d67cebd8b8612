"""crm in depth through the gateway, against the real stack: the customer record and its
timeline, odometer history, follow-ups by kind, invited surveys, complaints with their SLA clocks,
feedback, erasure with the invoice intact, and export."""
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

from tests.api.test_workshop_comebacks import back_again
from tests.support import fixtures
from tests.support.bus import EventRecorder, publish_event
from tests.support.gateway import Api
from tests.support.journey import Journey, until, vin

DEFAULTS = {"survey_threshold": 6, "survey_reminder_hours": 48, "major_total_cents": 100000,
            "major_labour_hours": 4}


def since():
    return (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()


def patch(api, path, body):
    return api.session.patch(api.base + path, json=body, timeout=30)


def crm_clock(admin, policy, subject, started, done=lambda c: True, what="the clock"):
    def look():
        page = admin.ok("GET", "/sla/clocks", service="crm", policy=policy, subject_id=str(subject),
                        **{"from": started})
        found = page["items"]
        return found[0] if found else None
    return until(look, lambda c: c is not None and done(c), what=what)


def customer_with_vehicle(api, branch_id, **more):
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": "Rec Ord", **more}, status=201)
    vehicle = api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(), "plate": "RC 1",
                                           "model": "Up", "purchase_date": "2024-03-01"}, status=201)
    return customer, vehicle


def complaint_body(branch_id, customer_id, **more):
    return {"branch_id": branch_id, "customer_id": customer_id, "what_happened": "rattle after the repair",
            "category": "repair_quality", **more}


# -- the customer record --------------------------------------------------------------------------------
def test_a_customer_has_a_language_vip_flag_contacts_and_a_preferred_advisor_and_is_updated_by_patch(
        advisor, world):
    customer = advisor.ok("POST", "/customers", {
        "branch_id": world["branch"], "name": "Li Wei", "language": "zh", "vip": True,
        "contacts": [{"label": "wechat", "value": "liwei88"}]}, status=201)
    assert (customer["language"], customer["vip"], customer["contacts"]) == (
        "zh", True, [{"label": "wechat", "value": "liwei88"}])
    assert advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Plain"})["language"] == "en"
    changed = patch(advisor, f"/customers/{customer['customer_id']}", {"preferred_advisor": "sam", "language": "en"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["preferred_advisor"], changed.json()["language"], changed.json()["name"]) == (
        "sam", "en", "Li Wei")
    bad = patch(advisor, f"/customers/{customer['customer_id']}", {"language": "fr"})
    assert bad.status_code == 400 and "language" in bad.json()["error"]["fields"]


def test_an_odometer_reading_below_the_last_is_refused_unless_marked_a_correction(advisor, world):
    _, vehicle = customer_with_vehicle(advisor, world["branch"])
    path = f"/vehicles/{vehicle['vehicle_id']}/odometer"
    assert advisor.ok("POST", path, {"odometer_km": 12000}, status=201)["odometer_km"] == 12000
    lower = advisor.post(path, {"odometer_km": 11000})
    assert lower.status_code == 422 and "odometer_km" in lower.json()["error"]["fields"], lower.text
    advisor.ok("POST", path, {"odometer_km": 11000, "correction": True}, status=201)
    history = advisor.ok("GET", path)
    assert [(r["odometer_km"], r["correction"]) for r in history] == [(12000, False), (11000, True)]
    assert advisor.ok("GET", f"/vehicles/{vehicle['vehicle_id']}")["purchase_date"] == "2024-03-01"


# -- complaints ---------------------------------------------------------------------------------------
def test_the_third_complaint_on_the_same_matter_escalates_at_once_even_when_they_arrive_together(
        advisor, admin, world):
    customer, vehicle = customer_with_vehicle(advisor, world["branch"])
    body = complaint_body(world["branch"], customer["customer_id"], vehicle_id=vehicle["vehicle_id"])
    answers = []

    def open_one():
        answers.append(advisor.post("/complaints", body))

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    third_or_later = [a.json() for a in answers if a.json()["trigger"] == "third_on_same_matter"]
    assert len(third_or_later) == 2  # the third and the fourth, whatever order they came in
    assert all(c["level"] == 2 and c["response_target_seconds"] == 1800 for c in third_or_later)
    # another category is another matter
    other = advisor.ok("POST", "/complaints", {**body, "category": "price"}, status=201)
    assert (other["level"], other["trigger"]) == (1, None)


def test_a_regulator_mentioned_escalates_at_once_and_filters_find_complaints(advisor, admin, world):
    customer, _ = customer_with_vehicle(advisor, world["branch"])
    cid = customer["customer_id"]
    started = since()
    regulator = advisor.ok("POST", "/complaints", complaint_body(world["branch"], cid, triggers=["regulator"]),
                           status=201)
    assert (regulator["level"], regulator["trigger"], regulator["response_target_seconds"]) == (3, "regulator", 1800)
    clock = crm_clock(admin, "complaint_first_response", regulator["complaint_id"], started)
    assert clock["target_seconds"] == 1800
    plain = advisor.ok("POST", "/complaints", complaint_body(world["branch"], cid, category="price"), status=201)
    assert [c["complaint_id"] for c in advisor.ok("GET", "/complaints", customer_id=cid, level=3)["items"]] == [
        regulator["complaint_id"]]
    assert {c["complaint_id"] for c in advisor.get("/complaints", customer_id=cid, status="open",
                                                   branch_id=world["branch"]).json()["items"]} == {
        regulator["complaint_id"], plain["complaint_id"]}
    bad = advisor.post("/complaints", complaint_body(world["branch"], cid, triggers=["weather"]))
    assert bad.status_code == 400


def test_a_complaint_is_answered_escalated_resolved_with_measures_and_reopened_with_its_clocks(
        advisor, admin, world):
    customer, _ = customer_with_vehicle(advisor, world["branch"])
    started = since()
    opened = advisor.ok("POST", "/complaints", complaint_body(world["branch"], customer["customer_id"],
                                                              source="social_media"), status=201)
    k = opened["complaint_id"]
    response = crm_clock(admin, "complaint_first_response", k, started)
    assert (response["target_seconds"], response["state"]) == (7200, "running")
    assert crm_clock(admin, "complaint_resolution", k, started)["target_seconds"] == 86400

    escalated = advisor.ok("POST", f"/complaints/{k}/escalations", {"trigger": "media"}, status=201)
    assert (escalated["level"], escalated["trigger"]) == (3, "media")
    assert escalated["response_target_seconds"] <= 1800 + 120
    crm_clock(admin, "complaint_first_response", k, started, lambda c: c["target_seconds"] < 7200,
              "the response clock retargeted")
    crm_clock(admin, "complaint_resolution", k, started, lambda c: c["target_seconds"] == 72 * 3600,
              "the resolution clock retargeted")
    again = advisor.post(f"/complaints/{k}/escalations", {"trigger": "customer_request"})
    assert again.status_code == 409

    answered = advisor.ok("POST", f"/complaints/{k}/responses", {"note": "we are on it"}, status=201)
    assert answered["first_response_at"] is not None and answered["owner"] == advisor.subject
    crm_clock(admin, "complaint_first_response", k, started, lambda c: c["outcome"] == "met", "the response met")

    missing = advisor.post(f"/complaints/{k}/resolution", {"measures": []})
    assert missing.status_code == 422
    assert set(missing.json()["error"]["fields"]) == {"measures", "deadline", "owner"}
    deadline = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    resolved = advisor.ok("POST", f"/complaints/{k}/resolution",
                          {"measures": ["redo the repair free"], "deadline": deadline, "owner": "sam"})
    assert (resolved["status"], resolved["measures"], resolved["resolution_owner"]) == (
        "resolved", ["redo the repair free"], "sam")
    crm_clock(admin, "complaint_resolution", k, started, lambda c: c["state"] == "stopped", "the resolution clock")
    twice = advisor.post(f"/complaints/{k}/resolution", {"measures": ["x"], "deadline": deadline, "owner": "sam"})
    assert twice.status_code == 409
    reopened = advisor.ok("POST", f"/complaints/{k}/reopening", {"reason": "still rattles"})
    assert (reopened["status"], reopened["reopened"], reopened["level"]) == ("open", 1, 3)
    crm_clock(admin, "complaint_reopened", k, started, lambda c: (c["state"], c["target_seconds"]) == (
        "running", 72 * 3600), "the reopened complaint's clock")
    assert advisor.post(f"/complaints/{k}/reopening", {"reason": "again"}).status_code == 409
    timeline = advisor.ok("GET", f"/customers/{customer['customer_id']}/timeline")["items"]
    assert [e["kind"] for e in timeline].count("complaint") >= 5  # opened, escalated, response, resolved, reopened


# -- feedback -------------------------------------------------------------------------------------------
def test_feedback_gets_one_reply_and_its_24_hour_clock_is_met(advisor, admin, world):
    customer, _ = customer_with_vehicle(advisor, world["branch"])
    started = since()
    given = advisor.ok("POST", f"/customers/{customer['customer_id']}/feedback", {"text": "great coffee"},
                       status=201)
    assert (given["status"], given["branch_id"]) == ("open", world["branch"])
    clock = crm_clock(admin, "feedback_reply", given["feedback_id"], started)
    assert (clock["target_seconds"], clock["state"]) == (86400, "running")
    replied = advisor.ok("POST", f"/feedback/{given['feedback_id']}/reply", {"text": "thank you!"})
    assert (replied["status"], replied["reply"], replied["replied_by"]) == ("replied", "thank you!", advisor.subject)
    assert advisor.post(f"/feedback/{given['feedback_id']}/reply", {"text": "again"}).status_code == 409
    crm_clock(admin, "feedback_reply", given["feedback_id"], started, lambda c: c["outcome"] == "met", "reply met")


# -- the whole path: delivery, follow-ups, survey, complaint --------------------------------------------
def test_a_delivered_repair_order_gets_follow_ups_by_kind_a_survey_whose_low_score_opens_a_complaint(
        advisor, technician, inspector, admin, world):
    branch = world["branch"]
    admin.ok("POST", "/crm/settings", {**DEFAULTS, "branch_id": branch, "survey_threshold": 7,
                                       "major_total_cents": 1})
    try:
        started = since()
        state = Journey(advisor, technician, inspector, branch, part_number=world["part"],
                        slot_start=fixtures.next_slot(14)).run()
        ro = state["ro"]["repair_order_id"]
        follow_ups = until(lambda: advisor.ok("GET", "/follow-ups", repair_order_id=ro)["items"],
                           lambda items: len(items) == 5, what="the follow-ups")
        delivered = datetime.fromisoformat(follow_ups[0]["delivered_at"])
        by_kind = {f["kind"]: f for f in follow_ups}
        assert set(by_kind) == {"after_72h", "major_7d", "major_30d", "first_1m", "first_3m"}  # major, first time
        assert datetime.fromisoformat(by_kind["after_72h"]["due_at"]) == delivered + timedelta(hours=72)
        assert datetime.fromisoformat(by_kind["major_7d"]["opens_at"]) == delivered + timedelta(days=7)

        invitation = until(lambda: advisor.ok("GET", "/surveys/invitations", repair_order_id=ro)["items"], bool,
                           what="the survey invitation")[0]
        assert invitation["number"] == state["ro"]["number"] and invitation["answered_at"] is None
        low = advisor.post(f"/surveys/{invitation['survey_id']}/answer", {"score": 11})
        assert low.status_code == 400 and "score" in low.json()["error"]["fields"]
        survey = advisor.ok("POST", f"/surveys/{invitation['survey_id']}/answer", {"score": 7, "comment": "slow"},
                            status=201)
        assert survey["survey_id"] == invitation["survey_id"] and survey["complaint_id"] is not None  # 7 <= 7 here
        assert advisor.post(f"/surveys/{invitation['survey_id']}/answer", {"score": 9}).status_code == 409

        k = survey["complaint_id"]
        complaint = advisor.ok("GET", f"/complaints/{k}")
        assert (complaint["source"], complaint["level"], complaint["vehicle_id"]) == (
            "survey", 1, state["vehicle"]["vehicle_id"])
        assert crm_clock(admin, "complaint_first_response", k, started)["state"] == "running"
        advisor.ok("POST", f"/complaints/{k}/escalations", {"trigger": "customer_request"}, status=201)
        deadline = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
        resolved = advisor.ok("POST", f"/complaints/{k}/resolution",
                              {"measures": ["apology and a free wash"], "deadline": deadline, "owner": "sam"})
        assert (resolved["status"], resolved["level"]) == ("resolved", 2)

        figures = advisor.ok("GET", "/surveys/figures", branch_id=branch)
        assert figures["answered"] >= 1 and figures["invited"] >= 1 and figures["threshold"] == 7
        assert 0 < figures["response_rate"] <= 1

        # an issue found at the follow-up opens a complaint of its own
        done = advisor.ok("POST", f"/follow-ups/{by_kind['after_72h']['follow_up_id']}/completion", {
            "outcome": "issue_found", "notes": "squeal is back", "complaint_category": "repair_quality",
            "request_booking": True})
        assert done["status"] == "done" and done["complaint_id"] is not None
        assert done["booking_requested_at"] is not None and done["booked_at"] is None
        customer_id = state["customer"]["customer_id"]
        to_book = advisor.ok("GET", "/follow-ups", booking_requested="true", customer_id=customer_id)["items"]
        assert [f["follow_up_id"] for f in to_book] == [by_kind["after_72h"]["follow_up_id"]]
        # the advisor books the car back: the request is answered and leaves the list
        until(lambda: advisor.post("/bookings", fixtures.booking_request(
            branch, customer_id, state["vehicle"]["vehicle_id"], fixtures.next_slot(17))),
            lambda r: r.status_code == 201, what="the booking")
        answered = until(lambda: advisor.ok("GET", f"/follow-ups/{by_kind['after_72h']['follow_up_id']}"),
                         lambda f: f["booked_at"] is not None, what="the request answered by the booking")
        assert answered["booked_at"] >= answered["booking_requested_at"]
        assert advisor.ok("GET", "/follow-ups", booking_requested="true", customer_id=customer_id)["items"] == []
        wrong = advisor.post(f"/follow-ups/{by_kind['major_7d']['follow_up_id']}/completion", {
            "outcome": "reached", "complaint_category": "price"})
        assert wrong.status_code == 422

        kinds = until(lambda: [e["kind"] for e in advisor.ok(
            "GET", f"/customers/{state['customer']['customer_id']}/timeline", limit=200)["items"]],
            lambda k: {"visit", "booking", "repair_order", "delivery", "invoice", "payment", "survey",
                       "complaint", "follow_up"} <= set(k), what="the timeline")
        # newest first (messages are logged as the sender gets to them, so they may come later)
        assert [k for k in kinds if k != "message"][0] == "booking"  # the car booked back, last
        first_page = advisor.ok("GET", f"/customers/{state['customer']['customer_id']}/timeline", limit=2)
        second = advisor.ok("GET", f"/customers/{state['customer']['customer_id']}/timeline", limit=2,
                            cursor=first_page["next_cursor"])
        assert {e["id"] for e in first_page["items"]}.isdisjoint({e["id"] for e in second["items"]})
        assert second["items"][0]["at"] <= first_page["items"][-1]["at"]
    finally:
        admin.ok("POST", "/crm/settings", {**DEFAULTS, "branch_id": branch})


def test_a_comeback_opens_a_quality_complaint_at_level_2(advisor, technician, inspector, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                    slot_start=fixtures.next_slot(hours_ahead=94)).run(pay=False)
    again = back_again(advisor, world, state, 95, "brakes squeal again when cold")
    assert again["comeback_of"] == state["ro"]["repair_order_id"]
    complaints = until(lambda: advisor.ok("GET", "/complaints", customer_id=state["customer"]["customer_id"])["items"],
                       bool, what="the quality complaint")
    (quality,) = [c for c in complaints if c["source"] == "comeback"]
    assert (quality["category"], quality["level"], quality["trigger"], quality["repair_order_id"]) == (
        "repair_quality", 2, "repeat_problem", again["repair_order_id"])


# -- erasure and export ---------------------------------------------------------------------------------
def test_erasure_pseudonymises_the_customer_and_leaves_the_invoice_intact(
        advisor, technician, inspector, admin, world):
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                    slot_start=fixtures.next_slot(15)).run()
    cid, invoice_id = state["customer"]["customer_id"], state["invoice"]["invoice_id"]
    before = advisor.ok("GET", f"/invoices/{invoice_id}")
    assert advisor.ok("GET", "/customers", q=state["plate"])["items"]

    export = advisor.ok("GET", f"/customers/{cid}/export")
    assert export["customer"]["name"] == "Ada Example"
    (vehicle,) = export["vehicles"]
    assert vehicle["vin"] == state["vehicle"]["vin"] and 42000 in [r["odometer_km"] for r in vehicle["odometer"]]
    assert export["follow_ups"] and {"timeline", "surveys", "complaints", "feedback", "elsewhere"} <= set(export)
    sent = until(lambda: advisor.ok("GET", f"/customers/{cid}/export")["elsewhere"]["messages"]["messages"],
                 lambda found: found, what="the journey's messages in the export")
    assert {m["address"] for m in sent} == {"ada@example.com"}

    assert advisor.post(f"/customers/{cid}/erasure", {}).status_code == 400  # a reason is required
    erased = advisor.ok("POST", f"/customers/{cid}/erasure", {"reason": "customer asked, art. 17"})
    assert erased["already"] is False and erased["name"].startswith("erased customer ")
    record = advisor.ok("GET", f"/customers/{cid}")
    assert (record["name"], record["email"], record["phone"], record["contacts"]) == (erased["name"], None, None, [])
    car = advisor.ok("GET", f"/vehicles/{state['vehicle']['vehicle_id']}")
    assert car["plate"] == "" and car["vin"] == state["vehicle"]["vin"]  # the VIN stays for warranty and recalls
    assert advisor.ok("GET", "/customers", q=state["plate"])["items"] == []

    after = advisor.ok("GET", f"/invoices/{invoice_id}")
    assert (after["total_cents"], after["subtotal_cents"], after["tax_cents"], after["customer_id"]) == (
        before["total_cents"], before["subtotal_cents"], before["tax_cents"], cid)

    again = advisor.ok("POST", f"/customers/{cid}/erasure", {"reason": "asked twice"})
    assert again["already"] is True and again["name"] == erased["name"]
    assert erased["removed"]["messages"]["messages"] >= len(sent)
    kept = advisor.ok("GET", f"/customers/{cid}/export")["elsewhere"]["messages"]["messages"]
    before_erasure = [m for m in kept if m["message_id"] in {m["message_id"] for m in sent}]
    assert len(before_erasure) == len(sent)  # that they were sent stays; address and text go
    assert all((m["address"], m["body"]) == (None, "") for m in before_erasure)
    assert patch(advisor, f"/customers/{cid}", {"name": "Ada Again"}).status_code == 409
    assert advisor.ok("GET", f"/customers/{cid}/export")["customer"]["name"] == erased["name"]


def test_erasure_and_export_are_not_for_technicians_and_not_of_unknown_customers(gateway, admin, world):
    technician = Api.as_role(gateway.url, "technician", branch_id=world["branch"])
    customer = admin.ok("POST", "/customers", {"branch_id": world["branch"], "name": "Tech Probe"})
    assert technician.post(f"/customers/{customer['customer_id']}/erasure", {"reason": "x"}).status_code == 403
    assert technician.get(f"/customers/{customer['customer_id']}/export").status_code == 403
    assert admin.post(f"/customers/{uuid.uuid4()}/erasure", {"reason": "x"}).status_code == 404


# -- timers: follow_up.due when a window opens, one survey reminder ---------------------------------------
def test_a_follow_up_whose_window_opened_is_announced_due_and_an_unanswered_survey_is_reminded_once(
        advisor, world):
    customer, vehicle = customer_with_vehicle(advisor, world["branch"])
    ro = str(uuid.uuid4())
    delivered = datetime.now(timezone.utc) - timedelta(hours=50)  # the 72 h window opened 26 h ago
    line = {"line_id": str(uuid.uuid4()), "kind": "labour", "group": "must", "description": "pads",
            "quantity": "1.0", "unit_price_cents": 9000, "net_cents": 9000, "pay_type": "customer"}
    with EventRecorder("#") as recorder:
        publish_event("repair_order.delivered", world["branch"], repair_order_id=ro, number="RO-TIMER-1",
                      customer_id=customer["customer_id"], vehicle_id=vehicle["vehicle_id"],
                      delivered_at=delivered, lines=[line])
        due = recorder.wait_for("follow_up.due", timeout=20, repair_order_id=ro)
        invited = recorder.wait_for("survey.invited", timeout=20, repair_order_id=ro, reminder=False)
        reminded = recorder.wait_for("survey.invited", timeout=20, repair_order_id=ro, reminder=True)
        assert due["kind"] == "after_72h" and due["customer_id"] == customer["customer_id"]
        assert invited["number"] == reminded["number"] == "RO-TIMER-1"
        assert invited["survey_id"] == reminded["survey_id"]
        time.sleep(2.5)  # more looks of the timer: no second reminder, no second announcement
        while not recorder.received.empty():
            recorder.seen.append(recorder.received.get_nowait())
        mine = [(e["_type"], e.get("reminder")) for e in recorder.seen if e.get("repair_order_id") == ro]
    assert mine.count(("survey.invited", True)) == 1 and mine.count(("follow_up.due", None)) == 1, mine
    # a first-time customer: the 1- and 3-month follow-ups too, not yet open
    kinds = {f["kind"]: f for f in advisor.ok("GET", "/follow-ups", repair_order_id=ro)["items"]}
    assert set(kinds) == {"after_72h", "first_1m", "first_3m"}


def test_crm_commands_on_a_record_of_another_branch_are_refused_and_change_nothing(advisor, admin, world):
    far = world["far_branch"]
    customer, vehicle = customer_with_vehicle(admin, far)
    cid = customer["customer_id"]
    k = admin.ok("POST", "/complaints", complaint_body(far, cid), status=201)["complaint_id"]
    fb = admin.ok("POST", f"/customers/{cid}/feedback", {"text": "far away"}, status=201)["feedback_id"]
    deadline = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    refused = [
        advisor.post(f"/complaints/{k}/responses", {"note": "x"}),
        advisor.post(f"/complaints/{k}/escalations", {"trigger": "media"}),
        advisor.post(f"/complaints/{k}/resolution", {"measures": ["x"], "deadline": deadline, "owner": "x"}),
        advisor.post(f"/complaints/{k}/reopening", {"reason": "x"}),
        advisor.post(f"/feedback/{fb}/reply", {"text": "x"}),
        advisor.post(f"/customers/{cid}/erasure", {"reason": "x"}),
        advisor.post(f"/customers/{cid}/feedback", {"text": "x"}),
        advisor.post(f"/vehicles/{vehicle['vehicle_id']}/odometer", {"odometer_km": 5}),
        advisor.get(f"/customers/{cid}/export"),
        advisor.get(f"/customers/{cid}/timeline"),
        advisor.get("/surveys/figures", branch_id=far),
        patch(advisor, f"/customers/{cid}", {"name": "Changed"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused), [(r.status_code, r.text[:100]) for r in refused]
    complaint = admin.ok("GET", f"/complaints/{k}")
    assert (complaint["level"], complaint["status"], complaint["first_response_at"]) == (1, "open", None)
    assert admin.ok("GET", f"/feedback/{fb}")["status"] == "open"
    assert admin.ok("GET", f"/customers/{cid}")["name"] == "Rec Ord"
    assert admin.ok("GET", f"/vehicles/{vehicle['vehicle_id']}/odometer") == []
