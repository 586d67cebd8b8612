"""What a process keeps instead of asking again. Two kinds, and no other cache in the code:

- `Recent`: settings that change rarely and are read on every request (a branch, an SLA target,
  the branch directory), kept a few seconds; a change this process commits is seen at once.
- `Lasting`: facts that never change once true (the branch a record belongs to), kept until the
  oldest make room.

Pure computations (the OpenAPI document) use functools.cache, which is not a cache of state.
"""
import threading
import time
from collections import OrderedDict

SECONDS = 10.0


class Recent:
    """key -> value for `seconds`; a change this process commits is seen at once (`forget_when_committed`)."""

    def __init__(self, seconds: float = SECONDS):
        self.seconds = seconds
        self._values: dict = {}

    def get(self, key, load):
        """The kept value of `key`, or `load()` kept from now on (None is kept too)."""
        kept = self._values.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        value = load()
        self._values[key] = (time.monotonic() + self.seconds, value)
        return value

    def forget(self, key):
        self._values.pop(key, None)

    def forget_when_committed(self, tx, key):
        """Forget `key` now (a read later in `tx` sees its change) and again once `tx` commits:
        forgotten only now, a read by another unit of work before the commit would keep the old value."""
        self.forget(key)
        tx.after_commit(lambda: self.forget(key))


class Lasting:
    """key -> a value that never changes once known, the `size` most recently used; thread-safe.

    None is never kept: what is not there yet may be created a moment later.
    """

    def __init__(self, size: int = 50_000):
        self.size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, load):
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
                return value
        value = load()
        if value is not None:
            with self._lock:
                self._values[key] = value
                if len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value
