"""The ledger's rules, no I/O: four quantities per movement, replay, adjustments and counts, purchase
orders, and the service desk's earliest availability."""
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.parts import ledger
from services.parts.domain import EFFECTS, KnownRepairOrder, movement
from services.parts.donors import LeadTimes
from shared.contracts.api.parts import PURCHASE_ORDER_STATUSES
from shared.domain import IllegalTransition, NotPermitted, RuleBroken, StateConflict

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def line(m):
    """A movement as GET /stock-movements shows it."""
    return {"kind": m.kind, "branch_id": m.branch_id, "part_number": m.part_number, "quantity": m.quantity}


# -- movements and their four quantities ----------------------------------------------------------------------------
def test_each_movement_changes_the_four_quantities_its_kind_says():
    changes = {kind: (m.on_hand, m.reserved, m.in_transit, m.on_order)
               for kind in EFFECTS for m in [movement(kind, "N1", "PAD", 2)]}
    assert changes == {
        "receipt": (2, 0, 0, 0), "reservation": (0, 2, 0, 0), "release": (0, -2, 0, 0),
        "issue_to_job": (-2, -2, 0, 0), "consumption": (-2, -2, 0, 0), "transfer_out": (-2, 0, 0, 0),
        "in_transit": (0, 0, 2, 0), "transfer_in": (2, 0, -2, 0), "transit_written_off": (0, 0, -2, 0),
        "adjustment": (2, 0, 0, 0), "count": (2, 0, 0, 0), "purchase_ordered": (0, 0, 0, 2),
        "purchase_received": (2, 0, 0, -2), "purchase_cancelled": (0, 0, 0, -2)}


def test_a_signed_movement_moves_units_either_way_but_not_none():
    assert movement("adjustment", "N1", "PAD", -3).on_hand == -3
    assert movement("count", "N1", "PAD", 4).on_hand == 4
    with pytest.raises(RuleBroken):
        movement("count", "N1", "PAD", 0)
    with pytest.raises(RuleBroken):
        movement("receipt", "N1", "PAD", -1)


# -- replay ---------------------------------------------------------------------------------------------------------
def test_replaying_the_movements_gives_each_stock_row_its_quantities():
    moves = [movement("receipt", "N1", "PAD", 5), movement("reservation", "N1", "PAD", 2),
             movement("transfer_out", "N1", "PAD", 1), movement("in_transit", "S1", "PAD", 1),
             movement("purchase_ordered", "S1", "PAD", 4), movement("purchase_received", "S1", "PAD", 3),
             movement("adjustment", "N1", "PAD", -1), movement("issue_to_job", "N1", "PAD", 1)]
    assert ledger.replay(map(line, moves)) == {
        ("N1", "PAD"): {"on_hand": 2, "reserved": 1, "in_transit": 0, "on_order": 0, "available": 1},
        ("S1", "PAD"): {"on_hand": 3, "reserved": 0, "in_transit": 1, "on_order": 1, "available": 3}}


def test_the_order_of_the_movements_does_not_change_the_replay():
    moves = [line(movement(kind, "N1", "PAD", q)) for kind, q in
             [("receipt", 9), ("reservation", 3), ("release", 1), ("count", -2), ("purchase_ordered", 2)]]
    shuffled = moves[:]
    random.Random(7).shuffle(shuffled)
    assert ledger.replay(moves) == ledger.replay(shuffled)


def test_a_stock_row_that_is_not_what_its_movements_add_up_to_disagrees():
    moves = [line(movement("receipt", "N1", "PAD", 4)), line(movement("purchase_ordered", "N1", "PAD", 2))]
    right = {"branch_id": "N1", "part_number": "PAD", "on_hand": 4, "reserved": 0, "in_transit": 0, "on_order": 2}
    wrong = {**right, "on_order": 0}
    untouched = {"branch_id": "N2", "part_number": "PAD", "on_hand": 0, "reserved": 0, "in_transit": 0, "on_order": 0}
    assert ledger.disagreements([right, untouched], moves) == []
    [found] = ledger.disagreements([wrong], moves)
    assert found["stock"]["on_order"] == 0 and found["ledger"]["on_order"] == 2


