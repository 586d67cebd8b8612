"""Messages to customers through the real stack: a real SMTP server, an SMS provider that fails, consent,
manual messages, branch templates, one message per thing (docs/api.md, "Messages to customers")."""
import os
import time
import uuid

import psycopg
import pytest

from tests.support import channels, fixtures
from tests.support.bus import publish_event
from tests.support.gateway import Api
from tests.support.journey import until, vin


@pytest.fixture(scope="module")
def inbox(gateway):
    return channels.start()


def put(api, path, body):
    return api.session.put(api.base + path, json=body, timeout=30)


def new_customer(api, branch_id, email=True, phone=True):
    tag = uuid.uuid4().hex[:8]
    return api.ok("POST", "/customers", {
        "branch_id": branch_id, "name": f"Mia {tag}",
        "email": f"mia-{tag}@example.com" if email else None,
        "phone": f"+49 30 {int(tag, 16) % 10**8:08d}" if phone else None}, status=201)


def progress(customer, branch_id, stage="checked_in", repair_order_id=None, text="Your car is checked in."):
    ro = repair_order_id or uuid.uuid4()
    publish_event("repair_order.progress", branch_id, repair_order_id=ro, customer_id=customer["customer_id"],
                  vehicle_id=uuid.uuid4(), number=f"T-{str(ro)[:6]}", plate="T 1", stage=stage, text=text)
    return ro


def messages_of(api, customer):
    return api.ok("GET", f"/customers/{customer['customer_id']}/messages")["items"]


def timeline(customer_id):
    """crm's contact log of the customer (the timeline's rows of kind message)."""
    with psycopg.connect(os.environ["PITLANE_DSN"]) as conn:
        return [r[0] for r in conn.execute(
            "SELECT note FROM crm.contacts WHERE customer_id = %s AND kind = 'message' ORDER BY id",
            (customer_id,))]


def test_a_confirmed_booking_reaches_a_real_smtp_server_with_the_right_text(advisor, world, inbox):
    customer = new_customer(advisor, world["branch"], phone=False)
    vehicle = advisor.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                               "plate": "M 1", "model": "Golf"}, status=201)
    slot = fixtures.next_slot(30)
    booking = until(lambda: advisor.post("/bookings", fixtures.booking_request(
        world["branch"], customer["customer_id"], vehicle["vehicle_id"], slot)),
        lambda r: r.status_code == 201, what="the booking").json()
    advisor.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")

    mail = until(lambda: inbox["mailbox"].to(customer["email"]), bool, what="the mail")[0]
    assert mail["Subject"] == f"Your visit to Branch {world['branch']} is confirmed"
    assert mail["From"] == "service@pitlane.test"
    body = mail.get_content()
    assert f"Hello {customer['name']}" in body
    day, hour = slot[:10], slot[11:16]  # the branch's time zone is UTC
    assert f"confirmed for {day} at {hour}" in body and "bring your vehicle documents" in body
    sent = until(lambda: messages_of(advisor, customer), lambda ms: ms and ms[0]["status"] == "sent",
                 what="the message recorded as sent")[0]
    assert (sent["channel"], sent["address"], sent["attempts"]) == ("email", customer["email"], 1)
    assert [a["result"] for a in advisor.ok("GET", f"/messages/{sent['message_id']}")["attempt_log"]] == ["sent"]


def test_a_failing_sms_provider_is_retried_until_it_takes_the_message_and_blocks_nothing(advisor, world, inbox):
    texted = new_customer(advisor, world["branch"], email=False)
    mailed = new_customer(advisor, world["branch"], phone=False)
    inbox["sms"].fail(texted["phone"], 2)  # 500, 500, then 200
    progress(texted, world["branch"])
    queued_at = time.monotonic()
    progress(mailed, world["branch"])  # published after: not held up by the failing provider

    until(lambda: inbox["mailbox"].to(mailed["email"]), bool, what="the other customer's mail")
    mailed_after = time.monotonic() - queued_at
    sent = until(lambda: messages_of(advisor, texted), lambda ms: ms and ms[0]["status"] == "sent",
                 what="the SMS delivered")[0]
    texted_after = time.monotonic() - queued_at
    assert mailed_after < texted_after
    detail = advisor.ok("GET", f"/messages/{sent['message_id']}")
    assert (detail["channel"], detail["attempts"]) == ("sms", 3)
    assert [a["result"] for a in detail["attempt_log"]] == ["refused", "refused", "sent"]
    assert detail["attempt_log"][0]["answer"].startswith("500")
    requests = inbox["sms"].to(texted["phone"])
    assert [r["status"] for r in requests] == [500, 500, 200]
    assert requests[-1]["authorization"] == f"Bearer {channels.SMS_TOKEN}"
    assert requests[-1]["body"]["reference"] == detail["message_id"]
    assert "checked in" in requests[-1]["body"]["text"]
    notes = timeline(texted["customer_id"])
    assert len([n for n in notes if "attempt" in n]) == 3
    assert "attempt 3 sent" in notes[-1] and notes[-1].endswith("sent")


