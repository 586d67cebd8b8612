"""Faults in the middle of real journeys: killed consumers, broker and database restarts, copies, poison.

A broker or database restart happens to the test's own RabbitMQ node and PostgreSQL cluster
(`private_stack`, tests/faults/conftest.py), never to the machine's.

Effects are counted in the services' own tables (not messages): one repair order per check-in,
one invoice and one follow-up per delivery, stock down by exactly what was consumed.
"""
import json
import signal
import threading
import time

from pitlane import dlq
from shared import config
from shared.config import SERVICES
from tests.support import fixtures
from tests.support.effects import (assert_effects_once, assert_outboxes_drained, db, run_journeys, scalar,
                                   services_answer)
from tests.support.infra import ServiceProcess, wait_for
from tests.support.journey import Journey


def test_kill_9_billing_in_the_middle_of_120_journeys(stack, advisor, technician, inspector, world):
    running = stack(*SERVICES)
    invoices_before = scalar("SELECT count(*) FROM billing.invoices")
    killed = threading.Event()

    def kill_billing_midway(completed):
        if completed == 40 and not killed.is_set():
            killed.set()
            running["billing"].proc.send_signal(signal.SIGKILL)
            running["billing"].proc.wait()
            time.sleep(2)  # deliveries keep coming while billing is dead; they wait in its queue
            running["billing"] = ServiceProcess("billing").start().wait_ready()

    done, failed = run_journeys(120, advisor, technician, inspector, world, on_progress=kill_billing_midway)
    assert killed.is_set()
    assert not failed, failed[:5]
    assert len(done) == 120
    assert all(s["paid"]["status"] == "paid" for s in done)
    assert scalar("SELECT count(*) FROM billing.invoices") == invoices_before + 120
    assert_effects_once()


def test_sigterm_lets_a_service_finish_or_requeue_what_it_holds(stack, advisor, technician, inspector, world):
    """A graceful stop (SIGTERM) in the middle of deliveries: nothing it held is lost."""
    running = stack(*SERVICES)
    stopped = threading.Event()

    def stop_billing(completed):
        if completed == 10 and not stopped.is_set():
            stopped.set()
            running["billing"].proc.send_signal(signal.SIGTERM)
            assert running["billing"].proc.wait(30) == 0  # it stopped by itself, in time
            running["billing"] = ServiceProcess("billing").start().wait_ready()

    before = scalar("SELECT count(*) FROM billing.invoices")
    done, failed = run_journeys(40, advisor, technician, inspector, world, workers=8, on_progress=stop_billing,
                                hours_ahead=100)
    assert stopped.is_set() and not failed, failed[:3]
    assert scalar("SELECT count(*) FROM billing.invoices") == before + 40
    assert_effects_once()


def test_broker_restart_while_journeys_run(private_stack):
    """The test's own RabbitMQ node is shut down and started again; the machine's is not touched."""
    advisor, technician, inspector = private_stack.advisor, private_stack.technician, private_stack.inspector
    world = private_stack.world
    rabbit = private_stack.rabbit
    restarted = threading.Event()

    def restart(completed):
        if completed == 5 and not restarted.is_set():
            restarted.set()
            threading.Thread(target=rabbit.restart, daemon=True).start()

    done, failed = run_journeys(40, advisor, technician, inspector, world, workers=8, on_progress=restart,
                                hours_ahead=50)
    assert restarted.is_set()
    wait_for(rabbit.up, timeout=90, interval=1, message="the broker")
    wait_for(services_answer, timeout=60, interval=1, message="every service to reconnect")
    # journeys caught by the outage failed cleanly (503); the rest completed; none doubled anything
    assert len(done) >= 5 and len(done) + len(failed) == 40
    assert_outboxes_drained()
    assert_effects_once()
    after, failed_after = run_journeys(3, advisor, technician, inspector, world, workers=3, hours_ahead=60)
    assert len(after) == 3, failed_after  # and the stack works again without restarting anything
    assert all(p.proc.poll() is None for p in private_stack.running.values())


