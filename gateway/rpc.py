"""RPC from the gateway: one long-lived nameko proxy per thread, a timeout, typed errors back."""
import logging
import threading
import time

from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from shared import config, errors

log = logging.getLogger(__name__)
_local = threading.local()


def _proxy():
    proxy = getattr(_local, "proxy", None)
    if proxy is None:
        runner = ClusterRpcProxy(config.nameko_config(), timeout=config.rpc_timeout())
        proxy = runner.start()
        _local.runner, _local.proxy = runner, proxy
    return proxy


def _drop_proxy():
    runner = getattr(_local, "runner", None)
    _local.runner = _local.proxy = None
    if runner is not None:
        try:
            runner.stop()
        except Exception:  # the connection is already broken; there is nothing left to close
            log.debug("closing a broken RPC proxy failed", exc_info=True)


def call(service: str, method: str, *args):
    """Call `service.method(*args)`; our typed errors pass through, a silence becomes Unavailable."""
    try:
        return getattr(getattr(_proxy(), service), method)(*args)
    except errors.PitlaneError:
        raise
    except (RpcTimeout, UnknownService):
        raise errors.Unavailable(f"{service} did not answer in time", {}) from None
    except (OSError, ConnectionError) as exc:
        _drop_proxy()  # rebuilt on the next call
        raise errors.Unavailable(f"the message broker is unreachable ({exc.__class__.__name__})", {}) from None


class BranchDirectory:
    """branch -> region, from booking, cached for a minute: region scopes resolve to branches."""

    def __init__(self, ttl: float = 60.0):
        self.ttl = ttl
        self._branches: list[dict] = []
        self._loaded = 0.0
        self._lock = threading.Lock()

    def branches(self) -> list[dict]:
        if time.monotonic() - self._loaded > self.ttl:
            with self._lock:
                if time.monotonic() - self._loaded > self.ttl:
                    self._branches = call("booking", "list_branches")
                    self._loaded = time.monotonic()
        return self._branches

    def of_region(self, region_id) -> list[str]:
        return [b["branch_id"] for b in self.branches() if b["region_id"] == region_id]

    def region(self, branch_id) -> str | None:
        return next((b["region_id"] for b in self.branches() if b["branch_id"] == branch_id), None)


# Threads that live as long as the process, so each keeps its one RPC proxy: a fan-out through
# short-lived threads would open (and leak) a new broker connection per call.
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
