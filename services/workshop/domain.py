"""Workshop rules, no I/O: the repair order's life cycle, its quote's pricing and approval, its jobs and checks."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from shared.contracts.api.workshop import (CHECK_KINDS, CONSENT_METHODS, HOLD_REASONS,  # noqa: F401  (the API's words)
                                          PUBLIC_STAGES, QUOTE_OPTIONS)
from shared.domain import Aggregate, NotPermitted, RuleBroken, StateConflict, StateMachine, UnknownRecord

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
    "delivered": {"closed"},
    "closed": set(),
    "cancelled": set(),
})
# domain.md s4 names `diagnosing` and `quoted` too: here `diagnosed` is the diagnosis recorded, and a
# quote is put to the customer when it is issued, so `quoted` and `awaiting_approval` are one status.
CLOSE_AFTER_DELIVERY_SECONDS = 7 * 86400  # default: a delivered order not paid closes a week later
PROMISE_BUFFER_PCT = 25  # default: the promised time carries 20 to 30 % over the likely time
# the customer approved the work: what it covers changes only with a supplement (domain.md s3)
APPROVED_WORK = frozenset({"approved", "waiting_for_parts", "in_progress", "on_hold", "quality_check", "ready"})
GENERAL_SKILL = "general"  # booking's skill of ordinary work: every technician has it
UNRESERVED_PARTS = ("pending", "short")


# -- quality (domain.md s4) ------------------------------------------------------------------------------
CHECK_NAMES = {"self": "self-check", "peer": "quality check", "road_test": "road test",
               "function_test": "function test"}
TESTS = ("road_test", "function_test")
# Work on these systems needs a road test and a function test before `ready`. It is decided from the
# booking's service type, and from the words of the approved labour and part lines.
TESTED_SYSTEMS = {
    "brakes": ("brake",),
    "steering": ("steering", "track rod", "tie rod", "rack"),
    "suspension": ("suspension", "shock absorber", "strut", "coil spring", "wishbone", "control arm",
                   "lower arm", "ball joint", "axle", "bush"),
}


def needs_tests(service_type: str | None, lines: list) -> list[str]:
    """The systems of TESTED_SYSTEMS the work touches (none: no road or function test needed)."""
    found = {service_type} & set(TESTED_SYSTEMS)
    for line in lines:
        if line.get("kind") in ("labour", "part"):
            words = str(line.get("description", "")).lower()
            found |= {s for s, keys in TESTED_SYSTEMS.items() if any(k in words for k in keys)}
    return sorted(found)


# -- progress for the customer (domain.md s4) --------------------------------------------------------------
# stage -> what a message to the customer says (the CRM sends it)
PROGRESS_TEXT = {
    "checked_in": "Your car is checked in.",
    "diagnosed": "The diagnosis is done.",
    "waiting_for_parts": "We are waiting for parts for your car.",
    "work_started": "Work on your car has started.",
    "work_in_progress": "Work on your car is going on.",
    "qc_done": "The quality check of the work is done.",
    "ready": "Your car is ready for collection.",
}
PROGRESS_EVERY_SECONDS = 6300  # default: an update while work runs every 1 h 45 min (the SLA asks 2 h)
DELAY_THRESHOLD_PCT = 20  # default: 20 % over the estimate, the customer is told at once
FIXED_ESTIMATE_SECONDS = 4 * 3600  # without an estimate: a standard repair (domain.md s2)


def estimate_seconds(estimate: dict | None) -> int:
    """The likely time of the work (no buffer), or a standard repair's 4 h without an estimate."""
    if not estimate:
        return FIXED_ESTIMATE_SECONDS
    likely = sum(Decimal(str(estimate[p]["likely"])) for p in ESTIMATE_PARTS if p in estimate)
    return int(likely * 3600) or FIXED_ESTIMATE_SECONDS


# -- comebacks (domain.md s4) ----------------------------------------------------------------------------
COMEBACK_WINDOW_SECONDS = 7 * 86400  # default: a repeat visit within 7 days of delivery
# A fault's family, from the words of the agreed fault description, else of the booking's service type.
FAULT_FAMILIES = {
    "brakes": ("brak", "pad", "disc", "abs"),
    "steering": ("steering", "track rod", "tie rod", "pulls to"),
    "suspension": ("suspension", "shock", "strut", "spring", "knock", "axle", "wishbone", "bush"),
    "electrical": ("battery", "electric", "light", "lamp", "starter", "alternator", "fuse", "sensor"),
    "engine": ("engine", "oil leak", "misfire", "overheat", "coolant", "timing belt", "exhaust"),
    "transmission": ("clutch", "gearbox", "gear ", "transmission", "drive shaft"),
    "air_conditioning": ("air con", "a/c", "air_conditioning", "climate"),
    "tyres": ("tyre", "tire", "wheel", "puncture"),
    "body": ("body", "dent", "scratch", "paint", "glass", "windscreen"),
}
ROUTINE_SERVICES = {"service", "annual service", "inspection", "oil service", "maintenance", "diagnosis"}


