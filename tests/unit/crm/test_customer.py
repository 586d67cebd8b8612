import uuid

import pytest

from services.crm.domain import Customer, Vehicle, normalise_plate, normalise_vin
from shared.domain import RuleBroken


def customer(branch_id="N1"):
    return Customer.register(uuid.uuid4(), branch_id=branch_id, name="Ada Example", email="ada@example.com")


def test_registering_a_customer_records_customer_registered():
    ada = customer()
    [event] = ada.events
    assert (event.type, event.branch_id, event.facts) == (
        "customer.registered", "N1", {"customer_id": ada.customer_id, "name": "Ada Example"})


def test_a_vin_is_seventeen_letters_and_digits_kept_in_capitals():
    assert normalise_vin(" wvwzzz1kz8w000001 ") == "WVWZZZ1KZ8W000001"
    assert normalise_vin("WVWZZZ1KZ8W00000") is None  # 16 characters


@pytest.mark.parametrize("letter", ["I", "O", "Q", "i", "o", "q"])
def test_a_vin_never_holds_i_o_or_q(letter):
    assert normalise_vin("WVWZZZ1KZ8W00000" + letter) is None


def test_a_vehicle_belongs_to_its_owners_branch_and_records_vehicle_registered():
    owner = customer(branch_id="S1")
    car = owner.register_vehicle("v1", vin="wvwzzz1kz8w000001", plate="B-PL 1", model="Golf", year=2019)
    assert (car.branch_id, car.customer_id, car.vin, car.plate) == ("S1", owner.customer_id, "WVWZZZ1KZ8W000001",
                                                                    "B-PL 1")
    [event] = car.events
    assert (event.type, event.branch_id, event.facts) == ("vehicle.registered", "S1", {
        "vehicle_id": "v1", "customer_id": owner.customer_id, "vin": "WVWZZZ1KZ8W000001", "plate": "B-PL 1",
        "model": "Golf"})


def test_a_vehicle_without_a_valid_vin_is_not_registered():
    with pytest.raises(RuleBroken) as refused:
        Vehicle.register(customer(), "v1", vin="WVWZZZ1KZ8WO00001", plate="B 1", model="Up")
    assert list(refused.value.fields) == ["vin"]


def test_plates_compare_without_spaces_or_dashes_and_in_capitals():
    assert normalise_plate("b-pl 1") == normalise_plate("B PL-1") == "BPL1"
    car = customer().register_vehicle("v1", vin="WVWZZZ1KZ8W000001", plate="m-ab 12", model="Up")
    assert car.plate == "m-ab 12" and car.plate_key == "MAB12"  # shown as written, compared by key
