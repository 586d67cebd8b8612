"""RPC from the gateway: one shared client per process, a timeout, typed errors back."""
import logging
import os
import threading

from nameko.exceptions import RpcTimeout, UnknownService

from shared import config
from shared.contracts import errors
from shared.cache import Lasting, Recent
from shared.bus.rpc_client import RpcClient
from shared.bus.rpc import BROKER_GONE

log = logging.getLogger(__name__)
_client: RpcClient | None = None
_client_pid = None
_client_lock = threading.Lock()


def client() -> RpcClient:
    """The process's RPC client; made after the fork, so each gunicorn worker has its own."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _client_lock:
            if _client is None or _client_pid != os.getpid():
                _client = RpcClient(config.amqp_uri(), timeout=config.rpc_timeout())
                _client_pid = os.getpid()
    return _client


def call(service: str, method: str, *args, context_data: dict | None = None):
    """Call `service.method(*args)`; our typed errors pass through, a silence becomes Unavailable."""
    try:
        return client().call(service, method, *args, context_data=context_data)
    except errors.PitlaneError:
        raise
    except (RpcTimeout, UnknownService):
        raise errors.Unavailable(f"{service} did not answer in time", {}) from None
    except BROKER_GONE as exc:
        raise errors.Unavailable(f"the message broker is unreachable ({exc.__class__.__name__})", {}) from None


class BranchDirectory:
    """branch -> region, from booking, kept a minute: region scopes resolve to branches."""

    def __init__(self, ttl: float = 60.0):
        self._kept = Recent(ttl)

    def branches(self) -> list[dict]:
        return self._kept.get("branches", lambda: call("booking", "list_branches"))

    def of_region(self, region_id) -> list[str]:
        """The region's branches; a region not seen yet is asked for again at once (it may be new:
        another gateway process made its first branch), as is every region after a branch is written
        through this process (forget)."""
        found = [b["branch_id"] for b in self.branches() if b["region_id"] == region_id]
        if not found:
            self.forget()
            found = [b["branch_id"] for b in self.branches() if b["region_id"] == region_id]
        return found

    def forget(self):
        self._kept.forget("branches")

    def region(self, branch_id) -> str | None:
        return next((b["region_id"] for b in self.branches() if b["branch_id"] == branch_id), None)


class RecordBranches:
    """Which branch a record belongs to, for scope checks, kept per process.

    An advisor's or technician's write to a booking, repair order or invoice first asks the
    owning service which branch the record is at; a record never moves to another branch (no
    route changes one), so the answer is kept and the next write costs one RPC, not two. A
    record not found is not kept: it may be created a moment later.
    """

    def __init__(self, size: int = 50_000):
        self._kept = Lasting(size)

    def branch_of(self, call, service: str, getter: str, key) -> str | None:
        def ask():
            try:
                record = call(service, getter, key)
            except errors.NotFound:
                return None
            return record.get("branch_id") if isinstance(record, dict) else None

        return self._kept.get((service, getter, str(key)), ask)


# Threads that live as long as the process: a fan-out needs no thread of its own per call.
_fan_out_pool = None
_fan_out_lock = threading.Lock()


def call_many(call, calls) -> list:
    """[call(*c) for c in calls], in parallel on the long-lived fan-out threads."""
    global _fan_out_pool
    if _fan_out_pool is None:
        from concurrent.futures import ThreadPoolExecutor

        with _fan_out_lock:
            if _fan_out_pool is None:
                _fan_out_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rpc-fan-out")
    return list(_fan_out_pool.map(lambda c: call(*c), calls))
