"""The age of the other sites' figures as a Prometheus metric (docs/sites.md), asked of parts at scrape
time: figures that grow old mean the link to that site is down, or its parts service sends nothing.
An alert past ten minutes (deploy/prometheus/rules.yml, SiteFiguresOld)."""
import logging

from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)


class SiteCollector:
    def __init__(self, call):
        self.call = call

    def collect(self):
        try:
            rows = self.call("parts", "site_figures") or []
        except Exception as exc:  # a silent parts service must not blank the other metrics
            log.warning("metrics: parts.site_figures failed: %s", exc)
            rows = []
        age = GaugeMetricFamily("pitlane_site_figures_age_seconds", "How old the stock figures this site holds of"
                                " another site are (their heartbeat: every PITLANE_SITE_FIGURES_INTERVAL while"
                                " the link is up)", labels=["site"])
        for r in rows:
            if r["age_seconds"] is not None:
                age.add_metric([r["site"]], r["age_seconds"])
        yield age