def fault_family(fault_description: str | None, service_type: str | None) -> str | None:
    """The family a fault belongs to, for comebacks; None when neither names one (routine work)."""
    for text in (fault_description, service_type):
        words = f" {str(text or '').lower()} "
        for family, keys in FAULT_FAMILIES.items():
            if any(k in words for k in keys):
                return family
    kind = str(service_type or "").strip().lower()
    return kind[:40] if kind and kind not in ROUTINE_SERVICES else None


def first_time_fix(delivered: int, came_back: int) -> float | None:
    """The share of delivered orders that did not come back for the same fault (None: none delivered)."""
    return round(1 - came_back / delivered, 3) if delivered else None


@dataclass(frozen=True)
class WorkshopSettings:
    """A branch's workshop numbers; a branch that set none has domain.md's defaults."""

    branch_id: str
    close_after_delivery_seconds: int = CLOSE_AFTER_DELIVERY_SECONDS
    promise_buffer_pct: int = PROMISE_BUFFER_PCT
    comeback_window_seconds: int = 7 * 86400
    progress_every_seconds: int = PROGRESS_EVERY_SECONDS
    delay_threshold_pct: int = DELAY_THRESHOLD_PCT

    @classmethod
    def from_row(cls, branch_id: str, row: dict | None) -> "WorkshopSettings":
        given = {k: v for k, v in (row or {}).items() if k in cls.__dataclass_fields__ and v is not None}
        return cls(**{**given, "branch_id": branch_id})


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


def quoted_part_terms(line: dict, catalogue: dict) -> dict:
    """A part line shows its part's origin and warranty as the catalogue gives them when it is quoted
   ; kept with the line like its price. A labour or consumable line, or a part the
    catalogue does not know, carries none."""
    part = catalogue.get(line.get("part_number")) if line.get("kind") == "part" else None
    if part is None:
        return {"origin": None, "warranty_months": None, "warranty_km": None}
    return {"origin": part.get("origin"), "warranty_months": part.get("warranty_months"),
            "warranty_km": part.get("warranty_km")}


def missing_parts(short_lines) -> str:
    """parts.shortage's lines as the timeline says them: part (available/requested), ..."""
    return ", ".join(f"{l['part_number']} ({l['available']}/{l['requested']})" for l in short_lines)


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
    kind: str = "initial"  # or "supplement": a change of scope found during the repair
    estimate: dict | None = None  # {part: {shortest, likely, longest}} in hours, parts diagnosis/parts/labour

    @classmethod
    def from_row(cls, row: dict) -> "Quote":
        return cls(row["quote_id"], list(row["lines"]), row["status"], row.get("kind") or "initial",
                   row.get("estimate"))

    @property
    def total_cents(self) -> int:
        return sum(line["net_cents"] for line in self.lines)

    @property
    def supplement(self) -> bool:
        return self.kind == "supplement"

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
        approved = [by_id[k] for k in by_id if decided[k]]
        chosen = sorted({line.get("option") for line in approved} - {None})
        if len(chosen) > 1:
            raise RuleBroken("a quote's options are alternatives: approve the lines of one option",
                             decisions=f"lines of {', '.join(chosen)} approved together")
        self.status = "approved" if approved else "declined"
        declined = [by_id[k]["line_id"] for k in by_id if not decided[k]]
        return approved, declined


ESTIMATE_PARTS = ("diagnosis", "parts", "labour")  # domain.md s2: a time estimate's three parts


def promised_seconds(estimate: dict | None, buffer_pct: int) -> int | None:
    """The promised time: the likely diagnosis, parts and labour time, plus the branch's buffer.
    None without an estimate (the repair promise keeps its fixed target)."""
    if not estimate:
        return None
    likely = sum(Decimal(str(estimate[p]["likely"])) for p in ESTIMATE_PARTS if p in estimate)
    seconds = likely * 3600 * (1 + Decimal(buffer_pct) / 100)
    return int(seconds.quantize(Decimal(1), rounding=ROUND_HALF_UP)) or None


