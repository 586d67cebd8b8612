"""A command the broker delivers again, after the service that had it died, is answered once and
never run twice (shared/bus/rpc.py, PitlaneRpc), on the real broker and the real probe service.

A service that dies holding a request leaves it unacknowledged, and the broker delivers it again,
marked redelivered, to whoever consumes the queue next. Here the test itself takes the requests
off the probe's queue and drops them unacknowledged, standing in for the service that died, and
writes what that service's first deliveries left behind in the probe's schema.
"""
import json
import uuid
from urllib.parse import unquote, urlparse

import amqp
import psycopg

from shared.contracts import errors
from shared.bus.rpc import ANSWER_LOST
from tests.support.probe import running_probe


def _connection(amqp_uri):
    url = urlparse(amqp_uri)
    conn = amqp.Connection(host=f"{url.hostname}:{url.port or 5672}", userid=unquote(url.username),
                           password=unquote(url.password), virtual_host=unquote(url.path[1:]) or "/")
    conn.connect()
    return conn


def test_a_redelivered_command_runs_once_and_its_caller_gets_one_answer(run_env):
    with running_probe(run_env["amqp"]):
        pass  # the probe's schema, its migrations and its durable request queue exist from here on
    conn = _connection(run_env["amqp"])
    try:
        replies = conn.channel()
        reply_queue = replies.queue_declare(exclusive=True).queue
        replies.queue_bind(reply_queue, "nameko-rpc", routing_key=reply_queue)  # as nameko's callers bind theirs
        # kept: committed, answer kept; lost: committed, died before keeping the answer; new: never committed
        ids = {case: str(uuid.uuid4()) for case in ("kept", "lost", "new")}
        keys = {case: f"pay-{case}-{ids[case]}" for case in ids}
        for case, correlation_id in ids.items():
            replies.basic_publish(
                amqp.Message(json.dumps({"args": [keys[case]], "kwargs": {}}), content_type="application/json",
                             correlation_id=correlation_id, reply_to=reply_queue, delivery_mode=1),
                exchange="nameko-rpc", routing_key="probe.count_payment")

        dying = conn.channel()
        taken = []
        dying.basic_qos(0, 10, False)
        dying.basic_consume("rpc-probe", callback=taken.append)
        while len(taken) < 3:
            conn.drain_events(timeout=10)
        with psycopg.connect(run_env["dsn"], autocommit=True) as db:
            db.execute("INSERT INTO probe.rpc_replies (correlation_id, reply) VALUES (%s, %s), (%s, NULL)",
                       (ids["kept"], json.dumps({"result": 41, "error": None}), ids["lost"]))
        dying.close()  # unacknowledged: back to the queue, marked redelivered

        answers = {}
        replies.basic_consume(reply_queue, no_ack=True,
                              callback=lambda m: answers.update({m.properties["correlation_id"]: json.loads(m.body)}))
        with running_probe(run_env["amqp"]):
            while len(answers) < 3:
                conn.drain_events(timeout=30)
    finally:
        conn.close()

    assert answers[ids["kept"]] == {"result": 41, "error": None}  # the kept answer, word for word
    lost = answers[ids["lost"]]["error"]
    assert lost["exc_type"] == errors.Conflict.__name__ and lost["value"] == ANSWER_LOST
    assert answers[ids["new"]] == {"result": 1, "error": None}  # never committed: it ran, once
    with psycopg.connect(run_env["dsn"], autocommit=True) as db:
        times = dict(db.execute("SELECT key, times FROM probe.probe_payments WHERE key = ANY(%s)",
                                (list(keys.values()),)).fetchall())
        kept = db.execute("SELECT reply FROM probe.rpc_replies WHERE correlation_id = %s", (ids["new"],)).fetchone()
    assert times == {keys["new"]: 1}  # the two that had committed before did not run again
    assert json.loads(kept[0]) == {"result": 1, "error": None}  # and the new one's answer is kept in turn
