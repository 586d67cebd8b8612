"""Run pitlane services as nameko containers in this process: `python -m pitlane.serve booking`."""
import eventlet

eventlet.monkey_patch()  # before anything imports socket, threading or psycopg

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from pitlane import SERVICE_CLASSES, service_class  # noqa: E402
from pitlane.logs import ExpectedErrorsAsInfo  # noqa: E402
from shared import config  # noqa: E402


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(SERVICE_CLASSES)
    logging.basicConfig(
        level=os.environ.get("PITLANE_LOG_LEVEL", "INFO"),
        format=f"%(asctime)s {'+'.join(names)} %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("nameko.containers").addFilter(ExpectedErrorsAsInfo())
    unknown = [n for n in names if n not in SERVICE_CLASSES and ":" not in n]
    if unknown:
        sys.exit(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICE_CLASSES)}")
    runner = ServiceRunner(config.nameko_config())
    for name in names:
        runner.add_service(_load(name))

    def shut_down(signum, frame):
        # Finish the workers in flight; unacked messages go back to their queues. A stop that
        # cannot finish (a consumer retrying a broker or vhost that is gone) is cut short. Once:
        # a second signal (Ctrl-C in a terminal reaches the whole process group, then the
        # supervisor's SIGTERM follows) must not start a second stop of the same containers.
        if stopping:
            logging.getLogger("pitlane").info("%s: already stopping", signal.Signals(signum).name)
            return
        stopping.append(signum)
        eventlet.spawn_n(runner.stop)
        eventlet.spawn_after(config.shutdown_grace(), _kill, runner, killed)

    killed, stopping = [], []
    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    runner.start()
    logging.getLogger("pitlane").info("serving %s", ", ".join(names))
    runner.wait()
    if killed:
        sys.exit(1)  # the stop was cut short: work in flight was interrupted (its messages are redelivered)


def _kill(runner, killed: list):
    logging.getLogger("pitlane").warning("not stopped after %.0f s: killing the containers", config.shutdown_grace())
    killed.append(True)
    runner.kill()


def _load(name):
    """A service by its name, or any nameko class as module:Class (tests run probes this way)."""
    if ":" in name:
        import importlib

        module, cls = name.split(":")
        return getattr(importlib.import_module(module), cls)
    return service_class(name)


if __name__ == "__main__":
    main()
