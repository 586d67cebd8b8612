"""Extras as resources: a loaner car counted per day, pickup and delivery per slot, only where offered."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from services.booking import extras
from shared.domain import RuleBroken, StateConflict

BERLIN = ZoneInfo("Europe/Berlin")
SLOT = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # 14:00 in Berlin


def test_a_loaner_car_is_counted_per_local_day_and_a_pickup_per_slot():
    taken = extras.periods(["loaner_car", "pickup"], {"loaner_car": "day", "pickup": "slot"}, SLOT, BERLIN)
    assert taken == [("loaner_car", "day", datetime(2026, 11, 23, 0, 0, tzinfo=BERLIN)),
                     ("pickup", "slot", SLOT)]


def test_an_extra_the_branch_does_not_offer_is_refused():
    with pytest.raises(RuleBroken) as refused:
        extras.periods(["delivery"], {"loaner_car": "day"}, SLOT, BERLIN)
    assert "extras" in refused.value.fields


def test_no_extra_left_is_a_conflict_naming_it():
    gone = extras.ExtraGone("loaner_car", "day")
    assert isinstance(gone, StateConflict) and "loaner_car" in gone.fields["extras"][0]
