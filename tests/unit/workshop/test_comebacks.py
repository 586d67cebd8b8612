"""Comebacks (domain.md s4): the same vehicle back for the same fault family within the window after
delivery; first-time-fix counts them. One test per rule."""
import uuid
from datetime import timedelta

from services.workshop.domain import WorkshopSettings, fault_family, first_time_fix
from tests.unit.workshop.test_repair_order import T0, order, ruled

DAY = timedelta(days=1)


def earlier(days_ago, family="brakes"):
    return {"repair_order_id": uuid.uuid4(), "number": f"RO-B1-{days_ago:06d}", "fault_family": family,
            "delivered_at": T0 - days_ago * DAY}


def test_a_faults_family_comes_from_its_description_else_the_service_type():
    assert fault_family("squeal when braking, only when cold", "annual service") == "brakes"
    assert fault_family("knock from the front axle", None) == "suspension"
    assert fault_family("", "clutch") == "transmission"
    assert fault_family("makes a noise", "glass") == "body"
    assert fault_family("makes a noise", "annual service") is None  # routine work has no fault to repeat
    assert fault_family("makes a noise", "Detailing") == "detailing"


def test_the_same_fault_family_within_7_days_of_delivery_is_a_comeback():
    assert WorkshopSettings.from_row("B1", None).comeback_window_seconds == 7 * 86400
    ro = order()
    last = earlier(3)
    assert ro.comeback("brakes", [earlier(6), last, earlier(1, "electrical")], 7 * 86400, T0) == last
    (event,) = ruled(ro)
    assert event.type == "repair_order.comeback" and event.facts["previous_repair_order_id"] == last["repair_order_id"]
    assert event.facts["days_since_delivery"] == 3.0 and event.facts["fault_family"] == "brakes"


def test_another_fault_a_later_visit_or_no_family_is_no_comeback():
    for family, orders in (("brakes", [earlier(1, "electrical")]), ("brakes", [earlier(8)]), (None, [earlier(1)])):
        ro = order()
        assert ro.comeback(family, orders, 7 * 86400, T0) is None and ro.events == []
    assert order().comeback("brakes", [earlier(8)], 10 * 86400, T0) is not None  # the branch's own window


def test_first_time_fix_is_the_share_of_delivered_orders_that_did_not_come_back():
    assert first_time_fix(10, 1) == 0.9 and first_time_fix(3, 0) == 1.0 and first_time_fix(0, 0) is None
