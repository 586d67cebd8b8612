"""The repair order's whole life cycle (domain.md s4): closing, holds and illegal steps, one test per rule."""
from datetime import timedelta

import pytest

from services.workshop.domain import LIFE_CYCLE, PUBLIC_STAGES, WorkshopSettings
from shared.contracts.api.workshop import REPAIR_ORDER_STATUSES
from shared.domain import IllegalTransition
from tests.unit.workshop.test_repair_order import T0, job, order, types, ruled

DAY = timedelta(days=1)


def test_a_paid_delivered_order_is_closed():
    ro = order("delivered", delivered_at=T0)
    assert ro.close_on_payment(T0 + DAY)
    assert ro.status == "closed" and ro.closed_at == T0 + DAY
    (closed,) = ruled(ro)
    assert closed.type == "repair_order.closed" and closed.facts["reason"] == "paid"
    assert not ro.close_on_payment(T0 + 2 * DAY)  # once


def test_a_payment_closes_only_a_delivered_order():
    for status in ("ready", "closed", "cancelled"):
        ro = order(status)
        assert not ro.close_on_payment(T0) and ro.status == status and ro.events == []


def test_a_delivered_order_closes_a_set_time_after_delivery_paid_or_not():
    ro = order("delivered", delivered_at=T0)
    week = WorkshopSettings.from_row("B1", None).close_after_delivery_seconds
    assert week == 7 * 86400
    assert not ro.close_if_due(T0 + 6 * DAY, week) and ro.status == "delivered"
    assert ro.close_if_due(T0 + 7 * DAY, week)
    assert ro.status == "closed" and ruled(ro)[0].facts["reason"] == "7 days after delivery"


def test_a_branch_setting_replaces_the_default_and_null_keeps_it():
    assert WorkshopSettings.from_row("B1", {"close_after_delivery_seconds": 60}).close_after_delivery_seconds == 60
    assert WorkshopSettings.from_row("B1", {"close_after_delivery_seconds": None}).close_after_delivery_seconds \
        == 7 * 86400


def test_closed_is_the_end_and_to_the_customer_still_handed_over():
    assert LIFE_CYCLE.allowed("delivered") == {"closed"} and LIFE_CYCLE.allowed("closed") == set()
    assert PUBLIC_STAGES["closed"] == PUBLIC_STAGES["delivered"] == "Handed over"


def test_an_illegal_transition_names_the_current_status_and_the_allowed_next_ones():
    ro = order("in_progress", jobs=[job()])
    with pytest.raises(IllegalTransition) as refused:
        ro.deliver("sam", [], T0)
    assert refused.value.message == ("a repair order that is in_progress cannot become delivered"
                                     " (allowed next: on_hold, quality_check)")
    assert refused.value.fields["status"] == ["is in_progress; allowed next: on_hold, quality_check"]
    with pytest.raises(IllegalTransition) as closed:
        order("closed").hold("parts", T0)
    assert closed.value.fields["status"] == ["is closed; allowed next: none"]


@pytest.mark.parametrize("reason", ["parts", "approval", "sublet"])
def test_on_hold_carries_its_reason_and_pauses_the_job_clocks(reason):
    ro = order("in_progress", jobs=[job()])
    ro.hold(reason, T0 + DAY)
    assert types(ro) == ["repair_order.on_hold", "job.paused"]  # repair_promise pauses with this reason
    assert ruled(ro)[0].facts["reason"] == reason and ro.jobs[0].pause_reason == f"order on hold: {reason}"


def test_the_repair_order_life_cycle_has_the_statuses_the_api_names():
    assert LIFE_CYCLE.statuses == REPAIR_ORDER_STATUSES
    assert set(PUBLIC_STAGES) == set(REPAIR_ORDER_STATUSES)  # the customer has words for every status
