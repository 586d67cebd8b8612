"""Supplements (domain.md s3): a change of scope during the repair needs the customer's approval
before its work; the invoice never exceeds what was approved. One test per rule."""
import uuid
from datetime import timedelta

import pytest

from services.workshop.domain import Quote, risk_range
from shared.domain import RuleBroken, StateConflict
from tests.unit.workshop.test_repair_order import CONSENT, FINDINGS, T0, job, line, order, types

H = timedelta(hours=1)


def in_progress(**fields):
    return order("in_progress", jobs=[job()], approved_total_cents=9500, parts_status="reserved", **fields)


def supplement(ro, *lines):
    return ro.request_supplement(uuid.uuid4(), FINDINGS, list(lines or [line(net=20000)]), 9500, {}, "tina", T0 + H)


def decide(ro, quote, *approved):
    return ro.approve(quote.quote_id, [{"line_id": l["line_id"], "approved": l["line_id"] in approved}
                                       for l in quote.lines], CONSENT)


def test_a_finding_during_the_repair_puts_the_order_on_hold_for_the_customers_approval():
    ro = in_progress()
    quote = supplement(ro)
    assert quote.supplement and ro.open_quote is quote and ro.status == "on_hold"
    assert types(ro) == ["diagnosis.recorded", "supplement.requested", "repair_order.on_hold", "job.paused"]
    assert ro.recorded("repair_order.on_hold")[0].facts["reason"] == "approval"
    requested = ro.recorded("supplement.requested")[0].facts
    assert (requested["total_cents"], requested["range_low_cents"], requested["range_high_cents"]) == (
        20000, 16000, 24000)


def test_the_range_shown_is_the_supplements_total_plus_or_minus_20_percent():
    assert risk_range(20000) == (16000, 24000) and risk_range(1) == (1, 1) and risk_range(3) == (2, 4)


def test_a_supplement_is_requested_only_while_the_work_is_in_progress_and_one_at_a_time():
    with pytest.raises(StateConflict):
        supplement(order("approved"))
    ro = in_progress()
    supplement(ro)
    ro.status = "in_progress"  # even if the order were back at work, the open supplement stands
    with pytest.raises(StateConflict) as refused:
        supplement(ro)
    assert "quote_id" in refused.value.fields


def test_the_supplements_work_does_not_start_before_the_customers_approval():
    ro = in_progress()
    supplement(ro)
    with pytest.raises(StateConflict, match="supplement awaits"):
        ro.start_job(uuid.uuid4(), "tech-2", "", T0 + 2 * H)
    with pytest.raises(StateConflict, match="supplement awaits"):
        ro.resume_job(ro.jobs[0].job_id, T0 + 2 * H)
    with pytest.raises(StateConflict, match="supplement awaits"):
        ro.resume()
    assert ro.status == "on_hold"


def test_an_approved_supplement_adds_to_the_approved_amount_and_resumes_the_work():
    ro = in_progress()
    quote = supplement(ro, line(net=20000), line(net=5000))
    ro.events.clear()
    _, approved = decide(ro, quote, quote.lines[0]["line_id"])
    assert [l["net_cents"] for l in approved] == [20000] and ro.approved_total_cents == 29500
    assert ro.status == "in_progress" and ro.open_quote is None
    assert types(ro) == ["supplement.approved", "repair_order.resumed"]  # repair_promise runs again
    ro.start_job(uuid.uuid4(), "tech-2", "the supplement's work", T0 + 3 * H)


def test_a_declined_supplement_keeps_the_approved_amount_and_the_work_goes_on():
    ro = order("in_progress", jobs=[job(finished=T0 + H), job("tech-2")], approved_total_cents=9500)
    quote = supplement(ro)
    ro.finish_job(ro.jobs[1].job_id, "", T0 + 2 * H)  # clocking off while it waits
    ro.events.clear()
    decide(ro, quote)
    assert ro.approved_total_cents == 9500 and ro.status == "quality_check"  # the work was done
    assert types(ro) == ["supplement.declined", "repair_order.resumed"]


def test_the_invoice_never_exceeds_the_approved_amount():
    ro = order("ready", jobs=[job(finished=T0)], approved_total_cents=9500)
    with pytest.raises(RuleBroken) as refused:
        ro.deliver("sam", [line(net=9500), line(net=20000)], T0 + 2 * H)
    assert "lines" in refused.value.fields and ro.status == "ready"
    ro.deliver("sam", [line(net=9500)], T0 + 2 * H)


def test_a_quotes_options_are_alternatives_and_one_option_at_most_is_approved():
    basic, premium, must = line(net=5000, option="basic"), line(net=9000, option="premium"), line()
    ro = order("awaiting_approval", quote=Quote(uuid.uuid4(), [basic, premium, must]))
    every = [{"line_id": l["line_id"], "approved": True} for l in (basic, premium, must)]
    with pytest.raises(RuleBroken) as refused:
        ro.approve(ro.open_quote.quote_id, every, CONSENT)
    assert "basic, premium" in refused.value.fields["decisions"][0] and ro.status == "awaiting_approval"
    _, approved = ro.approve(ro.open_quote.quote_id, [{**every[0], "approved": False}, every[1], every[2]], CONSENT)
    assert [l["net_cents"] for l in approved] == [9000, 9500] and ro.approved_total_cents == 18500


def test_no_job_resumes_before_an_approved_supplements_parts_are_reserved():
    ro = in_progress()
    pad = line("part", net=4000, part_number="PAD-1")
    quote = supplement(ro, pad)
    decide(ro, quote, pad["line_id"])
    assert ro.parts_status == "pending"  # parts reserves the supplement's part lines on supplement.approved
    with pytest.raises(StateConflict) as refused:
        ro.resume_job(ro.jobs[0].job_id, T0 + 2 * H)
    assert "parts_status" in refused.value.fields
    assert ro.parts_short([{"part_number": "PAD-1", "available": 0, "requested": 1}])
    assert ro.parts_status == "short" and ro.status == "in_progress"  # the work underway is not moved back
    assert ro.notes[-1].note == "supplement parts short: PAD-1 (0/1)"
    assert ro.parts_reserved() and ro.parts_status == "reserved"
    ro.resume_job(ro.jobs[0].job_id, T0 + 3 * H)


def test_a_labour_only_supplement_leaves_the_parts_as_they_were():
    ro = in_progress()
    quote = supplement(ro)
    decide(ro, quote, *[l["line_id"] for l in quote.lines])
    assert ro.parts_status == "reserved"
