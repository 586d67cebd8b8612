"""Capacity from resources: the work a service type needs, technicians on shift, and why a slot is free or not."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.booking import capacity, domain
from shared.domain import RuleBroken

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # a Monday, 12:00 in Berlin
BEFORE = NOON - timedelta(days=1)


def shift(start_h, end_h, *skills):
    return {"starts_at": NOON.replace(hour=start_h), "ends_at": NOON.replace(hour=end_h), "skills": list(skills)}


def test_a_catalogued_service_type_needs_its_skill_and_estimated_hours():
    work = capacity.Catalogue.of().work_for("EV battery")
    assert (work.skill, work.hours, work.catalogued) == ("ev_high_voltage", 1.5, True)
    assert capacity.Catalogue.of().work_for("Annual service").hours == 2.0
    assert capacity.Catalogue.of().work_for("body-repair").skill == "body"


def test_an_unknown_service_type_is_general_work_with_the_default_estimate():
    work = capacity.Catalogue.of().work_for("something only this client says")
    assert (work.skill, work.hours, work.catalogued) == ("general", capacity.DEFAULT_ESTIMATE_HOURS, False)


def test_a_branch_may_override_a_service_type():
    own = capacity.catalogue_entry("Brakes", "general", 2.5)
    work = capacity.Catalogue.of([own]).work_for("brakes")
    assert (work.skill, work.hours) == ("general", 2.5)
    with pytest.raises(RuleBroken) as refused:
        capacity.catalogue_entry("brakes", "juggling", 1)
    assert "skill" in refused.value.fields


def test_a_service_type_takes_its_standard_kit_and_a_type_without_one_takes_none():
    catalogue = capacity.Catalogue.of()
    assert catalogue.kit_for("Annual service")[0] == {"part_number": "FLT-OIL-01", "quantity": 1}
    assert catalogue.kit_for("oil-change") == [{"part_number": "FLT-OIL-01", "quantity": 1}]
    assert catalogue.kit_for("brakes") == [{"part_number": "BRK-PAD-F01", "quantity": 1}]
    assert catalogue.kit_for("diagnostics") == [] and catalogue.kit_for("something only this client says") == []
    catalogue.kit_for("brakes")[0]["quantity"] = 9  # a caller's copy, not the catalogue
    assert catalogue.kit_for("brakes")[0]["quantity"] == 1


def test_a_branch_may_give_its_own_service_type_a_kit_or_keep_the_shipped_one():
    pads = [{"part_number": "BRK-PAD-F01", "quantity": 1}, {"part_number": "BRK-PAD-R01", "quantity": 1}]
    catalogue = capacity.Catalogue.of([capacity.catalogue_entry("Brakes", "general", 2.5, pads),
                                       capacity.catalogue_entry("Oil change", "general", 0.5),
                                       capacity.catalogue_entry("Annual service", "general", 2, []),
                                       capacity.catalogue_entry("Wipers", "general", 0.25,
                                                                [{"part_number": "WPR-BLD-SET", "quantity": 1}])])
    assert catalogue.kit_for("brakes") == pads
    assert catalogue.kit_for("oil change") == [{"part_number": "FLT-OIL-01", "quantity": 1}]  # no kit given
    assert catalogue.kit_for("annual service") == []  # an empty kit says the type takes none
    assert catalogue.kit_for("wipers") == [{"part_number": "WPR-BLD-SET", "quantity": 1}]


def test_a_kit_has_at_most_twenty_lines_each_part_once_in_positive_whole_quantities():
    def line(number, quantity=1):
        return {"part_number": number, "quantity": quantity}

    assert len(capacity.kit([line(f"P-{i}") for i in range(capacity.MAX_KIT_LINES)])) == capacity.MAX_KIT_LINES
    for bad in ([line(f"P-{i}") for i in range(capacity.MAX_KIT_LINES + 1)], [line("P-1", 0)], [line("P-1", -2)],
                [line("P-1", 1.5)], [line("P-1", True)], [line("P-1"), line("P-1", 2)]):
        with pytest.raises(RuleBroken) as refused:
            capacity.catalogue_entry("brakes", "general", 1.5, bad)
        assert "parts" in refused.value.fields


def test_a_shift_is_kept_in_local_time_and_counted_in_utc():
    rows = capacity.plan_shifts("anna", ["general"], [{"date": date(2026, 11, 23), "start": "08:00", "end": "16:00"}],
                                BERLIN)
    assert rows[0]["starts_at"] == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert rows[0]["ends_at"] - rows[0]["starts_at"] == timedelta(hours=8)


def test_a_shift_ends_after_it_starts_one_per_day_with_known_skills():
    day = date(2026, 11, 23)
    with pytest.raises(RuleBroken) as backwards:
        capacity.plan_shifts("anna", ["general"], [{"date": day, "start": "16:00", "end": "08:00"}], BERLIN)
    assert "shifts" in backwards.value.fields
    with pytest.raises(RuleBroken):
        capacity.plan_shifts("anna", ["general"], [{"date": day, "start": "08:00", "end": "12:00"},
                                                   {"date": day, "start": "13:00", "end": "17:00"}], BERLIN)
    with pytest.raises(RuleBroken) as unknown:
        capacity.plan_shifts("anna", ["magic"], [], BERLIN)
    assert "skills" in unknown.value.fields


def test_skilled_hours_on_shift_are_the_overlap_of_shifts_with_the_slot():
    shifts = [shift(6, 15, "general"), shift(12, 20, "general", "ev_high_voltage"), shift(14, 20, "body")]
    start, end = NOON, NOON + timedelta(hours=2)  # 11:00-13:00 UTC
    assert capacity.seconds_on_shift(shifts, start, end, "general") == 2 * 3600 + 3600
    assert capacity.seconds_on_shift(shifts, start, end, "ev_high_voltage") == 3600
    assert capacity.seconds_on_shift(shifts, start, end, "body") == 0
    assert capacity.seconds_on_shift(shifts, start, end) == 3 * 3600


def test_a_slot_is_free_when_a_bay_and_enough_skilled_hours_are():
    ev = capacity.Catalogue.of().work_for("ev battery")  # 1.5 h of ev_high_voltage
    room = capacity.SlotRoom(capacity=2, booked=0, staffed=True, shift_seconds=4 * 3600, booked_seconds=0,
                             skill_seconds=2 * 3600, skill_booked_seconds=0)
    assert room.why_not(ev, NOON, BEFORE) is None
    assert room.free_skill_seconds == 2 * 3600


def test_a_slot_without_enough_skilled_hours_says_which_skill_is_short():
    ev = capacity.Catalogue.of().work_for("ev battery")
    room = capacity.SlotRoom(2, 1, True, 4 * 3600, 3600, 2 * 3600, 3600)  # 1 h of ev left, 1.5 h needed
    assert room.why_not(ev, NOON, BEFORE) == "no ev_high_voltage hours"
    no_ev_at_all = capacity.SlotRoom(2, 0, True, 4 * 3600, 0, 0, 0)
    assert no_ev_at_all.why_not(ev, NOON, BEFORE) == "no ev_high_voltage hours"


def test_skilled_hours_also_count_against_all_hours_on_shift():
    """A technician with two skills is one person: the slot's hours in all are a limit too."""
    general = capacity.Catalogue.of().work_for("oil change")  # 1 h
    room = capacity.SlotRoom(4, 1, True, 2 * 3600, int(1.5 * 3600), 2 * 3600, 0)
    assert room.why_not(general, NOON, BEFORE) == capacity.NO_HOURS