RISK_RANGE = Decimal("0.20")  # domain.md s3: the range shown for risks found on disassembly


def risk_range(total_cents: int) -> tuple[int, int]:
    """The lowest and highest the supplement's work may come to: its total -/+ 20 %."""
    low = (Decimal(total_cents) * (1 - RISK_RANGE)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    high = (Decimal(total_cents) * (1 + RISK_RANGE)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(low), int(high)


@dataclass
class Job:
    """A technician's clocked work on the repair order (domain.md s4). Its clock runs, pauses (the
    technician steps away, or the order goes on hold) and stops; the time clocked excludes pauses."""

    job_id: UUID
    technician_id: str
    started_at: datetime
    description: str = ""
    finished_at: datetime | None = None
    clocked_seconds: int | None = None
    notes: str = ""
    paused_at: datetime | None = None
    paused_seconds: int = 0
    pause_reason: str | None = None
    changed: bool = field(default=False, repr=False, compare=False)  # to save: paused, resumed or finished

    @classmethod
    def from_row(cls, row: dict) -> "Job":
        return cls(row["job_id"], row["technician_id"], row["started_at"], row["description"], row["finished_at"],
                   row["clocked_seconds"], row["notes"], row.get("paused_at"), row.get("paused_seconds") or 0,
                   row.get("pause_reason"))

    @property
    def open(self) -> bool:
        return self.finished_at is None

    @property
    def running(self) -> bool:
        """Its clock counts now: open and not paused. A technician has one running clock at most."""
        return self.open and self.paused_at is None

    def clocked_until(self, at: datetime) -> int:
        """Seconds worked from the start to `at` (or to the finish), pauses left out."""
        if not self.open:
            return self.clocked_seconds or 0
        paused = self.paused_seconds + (_seconds(at - self.paused_at) if self.paused_at else 0)
        return max(0, _seconds(at - self.started_at) - paused)

    def pause(self, at: datetime, reason: str):
        if not self.open:
            raise StateConflict("the job is finished: its clock cannot pause", job_id="finished")
        if self.paused_at is not None:
            raise StateConflict("the job's clock is paused already", job_id=f"paused since {self.paused_at}")
        self.paused_at, self.pause_reason, self.changed = at, reason, True

    def resume(self, at: datetime):
        if not self.open:
            raise StateConflict("the job is finished: its clock cannot resume", job_id="finished")
        if self.paused_at is None:
            raise StateConflict("the job's clock is running, not paused", job_id="running")
        self.paused_seconds += max(0, _seconds(at - self.paused_at))
        self.paused_at, self.pause_reason, self.changed = None, None, True

    def finish(self, at: datetime, notes: str):
        if not self.open:
            raise StateConflict("the job is already finished", job_id="finished")
        self.clocked_seconds = self.clocked_until(at)
        if self.paused_at is not None:  # clocking off a paused job ends its pause there
            self.paused_seconds += max(0, _seconds(at - self.paused_at))
            self.paused_at, self.pause_reason = None, None
        self.finished_at, self.notes, self.changed = at, notes, True


def _seconds(delta) -> int:
    return int(delta.total_seconds() + 0.5)


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
    closed_at: datetime | None = None
    booking_id: UUID | None = None
    plate: str = ""
    jobs: list = field(default_factory=list)
    open_quote: Quote | None = None
    failed_check_at: datetime | None = None  # the last failed quality check: rework is due after it
    service_type: str | None = None
    approved_lines: list = field(default_factory=list, repr=False)  # what the customer approved
    checks_passed: set = field(default_factory=set)  # kinds of check passed since the last failure
    checks_done: list = field(default_factory=list, repr=False)  # (kind, passed) to save
    # progress for the customer: the update that is due while work runs (an SLA clock's subject)
    progress_seq: int = 0
    update_due: str | None = None
    progressed: bool = field(default=False, repr=False)  # a progress event was recorded: save its time
    approved_at: datetime | None = None
    estimate_seconds: int | None = None  # the approved quote's likely time (domain.estimate_seconds)
    delayed_at: datetime | None = None
    hold_reason: str | None = None
    skill: str | None = None  # the skill the booked service type needs (booking's catalogue)
    notes: list = field(default_factory=list, repr=False)  # timeline lines not saved yet

    @classmethod
    def from_row(cls, row: dict) -> "RepairOrder":
        """From its stored row, with the `jobs`, `open_quote` and `failed_check_at` read beside it, if any."""
        quote = row.get("open_quote")
        return cls(row["repair_order_id"], row["branch_id"], row["number"], row["customer_id"], row["vehicle_id"],
                   row["priority"], row["status"], row["parts_status"], row["approved_total_cents"],
                   row["delivered_at"], row.get("closed_at"), row["booking_id"], row["plate"],
                   [Job.from_row(j) for j in row.get("jobs", ())], Quote.from_row(quote) if quote else None,
                   row.get("failed_check_at"), row.get("service_type"), list(row.get("approved_lines", ())),
                   set(row.get("checks_passed", ())), progress_seq=row.get("progress_seq") or 0,
                   update_due=row.get("update_due"), approved_at=row.get("approved_at"),
                   estimate_seconds=row.get("estimate_seconds"), delayed_at=row.get("delayed_at"),
                   hold_reason=row.get("hold_reason"), skill=row.get("skill"))

    def comeback(self, family: str | None, earlier: list[dict], window_seconds: int, now: datetime) -> dict | None:
        """A repeat visit for the same fault family within the window after an earlier order of this
        vehicle was delivered is a comeback (domain.md s4): recorded, and returned (that order), once.
        `earlier`: the vehicle's delivered orders, {repair_order_id, number, fault_family, delivered_at}."""
        if family is None:
            return None
        recent = [o for o in earlier if o["fault_family"] == family and o["delivered_at"] is not None
                  and str(o["repair_order_id"]) != str(self.repair_order_id)
                  and 0 <= (now - o["delivered_at"]).total_seconds() <= window_seconds]
        if not recent:
            return None
        last = max(recent, key=lambda o: o["delivered_at"])
        days = round((now - last["delivered_at"]).total_seconds() / 86400, 2)
        self.notes.append(Note(self.status, f"comeback: {family} again {days} days after {last['number']}"))
        self.record("repair_order.comeback", repair_order_id=self.repair_order_id, number=self.number,
                    customer_id=self.customer_id, vehicle_id=self.vehicle_id, fault_family=family,
                    previous_repair_order_id=last["repair_order_id"], previous_number=last["number"],
                    days_since_delivery=days)
        return last

    def opened(self, received_by: str):
        """Checked in: the repair order exists (domain.md s2)."""
        self.notes += [Note("checked_in", f"received by {received_by}"), Note("checked_in", public=True)]
        self.record("repair_order.opened", repair_order_id=self.repair_order_id, number=self.number,
                    booking_id=self.booking_id, customer_id=self.customer_id, vehicle_id=self.vehicle_id,
                    priority=self.priority, plate=self.plate)
        self._progress("checked_in")

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
                    part_prices: dict, estimate: dict | None = None) -> tuple[Quote, Quote | None]:
        """The new quote (with its time estimate, if given), and the open one it supersedes (if any)."""
        if not LIFE_CYCLE.can(self.status, "awaiting_approval"):
            raise StateConflict(f"a repair order that is {self.status} cannot be quoted", status=f"is {self.status}")
        quote = Quote(quote_id, [price_line(line, labour_rate_cents, part_prices) for line in lines],
                      estimate=estimate)
        superseded = self.open_quote
        if superseded is not None:
            superseded.status = "superseded"
        self.open_quote = quote
        self._move("awaiting_approval")
        self.record("quote.issued", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                    lines=quote.lines, total_cents=quote.total_cents)
        return quote, superseded

    def approve(self, quote_id: UUID, decisions: list[dict], consent: dict,
                buffer_pct: int = PROMISE_BUFFER_PCT, now: datetime | None = None) -> tuple[Quote, list[dict]]:
        """The customer's line-by-line answer to the open quote: the quote and its approved lines.
        An approved quote with an estimate promises its likely time plus the branch's buffer."""
        quote = self.open_quote
        if quote is None or str(quote.quote_id) != str(quote_id):
            raise StateConflict("that quote is not awaiting approval",
                                quote_id="not the open quote of this repair order")
        approved, declined = quote.decide(decisions)
        consent = f"{consent['method']} by {consent['by']}"
        self.open_quote = None
        if quote.supplement:
            return quote, self._supplement_decided(quote, approved, declined, consent)
        if not approved:
            self._move("diagnosed", f"quote declined ({consent})")
            self.record("quote.declined", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                        declined_line_ids=declined)
            return quote, approved
        self._move("approved", f"approved ({consent})")
        self.estimate_seconds, self.approved_at = estimate_seconds(quote.estimate), now
        self.approved_total_cents = sum(line["net_cents"] for line in approved)
        self.parts_status = "pending" if any(line["kind"] == "part" for line in approved) else "none"
        self.record("quote.approved", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                    approved_lines=approved, declined_line_ids=declined,
                    approved_total_cents=self.approved_total_cents, priority=self.priority,
                    promised_seconds=promised_seconds(quote.estimate, buffer_pct))
        return quote, approved

    # -- supplements (domain.md s3: a change of scope needs a new approval before the work) --------------
    def request_supplement(self, quote_id: UUID, findings: list[dict], lines: list[dict], labour_rate_cents: int,
                           part_prices: dict, found_by: str, now: datetime) -> Quote:
        """A finding during the repair: a supplementary quote for the customer, and the order on hold
        (approval) until they answer; the work it adds cannot start before."""
        if self.status != "in_progress":
            raise StateConflict("a supplement is a finding during the repair: the work must be in progress",
                                status=f"is {self.status}")
        if self.open_quote is not None:
            raise StateConflict("a supplement already awaits the customer's approval",
                                quote_id=f"{self.open_quote.quote_id} is open")
        quote = Quote(quote_id, [price_line(line, labour_rate_cents, part_prices) for line in lines], kind="supplement")
        self.open_quote = quote
        low, high = risk_range(quote.total_cents)
        self.notes.append(Note(self.status, f"finding during the repair by {found_by}: supplement"
                                            f" {quote.total_cents} ({low} to {high}) for approval"))
        self.record("diagnosis.recorded", repair_order_id=self.repair_order_id, findings=findings)
        self.record("supplement.requested", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                    customer_id=self.customer_id, number=self.number, lines=quote.lines,
                    total_cents=quote.total_cents, range_low_cents=low, range_high_cents=high)
        self.hold("approval", now)
        return quote

    def _supplement_decided(self, quote: Quote, approved: list, declined: list, consent: str) -> list:
        """The customer answered the supplement: what they approved is added to the approved amount,
        and the work goes on (the new work, or the quality check when the work is done)."""
        if approved:
            self.approved_total_cents += sum(line["net_cents"] for line in approved)
            if any(line["kind"] == "part" for line in approved):
                self.parts_status = "pending"  # parts reserves them: no work until they are held
            self.record("supplement.approved", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                        approved_lines=approved, declined_line_ids=declined,
                        approved_total_cents=self.approved_total_cents)
        else:
            self.record("supplement.declined", repair_order_id=self.repair_order_id, quote_id=quote.quote_id,
                        declined_line_ids=declined)
        if self.status == "on_hold":
            done = self.work_done and not approved
            self._move("quality_check" if done else "in_progress",
                       f"supplement {'approved' if approved else 'declined'} ({consent}): work resumed")
            self.record("repair_order.resumed", repair_order_id=self.repair_order_id,
                        reason="supplement approved" if approved else "supplement declined")
        return approved

    def _no_supplement_waiting(self):
        if self.open_quote is not None and self.open_quote.supplement:
            raise StateConflict("a supplement awaits the customer's approval: its work cannot start before",
                                quote_id=f"{self.open_quote.quote_id} awaits approval")

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
        if self.parts_status == "reserved" or self.status == "cancelled":
            return False
        if self.status in ("in_progress", "on_hold") and self.parts_status == "pending":
            self.parts_status = "short"  # a supplement's parts: no job starts or resumes until they are held
            self.notes.append(Note(self.status, f"supplement parts short: {missing_parts(lines)}"))
            return True
        if self.status != "approved":
            return False
        self.parts_status = "short"
        self._move("waiting_for_parts", f"short: {missing_parts(lines)}")
        self.record("repair_order.on_hold", repair_order_id=self.repair_order_id, reason="parts")
        return True

    def part_on_its_way(self, part_number: str, quantity: int, tracking_reference: str) -> bool:
        """A part sent for this order from another branch: its tracking reference on the staff's timeline,
        for the advisor who promises the customer a time (the customer's message is crm's, from the same
        event). False for an order that needs it no more."""
        if self.status in ("closed", "cancelled", "delivered"):
            return False
        self.notes.append(Note(self.status, f"{quantity} x {part_number} on its way from another branch:"
                                            f" tracking {tracking_reference}"))
        return True

    # -- jobs and holds -------------------------------------------------------------------------------------
    def start_job(self, job_id: UUID, technician_id: str, description: str, now: datetime) -> Job:
        """A technician clocks on; starting a job on an order on hold resumes it."""
        if self.parts_status in UNRESERVED_PARTS:
            raise StateConflict("the approved parts are not reserved yet", parts_status=f"is {self.parts_status}")
        if any(j.technician_id == technician_id for j in self.open_jobs):
            raise StateConflict(f"{technician_id} is clocked on this repair order already",
                                technician_id="has an open job here: resume it or clock off first")
        self._ready_for_work()
        job = Job(job_id, technician_id, now, description)
        self.jobs.append(job)
        self.record("job.started", repair_order_id=self.repair_order_id, job_id=job.job_id,
                    technician_id=technician_id, started_at=now)
        return job

    @property
    def skill_needed(self) -> str | None:
        """A skill beyond general work (EV high voltage, diagnostics, body) that the work needs."""
        return self.skill if self.skill and self.skill != GENERAL_SKILL else None

    def check_skill(self, technician_id: str, skills: list | None):
        """A technician without the skill the work needs is refused with the reason. `skills` None:
        booking does not know the technician (no skills set up), so nothing is refused on a guess."""
        needed = self.skill_needed
        if needed and skills is not None and needed not in skills:
            raise RuleBroken(f"{technician_id} lacks the skill this work needs: {needed}",
                             technician_id=f"needs the skill {needed}; has {', '.join(skills) or 'none'}")

    def _ready_for_work(self, resuming: bool = False):
        """Work may run: parts are there, and the order is in progress (an order on hold resumes)."""
        if self.parts_status in UNRESERVED_PARTS:
            raise StateConflict("the approved parts are not reserved yet", parts_status=f"is {self.parts_status}")
        self._no_supplement_waiting()
        if self.status == "on_hold":
            self._move("in_progress", "job resumed: work resumed" if resuming else "job started: work resumed")
            self.record("repair_order.resumed", repair_order_id=self.repair_order_id,
                        reason="job resumed" if resuming else "job started")
        elif self.status != "in_progress":
            self._move("in_progress", "job started")

    def own_job(self, job_id, by: str | None) -> Job:
        """The job, if `by` is the technician on it: a technician clocks off, pauses and resumes their
        own jobs only (`by` None: an advisor, an admin or a service, who may act for them)."""
        job = self.job(job_id)
        if by is not None and job.technician_id != by:
            raise NotPermitted(f"this is {job.technician_id}'s job: only they clock it",
                               job_id=f"is {job.technician_id}'s job, not yours")
        return job

    def finish_job(self, job_id, notes: str, now: datetime, by: str | None = None) -> Job:
        """A technician clocks off; the last open job done sends the work to the quality check,
        unless the order is on hold (then its resumption does)."""
        job = self.own_job(job_id, by)
        job.finish(now, notes)
        if self.status == "in_progress" and not self.open_jobs:
            self._move("quality_check", "work done")
        self.record("job.finished", repair_order_id=self.repair_order_id, job_id=job.job_id,
                    technician_id=job.technician_id, finished_at=job.finished_at,
                    clocked_seconds=job.clocked_seconds)
        return job

    def hold(self, reason: str, now: datetime):
        """The order waits (parts, approval, sublet): every running job clock pauses with it, so the
        time clocked is time worked. The clocks stay paused when the order resumes: each technician
        clocks on again (resumes the job) when back at the car, maybe after work elsewhere."""
        self._move("on_hold", f"waiting for {reason}")
        self.hold_reason = reason
        self.record("repair_order.on_hold", repair_order_id=self.repair_order_id, reason=reason)
        for job in self.jobs:
            if job.running:
                self._pause(job, now, f"order on hold: {reason}")

    def pause_job(self, job_id, now: datetime, reason: str = "", by: str | None = None) -> Job:
        """The technician steps away from the job; the order's status does not change."""
        job = self.own_job(job_id, by)
        self._pause(job, now, reason or "paused by the technician")
        return job

    def resume_job(self, job_id, now: datetime, by: str | None = None) -> Job:
        """The technician is back on a paused job: like clocking on, it resumes an order on hold."""
        job = self.own_job(job_id, by)
        if job.open and job.paused_at is not None:
            self._ready_for_work(resuming=True)
        job.resume(now)
        self.record("job.resumed", repair_order_id=self.repair_order_id, job_id=job.job_id,
                    technician_id=job.technician_id, resumed_at=now)
        return job

    def _pause(self, job: Job, now: datetime, reason: str):
        job.pause(now, reason)
        self.record("job.paused", repair_order_id=self.repair_order_id, job_id=job.job_id,
                    technician_id=job.technician_id, paused_at=now, reason=reason)

    def resume(self):
        """Back to work, or to the quality check when the work was finished while on hold."""
        if self.status != "on_hold":
            raise StateConflict("the repair order is not on hold", status=f"is {self.status}")
        self._no_supplement_waiting()
        if self.work_done:
            self._move("quality_check", "work resumed: the work is done")
        else:
            self._move("in_progress", "work resumed")
        self.record("repair_order.resumed", repair_order_id=self.repair_order_id, reason="resumed")

    # -- quality check and hand-over ---------------------------------------------------------------------
    @property
    def tests_required(self) -> list[str]:
        """The road test and function test, when the approved work touches a system that needs them."""
        return list(TESTS) if needs_tests(self.service_type, self.approved_lines) else []

    def check(self, kind: str, checked_by: str, passed: bool, reason: str, now: datetime,
              tests: dict | None = None):
        """One quality check of the finished work (domain.md s4): `self` by a technician who worked on
        it, `road_test` / `function_test` by anyone, `peer` by someone who did not work on it. A failed
        check of any kind sends the work back (in_progress) with its reason. A passed peer check makes
        the order ready once the tests its work needs passed: recorded before, or stated in `tests`
        ({"road_test": bool, ...}); a test it leaves out counts as done by the peer checker, so a
        client that does not know the tests keeps working (docs/api.md)."""
        if self.status != "quality_check":
            raise StateConflict("the work is not finished", status=f"is {self.status}")
        worked = {j.technician_id for j in self.jobs}
        if kind == "self" and checked_by not in worked:
            raise RuleBroken("the self-check is done by a technician who worked on the repair order",
                             checked_by="did not work on this repair order")
        if kind == "peer" and checked_by in worked:
            raise RuleBroken("the quality check must be done by someone else than the technician",
                             checked_by="worked on this repair order")
        done = []
        if kind == "peer":  # the tests not passed yet come with it
            done = [(t, bool((tests or {}).get(t, True))) for t in self.tests_required if t not in self.checks_passed]
        done.append((kind, passed and all(ok for _, ok in done)))
        self.checks_done += done
        failed = next((k for k, ok in done if not ok), None)
        if failed is not None:
            return self._fail(failed, checked_by, reason, now)
        for k, _ in done:
            self.checks_passed.add(k)
            if k != "peer":
                self.record("qc.check_recorded", repair_order_id=self.repair_order_id, kind=k,
                            checked_by=checked_by)
        if kind == "peer":
            self._progress("qc_done")
            self._move("ready", f"quality check passed, checked by {checked_by}")
            self.record("qc.passed", repair_order_id=self.repair_order_id, checked_by=checked_by)
            self.record("repair_order.ready", repair_order_id=self.repair_order_id)

    def pass_qc(self, checked_by: str):
        self.check("peer", checked_by, True, "", None)

    def fail_qc(self, checked_by: str, reason: str, now: datetime):
        self.check("peer", checked_by, False, reason, now)

    def _fail(self, kind: str, checked_by: str, reason: str, now: datetime):
        """The work goes back with the reason: rework, then every check again."""
        label = CHECK_NAMES[kind]
        self._move("in_progress", f"{label} failed, checked by {checked_by}: {reason or 'rework'}")
        self.failed_check_at, self.checks_passed = now, set()
        self.record("qc.failed", repair_order_id=self.repair_order_id, checked_by=checked_by,
                    reason=reason or "failed", kind=kind)

    def deliver(self, delivered_by: str, lines: list[dict], now: datetime):
        """The car goes back to the customer with the approved `lines` to invoice, which never come to
        more than the customer approved (the quote and its approved supplements, domain.md s3)."""
        LIFE_CYCLE.check(self.status, "delivered")
        invoiced = sum(line["net_cents"] for line in lines)
        if invoiced > self.approved_total_cents:
            raise RuleBroken("the invoice would exceed the approved amount: a supplement must be approved first",
                             lines=f"{invoiced} to invoice, {self.approved_total_cents} approved")
        self._move("delivered", f"handed over by {delivered_by}")
        self.delivered_at = now
        self.record("repair_order.delivered", repair_order_id=self.repair_order_id, number=self.number,
                    customer_id=self.customer_id, vehicle_id=self.vehicle_id, delivered_at=now, lines=lines,
                    approved_quote_ids=sorted({str(line["quote_id"]) for line in lines if line.get("quote_id")}))

    def close_on_payment(self, now: datetime) -> bool:
        """The invoice is paid: a delivered order is closed. False when that changes nothing (closed
        already, by the timer, or an order that was never delivered)."""
        if self.status != "delivered":
            return False
        self._close("paid", now)
        return True

    def close_if_due(self, now: datetime, after_seconds: int) -> bool:
        """A delivered order closes `after_seconds` after delivery, paid or not (the branch's setting)."""
        if self.status != "delivered" or self.delivered_at is None:
            return False
        if (now - self.delivered_at).total_seconds() < after_seconds:
            return False
        self._close(f"{after_seconds // 86400} days after delivery" if after_seconds >= 86400
                    else f"{after_seconds} s after delivery", now)
        return True

    def _close(self, reason: str, now: datetime):
        self._move("closed", f"closed: {reason}")
        self.closed_at = now
        self.record("repair_order.closed", repair_order_id=self.repair_order_id, number=self.number,
                    customer_id=self.customer_id, vehicle_id=self.vehicle_id, reason=reason, closed_at=now)

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
        before, self.status = self.status, status
        if status != before:
            self.notes.append(Note(status, public=True))
            stage = {"diagnosed": "diagnosed", "waiting_for_parts": "waiting_for_parts", "ready": "ready"}.get(
                status, "work_started" if status == "in_progress" and before in ("approved", "waiting_for_parts")
                else None)
            if stage:
                self._progress(stage)
            self._keep_updates_due()

    # -- progress for the customer -------------------------------------------------------------------------
    def _progress(self, stage: str, text: str = ""):
        """A stage the customer is told about, with what the message needs; it answers the update that
        was due (its SLA clock stops) and, while work runs, makes the next one due."""
        answered, self.update_due, self.progressed = self.update_due, None, True
        self.record("repair_order.progress", repair_order_id=self.repair_order_id, customer_id=self.customer_id,
                    vehicle_id=self.vehicle_id, number=self.number, plate=self.plate, stage=stage,
                    text=text or PROGRESS_TEXT[stage], update_due=answered)
        self._keep_updates_due()

    def _keep_updates_due(self):
        """While work runs (in_progress) an update is always due; when it stops, none is."""
        if self.status == "in_progress" and self.update_due is None:
            self.progress_seq += 1
            self.update_due = f"{self.repair_order_id}:{self.progress_seq}"
            self.record("progress.due", repair_order_id=self.repair_order_id, update_due=self.update_due)
        elif self.status != "in_progress" and self.update_due is not None:
            self.record("progress.not_due", repair_order_id=self.repair_order_id, update_due=self.update_due)
            self.update_due = None

    def progress_update(self, now: datetime, every_seconds: int, last_progress_at: datetime | None) -> bool:
        """While work runs, the customer hears at least every `every_seconds` (the timer asks)."""
        if self.status != "in_progress" or (last_progress_at and (now - last_progress_at).total_seconds()
                                             < every_seconds):
            return False
        self._progress("work_in_progress")
        return True

    def delay_if_late(self, now: datetime, threshold_pct: int, remaining_seconds: float) -> bool:
        """20 % (the branch's threshold) past the estimate since approval and not ready: the customer is
        told at once, once, with the reason and a new time (now + the work still to do)."""
        if self.status not in APPROVED_WORK or self.status == "ready" or self.approved_at is None:
            return False
        if self.delayed_at is not None:
            return False
        allowed = (self.estimate_seconds or FIXED_ESTIMATE_SECONDS) * (1 + threshold_pct / 100)
        if (now - self.approved_at).total_seconds() <= allowed:
            return False
        if self.status == "waiting_for_parts" or self.parts_status == "short":
            reason = "waiting for parts"
        elif self.status == "on_hold":
            reason = f"on hold: waiting for {self.hold_reason or 'work to resume'}"
        else:
            reason = "the work takes longer than estimated"
        new_time = now + timedelta(seconds=max(remaining_seconds, 0))
        self.delayed_at = now
        self.notes.append(Note(self.status, f"delayed: {reason}; new time {new_time:%Y-%m-%d %H:%M} UTC"))
        self.record("repair_order.delayed", repair_order_id=self.repair_order_id, customer_id=self.customer_id,
                    vehicle_id=self.vehicle_id, number=self.number, plate=self.plate, reason=reason,
                    new_time=new_time, text=f"Your car will be later than promised ({reason}); new time:"
                                            f" {new_time:%Y-%m-%d %H:%M} UTC.")
        return True
