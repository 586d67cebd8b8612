"""The vehicle a booking names is checked against the caller's scope as a record in the path would be.

BookingService._insert with its store replaced: no broker, no database.
"""
import uuid
from datetime import datetime, timezone
from unittest import mock

import pytest
from nameko.testing.services import worker_factory

from services.booking import domain, service, store
from shared.contracts import errors
from shared.domain import RuleBroken
from shared.scope import NOT_IN_SCOPE, Scope

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc)
TIMETABLE = domain.Timetable({d: [["00:00", "23:59"]] for d in domain.WEEKDAYS}, frozenset(), timezone.utc, 60)
CUSTOMER, VEHICLE = uuid.uuid4(), uuid.uuid4()


def new_booking():
    return domain.Booking.request(uuid.uuid4(), {
        "branch_id": "B1", "customer_id": CUSTOMER, "vehicle_id": VEHICLE,
        "slot_start": datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc), "service_type": "service",
        "priority": "routine", "channel": "web", "symptoms": ""}, TIMETABLE, NOW)


@pytest.fixture
def copy(monkeypatch):
    """Our copy of crm's vehicles, as the store would read it; the guarded insert always says no."""
    vehicles, inserted = {}, []

    def insert_booking(tx, row, vehicle_checked=True, vehicle_branches=None):
        if not vehicle_checked:
            return None  # the same-statement check fell through: the service decides
        inserted.append(row)
        return row

    monkeypatch.setattr(store, "insert_booking", insert_booking)
    monkeypatch.setattr(store, "vehicle", lambda tx, vehicle_id: vehicles.get(vehicle_id))
    monkeypatch.setattr(store, "save_vehicle", lambda tx, *args: vehicles.__setitem__(args[0], {
        "vehicle_id": args[0], "customer_id": args[1], "plate": args[2], "branch_id": args[3]}))
    return vehicles, inserted


def caller(branches=None, crm_answer=None):
    crm = mock.Mock()
    if crm_answer is None:
        crm.get_vehicle.side_effect = errors.NotFound("no such vehicle", {"vehicle_id": ["unknown vehicle"]})
    else:
        crm.get_vehicle.return_value = crm_answer
    return worker_factory(service.BookingService, scope=Scope(branches), crm=crm)


def refusal(worker):
    with pytest.raises(errors.PitlaneError) as info:
        worker._insert(mock.Mock(), new_booking())
    return info.value


def test_a_vehicle_of_another_branch_is_refused_exactly_as_a_missing_one(copy):
    vehicles, inserted = copy
    vehicles[VEHICLE] = {"vehicle_id": VEHICLE, "customer_id": CUSTOMER, "plate": "F 1", "branch_id": "FAR"}
    foreign = refusal(caller(["B1"]))
    vehicles.clear()
    missing = refusal(caller(["B1"]))
    assert type(foreign) is type(missing) is errors.Forbidden
    assert foreign.to_dict() == missing.to_dict() == {"code": "forbidden", "message": NOT_IN_SCOPE, "fields": {}}
    assert inserted == []


def test_an_unknown_vehicle_is_unprocessable_for_an_unscoped_caller(copy):
    unknown = refusal(caller(None))
    assert type(unknown) is errors.Unprocessable and unknown.fields == {"vehicle_id": ["no such vehicle"]}


def test_a_vehicle_of_the_callers_branch_is_booked(copy):
    vehicles, inserted = copy
    vehicles[VEHICLE] = {"vehicle_id": VEHICLE, "customer_id": CUSTOMER, "plate": "N 1", "branch_id": "B1"}
    booking = new_booking()
    assert caller(["B1"])._insert(mock.Mock(), booking)["booking_id"] == booking.booking_id
    assert len(inserted) == 1


def test_a_vehicle_the_copy_has_no_branch_for_is_asked_of_crm_and_the_copy_filled_in(copy):
    vehicles, inserted = copy
    vehicles[VEHICLE] = {"vehicle_id": VEHICLE, "customer_id": CUSTOMER, "plate": "O 1", "branch_id": None}
    answer = {"vehicle_id": str(VEHICLE), "customer_id": str(CUSTOMER), "plate": "O 1", "branch_id": "FAR"}
    assert refusal(caller(["B1"], crm_answer=answer)).message == NOT_IN_SCOPE
    assert vehicles[str(VEHICLE)]["branch_id"] == "FAR"


def test_a_vehicle_in_scope_must_still_be_the_customers(copy):
    vehicles, inserted = copy
    vehicles[VEHICLE] = {"vehicle_id": VEHICLE, "customer_id": uuid.uuid4(), "plate": "N 2", "branch_id": "B1"}
    with pytest.raises(RuleBroken) as info:
        caller(["B1"])._insert(mock.Mock(), new_booking())
    assert info.value.fields == {"vehicle_id": ["not this customer's vehicle"]}
    assert inserted == []
