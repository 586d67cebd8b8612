"""How services log: kept apart from pitlane.serve, whose import monkey-patches the process."""
import logging


class ExpectedErrorsAsInfo(logging.Filter):
    """nameko logs every error a service raises on purpose (a 404, a 409) as a WARNING with its
    traceback. Those are answers, not faults: log them at INFO, one line, no traceback (which
    also spares formatting a traceback on every refused request)."""

    def filter(self, record):
        if not str(record.msg).startswith("(expected)"):
            return True
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info = record.exc_text = None
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)