def test_a_stock_row_agrees_with_its_ledger_when_each_quantity_is_what_its_movements_add_up_to():
    totals = [("receipt", 5), ("reservation", 2), ("purchase_ordered", 3), ("count", -1)]
    row = {"on_hand": 4, "reserved": 2, "in_transit": 0, "on_order": 3}
    checked = ledger.check(row, "N1", "PAD", totals)
    assert checked["agrees"] and checked["ledger"] == {**row, "available": 2} and checked["stock"]["available"] == 2
    assert not ledger.check({**row, "reserved": 1}, "N1", "PAD", totals)["agrees"]
    assert ledger.check({"on_hand": 0, "reserved": 0, "in_transit": 0, "on_order": 0}, "N1", "PAD", [])["agrees"]


# -- adjustments and counts -----------------------------------------------------------------------------------------
def test_an_adjustment_takes_a_reason_from_the_list_that_says_which_way_it_goes():
    assert ledger.adjustment("N1", "PAD", -2, "damaged", "dropped").reference == "damaged: dropped"
    assert ledger.adjustment("N1", "PAD", 1, "found").on_hand == 1
    assert ledger.adjustment("N1", "PAD", -1, "correction").on_hand == -1
    with pytest.raises(RuleBroken) as broken:
        ledger.adjustment("N1", "PAD", 2, "damaged")
    assert "quantity" in broken.value.fields
    with pytest.raises(RuleBroken) as broken:
        ledger.adjustment("N1", "PAD", -2, "found")
    assert "quantity" in broken.value.fields
    with pytest.raises(RuleBroken) as broken:
        ledger.adjustment("N1", "PAD", 1, "whim")
    assert "reason" in broken.value.fields
    with pytest.raises(RuleBroken):
        ledger.adjustment("N1", "PAD", 0, "correction")


def test_a_negative_adjustment_cannot_take_reserved_units():
    ledger.not_taking_reserved(available=2, quantity=-2)
    with pytest.raises(StateConflict) as conflict:
        ledger.not_taking_reserved(available=2, quantity=-3)
    assert "quantity" in conflict.value.fields


def test_a_count_moves_the_difference_between_counted_and_on_hand():
    more = ledger.Count("N1", "PAD", counted=7, on_hand=5, reserved=1).movement()
    less = ledger.Count("N1", "PAD", counted=3, on_hand=5, reserved=1).movement()
    assert (more.kind, more.quantity, more.on_hand) == ("count", 2, 2)
    assert (less.kind, less.quantity, less.on_hand) == ("count", -2, -2)
    assert ledger.Count("N1", "PAD", counted=5, on_hand=5, reserved=1).movement() is None


def test_a_count_below_what_is_reserved_is_refused():
    ledger.Count("N1", "PAD", counted=2, on_hand=5, reserved=2).movement()
    with pytest.raises(StateConflict) as conflict:
        ledger.Count("N1", "PAD", counted=1, on_hand=5, reserved=2).movement()
    assert "counted_quantity" in conflict.value.fields


# -- purchase orders ------------------------------------------------------------------------------------------------
def _order(quantity=5, **extra):
    return ledger.PurchaseOrder.place(uuid.uuid4(), "N1", "PAD", quantity, NOW + timedelta(days=2), **extra)


def test_a_placed_purchase_order_puts_its_units_on_order_and_says_so():
    ro = uuid.uuid4()
    order = _order(repair_order=KnownRepairOrder(ro, "N1", "vip"), repair_order_id=ro)
    [m] = order.take_movements()
    assert (m.kind, m.on_order, m.on_hand, m.purchase_order_id) == ("purchase_ordered", 5, 0, order.purchase_order_id)
    [event] = order.take_events()
    assert (event.type, event.branch_id) == ("purchase.ordered", "N1")
    assert event.facts == {"purchase_order_id": order.purchase_order_id, "part_number": "PAD", "repair_order_id": ro,
                           "quantity": 5, "expected_at": NOW + timedelta(days=2)}


def test_a_purchase_order_names_only_a_repair_order_of_its_branch():
    other = uuid.uuid4()
    with pytest.raises(RuleBroken) as broken:
        _order(repair_order_id=other, repair_order=KnownRepairOrder(other, "S1", "routine"))
    assert "repair_order_id" in broken.value.fields
    with pytest.raises(NotPermitted):  # a scoped caller cannot tell another branch's order from none
        _order(repair_order_id=other, repair_order=None, by=("N1",))
    with pytest.raises(NotPermitted):
        _order(by=("S1",))


