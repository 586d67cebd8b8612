"""workshop: repair orders from check-in to hand-over."""
import re
import uuid
from datetime import datetime, timezone

from services.workshop import domain, schemas, store
from shared import errors, org
from shared.dependencies import Database
from shared.messaging import on_event
from shared.org import BranchDirectory
from shared.rpc import load, record_id, rpc
from shared.schemas import page_of
from shared.scope import CallerScope
from shared.sla_service import SlaClocks

REPAIR_ORDER, QUOTE, JOB = schemas.RepairOrder(), schemas.Quote(), schemas.Job()
CUSTOMER_VIEW = schemas.CustomerView()


def now():
    return datetime.now(timezone.utc)


def plate_key(plate: str) -> str:
    return re.sub(r"[\s-]", "", plate or "").upper()


class WorkshopService(SlaClocks, BranchDirectory):
    name = "workshop"

    db = Database()
    scope = CallerScope()

    # -- opening -----------------------------------------------------------------------------------
    @on_event("booking.checked_in")
    def open_repair_order(self, tx, event):
        ro = store.insert_repair_order(tx, {
            "repair_order_id": uuid.uuid4(), "number": store.next_number(tx, event["branch_id"]),
            "branch_id": event["branch_id"], "booking_id": event["booking_id"],
            "customer_id": event["customer_id"], "vehicle_id": event["vehicle_id"], "plate": event["plate"],
            "plate_key": plate_key(event["plate"]), "priority": event["priority"],
            "fault_description": event["fault_description"], "odometer_km": event["odometer_km"],
            "status": "checked_in",
        })
        if ro is None:
            return  # this booking already has its repair order
        store.add_timeline(tx, ro["repair_order_id"], "checked_in", f"received by {event['advisor']}", public=False)
        store.add_timeline(tx, ro["repair_order_id"], "checked_in")
        tx.publish("repair_order.opened", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                   number=ro["number"], booking_id=ro["booking_id"], customer_id=ro["customer_id"],
                   vehicle_id=ro["vehicle_id"], priority=ro["priority"], plate=ro["plate"])

    @on_event("part.catalogued")
    def copy_part_price(self, tx, event):
        store.save_part_price(tx, event["part_number"], event["description"], event["price_cents"])

    # -- diagnosis and quote -----------------------------------------------------------------------
    @rpc
    def record_diagnosis(self, repair_order_id, data):
        diagnosis = load(schemas.Diagnosis, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            self._move(tx, ro, "diagnosed", f"diagnosed by {diagnosis['diagnosed_by']}")
            store.add_findings(tx, ro["repair_order_id"], diagnosis["findings"], diagnosis["diagnosed_by"])
            tx.publish("diagnosis.recorded", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                       findings=diagnosis["findings"])
            return self._dump(tx, ro["repair_order_id"])

    @rpc
    def issue_quote(self, repair_order_id, data):
        request = load(schemas.NewQuote, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            if ro["status"] not in domain.QUOTABLE:
                raise errors.Conflict(f"a repair order that is {ro['status']} cannot be quoted",
                                      {"status": [f"is {ro['status']}"]})
            branch = org.get_branch(tx, ro["branch_id"])
            prices = store.part_prices(tx, {l["part_number"] for l in request["lines"] if l["part_number"]})
            lines = [{**domain.price_line(line, branch["labour_rate_cents"], prices), "line_id": uuid.uuid4()}
                     for line in request["lines"]]
            quote = {"quote_id": uuid.uuid4(), "repair_order_id": ro["repair_order_id"],
                     "branch_id": ro["branch_id"], "total_cents": sum(l["net_cents"] for l in lines)}
            store.supersede_open_quote(tx, ro["repair_order_id"])
            store.insert_quote(tx, quote, lines)
            self._move(tx, ro, "awaiting_approval")
            tx.publish("quote.issued", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                       quote_id=quote["quote_id"], lines=lines, total_cents=quote["total_cents"])
            return QUOTE.dump(store.quote_with_lines(tx, quote["quote_id"]))

    @rpc
    def approve_quote(self, repair_order_id, data):
        approval = load(schemas.Approval, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            quote = store.open_quote(tx, ro["repair_order_id"])
            if quote is None or quote["quote_id"] != approval["quote_id"]:
                raise errors.Conflict("that quote is not awaiting approval",
                                      {"quote_id": ["not the open quote of this repair order"]})
            lines = store.quote_lines(tx, quote["quote_id"])
            approved, declined = domain.decide(lines, approval["decisions"])
            store.decide_quote(tx, quote["quote_id"], "approved" if approved else "declined",
                               [l["line_id"] for l in approved], approval["consent"])
            consent = f"{approval['consent']['method']} by {approval['consent']['by']}"
            if not approved:
                self._move(tx, ro, "diagnosed", f"quote declined ({consent})")
                tx.publish("quote.declined", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                           quote_id=quote["quote_id"], declined_line_ids=declined)
            else:
                total = sum(l["net_cents"] for l in approved)
                needs_parts = domain.parts_needed(approved)
                store.update_repair_order(tx, ro["repair_order_id"], approved_total_cents=total,
                                          parts_status="pending" if needs_parts else "none")
                self._move(tx, ro, "approved", f"approved ({consent})")
                tx.publish("quote.approved", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                           quote_id=quote["quote_id"], approved_lines=approved, declined_line_ids=declined,
                           approved_total_cents=total)
            return self._dump(tx, ro["repair_order_id"])

    # -- parts ---------------------------------------------------------------------------------------
    @on_event("parts.reserved")
    def parts_reserved(self, tx, event):
        ro = store.repair_order(tx, event["repair_order_id"], lock=True)
        if ro is None or ro["status"] == "cancelled":
            return
        store.update_repair_order(tx, ro["repair_order_id"], parts_status="reserved")
        if ro["status"] == "waiting_for_parts":
            self._move(tx, ro, "approved", "parts arrived")
            tx.publish("repair_order.resumed", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                       reason="parts")

    @on_event("parts.shortage")
    def parts_short(self, tx, event):
        ro = store.repair_order(tx, event["repair_order_id"], lock=True)
        if ro is None or ro["status"] != "approved":
            return
        store.update_repair_order(tx, ro["repair_order_id"], parts_status="short")
        missing = ", ".join(f"{l['part_number']} ({l['available']}/{l['requested']})" for l in event["lines"])
        self._move(tx, ro, "waiting_for_parts", f"short: {missing}")
        tx.publish("repair_order.on_hold", ro["branch_id"], repair_order_id=ro["repair_order_id"], reason="parts")

    # -- jobs -----------------------------------------------------------------------------------------
    @rpc
    def start_job(self, repair_order_id, data):
        start = load(schemas.StartJob, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            if ro["parts_status"] in ("pending", "short"):
                raise errors.Conflict("the approved parts are not reserved yet",
                                      {"parts_status": [f"is {ro['parts_status']}"]})
            if ro["status"] != "in_progress":
                self._move(tx, ro, "in_progress", "job started")
            job = store.insert_job(tx, {**start, "job_id": uuid.uuid4(), "repair_order_id": ro["repair_order_id"],
                                        "branch_id": ro["branch_id"], "started_at": now()})
            tx.publish("job.started", ro["branch_id"], repair_order_id=ro["repair_order_id"], job_id=job["job_id"],
                       technician_id=job["technician_id"], started_at=job["started_at"])
            return JOB.dump(job)

    @rpc
    def finish_job(self, repair_order_id, job_id, data):
        finish = load(schemas.FinishJob, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            job = store.job(tx, ro["repair_order_id"], record_id(job_id, "job"), lock=True)
            if job is None:
                raise errors.NotFound("no such job on this repair order", {"job_id": ["unknown job"]})
            if job["finished_at"] is not None:
                raise errors.Conflict("the job is already finished", {"job_id": ["finished"]})
            job = store.finish_job(tx, job["job_id"], now(), finish["notes"])
            if all(j["finished_at"] for j in store.jobs(tx, ro["repair_order_id"])) and ro["status"] == "in_progress":
                self._move(tx, ro, "quality_check", "work done")
            tx.publish("job.finished", ro["branch_id"], repair_order_id=ro["repair_order_id"], job_id=job["job_id"],
                       technician_id=job["technician_id"], finished_at=job["finished_at"],
                       clocked_seconds=job["clocked_seconds"])
            return JOB.dump(job)

    @rpc
    def put_on_hold(self, repair_order_id, data):
        hold = load(schemas.Hold, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            self._move(tx, ro, "on_hold", f"waiting for {hold['reason']}")
            tx.publish("repair_order.on_hold", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                       reason=hold["reason"])
            return self._dump(tx, ro["repair_order_id"])

    @rpc
    def resume_repair_order(self, repair_order_id):
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            self._move(tx, ro, "in_progress", "work resumed")
            tx.publish("repair_order.resumed", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                       reason="resumed")
            return self._dump(tx, ro["repair_order_id"])

    # -- quality check and hand-over ---------------------------------------------------------------
    @rpc
    def quality_check(self, repair_order_id, data):
        check = load(schemas.QualityCheck, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            if ro["status"] != "quality_check":
                raise errors.Conflict("the work is not finished", {"status": [f"is {ro['status']}"]})
            domain.check_peer(check["checked_by"], {j["technician_id"] for j in store.jobs(tx, ro["repair_order_id"])})
            store.add_quality_check(tx, ro["repair_order_id"], check["checked_by"], check["passed"], check["notes"])
            facts = {"repair_order_id": ro["repair_order_id"], "checked_by": check["checked_by"]}
            if check["passed"]:
                self._move(tx, ro, "ready", "quality check passed")
                tx.publish("qc.passed", ro["branch_id"], **facts)
                tx.publish("repair_order.ready", ro["branch_id"], repair_order_id=ro["repair_order_id"])
            else:
                self._move(tx, ro, "in_progress", "quality check failed: rework")
                tx.publish("qc.failed", ro["branch_id"], reason=check["notes"] or "failed", **facts)
            return self._dump(tx, ro["repair_order_id"])

    @rpc
    def deliver(self, repair_order_id, data):
        delivery = load(schemas.Delivery, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            self._move(tx, ro, "delivered", f"handed over by {delivery['delivered_by']}")
            at = now()
            store.update_repair_order(tx, ro["repair_order_id"], delivered_at=at)
            tx.publish("repair_order.delivered", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                       number=ro["number"], customer_id=ro["customer_id"], vehicle_id=ro["vehicle_id"],
                       delivered_at=at, lines=store.approved_lines(tx, ro["repair_order_id"]))
            return self._dump(tx, ro["repair_order_id"])

    @rpc
    def cancel_repair_order(self, repair_order_id, data):
        cancel = load(schemas.Cancellation, data)
        with self.db.transaction() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)
            if store.jobs(tx, ro["repair_order_id"]):
                raise errors.Conflict("work has started; it cannot be cancelled", {"status": ["work started"]})
            self._move(tx, ro, "cancelled", cancel["reason"])
            store.supersede_open_quote(tx, ro["repair_order_id"])
            tx.publish("repair_order.cancelled", ro["branch_id"], repair_order_id=ro["repair_order_id"],
                       reason=cancel["reason"])
            return self._dump(tx, ro["repair_order_id"])

    # -- reading ---------------------------------------------------------------------------------------
    @rpc
    def get_repair_order(self, repair_order_id):
        with self.db.read() as tx:
            return REPAIR_ORDER.dump(self._admit(store.view(tx, record_id(repair_order_id, "repair_order"))))

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
            page["items"] = [{**q, "lines": lines[q["quote_id"]]} for q in page["items"]]
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
            return CUSTOMER_VIEW.dump({
                "number": ro["number"], "status": ro["status"], "stage": domain.PUBLIC_STAGES[ro["status"]],
                "timeline": store.timeline(tx, ro["repair_order_id"], public=True),
                "approved_lines": store.approved_lines(tx, ro["repair_order_id"]),
                "approved_total_cents": ro["approved_total_cents"],
            })

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
    def _repair_order(self, tx, repair_order_id, lock=False):
        return self._admit(store.repair_order(tx, record_id(repair_order_id, "repair_order"), lock=lock))

    def _admit(self, ro):
        return self.scope.admit(ro, errors.NotFound("no such repair order",
                                                    {"repair_order_id": ["unknown repair order"]}))

    def _move(self, tx, ro, target, note=""):
        status = domain.transition(ro["status"], target)
        store.update_repair_order(tx, ro["repair_order_id"], status=status)
        store.add_timeline(tx, ro["repair_order_id"], status, note, public=False)
        if status != ro["status"]:
            store.add_timeline(tx, ro["repair_order_id"], status)
        ro["status"] = status

    def _dump(self, tx, repair_order_id):
        return REPAIR_ORDER.dump(store.view(tx, repair_order_id))
