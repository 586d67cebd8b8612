"""Warranty eligibility per line, decided before work (domain.md s6): period, km and exclusions."""
from datetime import date

import pytest

from services.billing.domain import (
    EXCLUSIONS,
    add_months,
    warranty_decision,
    warranty_terms,
)

INSTALLED = date(2024, 3, 15)


def decide(line=None, today=date(2025, 1, 1), odometer_km=30_000, installed_km=10_000, exclusions=(),
           installed_on=INSTALLED):
    return warranty_decision(line=line or {"pay_type": "warranty", "origin": "oem"}, installed_on=installed_on,
                             installed_km=installed_km, today=today, odometer_km=odometer_km, exclusions=exclusions)


def test_an_oem_part_is_covered_36_months_and_through_the_day_the_period_ends_not_the_day_after():
    ends = date(2027, 3, 15)
    assert decide(today=date(2027, 3, 14))["eligible"] is True
    assert decide(today=ends)["eligible"] is True
    after = decide(today=date(2027, 3, 16))
    assert after["eligible"] is False and after["reason"] == "period ended on 2027-03-15 (oem, 36 months)"
    assert after["ends_on"] == ends


def test_an_oem_part_is_covered_exactly_at_50000_km_and_not_one_km_over():
    assert decide(odometer_km=60_000)["eligible"] is True  # 50,000 km driven since installation
    over = decide(odometer_km=60_001)
    assert over["eligible"] is False and over["reason"] == "over 50000 km since installation (50001 km, oem)"


def test_an_alternative_part_is_covered_12_months_or_20000_km():
    alt = {"pay_type": "warranty", "origin": "alternative"}
    assert decide(alt, today=date(2025, 3, 15))["eligible"] is True
    assert decide(alt, today=date(2025, 3, 16))["eligible"] is False
    assert decide(alt, odometer_km=30_000)["eligible"] is True
    assert decide(alt, odometer_km=30_001)["eligible"] is False


def test_a_wear_part_is_covered_6_months_whatever_its_origin_and_km():
    wear = {"pay_type": "warranty", "origin": "oem", "wear_part": True}
    assert warranty_terms(wear) == ("wear", 6, None)
    assert decide(wear, today=date(2024, 9, 15), odometer_km=500_000)["eligible"] is True
    assert decide(wear, today=date(2024, 9, 16))["eligible"] is False


def test_a_goodwill_repair_carries_its_own_6_month_period():
    assert warranty_terms({"pay_type": "goodwill", "origin": "oem"}) == ("goodwill", 6, None)


def test_a_parts_own_catalogue_terms_win_over_its_origins():
    assert warranty_terms({"pay_type": "warranty", "origin": "oem", "warranty_months": 24,
                           "warranty_km": 40_000}) == ("oem", 24, 40_000)


@pytest.mark.parametrize("exclusion", EXCLUSIONS)
def test_each_exclusion_found_refuses_the_warranty_with_its_name(exclusion):
    refused = decide(exclusions=[exclusion])
    assert refused["eligible"] is False and refused["reason"] == f"excluded: {exclusion}"


def test_without_an_install_date_a_line_is_not_eligible_and_the_reason_says_what_is_missing():
    unknown = decide(installed_on=None)
    assert unknown["eligible"] is False and unknown["reason"].startswith("install date unknown")


def test_months_are_added_to_the_calendar_day_or_the_months_last_day():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2024, 3, 15), 36) == date(2027, 3, 15)
