"""Estimates (domain.md s2): shortest / likely / longest per part; the promise is the likely time
plus the branch's buffer, and it is the repair-promise clock's target. One test per rule."""
import uuid

from services.workshop.domain import PROMISE_BUFFER_PCT, WorkshopSettings, promised_seconds
from tests.unit.workshop.test_repair_order import CONSENT, all_approved, line, order

ESTIMATE = {"diagnosis": {"shortest": 0.5, "likely": 1, "longest": 1.5},
            "parts": {"shortest": 0, "likely": 0.5, "longest": 24},
            "labour": {"shortest": 1, "likely": 1.5, "longest": 2}}


def test_the_promised_time_is_the_likely_time_plus_the_branchs_buffer():
    assert PROMISE_BUFFER_PCT == 25 and WorkshopSettings.from_row("B1", None).promise_buffer_pct == 25
    assert promised_seconds(ESTIMATE, 25) == int(3 * 3600 * 1.25)
    assert promised_seconds(ESTIMATE, 20) == int(3 * 3600 * 1.2)
    assert promised_seconds({"labour": {"shortest": 1, "likely": 2, "longest": 3}}, 30) == int(2 * 3600 * 1.3)


def test_without_an_estimate_there_is_no_promise_of_its_own():
    assert promised_seconds(None, 25) is None and promised_seconds({}, 25) is None
    assert promised_seconds({"labour": {"shortest": 0, "likely": 0, "longest": 0}}, 25) is None


def test_an_approved_quote_with_an_estimate_promises_its_time_to_the_repair_promise_clock():
    ro = order("diagnosed")
    quote, _ = ro.issue_quote(uuid.uuid4(), [line()], 9500, {}, ESTIMATE)
    assert quote.estimate == ESTIMATE
    ro.approve(quote.quote_id, all_approved(quote), CONSENT, 20)
    assert ro.recorded("quote.approved")[0].facts["promised_seconds"] == int(3 * 3600 * 1.2)
    plain = order("diagnosed")
    quote, _ = plain.issue_quote(uuid.uuid4(), [line()], 9500, {})
    plain.approve(quote.quote_id, all_approved(quote), CONSENT)
    assert plain.recorded("quote.approved")[0].facts["promised_seconds"] is None  # the fixed 4 h stays
