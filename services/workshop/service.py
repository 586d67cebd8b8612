"""workshop: repair orders from check-in to hand-over."""
import re
import uuid
from datetime import datetime, timezone

from services.workshop import domain, schemas, store
from shared import org
from shared.contracts import errors
from shared.storage.dependencies import Database
from shared.bus.messaging import on_event
from shared.org import BranchDirectory
from shared.bus.rpc import load, record_id, rpc
from shared.contracts.schemas import page_of
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks

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
        row = store.insert_repair_order(tx, {
            "repair_order_id": uuid.uuid4(), "number": store.next_number(tx, event["branch_id"]),
            "branch_id": event["branch_id"], "booking_id": event["booking_id"],
            "customer_id": event["customer_id"], "vehicle_id": event["vehicle_id"], "plate": event["plate"],
            "plate_key": plate_key(event["plate"]), "priority": event["priority"],
            "fault_description": event["fault_description"], "odometer_km": event["odometer_km"],
            "status": "checked_in",
        })
        if row is None:
            return  # this booking already has its repair order
        ro = domain.RepairOrder.from_row(row)
        ro.opened(event["advisor"])
        store.add_timeline(tx, ro.repair_order_id, ro.take_notes())
        tx.publish_recorded(ro)

    @on_event("part.catalogued")
    def copy_part_price(self, tx, event):
        store.save_part_price(tx, event["part_number"], event["description"], event["price_cents"])

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
            rate = org.get_branch(tx, ro.branch_id)["labour_rate_cents"]
            prices = store.part_prices(tx, {l["part_number"] for l in request["lines"] if l["part_number"]})
            lines = [{**line, "line_id": uuid.uuid4()} for line in request["lines"]]
            quote, superseded = ro.issue_quote(uuid.uuid4(), lines, rate, prices)
            if superseded is not None:
                store.close_quote(tx, superseded)
            store.insert_quote(tx, ro.repair_order_id, ro.branch_id, quote)
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return QUOTE.dump(store.quote_with_lines(tx, quote.quote_id))

    @rpc
    def approve_quote(self, repair_order_id, data):
        approval = load(schemas.Approval, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            quote, approved = ro.approve(approval["quote_id"], approval["decisions"], approval["consent"])
            store.decide_quote(tx, quote, approved, approval["consent"])
            store.save_repair_order(tx, ro)
            tx.publish_recorded(ro)
            return self._dump(tx, ro.repair_order_id)

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

    # -- jobs and holds -------------------------------------------------------------------------------
    @rpc
    def start_job(self, repair_order_id, data):
        start = load(schemas.StartJob, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            job = ro.start_job(uuid.uuid4(), start["technician_id"], start["description"], now())
            store.save_repair_order(tx, ro)
            saved = store.insert_job(tx, ro.repair_order_id, ro.branch_id, job)
            tx.publish_recorded(ro)
            return JOB.dump(saved)

    @rpc
    def finish_job(self, repair_order_id, job_id, data):
        finish = load(schemas.FinishJob, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            job = ro.finish_job(record_id(job_id, "job"), finish["notes"], now())
            store.save_repair_order(tx, ro)
            saved = store.finish_job(tx, job)
            tx.publish_recorded(ro)
            return JOB.dump(saved)

    @rpc
    def put_on_hold(self, repair_order_id, data):
        hold = load(schemas.Hold, data)
        with self.db.command() as tx:
            ro = self._repair_order_to_change(tx, repair_order_id)
            ro.hold(hold["reason"])
            store.save_repair_order(tx, ro)
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
            at = now()
            if check["passed"]:
                ro.pass_qc(check["checked_by"])
            else:
                ro.fail_qc(check["checked_by"], check["notes"], at)
            store.add_quality_check(tx, ro.repair_order_id, check["checked_by"], check["passed"], check["notes"], at)
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
    def _repair_order_to_change(self, tx, repair_order_id) -> domain.RepairOrder:
        """The repair order named in a command, locked, if the caller may act on it."""
        row = store.repair_order_to_change(tx, record_id(repair_order_id, "repair_order"))
        return domain.RepairOrder.from_row(self._admit(row))

    def _admit(self, ro):
        return self.scope.admit(ro, errors.NotFound("no such repair order",
                                                    {"repair_order_id": ["unknown repair order"]}))

    def _dump(self, tx, repair_order_id):
        return REPAIR_ORDER.dump(store.view(tx, repair_order_id))