def test_a_slot_without_a_free_bay_is_not_free_whatever_the_hours():
    room = capacity.SlotRoom(capacity=1, booked=1, staffed=True, shift_seconds=8 * 3600, skill_seconds=8 * 3600)
    assert room.why_not(capacity.Catalogue.of().work_for("brakes"), NOON, BEFORE) == capacity.NO_BAY


def test_a_per_slot_override_still_caps_the_bays():
    room = capacity.SlotRoom(domain.slot_capacity(bays=6, override=0), 0, True, 8 * 3600, 0, 8 * 3600, 0)
    assert room.why_not(capacity.Catalogue.of().work_for("brakes"), NOON, BEFORE) == capacity.NO_BAY


def test_a_branch_without_shifts_counts_bays_only():
    room = capacity.SlotRoom(capacity=1, booked=0)
    assert room.why_not(capacity.Catalogue.of().work_for("body repair"), NOON, BEFORE) is None
    assert room.free_skill_seconds is None


def test_a_slot_that_has_started_is_over():
    room = capacity.SlotRoom(capacity=3, booked=0)
    assert room.why_not(capacity.Catalogue.of().work_for("brakes"), NOON, NOON) == capacity.OVER


def test_a_booking_holds_the_skill_and_hours_of_its_service_type():
    timetable = domain.Timetable({"mon": [["08:00", "18:00"]]}, frozenset(), BERLIN, 120)
    work = capacity.Catalogue.of().work_for("diagnostics")
    booking = domain.Booking.request("b1", {"branch_id": "N1", "customer_id": "c", "vehicle_id": "v",
                                            "slot_start": NOON - timedelta(hours=2), "service_type": "diagnostics",
                                            "priority": "routine", "channel": "web", "symptoms": ""},
                                     timetable, BEFORE, work)
    assert (booking.skill, booking.labour_seconds) == ("diagnostics", 3600)


