"""Workshop rules, no I/O: the repair order's life cycle, its quote's pricing and approval, its jobs and checks."""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from shared.domain import Aggregate, RuleBroken, StateConflict, StateMachine, UnknownRecord

# status -> statuses it may move to (domain.md s4)
LIFE_CYCLE = StateMachine("repair order", {
    "checked_in": {"diagnosed", "awaiting_approval", "cancelled"},
    "diagnosed": {"diagnosed", "awaiting_approval", "cancelled"},
    "awaiting_approval": {"awaiting_approval", "approved", "diagnosed", "cancelled"},
    "approved": {"waiting_for_parts", "in_progress", "cancelled"},
    "waiting_for_parts": {"approved", "cancelled"},
    "in_progress": {"on_hold", "quality_check"},
    "on_hold": {"in_progress", "quality_check"},
    "quality_check": {"ready", "in_progress"},
    "ready": {"delivered"},
    "delivered": set(),
    "cancelled": set(),
})
# the customer approved the work: what it covers changes only with a supplement (domain.md s3)
APPROVED_WORK = frozenset({"approved", "waiting_for_parts", "in_progress", "on_hold", "quality_check", "ready"})
HOLD_REASONS = ("parts", "approval", "sublet")
CONSENT_METHODS = ("signature", "recorded_verbal", "app")
UNRESERVED_PARTS = ("pending", "short")

# What the customer sees of each status, in their words.
PUBLIC_STAGES = {
    "checked_in": "Checked in", "diagnosed": "Diagnosis done", "awaiting_approval": "Quote sent for your approval",
    "approved": "Work approved", "waiting_for_parts": "Waiting for parts", "in_progress": "Work in progress",
    "on_hold": "Work paused", "quality_check": "Quality check", "ready": "Ready for collection",
    "delivered": "Handed over", "cancelled": "Cancelled",
}


