"""A command runs at most once per command id, end to end, and never after its caller gave up
(shared/bus/rpc.py, PitlaneRpc; the gateway sends the caller's Idempotency-Key as the command id
and the time it stops waiting as the deadline), on the real broker and the real probe service.
"""
import threading
import time
import uuid

import pytest

from shared import config
from shared.bus.rpc import COMMAND, DEADLINE
from shared.bus.rpc_client import RpcClient
from shared.contracts import errors
from tests.support.probe import running_probe


@pytest.fixture(scope="module")
def client(run_env):
    with running_probe(run_env["amqp"]):
        rpc = RpcClient(config.amqp_uri(), timeout=10)
        try:
            yield rpc
        finally:
            rpc.close()


def test_a_command_sent_again_with_its_command_id_runs_once_and_answers_the_same(client):
    key, command = f"pay-{uuid.uuid4()}", {COMMAND: f"advisor:{uuid.uuid4()}"}
    first = client.call("probe", "count_payment", key, context_data=command)
    again = client.call("probe", "count_payment", key, context_data=command)
    assert first == again == 1  # the second answer is the first one's, kept; the command ran once
    assert client.call("probe", "count_payment", key) == 2  # without the id, a new command


def test_the_same_command_sent_twelve_times_at_once_runs_once(client):
    key, command = f"pay-{uuid.uuid4()}", {COMMAND: f"advisor:{uuid.uuid4()}"}
    answers = []

    def send():
        answers.append(client.call("probe", "count_payment", key, context_data=command))

    threads = [threading.Thread(target=send) for _ in range(12)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert answers == [1] * 12
    assert client.call("probe", "count_payment", key) == 2  # it had run exactly once before


def test_a_command_whose_caller_gave_up_is_not_started(client):
    key = f"pay-{uuid.uuid4()}"
    with pytest.raises(errors.Unavailable, match="gave up"):
        client.call("probe", "count_payment", key, context_data={DEADLINE: time.time() - 1})
    assert client.call("probe", "count_payment", key, context_data={DEADLINE: time.time() + 30}) == 1
