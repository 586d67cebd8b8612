"""Messages to customers: the rules of services/crm/messages.py, without broker or database."""
import random
import uuid
from datetime import datetime, timezone

import pytest

from services.crm import messages
from shared.domain import RuleBroken

AT = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
RO, CUSTOMER, BOOKING = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def customer(email="ann@example.com", phone="+49 30 1234", language="en", marketing=False):
    return {"customer_id": CUSTOMER, "branch_id": "B1", "name": "Ann", "email": email, "phone": phone,
            "consent_marketing": marketing, "language": language}


def consents(c=None, stated=()):
    return messages.Consents.of(c or customer(), stated)


def event(**facts):
    return {"event_id": uuid.uuid4(), "branch_id": "B1", **facts}


ORDER = {"repair_order_id": RO, "customer_id": CUSTOMER, "number": "B1-000007", "plate": "B-AB 123"}
BOOKED = {"booking_id": BOOKING, "customer_id": CUSTOMER, "service_type": "inspection"}


def progress(stage, **more):
    return event(repair_order_id=RO, customer_id=CUSTOMER, vehicle_id=uuid.uuid4(), number="B1-000007",
                 plate="B-AB 123", stage=stage, text=f"{stage} text", **more)


# -- consent ---------------------------------------------------------------------------------------------
def test_a_customer_with_an_email_and_a_phone_consents_to_service_messages_on_both_until_they_withdraw():
    c = consents()
    assert c.allows("email", "service") and c.allows("sms", "service")
    assert not c.allows("chat", "service")


def test_nobody_consents_to_marketing_by_default():
    assert not any(consents().allows(ch, "marketing") for ch in messages.CHANNELS)
    assert consents(customer(marketing=True)).allows("email", "marketing")


def test_a_channel_without_an_address_has_no_default_consent():
    c = consents(customer(phone=None))
    assert c.allows("email", "service") and not c.allows("sms", "service")


@pytest.mark.parametrize("channel", messages.CHANNELS)
@pytest.mark.parametrize("purpose", messages.PURPOSES)
def test_a_withdrawn_consent_is_respected_per_channel_and_purpose(channel, purpose):
    c = consents(stated=[{"channel": channel, "purpose": purpose, "granted": False}])
    assert not c.allows(channel, purpose)
    granted = consents(stated=[{"channel": channel, "purpose": purpose, "granted": True}])
    assert granted.allows(channel, purpose)


def test_a_consent_change_is_kept_in_the_history_only_when_it_changes_something():
    c = consents()
    c.change([{"channel": "email", "purpose": "service", "granted": True},
              {"channel": "sms", "purpose": "service", "granted": False}], "advisor-1", "phone", AT)
    assert [(x["channel"], x["granted"], x["changed_by"], x["source"]) for x in c.changes] == [
        ("sms", False, "advisor-1", "phone")]
    assert not c.allows("sms", "service")


# -- the channel -----------------------------------------------------------------------------------------
def test_the_preferred_channel_is_used_when_it_is_consented():
    c = consents(stated=[{"channel": "chat", "purpose": "service", "granted": True}])
    assert messages.choose_channel(customer(), c, "service", preferred="chat") == ("chat", None)
    assert messages.choose_channel(customer(), c, "service", preferred="sms") == ("sms", None)


def test_without_a_consented_preference_the_first_consented_channel_with_an_address_is_used():
    c = consents(stated=[{"channel": "email", "purpose": "service", "granted": False}])
    assert messages.choose_channel(customer(), c, "service", preferred="chat") == ("sms", None)


def test_no_consented_channel_means_not_sent_with_the_reason():
    c = consents(customer(phone=None), stated=[{"channel": "email", "purpose": "service", "granted": False}])
    channel, reason = messages.choose_channel(customer(phone=None), c, "service")
    assert channel is None
    assert "email: no consent for service" in reason and "sms: no consent for service" in reason


def test_a_channel_that_is_not_configured_is_passed_over_and_named():
    channel, reason = messages.choose_channel(customer(), consents(), "service", available=("sms",))
    assert channel == "sms"
    channel, reason = messages.choose_channel(customer(), consents(), "service", available=())
    assert channel is None and "email: channel unavailable" in reason


def test_a_manual_message_without_consent_for_the_channel_is_refused_with_the_reason():
    c = consents(stated=[{"channel": "sms", "purpose": "service", "granted": False}])
    with pytest.raises(RuleBroken) as refused:
        messages.check_manual(customer(), c, "sms", "service")
    assert "no consent" in refused.value.fields["channel"][0]


def test_a_manual_message_to_a_channel_without_an_address_is_refused():
    c = consents(stated=[{"channel": "sms", "purpose": "service", "granted": True}])
    with pytest.raises(RuleBroken) as refused:
        messages.check_manual(customer(phone=None), c, "sms", "service")
    assert refused.value.fields["channel"] == ["no sms address"]


