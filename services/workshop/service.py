"""workshop: repair orders from check-in to hand-over."""
import logging
import re
import uuid
from datetime import datetime, timedelta, timezone

from nameko.timer import timer
from psycopg.types.json import Jsonb

from services.workshop import domain, store
from services.workshop.technician_time import TechnicianClock, technician_time
from shared import config, org
from shared.contracts import errors
from shared.storage.dependencies import Database
from shared.bus.messaging import on_event
from shared.org import BranchDirectory
from shared.bus.rpc import ServiceRpcProxy, ask, load, record_id, rpc
from shared.contracts.api import workshop as schemas
from shared.contracts.schemas import page_of
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks

REPAIR_ORDER, QUOTE, JOB = schemas.RepairOrder(), schemas.Quote(), schemas.Job()
TECHNICIAN_TIME, WORKSHOP_SETTINGS = schemas.TechnicianTime(), schemas.WorkshopSettings()
DECLINED_LINE, FIRST_TIME_FIX = schemas.DeclinedLine(), schemas.FirstTimeFix()
BILLED_HOURS_RULE = ("each repair order's approved labour hours shared among its jobs in proportion to the"
                     " time each clocked")
log = logging.getLogger(__name__)
CUSTOMER_VIEW = schemas.CustomerView()


def now():
    return datetime.now(timezone.utc)


def check_in_record(event: dict) -> dict:
    """What check-in recorded besides the odometer and the fault (optional facts: older events lack them)."""
    return {"fuel_level_pct": event.get("fuel_level_pct"), "charge_level_pct": event.get("charge_level_pct"),
            "damage": [{"note": str(d.get("note", "")), "photo_ref": d.get("photo_ref")}
                       for d in event.get("damage") or () if isinstance(d, dict)],
            "belongings": [str(b) for b in event.get("belongings") or ()],
            "checked_in_at": at.isoformat() if hasattr(at := event.get("checked_in_at"), "isoformat") else at}


def with_quality(view: dict) -> dict:
    """The order's view with the tests its work needs, the replaced parts kept for the customer and
    its quote's range, if a supplement."""
    approved = view.get("approved_lines", [])
    return {**view, "tests_required": list(domain.TESTS) if domain.needs_tests(view.get("service_type"), approved)
            else [], "parts_kept_for_customer": [l for l in approved if l.get("keep_for_customer")],
            "quote": with_range(view.get("quote"))}


def with_range(quote: dict | None) -> dict | None:
    """A supplement shows its total -/+ 20 % (risks found on disassembly)."""
    if not quote or quote.get("kind") != "supplement":
        return quote
    low, high = domain.risk_range(quote["total_cents"])
    return {**quote, "range_low_cents": low, "range_high_cents": high}


def plate_key(plate: str) -> str:
    return re.sub(r"[\s-]", "", plate or "").upper()


