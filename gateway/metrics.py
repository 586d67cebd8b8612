"""/metrics: request durations by route and status, dead letters, and the SLA collector.

Request metrics use prometheus_client's multiprocess mode so that every gunicorn worker's
observations add up; the SLA figures are asked of the services at scrape time instead.
"""
import os
import time

from flask import Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUEST_SECONDS = Histogram(
    "pitlane_http_request_duration_seconds", "API request duration by route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DeadLetterCollector:
    """pitlane_dead_letters: messages parked in the dead-letter queue, read at scrape time."""

    def collect(self):
        from pitlane import dlq
        from shared import config

        gauge = GaugeMetricFamily("pitlane_dead_letters", "Messages in the dead-letter queue")
        try:
            gauge.add_metric([], dlq.count(config.amqp_uri()))
        except Exception:  # the broker is down: say nothing rather than a wrong zero
            return []
        return [gauge]


def registry(extra_collectors=()):
    reg = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(reg)
    else:
        reg.register(REQUEST_SECONDS)
    reg.register(DeadLetterCollector())
    for collector in extra_collectors:
        reg.register(collector)
    return reg


def install(app, extra_collectors=()):
    reg = registry(extra_collectors)

    @app.before_request
    def started():
        g.started = time.perf_counter()

    @app.after_request
    def observed(response):
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        if rule != "/metrics" and hasattr(g, "started"):
            REQUEST_SECONDS.labels(request.method, rule, str(response.status_code)).observe(
                time.perf_counter() - g.started)
        return response

    def exposition():
        """The answer to GET /metrics (a route of gateway/routes.py)."""
        return Response(generate_latest(reg), mimetype=CONTENT_TYPE_LATEST)

    return exposition