def test_a_message_with_no_channel_is_recorded_as_not_sent_and_announced_as_failed():
    c = consents(stated=[{"channel": ch, "purpose": "service", "granted": False} for ch in messages.CHANNELS])
    m = messages.Message.compose(uuid.uuid4(), "B1", customer(), c, "ready", "service",
                                 messages.shipped_template("ready", "en"), {"text": "x"}, AT)
    assert (m.status, m.channel, m.next_attempt_at) == ("not_sent", None, None)
    assert "no consent" in m.reason
    assert m.recorded("message.failed")[0].facts["attempts"] == 0


# -- events -> messages ----------------------------------------------------------------------------------
def test_a_confirmed_booking_tells_date_and_time_in_the_branchs_time_zone_and_what_to_bring():
    w = messages.wanted_for("booking.confirmed", event(booking_id=BOOKING, slot_start=AT), booking=BOOKED,
                            zone="Asia/Shanghai")
    assert (w.key, w.customer_id) == ("booking_confirmed", CUSTOMER)
    assert (w.facts["date"], w.facts["time"]) == ("2026-12-01", "17:00")
    assert w.facts["bring"] == messages.BRING


@pytest.mark.parametrize("event_type,facts,key", [
    ("booking.reminder_due", dict(booking_id=BOOKING, customer_id=CUSTOMER, vehicle_id=uuid.uuid4(), slot_start=AT,
                                  slot_end=AT, service_type="oil"), "booking_reminder"),
    ("booking.reschedule_offered", dict(booking_id=BOOKING, offered_at=AT, alternatives=[
        {"slot_start": AT.isoformat(), "part_of_day": "morning"}]), "reschedule_offered"),
    ("quote.issued", dict(repair_order_id=RO, quote_id=uuid.uuid4(), lines=[], total_cents=12345), "quote_ready"),
    ("parts.loaner_suggested", dict(repair_order_id=RO, waiting_since=AT, tier="local", lines=[]),
     "waiting_for_parts"),
    ("repair_order.ready", dict(repair_order_id=RO), "ready"),
    ("repair_order.delayed", dict(repair_order_id=RO, customer_id=CUSTOMER, vehicle_id=uuid.uuid4(),
                                  number="B1-000007", plate="P", reason="waiting for parts",
                                  new_time=AT, text="late"), "delayed"),
    ("invoice.issued", dict(invoice_id=uuid.uuid4(), number="INV-1", repair_order_id=RO, customer_id=CUSTOMER,
                            subtotal_cents=100, tax_cents=19, total_cents=119), "invoice"),
    ("follow_up.due", dict(follow_up_id=uuid.uuid4(), repair_order_id=RO, customer_id=CUSTOMER, kind="after_72h",
                           due_at=AT), "follow_up"),
    ("survey.invited", dict(survey_id=uuid.uuid4(), repair_order_id=RO, customer_id=CUSTOMER, number="N",
                            reminder=False), "survey"),
    ("survey.invited", dict(survey_id=uuid.uuid4(), repair_order_id=RO, customer_id=CUSTOMER, number="N",
                            reminder=True), "survey_reminder"),
    ("warranty.ending", dict(customer_id=CUSTOMER, vehicle_id=uuid.uuid4(), what="battery", ends_on="2027-01-01"),
     "warranty_ending"),
    ("transfer.tracking_sent", dict(transfer_id=uuid.uuid4(), repair_order_id=RO, tracking_reference="TR-1"),
     "transfer_tracking"),
])
def test_each_event_becomes_its_message_for_the_right_customer(event_type, facts, key):
    w = messages.wanted_for(event_type, event(**facts), booking=BOOKED, order=ORDER)
    assert (w.key, w.customer_id) == (key, CUSTOMER)
    assert messages.placeholders(messages.shipped_template(key, "en")["body"]) <= \
        messages.COMMON | messages.KINDS[key][1]


def test_the_delay_tells_the_reason_and_the_new_time():
    w = messages.wanted_for("repair_order.delayed", event(
        repair_order_id=RO, customer_id=CUSTOMER, vehicle_id=uuid.uuid4(), number="N", plate="P",
        reason="waiting for parts", new_time=AT, text="t"), zone="UTC")
    assert (w.facts["reason"], w.facts["new_time"]) == ("waiting for parts", "2026-12-01 09:00")


def test_an_event_about_a_record_crm_has_not_resolved_asks_for_no_message():
    assert messages.wanted_for("quote.issued", event(repair_order_id=RO, quote_id=uuid.uuid4(), lines=[],
                                                     total_cents=1)) is None
    assert messages.wanted_for("transfer.tracking_sent", event(transfer_id=uuid.uuid4(), repair_order_id=None,
                                                               tracking_reference="T"), order=ORDER) is None


def test_one_message_per_stage_when_two_events_announce_it():
    """Ready is announced by repair_order.progress (stage ready) and by repair_order.ready: one thing."""
    by_progress = messages.wanted_for("repair_order.progress", progress("ready"))
    by_ready = messages.wanted_for("repair_order.ready", event(repair_order_id=RO), order=ORDER)
    assert by_progress.thing == by_ready.thing
    assert by_progress.key == by_ready.key == "ready"


