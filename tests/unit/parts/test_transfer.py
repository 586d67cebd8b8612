"""A transfer's life cycle, who acts on each step, and what it moves in the ledger."""
from uuid import UUID

import pytest

from services.parts.domain import NOT_IN_SCOPE, KnownRepairOrder
from services.parts.transfers import TRANSFER, Transfer, TransferBehind
from shared.contracts.api.parts import TRANSFER_STATUSES
from shared.domain import IllegalTransition, NotPermitted, RuleBroken, StateConflict

NORTH, SOUTH, EAST = "NORTH-1", "SOUTH-1", "EAST-1"
RO = UUID(int=7)
ADMIN = None  # no scope: every branch


def transfer(status="requested", quantity=2, received=0):
    # SOUTH sends to NORTH
    return Transfer(UUID(int=1), NORTH, SOUTH, "PAD", quantity, status, received)


def dispatched(quantity=2):
    t = transfer("picked", quantity)
    t.dispatch(by={SOUTH})
    t.take_events(), t.take_movements()
    return t


# -- the life cycle --------------------------------------------------------------------------------------
def test_the_life_cycle_runs_from_request_to_close():
    t = Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 2)
    for step in ("approved", "picked", "dispatched", "received", "closed"):
        t.advance(step)
    assert t.status == "closed"
    assert [e.type for e in t.events] == ["transfer.requested", "transfer.approved", "transfer.picked",
                                          "transfer.dispatched", "transfer.received", "transfer.closed"]
    assert {e.branch_id for e in t.events} == {NORTH}  # the receiving branch


def test_a_step_out_of_order_is_an_illegal_transition():
    with pytest.raises(IllegalTransition):
        transfer("requested").advance("dispatched")
    with pytest.raises(IllegalTransition):
        transfer("requested").advance("requested")


def test_a_transfer_may_be_cancelled_until_it_is_dispatched_and_not_after():
    for status in ("requested", "approved", "picked"):
        t = transfer(status)
        t.cancel(by={SOUTH})
        assert t.status == "cancelled" and [e.type for e in t.events] == ["transfer.cancelled"]
    with pytest.raises(IllegalTransition):
        dispatched().cancel()


def test_the_life_cycle_is_one_state_machine():
    assert TRANSFER.allowed("dispatched") == {"received"}
    assert TRANSFER.allowed("received") == {"closed"}


# -- what moves -------------------------------------------------------------------------------------------
def test_a_dispatch_takes_the_units_from_the_sender_and_puts_them_in_transit_to_the_receiver():
    t = transfer("picked", quantity=3)
    t.dispatch(by={SOUTH})
    out, transit = t.take_movements()
    assert (out.kind, out.branch_id, out.on_hand, out.transfer_id) == ("transfer_out", SOUTH, -3, t.transfer_id)
    assert (transit.kind, transit.branch_id, transit.in_transit) == ("in_transit", NORTH, 3)
    [event] = t.events
    assert event.type == "transfer.dispatched" and event.facts["tracking_reference"] is None


def test_a_dispatch_with_the_carriers_reference_sends_it_at_once():
    t = transfer("picked")
    t.dispatch("DHL-42", by={SOUTH}, actor="sven")
    assert t.tracking_reference == "DHL-42"
    assert [(e.type, e.facts["tracking_reference"], e.facts["acted_by"]) for e in t.events] == [
        ("transfer.dispatched", "DHL-42", "sven"), ("transfer.tracking_sent", "DHL-42", "sven")]


def test_the_tracking_reference_follows_the_dispatch_from_the_sending_branch():
    t = dispatched()
    with pytest.raises(StateConflict):
        transfer("picked").send_tracking("DHL-1")
    with pytest.raises(NotPermitted) as refused:
        t.send_tracking("DHL-1", by={NORTH})
    assert "sending branch (SOUTH-1)" in refused.value.message
    t.send_tracking("DHL-1", by={SOUTH})
    [sent] = t.take_events()
    assert (sent.type, sent.branch_id, sent.facts["tracking_reference"]) == ("transfer.tracking_sent", NORTH, "DHL-1")


def test_the_delivery_is_due_within_the_lead_time_between_the_branches():
    t = transfer("picked")
    t.dispatch(delivery_hours=72)
    assert t.events[0].facts["delivery_seconds"] == 72 * 3600
    t = transfer("picked")
    t.dispatch()
    assert "delivery_seconds" not in t.events[0].facts  # the policy's own 24 h


def test_every_step_is_kept_with_who_did_it():
    t = Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 3, actor="nina")
    t.approve(actor="sven"), t.pick(actor="sven"), t.dispatch(actor="sven")
    t.receive(2, actor="nina")
    t.write_off("lost_in_transit", actor="nina")
    assert [(s.step, s.acted_by, s.quantity, s.reason) for s in t.take_steps()] == [
        ("requested", "nina", None, None), ("approved", "sven", None, None), ("picked", "sven", None, None),
        ("dispatched", "sven", None, None), ("partly_received", "nina", 2, None),
        ("written_off", "nina", 1, "lost_in_transit"), ("received", "nina", None, None)]
    assert t.take_steps() == []


