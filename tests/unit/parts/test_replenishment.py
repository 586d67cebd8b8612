"""Threshold alerts and replenishment proposals (services/parts/domain.py Stock, services/parts/replenishment.py),
without broker or database."""
import uuid

import pytest

from services.parts import donors, replenishment
from services.parts.domain import Stock
from services.parts.replenishment import Replenishment
from shared.domain import NotPermitted, StateConflict


def shelf(on_hand, reorder_point=6, safety_stock=3, below_reorder=False, below_safety=False, reserved=0):
    return Stock("N1", "PAD", on_hand, reserved, reorder_point, safety_stock, below_reorder, "R1", below_safety)


def types(stock):
    return [e.type for e in stock.take_events()]


# -- the alerts ------------------------------------------------------------------------------------------------
def test_falling_below_safety_stock_raises_the_louder_alert_once_per_crossing():
    stock = shelf(2)  # from above the reorder point straight under the safety stock: both alerts
    assert stock.check_threshold()
    assert types(stock) == ["stock.below_threshold", "stock.below_safety_stock"]
    assert (stock.below_reorder, stock.below_safety) == (True, True)
    assert stock.crossings == ("below_reorder", "below_safety")
    stock.on_hand = 1  # still below: nothing new
    assert not stock.check_threshold() and types(stock) == []


def test_falling_below_the_reorder_point_only_is_not_the_safety_alert():
    stock = shelf(4)
    stock.check_threshold()
    assert types(stock) == ["stock.below_threshold"] and not stock.below_safety
    stock.on_hand = 2
    assert stock.check_threshold() and types(stock) == ["stock.below_safety_stock"]


def test_the_safety_alert_clears_when_stock_is_back_at_the_safety_stock():
    stock = shelf(3, below_reorder=True, below_safety=True)  # 3 is the safety stock: not below it
    assert stock.check_threshold()
    assert not stock.below_safety and stock.crossings == ("safety_recovered",)
    assert types(stock) == []  # still below the reorder point: no recovery announced yet
    stock.on_hand = 2
    assert stock.check_threshold() and types(stock) == ["stock.below_safety_stock"]  # a new crossing


def test_a_safety_stock_of_zero_never_raises_the_safety_alert():
    stock = shelf(0, reorder_point=2, safety_stock=0)
    stock.check_threshold()
    assert types(stock) == ["stock.below_threshold"] and not stock.below_safety


def test_taking_the_safety_stock_away_clears_its_alert():
    stock = shelf(0, reorder_point=2, safety_stock=0, below_reorder=True, below_safety=True)
    assert stock.check_threshold() and not stock.below_safety


def test_the_safety_alert_carries_the_levels():
    stock = shelf(1)
    stock.check_threshold()
    alert = stock.recorded("stock.below_safety_stock")[0].facts
    assert alert == {"part_number": "PAD", "available": 1, "safety_stock": 3, "reorder_point": 6, "region_id": "R1"}


# -- how much, from where --------------------------------------------------------------------------------------
def test_a_replenishment_brings_the_shelf_up_to_reorder_point_plus_safety_stock():
    assert replenishment.quantity_to_bring(available=4, reorder_point=6, safety_stock=3, coming=0) == 5


def test_a_replenishment_counts_what_is_in_transit_on_order_and_requested_so_nothing_is_ordered_twice():
    coming = replenishment.incoming(in_transit=2, on_order=1, requested=1)
    assert coming == 4
    assert replenishment.quantity_to_bring(4, 6, 3, coming) == 1
    assert replenishment.quantity_to_bring(4, 6, 3, 9) == 0  # covered already: nothing to bring


def test_nothing_to_bring_proposes_nothing():
    stock = shelf(4)
    plan = donors.rank("N1", "R1", 1, [], donors.LeadTimes())
    assert Replenishment.propose(uuid.uuid4(), stock, "reorder_point", 5, plan) is None


def test_a_replenishment_comes_from_the_best_donor_else_a_purchase():
    stock = shelf(4)
    shelves = [{"branch_id": "N2", "region_id": "R1", "available": 9, "safety_stock": 2},
               {"branch_id": "S1", "region_id": "R2", "available": 20, "safety_stock": 0}]
    plan = donors.rank("N1", "R1", 5, shelves, donors.LeadTimes())
    proposal = Replenishment.propose(uuid.uuid4(), stock, "reorder_point", 0, plan)
    assert (proposal.kind, proposal.from_branch_id, proposal.quantity) == ("transfer", "N2", 5)
    event = proposal.recorded("stock.replenishment_proposed")[0]
    assert event.branch_id == "N1" and event.facts["kind"] == "transfer" and event.facts["quantity"] == 5

    plan = donors.rank("N1", "R1", 5, [{**shelves[0], "available": 3}], donors.LeadTimes())  # gives 1 of 5
    proposal = Replenishment.propose(uuid.uuid4(), stock, "reorder_point", 0, plan)
    assert (proposal.kind, proposal.from_branch_id) == ("purchase", None)


def test_the_louder_alert_names_the_proposal():
    assert replenishment.alert_of(("below_reorder", "below_safety")) == "safety_stock"
    assert replenishment.alert_of(("below_reorder",)) == "reorder_point"
    assert replenishment.alert_of(("recovered",)) is None and replenishment.alert_of(("safety_recovered",)) is None


def test_stock_recovered_above_the_reorder_point_supersedes_the_proposal():
    assert replenishment.supersedes(("recovered",))
    assert not replenishment.supersedes(("safety_recovered",))


# -- who sees it, who decides ------------------------------------------------------------------------------------
def test_purchasing_sees_purchases_the_warehouse_transfers_of_either_side_the_desk_everything():
    assert replenishment.audience_filter("purchasing") == ("purchase", False)
    assert replenishment.audience_filter("warehouse") == ("transfer", True)
    assert replenishment.audience_filter("desk") == (None, False)


def proposed(kind="transfer"):
    return Replenishment(uuid.uuid4(), "N1", "R1", "PAD", "reorder_point", kind, "N2" if kind == "transfer" else None,
                         5, 24, 4, 0, 9)


def test_only_a_proposed_replenishment_is_accepted_or_dismissed():
    r = proposed()
    r.accept(by={"N1"}, who="kim", transfer_id="t-1")
    assert (r.status, r.transfer_id, r.accepted_by) == ("accepted", "t-1", "kim")
    assert r.recorded("stock.replenishment_accepted")
    with pytest.raises(StateConflict):
        r.accept()
    with pytest.raises(StateConflict):
        r.dismiss()
    other = proposed("purchase")
    other.dismiss()
    assert other.status == "dismissed"


def test_the_branch_the_stock_is_for_decides_on_its_replenishment():
    r = proposed()
    with pytest.raises(NotPermitted, match="decides"):
        r.accept(by={"N2"})  # the donor's side sees it, and may not take it
    with pytest.raises(NotPermitted, match="scope"):
        r.accept(by={"S9"})
    assert r.status == "proposed"