def test_without_consent_a_message_is_not_sent_and_the_timeline_says_why(advisor, world, inbox):
    customer = new_customer(advisor, world["branch"])
    changed = put(advisor, f"/customers/{customer['customer_id']}/consents", {
        "consents": [{"channel": "email", "purpose": "service", "granted": False},
                     {"channel": "sms", "purpose": "service", "granted": False}], "source": "phone"})
    assert changed.status_code == 200, changed.text
    listed = {(c["channel"], c["purpose"]): c["granted"] for c in changed.json()["consents"]}
    assert listed[("email", "service")] is False and listed[("email", "surveys")] is True
    history = advisor.ok("GET", f"/customers/{customer['customer_id']}/consents/history")["changes"]
    assert [(h["channel"], h["granted"], h["source"]) for h in history] == [("email", False, "phone"),
                                                                            ("sms", False, "phone")]
    assert {h["changed_by"] for h in history} == {advisor.subject}
    progress(customer, world["branch"])
    message = until(lambda: messages_of(advisor, customer), bool, what="the message record")[0]
    assert message["status"] == "not_sent" and message["attempts"] == 0
    assert "email: no consent for service" in message["reason"]
    assert any("not sent" in n and "no consent" in n for n in timeline(customer["customer_id"]))
    time.sleep(0.5)
    assert inbox["mailbox"].to(customer["email"]) == [] and inbox["sms"].to(customer["phone"]) == []


def test_a_manual_message_without_consent_is_refused_with_the_reason(advisor, world, inbox):
    customer = new_customer(advisor, world["branch"])
    refused = advisor.post(f"/customers/{customer['customer_id']}/messages",
                           {"channel": "chat", "text": "Your car is washed too."})
    assert refused.status_code == 422, refused.text
    assert "no consent" in refused.json()["error"]["fields"]["channel"][0]
    nowhere = new_customer(advisor, world["branch"], phone=False)
    put(advisor, f"/customers/{nowhere['customer_id']}/consents",
        {"consents": [{"channel": "sms", "purpose": "service", "granted": True}]})
    no_address = advisor.post(f"/customers/{nowhere['customer_id']}/messages", {"channel": "sms", "text": "hi"})
    assert no_address.status_code == 422 and no_address.json()["error"]["fields"]["channel"] == ["no sms address"]
    assert advisor.post(f"/customers/{customer['customer_id']}/messages",
                        {"channel": "email", "text": "hi", "template": "manual"}).status_code == 400
    made = advisor.ok("POST", f"/customers/{customer['customer_id']}/messages",
                      {"channel": "email", "text": "Your car is washed too."}, status=201)
    assert made["status"] == "queued"
    mail = until(lambda: inbox["mailbox"].to(customer["email"]), bool, what="the manual mail")[0]
    assert "Your car is washed too." in mail.get_content()


def test_a_branch_template_override_is_used_and_unknown_placeholders_are_refused(admin, advisor, world, inbox):
    branch = world["other_branch"]
    path = f"/branches/{branch}/message-templates/checked_in/en"
    bad = put(admin, path, {"subject": "In: $number", "body": "Dear $name, $secret"})
    assert bad.status_code == 422 and "secret" in bad.json()["error"]["fields"]["body"][0]
    assert put(advisor, path, {"subject": "x", "body": "y"}).status_code == 403  # not the advisor's branch
    saved = put(admin, path, {"subject": "We have your car ($number)", "body": "Dear $name, it is with us. $link"})
    assert saved.status_code == 200, saved.text
    effective = {(t["key"], t["language"]): t for t in admin.ok("GET", f"/branches/{branch}/message-templates")}
    assert effective[("checked_in", "en")]["source"] == "branch"
    assert effective[("checked_in", "zh")]["source"] == "shipped"
    customer = new_customer(admin, branch, phone=False)
    ro = progress(customer, branch)
    mail = until(lambda: inbox["mailbox"].to(customer["email"]), bool, what="the mail")[0]
    assert mail["Subject"] == f"We have your car (T-{str(ro)[:6]})"
    assert mail.get_content().startswith(f"Dear {customer['name']}, it is with us. http")
    assert "/customer/" in mail.get_content()