# -- a full slot answers with alternatives ------------------------------------------------------------------
def _day_of_rooms(free_at):
    """Hourly slots from noon, with a free bay only at the hours in `free_at`."""
    rooms = []
    for h in range(8):
        start = NOON + timedelta(hours=h)
        rooms.append((domain.Slot(start, start + timedelta(hours=1)), capacity.SlotRoom(1, 0 if h in free_at else 1)))
    return rooms


def test_a_full_slot_offers_the_next_three_slots_that_fit_the_same_work():
    brakes = capacity.Catalogue.of().work_for("brakes")
    rooms = _day_of_rooms(free_at={0, 2, 3, 5, 6})
    found = capacity.alternatives(rooms, brakes, after=NOON + timedelta(hours=1), now=BEFORE)
    assert [s.start for s in found] == [NOON + timedelta(hours=h) for h in (2, 3, 5)]
    refusal = domain.SlotFull(found)
    assert refusal.fields["alternatives"][0] == {"slot_start": (NOON + timedelta(hours=2)).isoformat(),
                                                 "slot_end": (NOON + timedelta(hours=3)).isoformat()}
    assert refusal.fields["slot_start"] == ["no capacity left in this slot"]


def test_alternatives_skip_slots_short_of_the_skill():
    ev = capacity.Catalogue.of().work_for("ev battery")
    start = NOON + timedelta(hours=1)
    rooms = [(domain.Slot(start, start + timedelta(hours=1)), capacity.SlotRoom(2, 0, True, 7200, 0, 0, 0)),
             (domain.Slot(start + timedelta(hours=1), start + timedelta(hours=2)),
              capacity.SlotRoom(2, 0, True, 7200, 0, 7200, 0))]
    assert [s.start for s in capacity.alternatives(rooms, ev, NOON, BEFORE)] == [start + timedelta(hours=1)]
    assert capacity.alternatives([], ev, NOON, BEFORE) == []


def test_work_longer_than_its_slot_takes_at_most_the_slot_from_one_technician():
    clutch = capacity.Catalogue.of().work_for("clutch")  # 4 h
    assert clutch.seconds_in(3600) == 3600 and clutch.seconds_in(None) == 4 * 3600
    one_technician_hour = capacity.SlotRoom(2, 0, True, 3600, 0, 3600, 0, slot_seconds=3600)
    assert one_technician_hour.why_not(clutch, NOON, BEFORE) is None
    booking = domain.Booking("b", "N1", "c", "v", NOON, NOON + timedelta(hours=1), "clutch", "routine", "web", "",
                             "requested", BEFORE, skill="general", labour_seconds=4 * 3600)
    assert booking.slot_seconds == 3600