def test_a_partial_receipt_keeps_the_rest_in_transit():
    t = dispatched(quantity=2)
    t.receive(1, by={NORTH})
    assert t.status == "dispatched" and t.received_quantity == 1 and t.in_transit == 1
    [m] = t.take_movements()
    assert (m.kind, m.branch_id, m.quantity, m.on_hand, m.in_transit) == ("transfer_in", NORTH, 1, 1, -1)
    [event] = t.take_events()
    assert event.type == "transfer.partly_received" and event.facts["received_quantity"] == 1


def test_further_receipts_are_accepted_until_all_is_received():
    t = dispatched(quantity=3)
    t.receive(1)
    t.receive(2)
    assert t.status == "received" and t.received_quantity == 3 and t.in_transit == 0
    assert [(e.type, e.facts["received_quantity"]) for e in t.events] == [
        ("transfer.partly_received", 1), ("transfer.received", 3)]  # the delivery clock stops on the last
    assert [m.quantity for m in t.movements] == [1, 2]
    t.close(by={NORTH})
    assert t.status == "closed"


def test_a_receipt_without_a_quantity_receives_all_still_in_transit():
    t = dispatched(quantity=5)
    t.receive(2)
    t.receive()
    assert t.status == "received" and [m.quantity for m in t.movements] == [2, 3]


def test_never_more_is_received_than_was_sent():
    t = dispatched(quantity=2)
    t.receive(1)
    with pytest.raises(RuleBroken) as refused:
        t.receive(2)
    assert "received_quantity" in refused.value.fields
    assert t.received_quantity == 1 and len(t.movements) == 1


def test_a_fully_received_transfer_takes_no_more_receipts():
    t = dispatched(quantity=1)
    t.receive()
    with pytest.raises(IllegalTransition):
        t.receive(1)


def test_units_that_never_came_are_written_off_with_a_reason_and_then_it_can_close():
    t = dispatched(quantity=3)
    t.receive(1)
    t.take_events(), t.take_movements()
    with pytest.raises(RuleBroken) as refused:
        t.write_off("fell off the truck")
    assert "reason" in refused.value.fields
    with pytest.raises(RuleBroken) as refused:
        t.write_off("lost_in_transit", 3)
    assert "quantity" in refused.value.fields
    t.write_off("damaged_in_transit", 1)
    assert (t.status, t.in_transit, t.written_off_quantity) == ("dispatched", 1, 1)
    [m] = t.take_movements()
    assert (m.kind, m.branch_id, m.in_transit, m.on_hand, m.reference) == (
        "transit_written_off", NORTH, -1, 0, "damaged_in_transit")
    t.write_off("lost_in_transit")
    assert (t.status, t.in_transit, t.received_quantity, t.written_off_quantity) == ("received", 0, 1, 2)
    assert [e.type for e in t.events] == ["transfer.written_off", "transfer.written_off", "transfer.received"]
    t.close()
    assert t.status == "closed"


def test_only_the_receiving_branch_writes_off_and_only_what_is_on_the_road():
    with pytest.raises(NotPermitted):
        dispatched().write_off("lost_in_transit", by={SOUTH})
    with pytest.raises(StateConflict):
        transfer("picked").write_off("lost_in_transit")
    t = dispatched()
    t.receive()
    with pytest.raises(StateConflict):
        t.write_off("lost_in_transit")


def test_a_partly_received_transfer_cannot_be_closed():
    t = dispatched(quantity=2)
    t.receive(1)
    with pytest.raises(IllegalTransition):
        t.close()


# -- who acts ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status,step", [("requested", "approved"), ("approved", "picked"),
                                         ("picked", "dispatched"), ("requested", "cancelled")])
def test_the_sending_branch_approves_picks_dispatches_and_cancels(status, step):
    transfer(status).advance(step, by={SOUTH})
    with pytest.raises(NotPermitted) as refused:
        transfer(status).advance(step, by={NORTH})
    assert "sending branch (SOUTH-1)" in refused.value.message and refused.value.fields


def test_the_receiving_branch_receives_and_closes():
    t = dispatched()
    with pytest.raises(NotPermitted) as refused:
        t.receive(by={SOUTH})
    assert "receiving branch (NORTH-1)" in refused.value.message
    t.receive(by={NORTH})
    with pytest.raises(NotPermitted):
        t.close(by={SOUTH})
    t.close(by={NORTH})


def test_the_receiving_branch_requests():
    with pytest.raises(NotPermitted):
        Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 1, by={SOUTH})
    assert Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 1, by={NORTH}).status == "requested"


def test_a_caller_of_both_branches_acts_on_every_step():
    t = Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 1, by={NORTH, SOUTH})
    for step in ("approved", "picked", "dispatched", "received", "closed"):
        t.advance(step, by={NORTH, SOUTH})
    assert t.status == "closed"


def test_a_caller_of_neither_branch_finds_no_transfer():
    with pytest.raises(NotPermitted) as refused:
        transfer().approve(by={EAST})
    assert refused.value.message == NOT_IN_SCOPE and refused.value.fields == {}


