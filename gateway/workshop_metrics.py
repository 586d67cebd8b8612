"""Workshop figures as Prometheus gauges, asked of workshop at scrape time (nothing counted here):
today's (UTC) technician time per branch and technician (clocked and billed hours, efficiency,
productivity), and first-time-fix and comebacks per branch over the last 30 days."""
import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger(__name__)

# name -> (help, the figure in workshop's answer)
GAUGES = {
    "pitlane_technician_clocked_hours": ("Hours clocked today, pauses left out", "clocked_hours"),
    "pitlane_technician_billed_hours": ("Approved labour hours earned today (each order's labour shared by"
                                        " clocked time)", "billed_hours"),
    "pitlane_technician_efficiency": ("Billed hours / clocked hours today", "efficiency"),
    "pitlane_technician_productivity": ("Clocked hours / hours on shift today (absent while shifts are unknown)",
                                        "productivity"),
}


class WorkshopCollector:
    def __init__(self, call):
        self.call = call
        self.scrape_errors = 0

    def _ask(self, method):
        try:
            return self.call("workshop", method) or []
        except Exception as exc:  # a silent workshop must not blank the other metrics
            log.warning("metrics: workshop.%s failed: %s", method, exc)
            self.scrape_errors += 1
            return []

    def collect(self):
        branches = self._ask("technician_time_figures")
        gauges = {name: GaugeMetricFamily(name, text, labels=["branch", "technician"])
                  for name, (text, _) in GAUGES.items()}
        for figures in branches:
            rows = [("", figures["branch"])] + [(t["technician_id"], t) for t in figures["technicians"]]
            for technician, row in rows:  # technician "" is the whole branch
                for name, (_, key) in GAUGES.items():
                    if row.get(key) is not None:
                        gauges[name].add_metric([figures["branch_id"], technician], row[key])
        yield from gauges.values()
        ratio = GaugeMetricFamily("pitlane_first_time_fix_ratio", "Share of the orders delivered in the last 30"
                                  " days that did not come back for the same fault", labels=["branch"])
        comebacks = GaugeMetricFamily("pitlane_comebacks", "Orders delivered in the last 30 days that came back"
                                      " for the same fault (comebacks)", labels=["branch"])
        for row in self._ask("first_time_fix_figures"):
            comebacks.add_metric([row["branch_id"]], row["came_back"])
            if row["first_time_fix"] is not None:
                ratio.add_metric([row["branch_id"]], row["first_time_fix"])
        yield ratio
        yield comebacks
        errors = CounterMetricFamily("pitlane_workshop_scrape_errors", "Scrapes workshop did not answer")
        errors.add_metric([], self.scrape_errors)
        yield errors