def test_database_restart_while_requests_run(private_stack):
    """The test's own PostgreSQL cluster is restarted under write load; the machine's is not touched."""
    advisor, technician, inspector = private_stack.advisor, private_stack.technician, private_stack.inspector
    world = private_stack.world
    statuses = []
    stop = threading.Event()

    def keep_booking():
        while not stop.is_set():
            response = advisor.post("/customers", {"branch_id": world["branch"], "name": "During Restart"})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=keep_booking) for _ in range(4)]
    [t.start() for t in threads]
    time.sleep(1)
    private_stack.postgres.restart()
    time.sleep(2)
    stop.set()
    [t.join() for t in threads]
    assert statuses and all(s in (201, 503) for s in statuses), sorted(set(statuses))
    wait_for(lambda: advisor.post("/customers", {"branch_id": world["branch"], "name": "After"}).status_code == 201,
             timeout=30, message="writes to work again")
    # nothing half-written: every customer registered has its contact log row and its event
    assert scalar("SELECT count(*) FROM crm.customers c WHERE NOT EXISTS (SELECT 1 FROM crm.contacts k"
                  " WHERE k.customer_id = c.customer_id)") == 0
    assert scalar("SELECT count(*) FROM crm.customers") == scalar(
        "SELECT count(*) FROM crm.outbox WHERE event_type = 'customer.registered'")
    done, failed = run_journeys(2, advisor, technician, inspector, world, workers=2, hours_ahead=70)
    assert len(done) == 2, failed
    assert all(p.proc.poll() is None for p in private_stack.running.values())


def test_a_copy_of_a_real_delivery_event_has_no_second_effect(stack, advisor, technician, inspector, world):
    stack(*SERVICES)
    state = Journey(advisor, technician, inspector, world["branch"], part_number=world["part"],
                    slot_start=fixtures.next_slot(hours_ahead=80)).run()
    ro_id = state["ro"]["repair_order_id"]
    stock_before = advisor.ok("GET", f"/stock/{world['branch']}/{world['part']}")
    with db() as conn:
        payload = conn.execute("SELECT payload FROM workshop.outbox WHERE event_type = 'repair_order.delivered'"
                               " AND payload->>'repair_order_id' = %s", (ro_id,)).fetchone()[0]
    from shared.bus.broker import EVENTS_EXCHANGE, ConfirmingPublisher

    def follow_ups():
        return scalar("SELECT count(*) FROM crm.follow_ups WHERE repair_order_id = %s", (ro_id,))

    scheduled = wait_for(follow_ups, message="the follow-ups of the delivery")  # one per kind it calls for
    publisher = ConfirmingPublisher(config.amqp_uri())
    publisher.publish([(EVENTS_EXCHANGE, "repair_order.delivered", payload, {})] * 2)
    publisher.close()
    time.sleep(2)
    assert scalar("SELECT count(*) FROM billing.invoices WHERE repair_order_id = %s", (ro_id,)) == 1
    assert follow_ups() == scheduled
    assert scalar("SELECT count(*) FROM crm.survey_invitations WHERE repair_order_id = %s", (ro_id,)) == 1
    assert advisor.ok("GET", f"/stock/{world['branch']}/{world['part']}") == stock_before
    assert scalar("SELECT count(*) FROM parts.movements WHERE kind = 'issue_to_job' AND repair_order_id = %s",
                  (ro_id,)) == 1


def test_a_poisoned_real_event_is_parked_and_the_service_keeps_serving(stack, advisor, technician, inspector, world):
    stack(*SERVICES)
    from shared.bus.broker import EVENTS_EXCHANGE, ConfirmingPublisher

    poison = json.loads(json.dumps({"event_id": "not-a-uuid", "repair_order_id": "nope", "version": 1}))
    publisher = ConfirmingPublisher(config.amqp_uri())
    publisher.publish([(EVENTS_EXCHANGE, "repair_order.delivered", poison, {})])
    publisher.close()
    def parked():
        letters = [d for d in dlq.list_dead_letters(config.amqp_uri(), limit=5000)
                   if d["payload"].get("event_id") == "not-a-uuid"]
        services = {d["queue"].rsplit(".", 1)[0].split("--")[1] for d in letters}
        return letters if services >= {"billing", "crm", "parts"} else None

    letters = wait_for(parked, timeout=20, message="billing, crm and parts to park the poisoned event")
    assert all(d["attempts"] == 1 for d in letters)  # invalid payloads are parked at once, not retried
    done, failed = run_journeys(1, advisor, technician, inspector, world, workers=1, hours_ahead=90)
    assert len(done) == 1, failed