def test_an_unscoped_caller_acts_on_every_step():
    t = transfer()
    t.approve(by=ADMIN)
    assert t.status == "approved"


def test_a_refused_step_changes_nothing():
    t = transfer("picked")
    with pytest.raises(NotPermitted):
        t.dispatch(by={NORTH})
    assert t.status == "picked" and t.events == [] and t.movements == []


# -- the repair order a transfer names ----------------------------------------------------------------------
def test_a_transfer_may_name_a_repair_order_of_the_receiving_branch():
    t = Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 1, RO, KnownRepairOrder(RO, NORTH, "routine"), by={NORTH})
    assert t.repair_order_id == RO and t.events[0].facts["repair_order_id"] == RO


@pytest.mark.parametrize("known", [None, KnownRepairOrder(RO, EAST, "routine")], ids=["unknown", "other branch"])
def test_a_transfer_naming_a_foreign_or_unknown_repair_order_is_refused(known):
    with pytest.raises(RuleBroken) as refused:
        Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 1, RO, known)
    assert "repair_order_id" in refused.value.fields
    with pytest.raises(NotPermitted) as hidden:  # a scoped caller cannot tell it from a missing record
        Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 1, RO, known, by={NORTH})
    assert hidden.value.message == NOT_IN_SCOPE and hidden.value.fields == {}


def test_the_transfer_life_cycle_has_the_statuses_the_api_names():
    assert TRANSFER.statuses == TRANSFER_STATUSES


# -- between two sites (docs/sites.md): SOUTH-1 at site south sends to NORTH-1 at site north --------------------


def across(here, status="requested", received=0):
    return Transfer(UUID(int=1), NORTH, SOUTH, "PAD", 2, status, received, from_site="south", to_site="north",
                    here=here)


def facts_of(t, step):
    (event,) = [e for e in t.take_events() if e.type == f"transfer.{step}"]
    return {"branch_id": event.branch_id, **event.facts}


def test_a_transfer_between_sites_is_requested_at_the_receiving_site_and_says_both_sites():
    t = Transfer.request(UUID(int=1), NORTH, SOUTH, "PAD", 2, from_site="south", here="north")
    facts = facts_of(t, "requested")
    assert (facts["from_site"], facts["to_site"], facts.get("mirrored_from")) == ("south", "north", None)
    copy = Transfer.mirror_request(facts, "south")
    assert (copy.status, copy.from_site, copy.to_site) == ("requested", "south", "north")
    assert facts_of(copy, "requested")["mirrored_from"] == "north"


def test_a_step_is_taken_at_the_site_of_the_branch_that_owns_it():
    with pytest.raises(StateConflict) as refused:
        across("north").approve(by=ADMIN)
    assert "at its own site, south" in str(refused.value)
    across("south").approve(by={SOUTH})  # the sending branch, at its site
    with pytest.raises(StateConflict):
        across("south", "dispatched").receive(by=ADMIN)


def test_each_site_moves_only_its_own_branches_stock():
    sender = across("south", "picked")
    sender.dispatch(by={SOUTH})
    assert [(m.kind, m.branch_id) for m in sender.take_movements()] == [("transfer_out", SOUTH)]
    receiver = across("north", "picked")
    assert receiver.mirror("dispatched", facts_of(sender, "dispatched"))
    assert [(m.kind, m.branch_id) for m in receiver.take_movements()] == [("in_transit", NORTH)]


def test_the_other_sites_step_is_applied_once_and_in_order():
    home = across("north")
    sender = across("south")
    sender.approve(by={SOUTH})
    approved = facts_of(sender, "approved")
    sender.pick(by={SOUTH})
    picked = facts_of(sender, "picked")
    with pytest.raises(TransferBehind):
        home.mirror("picked", picked)  # ahead of the approval: it waits
    assert home.mirror("approved", approved) and home.status == "approved"
    assert facts_of(home, "approved")["mirrored_from"] == "south"
    assert not home.mirror("approved", approved)  # sent twice: nothing more
    assert home.mirror("picked", picked) and home.status == "picked"


def test_receipts_and_write_offs_at_the_receiving_site_reach_the_sender_by_their_totals():
    home, copy = across("north", "dispatched"), across("south", "dispatched")
    home.receive(1, by={NORTH})
    partly = facts_of(home, "partly_received")
    home.write_off("lost_in_transit", 1, by={NORTH})
    events = {e.type: {"branch_id": e.branch_id, **e.facts} for e in home.take_events()}
    assert copy.mirror("written_off", events["transfer.written_off"])  # the later total first
    assert not copy.mirror("partly_received", partly)  # an older total: nothing more
    assert copy.status == "dispatched" and copy.outstanding == 0
    assert copy.mirror("received", events["transfer.received"]) and copy.status == "received"
    assert copy.take_movements() == []  # the sender's stock left at dispatch
    assert not copy.mirror("received", events["transfer.received"])


def test_a_site_never_mirrors_a_step_of_its_own():
    with pytest.raises(RuleBroken):
        across("south").mirror("approved", {"acted_by": None})