def test_one_message_per_stage_when_two_events_announce_it(advisor, world, inbox):
    customer = new_customer(advisor, world["branch"], phone=False)
    ro = uuid.uuid4()
    publish_event("repair_order.opened", world["branch"], repair_order_id=ro, number="T-READY",
                  customer_id=customer["customer_id"], vehicle_id=uuid.uuid4(), priority="routine", plate="R 1")
    progress(customer, world["branch"], stage="ready", repair_order_id=ro, text="Your car is ready.")
    until(lambda: messages_of(advisor, customer), bool, what="the ready message")
    publish_event("repair_order.ready", world["branch"], repair_order_id=ro)
    time.sleep(1.0)  # the second announcement has had time to be handled
    ready = [m for m in messages_of(advisor, customer) if m["key"] == "ready"]
    assert len(ready) == 1
    assert len(until(lambda: inbox["mailbox"].to(customer["email"]), bool, what="the mail")) == 1


def test_an_advisor_reads_and_changes_consent_and_messages_of_their_own_branchs_customers_only(
        admin, advisor, world, inbox):
    far = new_customer(admin, world["far_branch"], phone=False)
    made = admin.ok("POST", f"/customers/{far['customer_id']}/messages", {"channel": "email", "text": "hi"},
                    status=201)
    base = f"/customers/{far['customer_id']}"
    unknown = f"/customers/{uuid.uuid4()}"
    for path in (base, unknown):
        assert advisor.get(f"{path}/consents").status_code == 403
        assert advisor.get(f"{path}/consents/history").status_code == 403
        assert advisor.get(f"{path}/messages").status_code == 403
        assert advisor.post(f"{path}/messages", {"channel": "email", "text": "x"}).status_code == 403
        assert put(advisor, f"{path}/consents", {
            "consents": [{"channel": "email", "purpose": "service", "granted": False}]}).status_code == 403
    assert advisor.get(f"/messages/{made['message_id']}").status_code == 403
    assert advisor.get(f"/branches/{world['far_branch']}/message-templates").status_code == 403
    assert admin.ok("GET", f"{base}/consents/history")["changes"] == []  # the refused change changed nothing
    assert admin.get(f"{unknown}/consents").status_code == 404
    own = new_customer(advisor, world["branch"])
    assert advisor.ok("GET", f"/customers/{own['customer_id']}/consents")["branch_id"] == world["branch"]
    operations = Api.as_role(advisor.base.removesuffix("/api/v1"), "operations")
    assert operations.get(f"/customers/{own['customer_id']}/consents").status_code == 200
    assert put(operations, f"/customers/{own['customer_id']}/consents", {
        "consents": [{"channel": "email", "purpose": "service", "granted": False}]}).status_code == 403


def test_bad_input_to_consent_and_templates_is_a_clear_error_never_a_500(admin, world):
    customer = new_customer(admin, world["branch"])
    path = f"/customers/{customer['customer_id']}/consents"
    for body, field in (({"consents": [{"channel": "fax", "purpose": "service", "granted": True}]}, "consents"),
                        ({"consents": [{"channel": "email", "purpose": "service", "granted": "yes"}]}, "consents"),
                        ({"consents": []}, "consents"), ({}, "consents"),
                        ({"consents": [{"channel": "email", "purpose": "service", "granted": True}],
                          "preferred_channel": "pigeon"}, "preferred_channel")):
        answer = put(admin, path, body)
        assert answer.status_code == 400 and field in answer.json()["error"]["fields"], (body, answer.text)
    assert admin.session.put(admin.base + path, data="nope", timeout=30).status_code == 415
    templates = f"/branches/{world['branch']}/message-templates"
    assert put(admin, f"{templates}/no_such_message/en", {"subject": "s", "body": "b"}).status_code == 404
    assert put(admin, f"{templates}/ready/fr", {"subject": "s", "body": "b"}).status_code == 404
    assert put(admin, f"{templates}/ready/en", {"subject": "", "body": "b"}).status_code == 400
    assert put(admin, f"/branches/NOPE-{uuid.uuid4().hex[:6]}/message-templates/ready/en",
               {"subject": "s", "body": "b"}).status_code == 404
    assert admin.get(f"/messages/{uuid.uuid4()}").status_code == 404
    assert admin.get("/messages/not-an-id").status_code == 404
    assert admin.get(f"/customers/{customer['customer_id']}/messages", status="lost").status_code == 400