def test_a_purchase_order_is_received_in_parts_never_more_than_outstanding():
    order = _order(5)
    order.take_movements()
    order.receive(2)
    assert (order.status, order.outstanding) == ("open", 3)
    [m] = order.take_movements()
    assert (m.kind, m.on_hand, m.on_order) == ("purchase_received", 2, -2)
    with pytest.raises(RuleBroken) as broken:
        order.receive(4)
    assert "quantity" in broken.value.fields
    order.receive(3)
    assert (order.status, order.outstanding) == ("received", 0)
    assert [e.facts["outstanding"] for e in order.recorded("purchase.received")] == [3, 0]
    with pytest.raises(StateConflict):
        order.receive(1)


def test_a_receipt_against_a_purchase_order_is_for_its_branch_and_part():
    order = _order(5)
    with pytest.raises(RuleBroken) as broken:
        order.receive(1, "S1", "PAD")
    assert "purchase_order_id" in broken.value.fields
    with pytest.raises(RuleBroken):
        order.receive(1, "N1", "DISC")
    order.receive(1, "N1", "PAD")


def test_a_cancelled_purchase_order_takes_the_rest_off_order_and_keeps_what_arrived():
    order = _order(5)
    order.receive(2)
    order.take_movements()
    order.cancel("supplier out of stock")
    [m] = order.take_movements()
    assert (m.kind, m.on_order, m.on_hand, order.status) == ("purchase_cancelled", -3, 0, "cancelled")
    assert (order.received_quantity, order.cancelled_quantity, order.outstanding) == (2, 3, 0)
    with pytest.raises(IllegalTransition):
        order.cancel()


def test_a_received_purchase_order_cannot_be_cancelled():
    order = _order(1)
    order.receive(1)
    with pytest.raises(IllegalTransition):
        order.cancel()


def test_a_purchase_order_is_expected_after_the_groups_purchase_lead_time():
    assert ledger.expected_at(NOW, LeadTimes().purchase()) == NOW + timedelta(hours=48)


# -- the service desk's earliest availability ---------------------------------------------------------------------
def test_units_in_transit_arrive_a_lead_time_after_dispatch():
    assert ledger.transit_eta(NOW, 24) == NOW + timedelta(hours=24)


def test_the_earliest_availability_is_now_when_the_branch_has_the_units():
    assert ledger.earliest(2, 3, [(NOW + timedelta(days=1), 5)], NOW) == NOW


def test_the_earliest_availability_is_the_arrival_that_brings_the_branch_to_the_quantity():
    soon, later = NOW + timedelta(hours=5), NOW + timedelta(days=2)
    assert ledger.earliest(4, 1, [(later, 2), (soon, 2)], NOW) == later
    assert ledger.earliest(3, 1, [(later, 2), (soon, 2)], NOW) == soon


def test_the_earliest_availability_is_none_when_all_that_is_coming_is_not_enough():
    assert ledger.earliest(10, 1, [(NOW, 2)], NOW) is None


def test_a_late_arrival_is_promised_no_earlier_than_now():
    assert ledger.earliest(1, 0, [(NOW - timedelta(hours=3), 1)], NOW) == NOW


def test_the_outlook_shows_each_branch_what_is_free_on_the_road_and_on_order():
    t, p = uuid.uuid4(), uuid.uuid4()
    answer = ledger.outlook(
        "PAD", 3, [{"branch_id": "N1", "region_id": "R1", "available": 1},
                   {"branch_id": "S1", "region_id": "R2", "available": 6}],
        [{"transfer_id": t, "branch_id": "N1", "region_id": "R1", "from_branch_id": "S1", "from_region_id": "R2",
          "quantity": 1, "dispatched_at": NOW}],
        [{"purchase_order_id": p, "branch_id": "N1", "outstanding": 4, "expected_at": NOW + timedelta(hours=48)}],
        LeadTimes(), NOW)
    north, south = answer["branches"]
    assert north["in_transit"] == [{"transfer_id": t, "from_branch_id": "S1", "quantity": 1,
                                    "eta": NOW + timedelta(hours=72)}]
    assert (north["in_transit_quantity"], north["on_order_quantity"]) == (1, 4)
    assert north["earliest_at"] == NOW + timedelta(hours=48)  # 1 free + 1 on the road (72 h) + 4 ordered (48 h)
    assert south["earliest_at"] == NOW and south["in_transit"] == [] and south["on_order"] == []


def test_the_purchase_order_life_cycle_has_the_statuses_the_api_names():
    assert ledger.PURCHASE_ORDER.statuses == PURCHASE_ORDER_STATUSES
