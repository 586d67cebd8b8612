"""The supervisor's view of a day: what the arrivals need per skill against the hours on shift, slot by slot."""
from datetime import datetime, timedelta, timezone

from services.booking import capacity, day, domain

UTC = timezone.utc
START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
END = START + timedelta(days=1)


def arrival(skill, hours, status="confirmed", hour=8):
    return {"booking_id": f"{skill}-{hour}-{status}", "skill": skill, "labour_seconds": int(hours * 3600),
            "status": status, "slot_start": START + timedelta(hours=hour)}


def test_the_day_sums_what_the_arrivals_need_per_skill_against_the_hours_on_shift():
    arrivals = [arrival("general", 2), arrival("general", 1.5, hour=10), arrival("ev_high_voltage", 1.5),
                arrival("general", 3, status="no_show"), arrival("body", 3, status="checked_in")]
    shifts = [{"starts_at": START + timedelta(hours=8), "ends_at": START + timedelta(hours=16),
               "skills": ["general", "ev_high_voltage"]}]
    needs = {n["skill"]: n for n in day.skills_needed(arrivals, shifts, START, END)}
    assert (needs["general"]["hours_needed"], needs["general"]["hours_on_shift"], needs["general"]["short"]) == (
        3.5, 8.0, False)
    assert (needs["body"]["hours_needed"], needs["body"]["hours_on_shift"], needs["body"]["short"]) == (3.0, 0, True)


def test_a_branch_without_shifts_is_never_short():
    needs = day.skills_needed([arrival("body", 3)], [], START, END)
    assert not any(n["short"] for n in needs)


def test_each_slot_lists_its_arrivals():
    slots = [domain.Slot(START + timedelta(hours=h), START + timedelta(hours=h + 2)) for h in (8, 10)]
    rows = day.by_slot(slots, [arrival("general", 1), arrival("body", 1, hour=10), arrival("general", 1, hour=10)])
    assert [r["booking_ids"] for r in rows] == [["general-8-confirmed"], ["body-10-confirmed", "general-10-confirmed"]]


def booked(service_type, status="confirmed", hour=8):
    return {**arrival("general", 1, status, hour), "service_type": service_type}


def test_each_arrival_lists_its_service_types_kit_to_pick():
    listed = day.with_parts([booked("Annual service"), booked("brakes", hour=10), booked("diagnostics", hour=12)],
                            capacity.Catalogue.of())
    assert [a["parts_to_pick"] for a in listed] == [
        [{"part_number": "FLT-OIL-01", "quantity": 1}, {"part_number": "FLT-AIR-01", "quantity": 1},
         {"part_number": "FLT-CAB-01", "quantity": 1}],
        [{"part_number": "BRK-PAD-F01", "quantity": 1}], []]
    assert listed[0]["booking_id"] == "general-8-confirmed"  # the arrival's own fields are kept


def test_the_day_sums_the_parts_to_pick_per_part_without_no_shows():
    listed = day.with_parts([booked("oil change"), booked("annual service", hour=10), booked("brakes", hour=12),
                             booked("brakes", "no_show", hour=14), booked("brakes", "checked_in", hour=16)],
                            capacity.Catalogue.of())
    assert day.parts_total(listed) == [
        {"part_number": "BRK-PAD-F01", "quantity": 2}, {"part_number": "FLT-AIR-01", "quantity": 1},
        {"part_number": "FLT-CAB-01", "quantity": 1}, {"part_number": "FLT-OIL-01", "quantity": 2}]
    assert day.parts_total(day.with_parts([booked("diagnostics")], capacity.Catalogue.of())) == []
