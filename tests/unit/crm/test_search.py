"""How an advisor's search compares with what is stored: the rules of domain.Search and the keys
(normalise_plate, normalise_phone) stored beside plates and phone numbers."""
import uuid

import pytest

from services.crm.domain import Customer, Search, normalise_phone
from shared.domain import RuleBroken


def test_a_phone_number_compares_by_its_digits_without_spaces_dashes_or_brackets():
    assert normalise_phone("040 123-45 (67)") == normalise_phone("040/123.4567") == "401234567"


def test_a_plus_and_a_double_zero_international_prefix_are_the_same():
    assert normalise_phone("+49 40 1234567") == normalise_phone("0049 40 1234567") == "49401234567"


def test_a_national_trunk_zero_is_dropped_so_the_national_digits_are_inside_the_international_number():
    assert normalise_phone("040 1234567") == "401234567"
    assert normalise_phone("040 1234567") in normalise_phone("+49 40 1234567")


def test_no_phone_number_has_no_key():
    assert normalise_phone(None) is None
    assert normalise_phone("000") is None


def test_a_customer_keeps_the_key_of_their_phone_number():
    ada = Customer.register(uuid.uuid4(), branch_id="N1", name="Ada", phone="+49 40-123 4567")
    assert (ada.phone, ada.phone_key) == ("+49 40-123 4567", "49401234567")  # shown as written


@pytest.mark.parametrize("typed", ["", "ab", "  ab  ", "a-"])
def test_a_search_needs_at_least_three_characters(typed):
    with pytest.raises(RuleBroken) as refused:
        Search.of(typed)
    assert list(refused.value.fields) == ["q"]


def test_a_search_looks_for_the_typed_text_in_names_and_emails_as_typed_but_trimmed():
    assert Search.of("  Ada Ex ").text == "Ada Ex"
    assert Search.of("ada@example.com") == Search("ada@example.com", plate=None, phone=None)


def test_a_plate_is_looked_for_without_spaces_or_dashes_and_in_capitals():
    assert Search.of("hh-ae 42").plate == "HHAE42"
    assert Search.of("ae42").plate == "AE42"


def test_a_vin_is_looked_for_in_capitals():
    assert Search.of("wvwzzz1kz8w000001").plate == "WVWZZZ1KZ8W000001"
    assert Search.of("1kz8w").plate == "1KZ8W"  # a part of one


def test_a_plate_is_looked_for_only_when_what_was_typed_can_be_part_of_one():
    assert Search.of("ada@example.com").plate is None  # only letters and digits are in plates and VINs
    assert Search.of("A - B").plate is None  # fewer than three of them


def test_a_phone_number_is_looked_for_only_when_what_was_typed_is_a_number():
    assert Search.of("+49 40 123").phone == "4940123"
    assert Search.of("0049-40-123").phone == "4940123"
    assert Search.of("(040) 123").phone == "40123"
    assert Search.of("HH-AE 42").phone is None  # a plate, though it holds digits
    assert Search.of("+4 9").phone is None  # fewer than three digits
