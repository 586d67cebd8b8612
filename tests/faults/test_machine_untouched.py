"""Run after every other test (tests/faults/conftest.py sorts it last): the fault tests restarted
only brokers and databases of their own, and removed them."""
from tests.faults.conftest import MACHINE_BEFORE
from tests.support import faults


def test_the_machines_own_rabbitmq_and_postgresql_keep_their_process_ids():
    assert MACHINE_BEFORE["rabbitmq"] and MACHINE_BEFORE["postgresql"], MACHINE_BEFORE
    assert faults.machine_services() == MACHINE_BEFORE


def test_no_throwaway_broker_or_database_is_left_behind():
    assert faults.leftovers() == []