# -- prices ------------------------------------------------------------------------------------------
def net_cents(quantity: Decimal, unit_price_cents: int) -> int:
    return int((Decimal(quantity) * unit_price_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_line(line: dict, labour_rate_cents: int, part_prices: dict) -> dict:
    """A quote line with its unit price settled (given, the branch rate, or the catalogue) and net."""
    unit = line.get("unit_price_cents")
    if unit is None:
        if line["kind"] == "labour":
            unit = labour_rate_cents
        elif line["kind"] == "part":
            unit = part_prices.get(line.get("part_number"))
            if unit is None:
                raise RuleBroken("a part line needs a price", lines=f"part {line.get('part_number')} is not in"
                                                                    " the catalogue; give unit_price_cents")
        else:
            raise RuleBroken("a consumable line needs a price", lines="consumables need unit_price_cents")
    return {**line, "unit_price_cents": unit, "net_cents": net_cents(line["quantity"], unit)}


PARTS_SOURCING_SECONDS = 3600  # domain.md s5: the local supplier tier answers within 1 hour


def remaining_work_seconds(approved_labour_hours: float, clocked_seconds: int, parts_status: str) -> float:
    """Labour still to do, plus the wait for parts that are not reserved yet."""
    remaining = max(approved_labour_hours * 3600 - clocked_seconds, 0.0)
    if parts_status in UNRESERVED_PARTS:
        remaining += PARTS_SOURCING_SECONDS
    return remaining


# -- the parts of a repair order -------------------------------------------------------------------------
@dataclass
class Quote:
    """The priced lines the customer approves or declines, each line once (domain.md s3)."""

    quote_id: UUID
    lines: list
    status: str = "open"

    @classmethod
    def from_row(cls, row: dict) -> "Quote":
        return cls(row["quote_id"], list(row["lines"]), row["status"])

    @property
    def total_cents(self) -> int:
        return sum(line["net_cents"] for line in self.lines)

    def decide(self, decisions: list[dict]) -> tuple[list[dict], list]:
        """Split the lines into approved and declined; every line decided exactly once."""
        by_id = {str(line["line_id"]): line for line in self.lines}
        decided = {}
        problems = []
        for decision in decisions:
            key = str(decision["line_id"])
            if key not in by_id:
                problems.append(f"line {key} is not on this quote")
            elif key in decided:
                problems.append(f"line {key} is decided twice")
            decided[key] = decision["approved"]
        missing = sorted(set(by_id) - set(decided))
        if missing:
            problems.append(f"undecided lines: {', '.join(missing)}")
        if problems:
            raise RuleBroken("every line of the quote must be approved or declined once", decisions=problems)
        self.status = "approved" if any(decided.values()) else "declined"
        approved = [by_id[k] for k in by_id if decided[k]]
        declined = [by_id[k]["line_id"] for k in by_id if not decided[k]]
        return approved, declined


@dataclass
class Job:
    """A technician's clocked work on the repair order (domain.md s4)."""

    job_id: UUID
    technician_id: str
    started_at: datetime
    description: str = ""
    finished_at: datetime | None = None
    clocked_seconds: int | None = None
    notes: str = ""

    @classmethod
    def from_row(cls, row: dict) -> "Job":
        return cls(row["job_id"], row["technician_id"], row["started_at"], row["description"], row["finished_at"],
                   row["clocked_seconds"], row["notes"])

    @property
    def open(self) -> bool:
        return self.finished_at is None

    def finish(self, at: datetime, notes: str):
        if not self.open:
            raise StateConflict("the job is already finished", job_id="finished")
        self.finished_at, self.notes = at, notes
        self.clocked_seconds = max(0, int((at - self.started_at).total_seconds() + 0.5))


@dataclass(frozen=True)
class Note:
    """A line of the repair order's timeline: `public` ones are what the customer reads."""

    status: str
    note: str = ""
    public: bool = False


# -- the repair order ------------------------------------------------------------------------------------
@dataclass
class RepairOrder(Aggregate):
    """The repair authorisation from check-in to hand-over; each command checks, moves and records."""

    repair_order_id: UUID
    branch_id: str
    number: str
    customer_id: UUID
    vehicle_id: UUID
    priority: str
    status: str
    parts_status: str = "none"
    approved_total_cents: int = 0
    delivered_at: datetime | None = None
    booking_id: UUID | None = None
    plate: str = ""
    jobs: list = field(default_factory=list)
    open_quote: Quote | None = None
    failed_check_at: datetime | None = None  # the last failed quality check: rework is due after it
    notes: list = field(default_factory=list, repr=False)  # timeline lines not saved yet

    @classmethod
    def from_row(cls, row: dict) -> "RepairOrder":
        """From its stored row, with the `jobs`, `open_quote` and `failed_check_at` read beside it, if any."""
        quote = row.get("open_quote")
        return cls(row["repair_order_id"], row["branch_id"], row["number"], row["customer_id"], row["vehicle_id"],
                   row["priority"], row["status"], row["parts_status"], row["approved_total_cents"],
                   row["delivered_at"], row["booking_id"], row["plate"],
                   [Job.from_row(j) for j in row.get("jobs", ())], Quote.from_row(quote) if quote else None,
                   row.get("failed_check_at"))

    def opened(self, received_by: str):
        """Checked in: the repair order exists (domain.md s2)."""
        self.notes += [Note("checked_in", f"received by {received_by}"), Note("checked_in", public=True)]
        self.record("repair_order.opened", repair_order_id=self.repair_order_id, number=self.number,
                    booking_id=self.booking_id, customer_id=self.customer_id, vehicle_id=self.vehicle_id,
                    priority=self.priority, plate=self.plate)

    # -- what it knows --------------------------------------------------------------------------------
    @property
    def open_jobs(self) -> list[Job]:
        return [j for j in self.jobs if j.open]

    @property
    def work_done(self) -> bool:
        """Jobs were done, none is open, and rework after a failed check (if any) was done too."""
        if not self.jobs or self.open_jobs:
            return False
        last = max(j.finished_at for j in self.jobs)
        return self.failed_check_at is None or last > self.failed_check_at

    def job(self, job_id) -> Job:
        for job in self.jobs:
            if str(job.job_id) == str(job_id):
                return job
        raise UnknownRecord("no such job on this repair order", job_id="unknown job")

    def take_notes(self) -> list[Note]:
        """The timeline lines to save, handed over once."""
        taken, self.notes = self.notes, []
        return taken

    # -- diagnosis and quote ---------------------------------------------------------------------------
    def record_diagnosis(self, findings: list[dict], diagnosed_by: str) -> Quote | None:
        """Findings; one made while a quote awaits approval withdraws it (returned) for a new one."""
        if self.status in APPROVED_WORK:
            raise StateConflict("the work is approved: a new finding needs a supplement to the approved quote",
                                status=f"is {self.status}; changes after approval need a supplement")
        LIFE_CYCLE.check(self.status, "diagnosed")
        withdrawn = self.open_quote
        self._move("diagnosed", f"diagnosed by {diagnosed_by}")
        self.record("diagnosis.recorded", repair_order_id=self.repair_order_id, findings=findings)
        if withdrawn is not None:
            withdrawn.status, self.open_quote = "withdrawn", None
            self.record("quote.withdrawn", repair_order_id=self.repair_order_id, quote_id=withdrawn.quote_id,
                        reason=f"new findings by {diagnosed_by}")
        return withdrawn

    def issue_quote(self, quote_id: UUID, lines: list[dict], labour_rate_cents: int,
                    part_prices: dict) -> tuple[Quote, Quote | None]:
        """The new quote, and the open one it supersedes (if any)."""
        if not LIFE_CYCLE.can(self.status, "awaiting_approval"):
            raise StateConflict(f"a repair order that is {self.status} cannot be quoted", status=f"is {self.status}")
        quote = Quote(quote_id, [price_line(line, labour_rate_cents, part_prices) for line in lines])
        superseded = self.open_quote
        if superseded is not None:
            superseded.status = "superseded"
        self.open_quote = quote
        self._move("awaiting_approval")
        self.record("quote.issued", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                    lines=quote.lines, total_cents=quote.total_cents)
        return quote, superseded

    def approve(self, quote_id: UUID, decisions: list[dict], consent: dict) -> tuple[Quote, list[dict]]:
        """The customer's line-by-line answer to the open quote: the quote and its approved lines."""
        quote = self.open_quote
        if quote is None or str(quote.quote_id) != str(quote_id):
            raise StateConflict("that quote is not awaiting approval",
                                quote_id="not the open quote of this repair order")
        approved, declined = quote.decide(decisions)
        consent = f"{consent['method']} by {consent['by']}"
        self.open_quote = None
        if not approved:
            self._move("diagnosed", f"quote declined ({consent})")
            self.record("quote.declined", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                        declined_line_ids=declined)
            return quote, approved
        self._move("approved", f"approved ({consent})")
        self.approved_total_cents = sum(line["net_cents"] for line in approved)
        self.parts_status = "pending" if any(line["kind"] == "part" for line in approved) else "none"
        self.record("quote.approved", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                    approved_lines=approved, declined_line_ids=declined,
                    approved_total_cents=self.approved_total_cents, priority=self.priority)
        return quote, approved

    # -- parts --------------------------------------------------------------------------------------------
    def parts_reserved(self) -> bool:
        """Parts holds the approved parts: an order waiting for them goes back to approved.
        False when that changes nothing (a cancelled order)."""
        if self.status == "cancelled":
            return False
        self.parts_status = "reserved"
        if self.status == "waiting_for_parts":
            self._move("approved", "parts arrived")
            self.record("repair_order.resumed", repair_order_id=self.repair_order_id, reason="parts")
        return True

    def parts_short(self, lines: list[dict]) -> bool:
        """Parts could not reserve every approved part: the approved order waits for them (on hold,
        reason parts). False when that changes nothing: the order moved on or was cancelled, or its
        parts were reserved already (parts.reserved and parts.shortage travel on separate queues, so
        a shortage served a moment later can arrive after its reservation)."""
        if self.status != "approved" or self.parts_status == "reserved":
            return False
        self.parts_status = "short"
        missing = ", ".join(f"{l['part_number']} ({l['available']}/{l['requested']})" for l in lines)
        self._move("waiting_for_parts", f"short: {missing}")
        self.record("repair_order.on_hold", repair_order_id=self.repair_order_id, reason="parts")
        return True

    # -- jobs and holds -------------------------------------------------------------------------------------
    def start_job(self, job_id: UUID, technician_id: str, description: str, now: datetime) -> Job:
        """A technician clocks on; starting a job on an order on hold resumes it."""
        if self.parts_status in UNRESERVED_PARTS:
            raise StateConflict("the approved parts are not reserved yet", parts_status=f"is {self.parts_status}")
        if any(j.technician_id == technician_id for j in self.open_jobs):
            raise StateConflict(f"{technician_id} is clocked on this repair order already",
                                technician_id="has an open job here: clock off first")
        if self.status == "on_hold":
            self._move("in_progress", "job started: work resumed")
            self.record("repair_order.resumed", repair_order_id=self.repair_order_id, reason="job started")
        elif self.status != "in_progress":
            self._move("in_progress", "job started")
        job = Job(job_id, technician_id, now, description)
        self.jobs.append(job)
        self.record("job.started", repair_order_id=self.repair_order_id, job_id=job.job_id,
                    technician_id=technician_id, started_at=now)
        return job

    def finish_job(self, job_id, notes: str, now: datetime) -> Job:
        """A technician clocks off; the last open job done sends the work to the quality check,
        unless the order is on hold (then its resumption does)."""
        job = self.job(job_id)
        job.finish(now, notes)
        if self.status == "in_progress" and not self.open_jobs:
            self._move("quality_check", "work done")
        self.record("job.finished", repair_order_id=self.repair_order_id, job_id=job.job_id,
                    technician_id=job.technician_id, finished_at=job.finished_at,
                    clocked_seconds=job.clocked_seconds)
        return job

    def hold(self, reason: str):
        self._move("on_hold", f"waiting for {reason}")
        self.record("repair_order.on_hold", repair_order_id=self.repair_order_id, reason=reason)

    def resume(self):
        """Back to work, or to the quality check when the work was finished while on hold."""
        if self.status != "on_hold":
            raise StateConflict("the repair order is not on hold", status=f"is {self.status}")
        if self.work_done:
            self._move("quality_check", "work resumed: the work is done")
        else:
            self._move("in_progress", "work resumed")
        self.record("repair_order.resumed", repair_order_id=self.repair_order_id, reason="resumed")

    # -- quality check and hand-over ---------------------------------------------------------------------
    def pass_qc(self, checked_by: str):
        self._peer_check(checked_by)
        self._move("ready", f"quality check passed, checked by {checked_by}")
        self.record("qc.passed", repair_order_id=self.repair_order_id, checked_by=checked_by)
        self.record("repair_order.ready", repair_order_id=self.repair_order_id)

    def fail_qc(self, checked_by: str, reason: str, now: datetime):
        self._peer_check(checked_by)
        self._move("in_progress", f"quality check failed, checked by {checked_by}: rework")
        self.failed_check_at = now
        self.record("qc.failed", repair_order_id=self.repair_order_id, checked_by=checked_by,
                    reason=reason or "failed")

    def _peer_check(self, checked_by: str):
        """The work is finished, and its check is done by someone who did not do it (domain.md s4)."""
        if self.status != "quality_check":
            raise StateConflict("the work is not finished", status=f"is {self.status}")
        if checked_by in {j.technician_id for j in self.jobs}:
            raise RuleBroken("the quality check must be done by someone else than the technician",
                             checked_by="worked on this repair order")

    def deliver(self, delivered_by: str, lines: list[dict], now: datetime):
        """The car goes back to the customer with the approved `lines` to invoice."""
        self._move("delivered", f"handed over by {delivered_by}")
        self.delivered_at = now
        self.record("repair_order.delivered", repair_order_id=self.repair_order_id, number=self.number,
                    customer_id=self.customer_id, vehicle_id=self.vehicle_id, delivered_at=now, lines=lines)

    def cancel(self, reason: str) -> Quote | None:
        """Cancelled at any point before work (domain.md s4); a quote still open is superseded (returned)."""
        if self.jobs:
            raise StateConflict("work has started; it cannot be cancelled", status="work started")
        self._move("cancelled", reason)
        superseded, self.open_quote = self.open_quote, None
        if superseded is not None:
            superseded.status = "superseded"
        self.record("repair_order.cancelled", repair_order_id=self.repair_order_id, reason=reason)
        return superseded

    # -- the one way a status changes ---------------------------------------------------------------------
    def _move(self, target: str, note: str = ""):
        """Check the step, take it, and note it: always for the staff, for the customer when the stage changes."""
        status = LIFE_CYCLE.check(self.status, target)
        self.notes.append(Note(status, note))
        if status != self.status:
            self.notes.append(Note(status, public=True))
        self.status = status
