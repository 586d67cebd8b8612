"""shared.bus.rpc.ask: one service asking another about a record that service keeps."""
import eventlet
import pytest

from shared.bus.rpc import ask
from shared.contracts import errors


def missing(_):
    raise errors.NotFound("no such vehicle", {})


def test_an_answer_is_the_answer_and_no_such_record_is_none():
    assert ask("crm", "the vehicle", lambda v: {"vehicle_id": v}, "v1") == {"vehicle_id": "v1"}
    assert ask("crm", "the vehicle", missing, "v1") is None


def test_only_the_named_refusals_mean_none():
    def foreign(_):
        raise errors.Forbidden("not found in your scope", {})

    assert ask("workshop", "the repair order", foreign, "r1", none_for=(errors.NotFound, errors.Forbidden)) is None
    with pytest.raises(errors.Forbidden):
        ask("workshop", "the repair order", foreign, "r1")


def test_a_service_that_does_not_answer_in_time_is_unavailable_naming_it():
    with pytest.raises(errors.Unavailable, match="crm did not answer about the vehicle"):
        ask("crm", "the vehicle", lambda v: eventlet.sleep(1), "v1", seconds=0.05)
