"""A technician's time, no I/O: one running clock at a time, and what their clocked hours earned.

Efficiency = billed hours / clocked hours; productivity = clocked hours / available hours (domain.md s4).
A job has no billed hours of its own: the quote approves labour for the repair order, not per
technician. So each order's approved labour hours are shared among its jobs in proportion to the
time each job clocked: a technician who clocked 3 of an order's 4 clocked hours earns 3/4 of its
billed hours. An order whose work beat the book time makes its technicians more than 100 % efficient.
"""
from dataclasses import dataclass
from datetime import datetime

from shared.domain import StateConflict

HOUR = 3600


@dataclass(frozen=True)
class TechnicianClock:
    """The one job whose clock runs for a technician, across every repair order, or None."""

    technician_id: str
    running: dict | None  # {"job_id", "repair_order_id", "number"} of the running job

    def clock_on(self, job_id=None):
        """Clocking on (or resuming `job_id`) is refused while another job's clock runs: one body, one clock."""
        if self.running is not None and str(self.running["job_id"]) != str(job_id):
            where = self.running.get("number") or self.running["repair_order_id"]
            raise StateConflict(f"{self.technician_id} is clocked on job {self.running['job_id']} of repair order"
                                f" {where}: pause it or clock off first",
                                technician_id=f"has a running clock on job {self.running['job_id']} ({where})")


def _ratio(part: float, whole: float | None) -> float | None:
    return round(part / whole, 3) if whole else None


def _figures(clocked_s: float, billed_h: float, available_s: float | None) -> dict:
    return {"clocked_hours": round(clocked_s / HOUR, 2), "billed_hours": round(billed_h, 2),
            "available_hours": None if available_s is None else round(available_s / HOUR, 2),
            "efficiency": _ratio(billed_h * HOUR, clocked_s),
            "productivity": _ratio(clocked_s, available_s)}


def technician_time(jobs: list, order_jobs: dict, order_labour_hours: dict,
                    available_seconds: dict | None, at: datetime) -> dict:
    """Per technician and for the branch, from the period's `jobs` (domain.Job with `repair_order_id`):
    clocked hours (pauses left out; open jobs up to `at`), billed hours (their share of their order's
    approved labour), efficiency and productivity. `order_jobs` are all the jobs of those orders, in
    the period or not, so a job's share does not depend on the period asked. `available_seconds` is each
    technician's hours on shift, or None when they are not known: productivity is None then."""
    order_clocked = {ro: sum(j.clocked_until(at) for j in done) for ro, done in order_jobs.items()}
    clocked: dict[str, float] = {}
    billed: dict[str, float] = {}
    for job, repair_order_id in jobs:
        seconds = job.clocked_until(at)
        total = order_clocked.get(repair_order_id) or 0
        share = order_labour_hours.get(repair_order_id, 0.0) * seconds / total if total else 0.0
        clocked[job.technician_id] = clocked.get(job.technician_id, 0) + seconds
        billed[job.technician_id] = billed.get(job.technician_id, 0.0) + share
    people = sorted(set(clocked) | set(available_seconds or {}))
    known = available_seconds is not None
    rows = [{"technician_id": t, **_figures(clocked.get(t, 0), billed.get(t, 0.0),
                                             (available_seconds.get(t, 0) if known else None))} for t in people]
    branch = _figures(sum(clocked.values()), sum(billed.values()),
                      sum(available_seconds.values()) if known else None)
    return {"branch": branch, "technicians": rows}
