"""The SLA figures of every service, asked at scrape time and exposed as Prometheus metrics.

Nothing is counted in the gateway: the figures live in the services' tables, so they are right
with several gateway processes and after any restart.
"""
import logging
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from gateway.rpc import call_many
from shared.sla.rules import DURATION_BUCKETS

log = logging.getLogger(__name__)
SERVICES = ("booking", "workshop", "parts", "billing", "crm")


class SlaCollector:
    def __init__(self, call):
        self.call = call
        self.scrape_errors: dict[str, int] = {}

    def _ask(self, service, method):
        try:
            return self.call(service, method)
        except Exception as exc:  # one silent service must not blank the whole scrape
            log.warning("metrics: %s.%s failed: %s", service, method, exc)
            self.scrape_errors[service] = self.scrape_errors.get(service, 0) + 1
            return None

    def collect(self):
        calls = [(s, "sla_figures") for s in SERVICES] + [("parts", "operations_figures"),
                                                          ("crm", "operations_figures")]
        answers = dict(zip(calls, call_many(self._ask, calls)))
        figures = [answers[(s, "sla_figures")] for s in SERVICES if answers[(s, "sla_figures")]]
        yield from self._sla(figures)
        yield from self._operations(answers[("parts", "operations_figures")], answers[("crm", "operations_figures")])
        errors = CounterMetricFamily("pitlane_sla_scrape_errors", "Services that did not answer a scrape",
                                     labels=["service"])
        for service in SERVICES:
            errors.add_metric([service], self.scrape_errors.get(service, 0))
        yield errors

    def _sla(self, figures):
        clocks = CounterMetricFamily("pitlane_sla_clocks", "SLA clocks by outcome: met, breached (from the"
                                     " moment they breach), or cancelled with their subject (neither met"
                                     " nor breached)",
                                     labels=["policy", "branch", "region", "outcome"])
        open_ = GaugeMetricFamily("pitlane_sla_open", "Open SLA clocks by state: running, at_risk, paused, or"
                                  " breached (past its target and still not answered)",
                                  labels=["policy", "branch", "region", "state"])
        nearest = GaugeMetricFamily("pitlane_sla_seconds_to_breach_min",
                                    "Seconds until the nearest running clock breaches", labels=["policy", "branch"])
        safety = CounterMetricFamily("pitlane_sla_safety_critical_breaches",
                                     "Breached clocks of safety-critical work", labels=["branch", "region"])
        durations = HistogramMetricFamily("pitlane_sla_duration_seconds", "How long clocks that ended met or"
                                          " breached ran",
                                          labels=["policy"])
        for f in figures:
            for r in f["outcomes"]:
                clocks.add_metric([r["policy"], r["branch_id"], r["region_id"] or "", r["outcome"]], r["count"])
            for r in f["open"]:
                open_.add_metric([r["policy"], r["branch_id"], r["region_id"] or "", r["state"]], r["count"])
            for r in f["seconds_to_breach_min"]:
                nearest.add_metric([r["policy"], r["branch_id"]], r["seconds"])
            for r in f["safety_critical_breaches"]:
                safety.add_metric([r["branch_id"], r["region_id"] or ""], r["count"])
            for r in f["durations"]:
                buckets = [(str(float(b)), r["buckets"][str(b)]) for b in DURATION_BUCKETS]
                durations.add_metric([r["policy"]], buckets + [("+Inf", r["count"])], r["sum"])
        return [clocks, open_, nearest, safety, durations]

    def _operations(self, parts, crm):
        below = GaugeMetricFamily("pitlane_parts_below_reorder", "Parts whose available stock is below the"
                                  " reorder point", labels=["branch", "region"])
        transfers = GaugeMetricFamily("pitlane_transfers_open", "Transfers not yet closed",
                                      labels=["from_region", "to_region", "status"])
        complaints = GaugeMetricFamily("pitlane_complaints_open", "Open complaints by escalation level",
                                       labels=["branch", "region", "level"])
        for r in (parts or {}).get("below_reorder", []):
            below.add_metric([r["branch_id"], r["region_id"] or ""], r["count"])
        for r in (parts or {}).get("open_transfers", []):
            transfers.add_metric([r["from_region"] or "", r["to_region"] or "", r["status"]], r["count"])
        for r in (crm or {}).get("open_complaints", []):
            complaints.add_metric([r["branch_id"], r["region_id"] or "", str(r["level"])], r["count"])
        return [below, transfers, complaints]
