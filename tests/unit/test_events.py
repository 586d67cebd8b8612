"""The event catalogue is the contract: every published event must match it."""
import re
import uuid
from pathlib import Path

import pytest

from shared.contracts import errors, events

ROOT = Path(__file__).resolve().parents[2]


def test_build_adds_the_envelope_and_round_trips():
    booking_id = uuid.uuid4()
    event = events.build("booking.cancelled", "N1", "booking", booking_id=booking_id, reason="ill")
    assert set(event) >= {"event_id", "occurred_at", "version", "branch_id", "source"}
    assert event["version"] == 1 and event["branch_id"] == "N1" and event["booking_id"] == str(booking_id)
    loaded = events.load("booking.cancelled", event)
    assert loaded["booking_id"] == booking_id


def test_build_refuses_unknown_facts_missing_facts_and_wrong_publishers():
    with pytest.raises(ValueError, match="no facts named"):
        events.build("booking.cancelled", "N1", "booking", booking_id=uuid.uuid4(), reason="x", colour="red")
    with pytest.raises(ValueError, match="does not match"):
        events.build("booking.cancelled", "N1", "booking", booking_id=uuid.uuid4())
    with pytest.raises(ValueError, match="may not publish"):
        events.build("booking.cancelled", "N1", "crm", booking_id=uuid.uuid4(), reason="x")
    with pytest.raises(LookupError):
        events.build("booking.exploded", "N1", "booking")


def test_load_rejects_a_malformed_payload_with_field_messages():
    with pytest.raises(errors.ValidationFailed) as info:
        events.load("booking.cancelled", {"event_id": "nope", "reason": "x"})
    assert {"event_id", "booking_id", "occurred_at"} <= set(info.value.fields)


def test_every_event_name_is_noun_dot_past_verb():
    for name in events.CATALOGUE:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", name), name


def test_every_event_published_or_handled_in_the_code_is_in_the_catalogue():
    used = set()
    for path in list((ROOT / "services").rglob("*.py")) + list((ROOT / "shared").rglob("*.py")):
        text = path.read_text()
        used |= set(re.findall(r"""\.publish\(\s*["']([a-z_]+\.[a-z_]+)["']""", text))
        used |= set(re.findall(r"""on_event\(\s*["']([a-z_]+\.[a-z_]+)["']""", text))
    assert used, "no publish or on_event call found: the scan is broken"
    assert used <= set(events.CATALOGUE), sorted(used - set(events.CATALOGUE))
