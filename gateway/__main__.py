"""Serve the gateway: `python -m gateway` (gunicorn, gthread workers, one RPC proxy per thread)."""
import os
import shutil
import tempfile

from gunicorn.app.base import BaseApplication


class Gateway(BaseApplication):
    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from gateway.app import create_app

        return create_app()


def _child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def main():
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    metrics_dir = given or tempfile.mkdtemp(prefix="pitlane-metrics-")
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # before any worker imports prometheus_client
    bind = os.environ.get("PITLANE_GATEWAY_BIND", "127.0.0.1")
    port = os.environ.get("PITLANE_GATEWAY_PORT", "8080")
    gateway = Gateway({
        "bind": f"{bind}:{port}",
        "worker_class": "gthread",
        "workers": int(os.environ.get("PITLANE_GATEWAY_WORKERS", "2")),
        "threads": int(os.environ.get("PITLANE_GATEWAY_THREADS", "8")),
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 30,
        # one line per request, to standard output unless a file is named ("" turns it off)
        "accesslog": os.environ.get("PITLANE_GATEWAY_ACCESS_LOG", "-") or None,
        "loglevel": os.environ.get("PITLANE_LOG_LEVEL", "info").lower(),
        "child_exit": _child_exit,
    })
    try:
        gateway.run()
    finally:  # a folder this gateway made for itself goes with it
        if not given:
            shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