class WorkshopService(SlaClocks, BranchDirectory):
    name = "workshop"

    db = Database()
    scope = CallerScope()
    booking = ServiceRpcProxy("booking")  # the technicians' hours on shift, for productivity

    # -- opening -----------------------------------------------------------------------------------
    @on_event("booking.checked_in")
    def open_repair_order(self, tx, event):
        row = store.insert_repair_order(tx, {
            "repair_order_id": uuid.uuid4(), "number": store.next_number(tx, event["branch_id"]),
            "branch_id": event["branch_id"], "booking_id": event["booking_id"],
            "customer_id": event["customer_id"], "vehicle_id": event["vehicle_id"], "plate": event["plate"],
            "plate_key": plate_key(event["plate"]), "priority": event["priority"],
            "fault_description": event["fault_description"], "odometer_km": event["odometer_km"],
            "status": "checked_in", "service_type": event.get("service_type"),
            "fault_family": domain.fault_family(event["fault_description"], event.get("service_type")),
            "case_owner": event["advisor"], "check_in_record": Jsonb(check_in_record(event)),
            "skill": event.get("skill"),
        })
        if row is None:
            return  # this booking already has its repair order
        ro = domain.RepairOrder.from_row(row)
        ro.opened(event["advisor"])
        at = now()
        settings = domain.WorkshopSettings.from_row(ro.branch_id, store.settings(tx, ro.branch_id))
        window = settings.comeback_window_seconds
        earlier = store.delivered_of_vehicle(tx, ro.vehicle_id, at - timedelta(seconds=window))
        previous = ro.comeback(row["fault_family"], earlier, window, at)
        if previous is not None:
            store.mark_comeback(tx, ro.repair_order_id, previous["repair_order_id"])
        store.add_timeline(tx, ro.repair_order_id, ro.take_notes())
        tx.publish_recorded(ro)

    @on_event("part.catalogued")
    def copy_part_price(self, tx, event):
        store.save_part_price(tx, event["part_number"], event["description"], event["price_cents"],
                              event["origin"], event["warranty_months"], event.get("warranty_km"))

    # -- diagnosis and quote -----------------------------------------------------------------------
    @rpc
    def record_diagnosis(self, repair_order_id, data):
        diagnosis = load(schemas.Diagnosis, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            withdrawn = ro.record_diagnosis(diagnosis["findings"], diagnosis["diagnosed_by"])
            if withdrawn is not None:
                store.close_quote(tx, withdrawn)
            store.add_findings(tx, ro.repair_order_id, diagnosis["findings"], diagnosis["diagnosed_by"])
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return self._dump(tx, ro.repair_order_id)

    @rpc
    def issue_quote(self, repair_order_id, data):
        request = load(schemas.NewQuote, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            rate, prices, lines = self._priced(tx, ro, request["lines"])
            quote, superseded = ro.issue_quote(uuid.uuid4(), lines, rate, prices, request["estimate"])
            if superseded is not None:
                store.close_quote(tx, superseded)
            store.insert_quote(tx, ro.repair_order_id, ro.branch_id, quote)
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return QUOTE.dump(with_range(store.quote_with_lines(tx, quote.quote_id)))

    @staticmethod
    def _priced(tx, ro, lines):
        """What a quote's lines are priced with: the branch's labour rate, the catalogue prices of their
        parts, and the lines with their new ids."""
        rate = org.get_branch(tx, ro.branch_id)["labour_rate_cents"]
        # a part line keeps its part's origin and warranty terms, as its price (parts catalogue)
        parts = store.part_catalogue(tx, {line["part_number"] for line in lines if line["part_number"]})
        prices = {number: part["price_cents"] for number, part in parts.items()}
        return rate, prices, [{**line, "line_id": uuid.uuid4(), **domain.quoted_part_terms(line, parts)}
                              for line in lines]

    @rpc
    def approve_quote(self, repair_order_id, data):
        return self._approve(repair_order_id, load(schemas.Approval, data))

    @rpc
    def customer_decide(self, repair_order_id, number, data):
        """The customer's decision on their own page (the gateway checked the number and plate, or
        the link): recorded as their online consent, with the time; answered with their view."""
        decision = load(schemas.CustomerDecision, data)
        consent = {"method": "online", "by": decision["name"]}
        return self._approve(repair_order_id, {**decision, "consent": consent}, number=number)

    def _approve(self, repair_order_id, approval, number=None):
        """The customer's answer to the open quote; with `number` (their own page), answered with
        their view of the order, else with the staff's."""
        with self.db.command() as tx:
            if number is not None:
                found = store.by_number(tx, str(number)[:40])
                if found is None or str(found["repair_order_id"]) != str(repair_order_id):
                    raise errors.NotFound("no repair order with that number", {})
            ro = self._repair_order_to_change(tx, repair_order_id)
            buffer = domain.WorkshopSettings.from_row(ro.branch_id, store.settings(tx, ro.branch_id)).promise_buffer_pct
            quote, approved = ro.approve(approval["quote_id"], approval["decisions"], approval["consent"], buffer,
                                         now())
            store.decide_quote(tx, quote, approved, approval["consent"])
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            if number is not None:
                return self._customer_view(tx, store.by_number(tx, str(number)[:40]))
            return self._dump(tx, ro.repair_order_id)

    @rpc
    def request_supplement(self, repair_order_id, data):
        supplement = load(schemas.Supplement, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            rate, prices, lines = self._priced(tx, ro, supplement["lines"])
            quote = ro.request_supplement(uuid.uuid4(), supplement["findings"], lines, rate, prices,
                                          supplement["diagnosed_by"], now())
            store.add_findings(tx, ro.repair_order_id, supplement["findings"], supplement["diagnosed_by"])
            store.insert_quote(tx, ro.repair_order_id, ro.branch_id, quote)
            store.save_repair_order(tx, ro)
            store.save_changed_jobs(tx, ro)
            tx.publish_recorded(ro)
            return QUOTE.dump(with_range(store.quote_with_lines(tx, quote.quote_id)))

    @rpc
    def list_declined_lines(self, query):
        filters = load(schemas.DeclinedQuery, query or {})
        with self.db.read() as tx:
            return DECLINED_LINE.dump(store.declined_lines(tx, filters), many=True)

    # -- parts ---------------------------------------------------------------------------------------
    @on_event("parts.reserved")
    def parts_reserved(self, tx, event):
        row = store.repair_order_to_change(tx, event["repair_order_id"])
        if row is None:
            return
        ro = domain.RepairOrder.from_row(row)
        if ro.parts_reserved():
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)

    @on_event("parts.shortage")
    def parts_short(self, tx, event):
        row = store.repair_order_to_change(tx, event["repair_order_id"])
        if row is None:
            return
        ro = domain.RepairOrder.from_row(row)
        if ro.parts_short(event["lines"]):
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)

    @on_event("transfer.tracking_sent")
    def part_on_its_way(self, tx, event):
        """A part sent from another branch for this order: its tracking reference goes on the staff's
        timeline, for the advisor."""
        if event.get("repair_order_id") is None:
            return
        row = store.repair_order_to_change(tx, event["repair_order_id"])
        if row is None:
            return
        ro = domain.RepairOrder.from_row(row)
        if ro.part_on_its_way(event["part_number"], event["quantity"], event["tracking_reference"]):
            store.add_timeline(tx, ro.repair_order_id, ro.take_notes())

    # -- jobs and holds -------------------------------------------------------------------------------
    @rpc
    def start_job(self, repair_order_id, data):
        start = load(schemas.StartJob, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            if ro.skill_needed:  # rare: ask booking only when the work needs more than general skill
                ro.check_skill(start["technician_id"], self._skills(ro.branch_id, start["technician_id"]))
            job = ro.start_job(uuid.uuid4(), start["technician_id"], start["description"], now())
            self._clock_on(tx, job.technician_id)
            store.save_repair_order(tx, ro)
            saved = store.insert_job(tx, ro.repair_order_id, ro.branch_id, job)
            tx.publish_recorded(ro)
            return JOB.dump(saved)

    @rpc
    def finish_job(self, repair_order_id, job_id, data):
        finish = load(schemas.FinishJob, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            job = ro.finish_job(record_id(job_id, "job"), finish["notes"], now(), by=self.scope.technician)
            store.save_repair_order(tx, ro)
            saved = store.save_job(tx, job)
            tx.publish_recorded(ro)
            return JOB.dump(saved)

    @rpc
    def pause_job(self, repair_order_id, job_id, data):
        pause = load(schemas.PauseJob, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            job = ro.pause_job(record_id(job_id, "job"), now(), pause["reason"], by=self.scope.technician)
            saved = store.save_job(tx, job)
            tx.publish_recorded(ro)
            return JOB.dump(saved)

    @rpc
    def resume_job(self, repair_order_id, job_id):
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            job = ro.resume_job(record_id(job_id, "job"), now(), by=self.scope.technician)
            self._clock_on(tx, job.technician_id, job.job_id)
            store.save_repair_order(tx, ro)
            saved = store.save_job(tx, job)
            tx.publish_recorded(ro)
            return JOB.dump(saved)

    def _skills(self, branch_id, technician_id) -> list | None:
        """The technician's skills as booking keeps them; None when booking does not know them."""
        today = now().date().isoformat()
        try:
            rows = ask("booking", "the technician's skills", self.booking.technician_hours, branch_id, today, today)
        except Exception as exc:  # booking silent: the skill cannot be checked, the work is not held up
            log.info("technician skills from booking unavailable: %s", exc.__class__.__name__)
            return None
        return next((list(r["skills"]) for r in rows or () if r["technician_id"] == technician_id), None)

    def _clock_on(self, tx, technician_id, job_id=None):
        """One running clock per technician across every order: the technician's lock, then the rule."""
        store.lock_technician(tx, technician_id)
        TechnicianClock(technician_id, store.running_job(tx, technician_id)).clock_on(job_id)

    @rpc
    def put_on_hold(self, repair_order_id, data):
        hold = load(schemas.Hold, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            ro.hold(hold["reason"], now())
            store.save_repair_order(tx, ro)
            store.save_changed_jobs(tx, ro)
            tx.publish_recorded(ro)
            return self._dump(tx, ro.repair_order_id)

    @rpc
    def resume_repair_order(self, repair_order_id):
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            ro.resume()
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return self._dump(tx, ro.repair_order_id)

    # -- quality check and hand-over ---------------------------------------------------------------
    @rpc
    def quality_check(self, repair_order_id, data):
        check = load(schemas.QualityCheck, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            ro.approved_lines, ro.checks_passed = store.quality_facts(tx, ro.repair_order_id)
            at = now()
            tests = {t: check[t] for t in domain.TESTS if check[t] is not None}
            ro.check(check["kind"], check["checked_by"], check["passed"], check["notes"], at, tests)
            store.add_quality_checks(tx, ro.repair_order_id, check["checked_by"], ro.checks_done, check["notes"], at)
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return self._dump(tx, ro.repair_order_id)

    @rpc
    def deliver(self, repair_order_id, data):
        delivery = load(schemas.Delivery, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            ro.deliver(delivery["delivered_by"], store.approved_lines(tx, ro.repair_order_id), now())
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return self._dump(tx, ro.repair_order_id)

    # -- closing: paid, or a set time after delivery ---------------------------------------------------
    @on_event("invoice.paid")
    def close_paid_order(self, tx, event):
        row = store.repair_order_to_change(tx, event["repair_order_id"])
        if row is None:
            return
        ro = domain.RepairOrder.from_row(row)
        if ro.close_on_payment(now()):
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)

    @timer(interval=config.sla_check_interval())
    def close_delivered_orders(self):
        """Delivered orders still open when their branch's time after delivery has passed are closed."""
        try:
            with self.db.transaction() as tx:
                at = now()
                for row in store.delivered_due(tx, at, domain.CLOSE_AFTER_DELIVERY_SECONDS):
                    ro = domain.RepairOrder.from_row(row)
                    if ro.close_if_due(at, row["after_seconds"]):
                        store.save_repair_order(tx, ro)
                        tx.publish_recorded(ro)
        except errors.Unavailable as exc:
            log.warning("closing delivered orders skipped: %s", exc)

    # -- the customer kept informed: updates while work runs, and delays told at once -------------------
    @timer(interval=config.sla_check_interval())
    def keep_customers_informed(self):
        """Every order under way: an update when the customer has not heard for the branch's interval
        while work runs, and the delay when it runs 20 % past its estimate."""
        try:
            with self.db.transaction() as tx:
                at = now()
                due = store.due_for_customer(tx, at, domain.PROGRESS_EVERY_SECONDS, domain.DELAY_THRESHOLD_PCT,
                                             domain.FIXED_ESTIMATE_SECONDS)
                for row in due:
                    ro = domain.RepairOrder.from_row(row)
                    every = row["progress_every_seconds"] or domain.PROGRESS_EVERY_SECONDS
                    threshold = row["delay_threshold_pct"]
                    threshold = domain.DELAY_THRESHOLD_PCT if threshold is None else threshold
                    told = ro.progress_update(at, every, row["last_progress_at"] or row["approved_at"])
                    late = ro.delayed_at is None and ro.delay_if_late(at, threshold, self._remaining(tx, row))
                    if told or late:
                        store.save_repair_order(tx, ro)
                        tx.publish_recorded(ro)
        except errors.Unavailable as exc:
            log.warning("progress and delays skipped: %s", exc)

    def _remaining(self, tx, row) -> float:
        """The work still to do: the approved labour not yet clocked, and the parts wait if they are short."""
        labour_hours = sum(float(l["quantity"]) for l in store.approved_lines(tx, row["repair_order_id"])
                           if l["kind"] == "labour")
        clocked = sum(domain.Job.from_row(j).clocked_until(now()) for j in store.jobs(tx, row["repair_order_id"]))
        return domain.remaining_work_seconds(labour_hours, clocked, row["parts_status"])

    # -- the branch's workshop settings ------------------------------------------------------------------
    @rpc
    def get_workshop_settings(self, branch_id):
        with self.db.read() as tx:
            return self._settings(tx, str(branch_id)[:40])

    @rpc
    def set_workshop_settings(self, branch_id, data):
        changes = load(schemas.WorkshopSettingsChange, data or {})
        with self.db.command() as tx:
            store.save_settings(tx, str(branch_id)[:40], changes)
            return self._settings(tx, str(branch_id)[:40])

    def _settings(self, tx, branch_id):
        settings = domain.WorkshopSettings.from_row(branch_id, store.settings(tx, branch_id))
        return WORKSHOP_SETTINGS.dump(settings)

    @rpc
    def cancel_repair_order(self, repair_order_id, data):
        cancel = load(schemas.Cancellation, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            superseded = ro.cancel(cancel["reason"])
            if superseded is not None:
                store.close_quote(tx, superseded)
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return self._dump(tx, ro.repair_order_id)

    # -- reading ---------------------------------------------------------------------------------------
    @rpc
    def get_repair_order(self, repair_order_id):
        with self.db.read() as tx:
            return REPAIR_ORDER.dump(with_quality(self._admit(store.view(tx, record_id(repair_order_id,
                                                                                       "repair_order")))))

    @rpc
    def list_repair_orders(self, query):
        filters = load(schemas.RepairOrderQuery, query or {})
        with self.db.read() as tx:
            return page_of(REPAIR_ORDER, store.page_repair_orders(tx, filters))

    @rpc
    def list_quotes(self, query):
        filters = load(schemas.QuoteQuery, query or {})
        with self.db.read() as tx:
            page = store.page_quotes(tx, filters)
            lines = store.lines_of_quotes(tx, [q["quote_id"] for q in page["items"]])
            page["items"] = [with_range({**q, "lines": lines[q["quote_id"]]}) for q in page["items"]]
            return page_of(QUOTE, page)

    @rpc
    def list_jobs(self, query):
        filters = load(schemas.JobQuery, query or {})
        with self.db.read() as tx:
            return page_of(JOB, store.page_jobs(tx, filters))

    @rpc
    def customer_view(self, number, plate):
        """For the customer holding the number and the plate; a wrong plate looks like no such order."""
        with self.db.read() as tx:
            ro = store.by_number(tx, str(number)[:40])
            if ro is None or ro["plate_key"] != plate_key(str(plate)) or not ro["plate_key"]:
                raise errors.NotFound("no repair order with that number and plate", {})
            return self._customer_view(tx, ro)

    @rpc
    def customer_view_by_link(self, repair_order_id, number):
        """For the customer following a link crm sent (the gateway checked its signature)."""
        with self.db.read() as tx:
            ro = store.by_number(tx, str(number)[:40])
            if ro is None or str(ro["repair_order_id"]) != str(repair_order_id):
                raise errors.NotFound("no repair order for that link", {})
            return self._customer_view(tx, ro)

    @staticmethod
    def _customer_view(tx, ro):
        waiting = store.open_quote_of(tx, ro["repair_order_id"])
        return CUSTOMER_VIEW.dump({
            "repair_order_id": ro["repair_order_id"], "branch_id": ro["branch_id"],
            "promised_at": store.promised_at(tx, ro["repair_order_id"]),
            "waiting": store.quote_with_lines(tx, waiting["quote_id"]) if waiting else None,
            "number": ro["number"], "status": ro["status"], "stage": domain.PUBLIC_STAGES[ro["status"]],
            "timeline": store.timeline(tx, ro["repair_order_id"], public=True),
            "approved_lines": store.approved_lines(tx, ro["repair_order_id"]),
            "approved_total_cents": ro["approved_total_cents"],
            "supplement": with_range({**supplement, "kind": "supplement"}) if (
                supplement := store.open_supplement(tx, ro["repair_order_id"])) else None,
        })

    # -- technician time ---------------------------------------------------------------------------------
    @rpc
    def technician_time(self, query):
        """Efficiency and productivity of a branch's technicians over whole days (UTC)."""
        period = load(schemas.TechnicianTimeQuery, query or {})
        return TECHNICIAN_TIME.dump(self._technician_time(period["branch_id"], period["from"], period["to"]))

    @rpc
    def technician_time_figures(self):
        """Today's figures (UTC) of every branch where a job started today: the Prometheus gauges."""
        today = now().date()
        with self.db.read() as tx:
            branches = store.active_branches(tx, today, today)
        return [TECHNICIAN_TIME.dump(self._technician_time(b, today, today)) for b in branches]

    def _technician_time(self, branch_id, day_from, day_to):
        with self.db.read() as tx:
            jobs, order_jobs, labour = store.period_jobs(tx, branch_id, day_from, day_to)
        by_order = {}
        for row in order_jobs:
            by_order.setdefault(row["repair_order_id"], []).append(domain.Job.from_row(row))
        available = self._available_seconds(branch_id, day_from, day_to)
        figures = technician_time([(domain.Job.from_row(j), j["repair_order_id"]) for j in jobs], by_order, labour,
                                  available, now())
        return {"branch_id": branch_id, "from": day_from, "to": day_to, **figures,
                "billed_hours_rule": BILLED_HOURS_RULE,
                "available_hours_source": "booking shifts" if available is not None else "unknown"}

    def _available_seconds(self, branch_id, day_from, day_to) -> dict | None:
        """Each technician's hours on shift, from booking; None when booking cannot tell (yet)."""
        try:
            rows = ask("booking", "the technicians' shifts", self.booking.technician_hours, branch_id,
                       day_from.isoformat(), day_to.isoformat())
        except Exception as exc:  # no shifts known: productivity is unknown, efficiency still stands
            log.info("technician hours from booking unavailable: %s", exc.__class__.__name__)
            return None
        if not rows:  # booking does not know the branch, or no technician has shifts there: unknown
            return None
        return {r["technician_id"]: int(r["available_seconds"]) for r in rows}

    # -- first-time-fix -----------------------------------------------------------------------------------
    @rpc
    def first_time_fix(self, query):
        """Orders delivered in the period, how many came back for the same fault, and the share that did not."""
        period = load(schemas.TechnicianTimeQuery, query or {})
        with self.db.read() as tx:
            return self._first_time_fix(tx, period["branch_id"], period["from"], period["to"])

    @rpc
    def first_time_fix_figures(self):
        """The last 30 days (UTC) of every branch that delivered in them: the Prometheus gauges."""
        today = now().date()
        start = today - timedelta(days=29)
        with self.db.read() as tx:
            return [self._first_time_fix(tx, b, start, today)
                    for b in store.delivering_branches(tx, datetime.combine(start, datetime.min.time(), timezone.utc))]

    def _first_time_fix(self, tx, branch_id, day_from, day_to):
        counts = store.first_time_fix(tx, branch_id, day_from, day_to)
        return FIRST_TIME_FIX.dump({"branch_id": branch_id, "from": day_from, "to": day_to, **counts,
                                    "first_time_fix": domain.first_time_fix(counts["delivered"], counts["came_back"])})

    # -- SLA: when will this repair really be ready? -------------------------------------------------
    def sla_predict(self, policy, clock, tx):
        """Now + the approved labour not yet clocked + the local sourcing tier if parts are short."""
        ro = store.repair_order(tx, clock["subject_id"])
        if ro is None:
            return None
        labour_hours = sum(float(l["quantity"]) for l in store.approved_lines(tx, ro["repair_order_id"])
                           if l["kind"] == "labour")
        clocked = sum(j["clocked_seconds"] or 0 for j in store.jobs(tx, ro["repair_order_id"]))
        remaining = domain.remaining_work_seconds(labour_hours, clocked, ro["parts_status"])
        return policy.clock(org.get_branch(tx, ro["branch_id"])).add(now(), remaining)

    # -- helpers ----------------------------------------------------------------------------------------
    def _repair_order_to_change(self, tx, repair_order_id) -> domain.RepairOrder:
        """The repair order named in a command, locked, if the caller may act on it."""
        row = store.repair_order_to_change(tx, record_id(repair_order_id, "repair_order"))
        return domain.RepairOrder.from_row(self._admit(row))

    def _admit(self, ro):
        return self.scope.admit(ro, errors.NotFound("no such repair order",
                                                    {"repair_order_id": ["unknown repair order"]}))

    def _dump(self, tx, repair_order_id):
        return REPAIR_ORDER.dump(with_quality(store.view(tx, repair_order_id)))
