"""Errors a service raises on purpose are logged as answers (INFO, one line), faults as before."""
import logging
import sys

from pitlane.logs import ExpectedErrorsAsInfo


def record(msg, level=logging.WARNING):
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    return logging.LogRecord("nameko.containers", level, __file__, 1, msg, ("worker", "no such booking"), exc_info)


def test_an_expected_error_is_one_info_line_and_a_fault_keeps_its_traceback():
    logger = logging.getLogger("nameko.containers")
    before = logger.level
    try:
        logger.setLevel(logging.INFO)
        expected = record("(expected) error handling worker %s: %s")
        assert ExpectedErrorsAsInfo().filter(expected)
        assert (expected.levelno, expected.levelname, expected.exc_info) == (logging.INFO, "INFO", None)
        assert expected.getMessage() == "(expected) error handling worker worker: no such booking"
        fault = record("error handling worker %s: %s", logging.ERROR)
        assert ExpectedErrorsAsInfo().filter(fault)
        assert fault.levelno == logging.ERROR and fault.exc_info is not None
        logger.setLevel(logging.WARNING)  # a service run at WARNING no longer logs them at all
        assert not ExpectedErrorsAsInfo().filter(record("(expected) error handling worker %s: %s"))
    finally:
        logger.setLevel(before)
