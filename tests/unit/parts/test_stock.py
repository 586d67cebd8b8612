"""The ledger and the shelf: what each movement changes, and one threshold alert per crossing."""
import pytest

from services.parts.domain import Stock, movement
from shared.domain import RuleBroken


def test_each_movement_changes_the_quantities_its_kind_says():
    changes = {kind: (m.on_hand, m.reserved, m.in_transit) for kind in
               ("receipt", "reservation", "release", "consumption", "transfer_out", "in_transit", "transfer_in")
               for m in [movement(kind, "N1", "PAD", 3)]}
    assert changes == {"receipt": (3, 0, 0), "reservation": (0, 3, 0), "release": (0, -3, 0),
                       "consumption": (-3, -3, 0), "transfer_out": (-3, 0, 0), "in_transit": (0, 0, 3),
                       "transfer_in": (3, 0, -3)}


def test_a_movement_moves_at_least_one_unit():
    with pytest.raises(RuleBroken):
        movement("receipt", "N1", "PAD", 0)


def test_a_movement_keeps_what_it_refers_to():
    m = movement("reservation", "N1", "PAD", 1, repair_order_id="ro-1")
    assert (m.kind, m.branch_id, m.part_number, m.quantity, m.repair_order_id) == ("reservation", "N1", "PAD", 1, "ro-1")


def _stock(on_hand, reserved=0, reorder_point=5, below=False):
    return Stock("N1", "PAD", on_hand, reserved, reorder_point, 2, below, "R1")


def test_available_is_on_hand_less_reserved():
    assert _stock(10, reserved=4).available == 6


def test_falling_below_the_reorder_point_alerts_once():
    stock = _stock(10, reserved=6)
    assert stock.check_threshold() is True and stock.below_reorder
    [alert] = stock.take_events()
    assert (alert.type, alert.branch_id, alert.facts) == ("stock.below_threshold", "N1", {
        "part_number": "PAD", "available": 4, "reorder_point": 5, "safety_stock": 2, "region_id": "R1"})
    still_below = _stock(3, below=True)
    assert still_below.check_threshold() is False and still_below.events == []


def test_coming_back_above_the_reorder_point_clears_the_alert():
    stock = _stock(9, below=True)
    assert stock.check_threshold() is True and not stock.below_reorder
    assert [e.type for e in stock.events] == ["stock.recovered"]


def test_no_reorder_point_no_alert():
    stock = _stock(0, reorder_point=None)
    assert stock.check_threshold() is False and stock.events == []
