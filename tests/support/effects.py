"""What a run of journeys left in the services' own tables, counted there (not in messages): one repair
order per check-in, one invoice and one follow-up per delivery, stock the sum of its ledger. For the tests
that break things in the middle of journeys (tests/faults)."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg

from services.parts.domain import EFFECTS
from shared.config import SERVICES
from tests.support import fixtures
from tests.support.infra import wait_for
from tests.support.journey import Journey, StepFailed


def db():
    return psycopg.connect(os.environ["PITLANE_DSN"], autocommit=True)


def scalar(sql, params=()):
    with db() as conn:
        return conn.execute(sql, params).fetchone()[0]


def rows(sql, params=()):
    with db() as conn:
        return conn.execute(sql, params).fetchall()


def run_journeys(count, advisor, technician, inspector, world, workers=16, on_progress=None, hours_ahead=30):
    done, failed = [], []
    lock = threading.Lock()

    def one(i):
        journey = Journey(advisor, technician.another(), inspector, world["branch"], part_number=world["part"],
                          slot_start=fixtures.next_slot(hours_ahead=hours_ahead + i // 35))
        try:
            state = journey.run()
            with lock:
                done.append(state)
                if on_progress:
                    on_progress(len(done))
        except (StepFailed, AssertionError, OSError) as exc:
            with lock:
                failed.append((i, str(exc)[:300]))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(count)))
    return done, failed


def services_answer():
    from tests.support.bus import rpc_proxy

    try:
        with rpc_proxy(timeout=3) as proxy:
            return all(getattr(proxy, name).sla_figures() is not None for name in SERVICES)
    except Exception:
        return False


def assert_effects_once():
    """Counted in the tables: every delivered repair order has one invoice and one follow-up of each
    kind it calls for (the 72-hour one always)."""
    delivered = "SELECT repair_order_id FROM workshop.repair_orders WHERE status IN ('delivered', 'closed')"
    wait_for(lambda: scalar(f"SELECT count(*) FROM ({delivered}) r WHERE (SELECT count(*) FROM billing.invoices i"
                            " WHERE i.repair_order_id = r.repair_order_id) <> 1") == 0, timeout=60,
             message="one invoice per delivered repair order")
    wait_for(lambda: scalar(f"SELECT count(*) FROM ({delivered}) r WHERE (SELECT count(*) FROM crm.follow_ups f"
                            " WHERE f.repair_order_id = r.repair_order_id AND f.kind = 'after_72h') <> 1") == 0,
             timeout=60, message="one follow-up per delivered repair order")
    assert scalar("SELECT count(*) FROM (SELECT repair_order_id, kind FROM crm.follow_ups GROUP BY 1, 2"
                  " HAVING count(*) > 1) d") == 0
    assert scalar("SELECT count(*) FROM (SELECT repair_order_id FROM billing.invoices GROUP BY 1"
                  " HAVING count(*) > 1) d") == 0
    checked_in = scalar("SELECT count(*) FROM booking.bookings WHERE status = 'checked_in'")
    wait_for(lambda: scalar("SELECT count(*) FROM workshop.repair_orders") == checked_in, timeout=60,
             message="one repair order per check-in")
    # every unit on the shelves is a sum of the ledger: nothing issued, received or moved twice
    on_hand = scalar("SELECT coalesce(sum(on_hand), 0) FROM parts.stock")
    assert on_hand == sum(EFFECTS[kind][0] * moved for kind, moved in rows(
        "SELECT kind, sum(quantity) FROM parts.movements GROUP BY kind"))


def assert_outboxes_drained():
    for schema in SERVICES:
        wait_for(lambda: scalar(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL") == 0,
                 timeout=60, message=f"{schema}'s outbox to drain")
