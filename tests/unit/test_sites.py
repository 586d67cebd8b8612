"""Sites (shared/sites.py): what crosses to the other sites, which regions a site hosts, how old another
site's figures are and when they follow on, the group SLA view; and the SLA rule that a clock starts at
the site where its starting event happened. No broker, no database."""
from datetime import datetime, timedelta, timezone

from shared import sites
from shared.sla import rules as sla

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def transfer_event(**facts):
    return {"transfer_id": "t", "from_site": "south", "to_site": "north", "mirrored_from": None, **facts}


def test_site_figures_always_cross_and_local_events_never_do():
    assert sites.crosses("stock.site_figures", {}) and sites.crosses("sla.site_figures", {})
    for local in ("booking.created", "repair_order.delivered", "invoice.issued", "stock.below_threshold"):
        assert not sites.crosses(local, {"from_site": "south", "to_site": "north"})


def test_a_sites_figures_go_only_to_the_other_sites_and_a_transfer_step_to_both():
    assert not sites.stays_home_too("stock.site_figures") and not sites.stays_home_too("sla.site_figures")
    assert sites.stays_home_too("transfer.dispatched")


def test_a_transfer_step_crosses_only_between_two_sites_and_only_from_where_it_was_taken():
    assert sites.crosses("transfer.approved", transfer_event())
    assert not sites.crosses("transfer.approved", transfer_event(mirrored_from="south"))  # never back again
    assert not sites.crosses("transfer.approved", transfer_event(from_site=None, to_site=None))  # one stack
    assert not sites.crosses("transfer.approved", transfer_event(from_site="north"))  # both at one site


def test_a_site_hosts_its_regions_and_refuses_a_branch_of_another():
    one_stack = sites.Site(None)
    assert one_stack.hosts("R-NORTH") and one_stack.may_configure("R-SOUTH") is None and not one_stack.linked
    north = sites.Site("north", frozenset({"R-NORTH"}))
    assert north.linked and north.may_configure("R-NORTH") is None
    assert "not hosted by site north" in north.may_configure("R-SOUTH")


def test_another_sites_figures_follow_on_only_from_what_is_held():
    south = sites.RemoteSite("south")
    assert not south.follows_on(T0)  # a delta with nothing held: its shelves only, the age stands
    assert south.follows_on(None) and south.take(T0)  # a snapshot
    assert south.follows_on(T0) and south.take(T0 + timedelta(seconds=30))
    assert not south.follows_on(T0 + timedelta(seconds=90))  # one in between is missing
    assert not south.take(T0)  # an older publication changes nothing
    assert south.as_of == T0 + timedelta(seconds=30)


def test_figures_older_than_the_limit_or_none_at_all_are_stale():
    assert sites.age_seconds(T0, T0 + timedelta(seconds=90)) == 90
    assert not sites.stale(T0, T0 + timedelta(seconds=90), max_age=120)
    assert sites.stale(T0, T0 + timedelta(seconds=121), max_age=120)
    assert sites.stale(None, T0, max_age=120)


def test_compliance_rows_count_outcomes_and_open_clocks_per_policy_and_branch():
    outcomes = [{"policy": "p", "branch_id": "B1", "region_id": "R", "outcome": "met", "count": 3},
                {"policy": "p", "branch_id": "B1", "region_id": "R", "outcome": "breached", "count": 1},
                {"policy": "p", "branch_id": "B2", "region_id": "R", "outcome": "cancelled", "count": 2}]
    open_ = [{"policy": "p", "branch_id": "B1", "region_id": "R", "state": "running", "at_risk": False,
              "outcome": None, "count": 4},
             {"policy": "p", "branch_id": "B1", "region_id": "R", "state": "running", "at_risk": False,
              "outcome": "breached", "count": 1}]  # breached and still open: counted as breached already
    assert sites.compliance_rows(outcomes, open_) == [
        {"policy": "p", "branch_id": "B1", "region_id": "R", "met": 3, "breached": 1, "cancelled": 0, "open": 4},
        {"policy": "p", "branch_id": "B2", "region_id": "R", "met": 0, "breached": 0, "cancelled": 2, "open": 0}]


def test_another_sites_rows_are_narrowed_to_the_policy_and_the_callers_branches():
    rows = [{"policy": "a", "branch_id": "B1", "region_id": "R1"}, {"policy": "b", "branch_id": "B2", "region_id": "R2"}]
    assert sites.select(rows, {}) == rows
    assert sites.select(rows, {"policy": "b"}) == rows[1:]
    assert sites.select(rows, {"branch_ids": ["B1"]}) == rows[:1]
    assert sites.select(rows, {"region_id": "R2"}) == rows[1:]


def test_the_group_view_shows_every_site_with_the_age_of_its_oldest_figures():
    local = [{"policy": "p", "branch_id": "N1", "met": 3, "breached": 1, "cancelled": 0, "open": 2}]
    remote = [{"site": "south", "as_of": T0, "compliance": [
                  {"policy": "p", "branch_id": "S1", "met": 1, "breached": 1, "cancelled": 0, "open": 0}]},
              {"site": "south", "as_of": T0 + timedelta(seconds=20), "compliance": [
                  {"policy": "q", "branch_id": "S1", "met": 0, "breached": 0, "cancelled": 1, "open": 1}]}]
    view = sites.group_view("north", local, remote, T0 + timedelta(seconds=45))
    assert [(s["site"], s["local"], s["age_seconds"]) for s in view] == [("north", True, 0.0), ("south", False, 45.0)]
    assert view[0]["compliance"] == [{"policy": "p", "met": 3, "breached": 1, "cancelled": 0, "open": 2,
                                      "compliance": 0.75}]
    assert [(p["policy"], p["compliance"]) for p in view[1]["compliance"]] == [("p", 0.5), ("q", None)]


def test_a_clock_starts_at_the_site_where_its_starting_event_happened():
    assert sla.starts_here({"transfer_id": "t", "mirrored_from": None})
    assert sla.starts_here({"transfer_id": "t"})
    assert not sla.starts_here({"transfer_id": "t", "mirrored_from": "south"})
