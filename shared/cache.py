"""Settings that change rarely and are read on every request, kept a few seconds per process."""
import time

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
