"""Donor ranking rules (services/parts/donors.py), without broker or database."""
import pytest

from services.parts import donors
from shared.domain import RuleBroken


def shelf(branch_id, region_id, available, safety_stock=None):
    return {"branch_id": branch_id, "region_id": region_id, "available": available, "safety_stock": safety_stock}


def test_a_donor_never_gives_below_its_safety_stock():
    assert donors.can_give(5, 3) == 2
    assert donors.can_give(2, 3) == 0
    assert donors.can_give(4, None) == 4
    plan = donors.rank("B1", "north", 1, [shelf("B2", "north", 3, 3), shelf("B3", "north", 4, 1)],
                       donors.LeadTimes())
    assert [d["branch_id"] for d in plan["donors"]] == ["B3"]
    assert plan["donors"][0]["can_give"] == 3


def test_a_branch_is_never_its_own_donor():
    plan = donors.rank("B1", "north", 1, [shelf("B1", "north", 9)], donors.LeadTimes())
    assert plan["donors"] == [] and plan["proposal"]["kind"] == "purchase"


def test_same_region_donors_rank_first_then_by_lead_time():
    table = donors.LeadTimes([{"kind": "branch", "from_id": "B4", "to_id": "B1", "hours": 6}])
    plan = donors.rank("B1", "north", 2, [shelf("S1", "south", 9), shelf("B3", "north", 2), shelf("B4", "north", 2)],
                       table)
    assert [(d["branch_id"], d["lead_time_hours"]) for d in plan["donors"]] == [("B4", 6), ("B3", 24), ("S1", 72)]
    assert plan["proposal"] == {"kind": "transfer", "from_branch_id": "B4", "quantity": 2, "lead_time_hours": 6}


def test_donors_that_can_give_the_whole_quantity_rank_before_those_that_cannot():
    plan = donors.rank("B1", "north", 5, [shelf("B3", "north", 2), shelf("S1", "south", 8)], donors.LeadTimes())
    assert [d["branch_id"] for d in plan["donors"]] == ["S1", "B3"]
    assert plan["proposal"]["from_branch_id"] == "S1"


def test_a_purchase_is_proposed_when_no_donor_can_give_enough():
    plan = donors.rank("B1", "north", 5, [shelf("B3", "north", 4), shelf("S1", "south", 6, 2)], donors.LeadTimes())
    assert plan["proposal"] == {"kind": "purchase", "from_branch_id": None, "quantity": 5, "lead_time_hours": 48}
    table = donors.LeadTimes([donors.lead_time_entry("purchase", "x", "y", 12)])
    assert donors.rank("B1", "north", 5, [], table)["proposal"]["lead_time_hours"] == 12


def test_lead_times_come_from_the_branch_pair_then_the_region_pair_then_the_defaults():
    table = donors.LeadTimes([{"kind": "region", "from_id": "south", "to_id": "north", "hours": 30},
                              {"kind": "branch", "from_id": "S2", "to_id": "B1", "hours": 10}])
    assert table.between("S2", "south", "B1", "north") == 10
    assert table.between("S1", "south", "B1", "north") == 30
    assert table.between("B1", "north", "S1", "south") == 72
    assert table.between("B2", "north", "B1", "north") == 24


def test_an_accepted_donor_must_still_give_the_quantity_above_its_safety_stock():
    assert donors.accept(shelf("B3", "north", 5, 2), 3) == 3
    with pytest.raises(RuleBroken):
        donors.accept(shelf("B3", "north", 5, 3), 3)
    with pytest.raises(RuleBroken):
        donors.accept(None, 1)


def test_a_branch_lead_time_is_between_two_branches():
    with pytest.raises(RuleBroken):
        donors.lead_time_entry("branch", "B1", "B1", 5)
    assert donors.lead_time_entry("region", "north", "north", 5)["hours"] == 5


# -- branches of other sites (docs/sites.md) ------------------------------------------------------------------
def remote(branch_id, region_id, available, as_of, site="south"):
    return {**shelf(branch_id, region_id, available), "site": site, "as_of": as_of}


def test_another_sites_donor_shows_the_age_of_its_figures():
    from datetime import datetime, timedelta, timezone
    now = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    plan = donors.rank("N1", "R-N", 2, [remote("S1", "R-S", 10, now - timedelta(seconds=40))],
                       donors.LeadTimes(), now=now, max_age=900)
    (donor,) = plan["donors"]
    assert (donor["site"], donor["age_seconds"], donor["stale"]) == ("south", 40.0, False)
    assert plan["proposal"]["from_branch_id"] == "S1"


def test_a_donor_whose_figures_are_older_than_the_limit_is_listed_stale_and_never_proposed():
    from datetime import datetime, timedelta, timezone
    now = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    old = remote("S1", "R-S", 50, now - timedelta(seconds=901))
    fresh = remote("S2", "R-S", 3, now - timedelta(seconds=10))
    plan = donors.rank("N1", "R-N", 5, [old, fresh], donors.LeadTimes(), now=now, max_age=900)
    assert [(d["branch_id"], d["stale"]) for d in plan["donors"]] == [("S2", False), ("S1", True)]
    assert plan["proposal"]["kind"] == "purchase"  # S2 cannot give 5; S1's 50 may be gone
    with pytest.raises(RuleBroken) as refused:
        donors.accept(old, 5, now=now, max_age=900)
    assert "too old" in str(refused.value)
    assert donors.accept(fresh, 3, now=now, max_age=900) == 3
