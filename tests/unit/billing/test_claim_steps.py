"""A warranty claim's five steps, in order only (domain.md s6)."""
import uuid
from datetime import UTC, datetime

import pytest

from services.billing.domain import CLAIM_STEPS, WarrantyClaim
from shared.domain import RuleBroken, StateConflict

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def claim():
    return WarrantyClaim(claim_id=uuid.uuid4(), repair_order_id=uuid.uuid4(), invoice_id=uuid.uuid4(),
                         branch_id="N1", value_cents=5000, lines=[])


def test_the_five_claim_steps_go_in_order_each_recording_its_event():
    c = claim()
    for step in CLAIM_STEPS:
        assert c.step_needed == step
        c.take_step(step, by="sam", now=NOW)
    assert c.status == "accepted" and c.step_needed is None
    assert [e.type for e in c.events] == [f"warranty_claim.{s}" for s in CLAIM_STEPS]
    assert [s["step"] for s in c.steps] == list(CLAIM_STEPS)


def test_a_claim_step_out_of_order_is_refused_naming_the_step_needed():
    c = claim()
    c.take_step("fault_reproduced", by="sam", now=NOW)
    with pytest.raises(StateConflict) as refused:
        c.take_step("submitted", by="sam", now=NOW)
    assert refused.value.fields == {"step": ["the step needed is eligibility_checked"]}
    assert c.status == "fault_reproduced" and len(c.events) == 1


def test_a_claim_is_rejected_with_a_reason_only_once_submitted():
    c = claim()
    with pytest.raises(StateConflict):
        c.take_step("rejected", by="sam", now=NOW, reason="no fault")
    for step in CLAIM_STEPS[:3]:
        c.take_step(step, by="sam", now=NOW)
    with pytest.raises(RuleBroken):
        c.take_step("rejected", by="sam", now=NOW, reason=" ")
    c.take_step("rejected", by="sam", now=NOW, reason="outside the manufacturer's terms")
    assert c.status == "rejected" and c.events[-1].facts["reason"] == "outside the manufacturer's terms"
    with pytest.raises(StateConflict):
        c.take_step("parts_allocated", by="sam", now=NOW)


def test_an_accepted_claim_is_then_paid_and_nothing_after():
    c = claim()
    with pytest.raises(StateConflict):
        c.take_step("paid", by="sam", now=NOW)
    for step in CLAIM_STEPS:
        c.take_step(step, by="sam", now=NOW)
    c.take_step("paid", by="sam", now=NOW)
    assert c.status == "paid"
    with pytest.raises(StateConflict):
        c.take_step("paid", by="sam", now=NOW)
