"""Webhook figures as Prometheus metrics, asked of the webhooks service at scrape time (nothing counted
here): per subscription, whether it is paused, what waits and for how long, and what was delivered or
given up. A paused subscription is an alert (deploy/prometheus/rules.yml, WebhookSubscriptionPaused)."""
import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger(__name__)


class WebhookCollector:
    def __init__(self, call):
        self.call = call
        self.scrape_errors = 0

    def collect(self):
        try:
            rows = self.call("webhooks", "webhook_figures") or []
        except Exception as exc:  # a silent webhooks service must not blank the other metrics
            log.warning("metrics: webhooks.webhook_figures failed: %s", exc)
            self.scrape_errors += 1
            rows = []
        labels = ["subscription", "url"]
        paused = GaugeMetricFamily("pitlane_webhook_subscription_paused", "1 while a subscription is paused (every"
                                   " try failed for the pause window, or an admin paused it)", labels=labels)
        pending = GaugeMetricFamily("pitlane_webhook_pending", "Deliveries waiting, due or retrying", labels=labels)
        oldest = GaugeMetricFamily("pitlane_webhook_oldest_pending_seconds", "Age of the oldest delivery waiting",
                                   labels=labels)
        failing = GaugeMetricFamily("pitlane_webhook_failures_in_a_row", "Tries that failed since the last one"
                                    " that delivered", labels=labels)
        ended = CounterMetricFamily("pitlane_webhook_deliveries", "Deliveries that ended: delivered, or failed"
                                    " (given up after the retry window)", labels=[*labels, "outcome"])
        for r in rows:
            key = [r["subscription_id"], r["url"]]
            paused.add_metric(key, 1 if r["status"] == "paused" else 0)
            pending.add_metric(key, r["pending"])
            oldest.add_metric(key, r["oldest_pending_seconds"])
            failing.add_metric(key, r["failures_in_a_row"])
            ended.add_metric([*key, "delivered"], r["delivered"])
            ended.add_metric([*key, "failed"], r["failed"])
        yield from (paused, pending, oldest, failing, ended)
        errors = CounterMetricFamily("pitlane_webhook_scrape_errors", "Scrapes the webhooks service did not answer")
        errors.add_metric([], self.scrape_errors)
        yield errors
