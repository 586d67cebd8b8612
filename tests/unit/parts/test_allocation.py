"""Who gets stock: an approved order all its parts or nothing; waiting orders in order of need."""
from datetime import datetime, timedelta, timezone
from uuid import UUID

from services.parts.domain import Allocation, Shortage, need_priority

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def order(n, wanted, priority="routine", minutes=0, branch="N1"):
    return Shortage(UUID(int=n), branch, dict(wanted), priority, T0 + timedelta(minutes=minutes))


def test_an_approved_order_gets_all_its_parts_when_they_are_free():
    shelf = Allocation("N1", {"PAD": 2, "DISC": 1})
    assert shelf.reserve(order(1, {"PAD": 2, "DISC": 1})) is True
    assert shelf.taken == [(UUID(int=1), "DISC", 1), (UUID(int=1), "PAD", 2)]
    assert shelf.free == {"PAD": 0, "DISC": 0}
    [reserved] = shelf.events
    assert reserved.type == "parts.reserved" and reserved.branch_id == "N1"
    assert reserved.facts["lines"] == [{"part_number": "DISC", "quantity": 1}, {"part_number": "PAD", "quantity": 2}]


def test_an_order_short_of_one_part_takes_nothing_and_waits():
    shelf = Allocation("N1", {"PAD": 5})
    waiting = order(1, {"PAD": 2, "DISC": 1})
    assert shelf.reserve(waiting) is False
    assert shelf.taken == [] and shelf.free == {"PAD": 5} and waiting.is_open
    [short] = shelf.events
    assert short.type == "parts.shortage"
    assert short.facts["lines"] == [{"part_number": "DISC", "requested": 1, "available": 0}]


def test_a_short_order_gets_its_part_when_stock_arrives():
    waiting = order(1, {"PAD": 1})
    served = Allocation("N1", {"PAD": 20}).serve([waiting])
    assert served == [waiting] and waiting.status == "served"


def test_arriving_stock_goes_to_the_most_needed_order_first():
    routine = order(1, {"PAD": 1}, "routine", minutes=0)
    cosmetic = order(2, {"PAD": 1}, "cosmetic", minutes=-60)
    safety = order(3, {"PAD": 1}, "safety_critical", minutes=30)
    vip = order(4, {"PAD": 1}, "vip", minutes=10)
    shelf = Allocation("N1", {"PAD": 2})
    assert shelf.serve([routine, cosmetic, safety, vip]) == [safety, vip]
    assert [e.facts["repair_order_id"] for e in shelf.events] == [UUID(int=3), UUID(int=4)]
    assert routine.is_open and cosmetic.is_open


def test_of_equal_priority_the_first_approved_is_served_first():
    later, earlier = order(1, {"PAD": 1}, minutes=5), order(2, {"PAD": 1}, minutes=1)
    assert Allocation("N1", {"PAD": 1}).serve([later, earlier]) == [earlier]


def test_an_order_that_cannot_be_served_in_full_does_not_hold_back_the_next():
    big = order(1, {"PAD": 3}, "safety_critical")
    small = order(2, {"PAD": 1}, "routine")
    shelf = Allocation("N1", {"PAD": 2})
    assert shelf.serve([big, small]) == [small]
    assert big.is_open and shelf.free == {"PAD": 1}


def test_an_order_waiting_for_two_parts_is_served_only_when_both_are_there():
    both = order(1, {"PAD": 1, "DISC": 1})
    assert Allocation("N1", {"PAD": 5}).serve([both]) == []
    assert Allocation("N1", {"PAD": 5, "DISC": 1}).serve([both]) == [both]


def test_one_unit_never_goes_to_two_orders():
    first, second = order(1, {"PAD": 1}), order(2, {"PAD": 1}, minutes=1)
    shelf = Allocation("N1", {"PAD": 1})
    assert shelf.serve([first, second]) == [first]
    assert sum(q for _, _, q in shelf.taken) == 1 and shelf.free == {"PAD": 0}


def test_served_and_closed_orders_get_nothing_more():
    served, closed = order(1, {"PAD": 1}), order(2, {"PAD": 1})
    served.status = "served"
    closed.close()
    shelf = Allocation("N1", {"PAD": 5})
    assert shelf.serve([served, closed]) == [] and shelf.taken == []


def test_an_approval_waits_with_the_priority_it_names_or_as_routine():
    assert need_priority("safety_critical") == "safety_critical"
    assert need_priority("vip") == "vip"
    assert need_priority(None) == "routine"  # an approval from before the fact existed

def test_an_unknown_priority_comes_after_every_known_one():
    odd, cosmetic = order(1, {"PAD": 1}, "P9"), order(2, {"PAD": 1}, "cosmetic", minutes=5)
    assert Allocation("N1", {"PAD": 1}).serve([odd, cosmetic]) == [cosmetic]


def test_a_transfer_sent_for_a_repair_order_serves_that_order_first():
    urgent, linked = order(1, {"PAD": 2}, "safety_critical"), order(2, {"PAD": 2}, "cosmetic", minutes=30)
    shelf = Allocation("N1", {"PAD": 2})
    assert shelf.serve([urgent, linked], linked=UUID(int=2)) == [linked]
    assert urgent.is_open and shelf.taken == [(UUID(int=2), "PAD", 2)]


def test_an_order_waiting_when_its_supplement_is_approved_waits_for_both_and_is_served_with_both():
    waiting = order(1, {"PAD": 2})
    waiting.add({"PAD": 1, "DISC": 1})
    assert waiting.wanted == {"PAD": 3, "DISC": 1}
    assert Allocation("N1", {"PAD": 3}).serve([waiting]) == []
    assert Allocation("N1", {"PAD": 3, "DISC": 1}).serve([waiting]) == [waiting]
