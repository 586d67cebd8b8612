"""The customer record: update, language, odometer readings, erasure, feedback."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.crm import erasure
from services.crm.domain import Customer, check_reading, odometer_after, pseudonym
from services.crm.feedback import Feedback
from shared.domain import NotPermitted, RuleBroken, StateConflict

AT = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def customer(**more):
    return Customer.register(uuid.uuid4(), branch_id="N1", name="Ada Example", email="ada@example.com",
                             phone="+49 40 123456", contacts=[{"label": "work", "value": "+49 40 999"}], **more)


def test_a_customer_speaks_english_unless_told_otherwise():
    assert customer().language == "en" and customer(language="zh").language == "zh"


def test_updating_a_customer_changes_only_what_is_given():
    ada = customer()
    ada.update(language="zh", vip=True, preferred_advisor="bo")
    assert (ada.name, ada.language, ada.vip, ada.preferred_advisor) == ("Ada Example", "zh", True, "bo")


def test_a_customer_speaks_english_or_chinese():
    with pytest.raises(RuleBroken) as refused:
        customer().update(language="fr")
    assert list(refused.value.fields) == ["language"]


def test_an_odometer_reading_lower_than_the_last_is_refused_unless_a_correction():
    check_reading(None, 10)
    check_reading(10_000, 10_000)
    with pytest.raises(RuleBroken) as refused:
        check_reading(10_000, 9_999)
    assert list(refused.value.fields) == ["odometer_km"]
    check_reading(10_000, 9_999, correction=True)


def test_a_lower_reading_never_lowers_the_odometer_unless_a_correction():
    assert odometer_after(None, 9_000) == 9_000
    assert odometer_after(10_000, 12_000) == 12_000
    assert odometer_after(10_000, 9_000) == 10_000
    assert odometer_after(10_000, 9_000, correction=True) == 9_000


def test_erasure_pseudonymises_the_customer_and_drops_their_contact_details():
    ada = customer()
    ada.take_events()
    assert ada.erase(AT)
    assert ada.name == pseudonym(ada.customer_id) and ada.name.startswith("erased customer ")
    assert "Ada" not in ada.name
    assert (ada.email, ada.phone, ada.phone_key, ada.contacts, ada.erased_at) == (None, None, None, [], AT)
    [event] = ada.events
    assert (event.type, event.facts) == ("customer.erased", {"customer_id": ada.customer_id})


def test_erasure_is_idempotent():
    ada = customer()
    ada.erase(AT)
    ada.take_events()
    assert not ada.erase(AT + timedelta(hours=1))
    assert ada.events == [] and ada.erased_at == AT


def test_the_pseudonym_is_stable_and_reveals_nothing():
    cid = uuid.uuid4()
    assert pseudonym(cid) == pseudonym(cid) != pseudonym(uuid.uuid4())


def test_an_erased_customer_is_not_filled_again():
    ada = customer()
    ada.erase(AT)
    with pytest.raises(StateConflict):
        ada.update(name="Ada Again")


def test_erasure_and_export_call_every_registered_hook():
    calls = []

    def forget_messages(tx, customer_id):
        calls.append(("erase", customer_id))
        return {"messages": 2}

    def messages_held(tx, customer_id):
        return {"messages": ["hello"]}

    def nothing_held(tx, customer_id):
        return None

    saved = dict(erasure.ERASERS), dict(erasure.EXPORTERS)  # what other modules registered on import
    erasure.ERASERS.clear(), erasure.EXPORTERS.clear()
    try:
        erasure.register_eraser(forget_messages, "messages")
        erasure.register_eraser(forget_messages, "messages")  # once only
        erasure.register_exporter(messages_held)
        erasure.register_exporter(nothing_held)
        assert erasure.run_erasers(None, "c1") == {"messages": {"messages": 2}}
        assert calls == [("erase", "c1")]
        assert erasure.run_exporters(None, "c1") == {"messages_held": {"messages": ["hello"]}}
    finally:
        erasure.ERASERS.clear(), erasure.EXPORTERS.clear()
        erasure.ERASERS.update(saved[0]), erasure.EXPORTERS.update(saved[1])


# -- feedback ---------------------------------------------------------------------------------------
def feedback(acting_for=None):
    return Feedback.receive("fb1", customer_id="c1", branch_id="N1", text="nice coffee", channel="in_person", at=AT,
                            acting_for=acting_for)


def test_feedback_starts_the_24_hour_reply_clock():
    [event] = feedback().events
    assert (event.type, event.facts) == ("feedback.received", {"feedback_id": "fb1", "customer_id": "c1"})


def test_feedback_is_replied_to_once():
    fb = feedback()
    fb.take_events()
    fb.answer("thank you", "ana", AT + timedelta(hours=1))
    assert (fb.status, fb.replied_by) == ("replied", "ana")
    assert [e.type for e in fb.events] == ["feedback.replied"]
    with pytest.raises(StateConflict):
        fb.answer("again", "ana", AT + timedelta(hours=2))


def test_feedback_is_recorded_only_at_a_branch_the_caller_acts_for():
    with pytest.raises(NotPermitted):
        feedback(acting_for=frozenset({"S1"}))
