"""A command runs at most once per Idempotency-Key, end to end, through the gateway: a payment
whose first request sat in a stopped billing service while its caller gave up, retried with the
same key as docs/api.md tells the caller to, is recorded once (shared/bus/rpc.py)."""
import os
import signal
import uuid

from tests.support import fixtures
from tests.support.journey import Journey, until


def test_a_payment_retried_with_its_key_while_billing_was_stopped_is_recorded_once(
        stack, advisor, technician, inspector, world):
    state = Journey(advisor, technician, inspector, world["branch"], slot_start=fixtures.next_slot(13)).run(pay=False)
    invoice_id = state["invoice"]["invoice_id"]
    pay, key = f"/invoices/{invoice_id}/payments", {"Idempotency-Key": f"pay-{uuid.uuid4()}"}
    body = {"amount_cents": 1000, "method": "card"}
    billing = stack("billing")["billing"].proc
    os.kill(billing.pid, signal.SIGSTOP)
    try:
        first = advisor.post(pay, body, headers=key)
        assert first.status_code == 503, first.text  # the caller gives up after the RPC timeout
    finally:
        os.kill(billing.pid, signal.SIGCONT)
    # billing wakes up holding the first request: its caller gave up, so it is not started; the
    # retry with the same key does the work, once, whichever of the two reaches billing first
    retry = until(lambda: advisor.post(pay, body, headers=key), lambda r: r.status_code == 201,
                  what="the retried payment")
    assert retry.json()["paid_cents"] == 1000
    assert advisor.post(pay, body, headers=key).json() == retry.json()  # replayed, not paid again
    payments = until(lambda: advisor.ok("GET", "/payments", invoice_id=invoice_id)["items"], bool,
                     what="the payment")
    assert [p["amount_cents"] for p in payments] == [1000]
    assert advisor.ok("GET", f"/invoices/{invoice_id}")["paid_cents"] == 1000