def test_diagnosis_and_waiting_for_parts_are_told_by_the_quote_and_the_loaner_offer_not_twice():
    assert messages.wanted_for("repair_order.progress", progress("diagnosed")) is None
    assert messages.wanted_for("repair_order.progress", progress("waiting_for_parts")) is None


def test_every_progress_update_while_work_runs_is_a_message_of_its_own():
    first = messages.wanted_for("repair_order.progress", progress("work_in_progress", update_due=f"{RO}:1"))
    second = messages.wanted_for("repair_order.progress", progress("work_in_progress", update_due=f"{RO}:2"))
    again = messages.wanted_for("repair_order.progress", progress("work_in_progress", update_due=f"{RO}:1"))
    assert first.thing != second.thing and first.thing == again.thing


def test_a_survey_and_its_reminder_are_two_things_with_the_surveys_purpose():
    facts = dict(survey_id=uuid.uuid4(), repair_order_id=RO, customer_id=CUSTOMER, number="N")
    invitation = messages.wanted_for("survey.invited", event(**facts, reminder=False))
    reminder = messages.wanted_for("survey.invited", event(**facts, reminder=True))
    assert invitation.thing != reminder.thing
    assert invitation.purpose == reminder.purpose == "surveys"


# -- templates ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_every_message_has_a_shipped_template_in_each_language_using_only_its_placeholders(language):
    for key in messages.KINDS:
        t = messages.shipped_template(key, language)
        messages.check_template(key, t["subject"], t["body"])
        assert t["subject"] and t["body"]


def test_rendering_in_english_and_chinese():
    facts = {"name": "Ann", "number": "B1-7", "plate": "P 1", "total": "123.45", "link": "http://x/customer/t"}
    _, en = messages.render(messages.shipped_template("quote_ready", "en"), facts)
    subject, zh = messages.render(messages.shipped_template("quote_ready", "zh"), {**facts, "name": "王芳"})
    assert "Hello Ann" in en and "123.45" in en and "http://x/customer/t" in en
    assert zh.startswith("王芳您好") and "123.45" in zh and "B1-7" in subject


def test_a_branch_override_is_used_instead_of_the_shipped_template():
    own = [{"key": "ready", "language": "en", "subject": "Ready!", "body": "Come get it, $name"}]
    effective = {(t["key"], t["language"]): t for t in messages.effective_templates("B1", own)}
    assert effective[("ready", "en")]["source"] == "branch"
    assert effective[("ready", "zh")]["source"] == "shipped"
    assert messages.render(effective[("ready", "en")], {"name": "Ann"}) == ("Ready!", "Come get it, Ann")


def test_a_template_with_an_unknown_placeholder_is_refused_at_save():
    with pytest.raises(RuleBroken) as refused:
        messages.check_template("ready", "Ready", "Hello $name, $password")
    assert "password" in refused.value.fields["body"][0]
    with pytest.raises(RuleBroken):
        messages.check_template("ready", "Ready $", "ok")


def test_a_fact_missing_renders_empty_never_an_error():
    assert messages.render({"subject": "$number", "body": "$name $link"}, {"name": "Ann"}) == ("", "Ann ")


# -- retries ----------------------------------------------------------------------------------------------------
SCHEDULE = [60, 300, 1800, 7200, 21600, 86400]


def test_a_failing_provider_is_retried_on_the_schedule_with_jitter():
    rng = random.Random(1)
    for attempt, base in enumerate(SCHEDULE, start=1):
        delay = messages.retry_delay(attempt, SCHEDULE, rng)
        assert 0.8 * base <= delay <= 1.2 * base
    assert messages.retry_delay(len(SCHEDULE) + 1, SCHEDULE) is None


def test_no_wait_between_tries_is_longer_than_a_day():
    assert messages.retry_delay(1, [10 * 86400], random.Random(2)) <= 1.2 * 86400


def test_a_message_fails_when_the_schedule_is_spent_and_is_sent_when_the_provider_takes_it():
    m = messages.Message.compose(uuid.uuid4(), "B1", customer(), consents(), "ready", "service",
                                 messages.shipped_template("ready", "en"), {"text": "x"}, AT)
    assert (m.status, m.channel, m.address) == ("queued", "email", "ann@example.com")
    m.attempt_failed(AT, "500 down", [1, 1])
    assert m.status == "queued" and m.next_attempt_at > AT
    m.attempt_failed(AT, "500 down", [1, 1])
    m.attempt_failed(AT, "500 still down", [1, 1])
    assert (m.status, m.attempts, m.reason) == ("failed", 3, "500 still down")
    ok = messages.Message.compose(uuid.uuid4(), "B1", customer(), consents(), "ready", "service",
                                  messages.shipped_template("ready", "en"), {"text": "x"}, AT)
    ok.attempt_failed(AT, "500", [1])
    ok.delivered(AT, "200")
    assert (ok.status, ok.attempts) == ("sent", 2)
    assert ok.recorded("message.sent")[0].facts["attempts"] == 2
