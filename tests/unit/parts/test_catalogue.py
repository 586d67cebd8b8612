"""Catalogue rules (services/parts/catalogue.py), without broker or database."""
from datetime import datetime, timezone
from uuid import uuid4

import pytest

from services.parts import catalogue, domain
from services.workshop.domain import quoted_part_terms
from shared.domain import RuleBroken, StateConflict

AT = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)


# -- warranty terms ------------------------------------------------------------------------------------------
def test_an_oem_part_carries_36_months_or_50000_km_by_default():
    assert catalogue.warranty_terms("oem") == catalogue.WarrantyTerms(36, 50_000, "rule")


def test_a_certified_alternative_carries_12_months_or_20000_km_by_default():
    assert catalogue.warranty_terms("alternative") == catalogue.WarrantyTerms(12, 20_000, "rule")


def test_a_wear_part_carries_6_months_and_no_km_whatever_its_origin():
    assert catalogue.warranty_terms("oem", wear_part=True) == catalogue.WarrantyTerms(6, None, "rule")
    assert catalogue.warranty_terms("alternative", wear_part=True) == catalogue.WarrantyTerms(6, None, "rule")


def test_a_suppliers_own_terms_override_the_rule_as_given():
    assert catalogue.warranty_terms("oem", months=24) == catalogue.WarrantyTerms(24, None, "supplier")
    assert catalogue.warranty_terms("alternative", months=18, km=30_000) == catalogue.WarrantyTerms(18, 30_000, "supplier")
    assert catalogue.warranty_terms("oem", wear_part=True, months=12) == catalogue.WarrantyTerms(12, None, "supplier")


def test_a_km_given_without_months_replaces_only_the_rules_distance():
    assert catalogue.warranty_terms("oem", km=60_000) == catalogue.WarrantyTerms(36, 60_000, "supplier")


# -- substitutes --------------------------------------------------------------------------------------------------
def test_a_part_is_not_its_own_substitute():
    with pytest.raises(RuleBroken) as refused:
        catalogue.approve_substitute("P-1", "P-1", "same part")
    assert "substitute_part_number" in refused.value.fields


def test_a_substitute_is_approved_with_its_differences():
    with pytest.raises(RuleBroken) as refused:
        catalogue.approve_substitute("P-1", "P-2", "   ")
    assert "differences" in refused.value.fields
    assert catalogue.approve_substitute("P-1", "P-2", " 2 mm thinner ") == [
        catalogue.Substitution("P-1", "P-2", "2 mm thinner")]


def test_a_substitute_approved_both_ways_stands_in_either_direction():
    pairs = catalogue.approve_substitute("P-1", "P-2", "aftermarket", both_ways=True)
    assert [(s.part_number, s.substitute_part_number) for s in pairs] == [("P-1", "P-2"), ("P-2", "P-1")]


def test_a_substitute_pair_is_approved_once():
    with pytest.raises(StateConflict):
        catalogue.approve_substitute("P-1", "P-2", "again", approved={("P-1", "P-2")})
    with pytest.raises(StateConflict):  # the reverse exists already: both ways would approve it twice
        catalogue.approve_substitute("P-1", "P-2", "again", both_ways=True, approved={("P-2", "P-1")})
    assert len(catalogue.approve_substitute("P-1", "P-2", "one way", approved={("P-2", "P-1")})) == 1


def test_a_short_line_offers_only_substitutes_the_branch_has_enough_of():
    offers = catalogue.substitutes_for_short_line(2, [
        {"part_number": "S-1", "available": 1, "differences": "too few"},
        {"part_number": "S-2", "available": 2, "differences": "exactly enough"},
        {"part_number": "S-3", "available": 5, "differences": "plenty"}])
    assert [o["part_number"] for o in offers] == ["S-3", "S-2"]
    assert catalogue.substitutes_for_short_line(1, None) == []


def test_a_short_order_carries_the_approved_substitutes_available_at_its_branch():
    order = domain.Shortage(uuid4(), "B1", {"P-1": 2, "P-2": 1}, "routine", AT)
    allocation = domain.Allocation("B1", {"P-1": 0, "P-2": 3})
    substitutes = {"P-1": [{"part_number": "S-1", "available": 4, "differences": "alternative brand"},
                           {"part_number": "S-9", "available": 1, "differences": "too few"}]}
    assert allocation.reserve(order, substitutes) is False
    (shortage,) = allocation.recorded("parts.shortage")
    lines = shortage.facts["lines"]
    assert lines == [{"part_number": "P-1", "requested": 2, "available": 0,
                      "substitutes": [{"part_number": "S-1", "available": 4, "differences": "alternative brand"}]}]


def test_a_short_order_without_substitutes_given_has_lines_as_before():
    order = domain.Shortage(uuid4(), "B1", {"P-1": 2}, "routine", AT)
    assert order.short_lines({"P-1": 1}) == [{"part_number": "P-1", "requested": 2, "available": 1}]


# -- fitment ----------------------------------------------------------------------------------------------------
def test_a_fitment_ends_no_earlier_than_it_starts():
    with pytest.raises(RuleBroken) as refused:
        catalogue.fitment("P-1", "Volvo", "V60", 2020, 2018)
    assert "year_to" in refused.value.fields
    assert catalogue.fitment("P-1", " Volvo ", "V60", 2018, 2018) == catalogue.Fitment("P-1", "Volvo", "V60", 2018, 2018)


def test_a_fitment_names_its_make_and_model():
    with pytest.raises(RuleBroken) as refused:
        catalogue.fitment("P-1", " ", "V60", 2018)
    assert "make" in refused.value.fields
    with pytest.raises(RuleBroken) as refused:
        catalogue.fitment("P-1", "Volvo", "", 2018)
    assert "model" in refused.value.fields


def test_a_part_fits_its_make_and_model_without_regard_to_case_within_its_years():
    open_ended = {"make": "Volvo", "model": "V60", "year_from": 2018, "year_to": None}
    closed = {"make": "Volvo", "model": "V60", "year_from": 2018, "year_to": 2020}
    assert catalogue.fits(open_ended, "volvo", "v60", 2030)
    assert catalogue.fits(closed, "VOLVO", None, 2020)
    assert not catalogue.fits(closed, "Volvo", "V60", 2021)
    assert not catalogue.fits(closed, "Volvo", "V60", 2017)
    assert not catalogue.fits(closed, "Volvo", "XC60")


# -- a quote line shows origin and warranty (workshop's copy of the catalogue) ------------------------------------
def test_a_quoted_part_line_keeps_its_parts_origin_and_warranty():
    parts = {"P-1": {"price_cents": 100, "origin": "alternative", "warranty_months": 12, "warranty_km": 20_000}}
    assert quoted_part_terms({"kind": "part", "part_number": "P-1"}, parts) == {
        "origin": "alternative", "warranty_months": 12, "warranty_km": 20_000}
    none = {"origin": None, "warranty_months": None, "warranty_km": None}
    assert quoted_part_terms({"kind": "labour", "part_number": None}, parts) == none
    assert quoted_part_terms({"kind": "part", "part_number": "UNKNOWN"}, parts) == none
