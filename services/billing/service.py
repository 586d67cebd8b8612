"""billing: invoices from delivered repair orders (approved lines only, discounts, tax per line, gapless
numbers), payments and refunds, warranty decisions and claims, credit notes within complaint authority."""
import uuid
from datetime import UTC, datetime, timedelta

from nameko.timer import timer

from services.billing import domain, store
from shared import config, org
from shared.bus.messaging import NotYetKnown, on_event
from shared.bus.rpc import ServiceRpcProxy, ask, load, record_id, rpc
from shared.contracts import errors
from shared.contracts.api import billing as schemas
from shared.contracts.schemas import page_of
from shared.domain import RuleBroken
from shared.org import BranchDirectory
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks
from shared.storage.dependencies import Database

INVOICE, PAYMENT, CLAIM = schemas.Invoice(), schemas.PaymentOut(), schemas.WarrantyClaim()
DISCOUNT, CHECK, CREDIT_NOTE = schemas.DiscountOut(), schemas.WarrantyCheckOut(), schemas.CreditNoteOut()
PACKET = schemas.ClaimPacket()
REMIND_BEFORE = timedelta(days=30)  # warranty.ending goes one month before a warranty ends


def now():
    return datetime.now(UTC)


class BillingService(SlaClocks, BranchDirectory):
    name = "billing"

    db = Database()
    scope = CallerScope()
    crm_rpc = ServiceRpcProxy("crm")  # the claim packet's VIN: crm holds vehicles

    # -- what billing keeps from workshop's and crm's events -------------------------------------------
    @on_event("repair_order.opened")
    def keep_repair_order(self, tx, event):
        store.save_repair_order(tx, event)

    @on_event("diagnosis.recorded")
    def keep_findings(self, tx, event):
        store.add_findings(tx, event["repair_order_id"], [dict(f) for f in event["findings"]])

    @on_event("job.finished")
    def keep_clocked_time(self, tx, event):
        store.add_clocked(tx, event["repair_order_id"], event["clocked_seconds"])

    @on_event("quote.approved")
    def keep_quote_approval(self, tx, event):
        self._approved(tx, event)

    @on_event("supplement.approved")
    def keep_supplement_approval(self, tx, event):
        self._approved(tx, event)

    def _approved(self, tx, event):
        """The approved lines are the most billing will charge; each warranty line is decided now, before
        the work, from billing's register of parts installed on the vehicle."""
        lines = [_json_line(line) for line in event["approved_lines"]]
        store.save_approved_lines(tx, event["repair_order_id"], event["quote_id"], lines)
        ro = store.repair_order(tx, event["repair_order_id"])
        for line in (line for line in lines if line["pay_type"] == domain.WARRANTY):
            fitted = ro and line.get("part_number") and store.installed_part(tx, ro["vehicle_id"], line["part_number"])
            self._decide(tx, event["repair_order_id"], event["branch_id"], line, decided_by="billing",
                         installed_on=fitted["installed_on"] if fitted else None, installed_km=None,
                         odometer_km=None, exclusions=())

    def _decide(self, tx, repair_order_id, branch_id, line, *, decided_by, installed_on, installed_km,
                odometer_km, exclusions):
        decision = domain.warranty_decision(line=line, installed_on=installed_on, installed_km=installed_km,
                                            today=now().date(), odometer_km=odometer_km, exclusions=exclusions)
        row = store.insert_warranty_check(tx, {
            "check_id": uuid.uuid4(), "repair_order_id": repair_order_id, "line_id": line["line_id"],
            "branch_id": branch_id, "eligible": decision["eligible"], "reason": decision["reason"],
            "terms": decision["terms"], "installed_on": installed_on, "ends_on": decision["ends_on"],
            "odometer_km": odometer_km, "exclusions": list(exclusions), "decided_by": decided_by})
        tx.publish("warranty.checked", branch_id, check_id=row["check_id"], repair_order_id=repair_order_id,
                   line_id=line["line_id"], eligible=row["eligible"], reason=row["reason"], ends_on=row["ends_on"])
        return row

    @on_event("complaint.opened")
    def keep_complaint(self, tx, event):
        store.save_complaint(tx, {**event, "status": "open"}, opened=True)

    @on_event("complaint.escalated")
    def keep_complaint_escalation(self, tx, event):
        self._complaint_moved(tx, event, None)

    @on_event("complaint.resolved")
    def keep_complaint_resolution(self, tx, event):
        self._complaint_moved(tx, event, "resolved")

    @on_event("complaint.reopened")
    def keep_complaint_reopening(self, tx, event):
        self._complaint_moved(tx, event, "open")

    def _complaint_moved(self, tx, event, status):
        known = store.complaint(tx, event["complaint_id"])
        store.save_complaint(tx, {"complaint_id": event["complaint_id"], "branch_id": event["branch_id"],
                                  "customer_id": event["customer_id"], "level": event["level"],
                                  "status": status or (known["status"] if known else "open")})

    # -- the invoice ---------------------------------------------------------------------------------
    @on_event("repair_order.delivered")
    def issue_invoice(self, tx, event):
        """Insert the invoice and its lines first, then take the branch's number as the last step: the
        counter's row lock is held only from there to the commit."""
        if store.invoice_for_repair_order(tx, event["repair_order_id"]):
            return
        branch = org.get_branch(tx, event["branch_id"])
        ro = store.repair_order(tx, event["repair_order_id"], lock=True)  # a discount being recorded waits
        # an order billing saw opened is held to its approvals; an older one (before approvals were recorded) as delivered
        approved = None
        if ro is not None:
            approvals = store.approvals(tx, ro["repair_order_id"])
            awaited = set(map(str, event.get("approved_quote_ids") or ())) - {str(a["quote_id"]) for a in approvals}
            if awaited:
                raise NotYetKnown(f"the approval of {', '.join(sorted(awaited))} has not reached billing yet")
            approved = {str(a["line"]["line_id"]): a["line"]["net_cents"] for a in approvals}
        invoice = domain.Invoice.issue(
            invoice_id=uuid.uuid4(), repair_order_id=event["repair_order_id"], branch_id=event["branch_id"],
            customer_id=event["customer_id"], lines=event["lines"], tax_rate_bp=branch["tax_rate_bp"], now=now(),
            approved=approved, discounts=store.discounts(tx, event["repair_order_id"]),
            warranty=store.warranty_decisions(tx, event["repair_order_id"]))
        if store.insert_invoice(tx, domain.stored(invoice), invoice.lines) is None:
            return  # the same delivery, announced twice at once: the other one invoiced it
        claim = domain.WarrantyClaim.of(invoice, claim_id=uuid.uuid4())
        if claim is not None:
            store.insert_claim(tx, {**domain.stored(claim), "lines": [_json_line(l) for l in claim.lines]})
        store.register_parts(tx, domain.installed_parts(invoice, event["vehicle_id"], event["delivered_at"].date()))
        invoice.numbered(store.next_number(tx, event["branch_id"]))  # last: the counter lock until commit
        store.set_number(tx, invoice.invoice_id, invoice.number)
        tx.publish_recorded(invoice)

    @rpc
    def record_payment(self, invoice_id, data):
        payment = load(schemas.Payment, data)
        with self.db.command() as tx:
            # concurrent payments of one invoice queue at this lock
            invoice = domain.Invoice.from_row(self._invoice(tx, invoice_id, lock=True))
            store.insert_payment(tx, invoice.record_payment(payment_id=uuid.uuid4(), now=now(), **payment))
            row = store.save_payments(tx, invoice)
            tx.publish_recorded(invoice)
            return self._dump(tx, row)

    @rpc
    def get_invoice(self, invoice_id):
        with self.db.read() as tx:
            return self._dump(tx, self._invoice(tx, invoice_id))

    @rpc
    def customer_prices(self, repair_order_id, branch_id, approved, waiting):
        """Gross prices for the customer's page: the approved lines with the discounts recorded so
        far, and the lines waiting for the customer's decision (domain.customer_prices)."""
        with self.db.read() as tx:
            branch = org.get_branch(tx, str(branch_id))
            rate = branch["tax_rate_bp"]
            given = store.discounts(tx, record_id(repair_order_id, "repair_order"))
        return {"approved": domain.customer_prices(approved or [], rate, given),
                "waiting": domain.customer_prices(waiting or [], rate)}

    @rpc
    def invoice_for_repair_order(self, repair_order_id):
        with self.db.read() as tx:
            try:
                invoice = store.invoice_for_repair_order(tx, record_id(repair_order_id, "repair_order"))
            except errors.NotFound:
                invoice = None
            if invoice is None:
                raise errors.NotFound("no invoice for that repair order", {"repair_order_id": ["not invoiced"]})
            return self._dump(tx, invoice)

    @rpc
    def list_invoices(self, query):
        filters = load(schemas.InvoiceQuery, query or {})
        with self.db.read() as tx:
            page = store.page_invoices(tx, filters)
            page["items"] = [{**i, "lines": store.lines(tx, i["invoice_id"])} for i in page["items"]]
            return page_of(INVOICE, page)

    @rpc
    def list_payments(self, query):
        filters = load(schemas.PaymentQuery, query or {})
        with self.db.read() as tx:
            return page_of(PAYMENT, store.page_payments(tx, filters))

    @rpc
    def list_warranty_claims(self, query):
        filters = load(schemas.ClaimQuery, query or {})
        with self.db.read() as tx:
            page = store.page_claims(tx, filters)
            page["items"] = [_claim_out(c) for c in page["items"]]
            return page_of(CLAIM, page)

    # -- discounts, before the invoice -----------------------------------------------------------------
    @rpc
    def record_discount(self, repair_order_id, data):
        discount = load(schemas.Discount, data)
        with self.db.command() as tx:
            ro = self._repair_order(tx, repair_order_id, lock=True)  # queues with the invoice's issue
            domain.discount_allowed(store.invoice_for_repair_order(tx, ro["repair_order_id"]) is not None)
            if discount["line_id"] is not None and str(discount["line_id"]) not in {
                    str(line["line_id"]) for line in store.approved_lines(tx, ro["repair_order_id"])}:
                raise RuleBroken("no approved line with that id on the repair order",
                                 line_id="not an approved line of this repair order")
            row = store.insert_discount(tx, {**discount, "discount_id": uuid.uuid4(),
                                             "repair_order_id": ro["repair_order_id"], "branch_id": ro["branch_id"],
                                             "created_by": discount["created_by"] or "unknown"})
            tx.publish("discount.recorded", ro["branch_id"], discount_id=row["discount_id"],
                       repair_order_id=row["repair_order_id"], line_id=row["line_id"], percent_bp=row["percent_bp"],
                       amount_cents=row["amount_cents"], reason=row["reason"])
            return DISCOUNT.dump(row)

    @rpc
    def list_discounts(self, repair_order_id):
        with self.db.read() as tx:
            ro = self._repair_order(tx, repair_order_id)
            return [DISCOUNT.dump(d) for d in store.discounts(tx, ro["repair_order_id"])]

    # -- warranty decisions and claims ---------------------------------------------------------------
    @rpc
    def check_warranty(self, repair_order_id, data):
        """Decide a warranty line on demand. The install date: billing's own register (the vehicle's
        latest invoiced fitting of the part) first, else the date given in the check; no date: ineligible
        with that reason."""
        check = load(schemas.WarrantyCheck, data)
        with self.db.command() as tx:
            ro = self._repair_order(tx, repair_order_id)
            line = next((line for line in store.approved_lines(tx, ro["repair_order_id"])
                         if line["line_id"] == str(check["line_id"])), None)
            if line is None:
                raise RuleBroken("no approved line with that id on the repair order",
                                 line_id="not an approved line of this repair order")
            if line["pay_type"] != domain.WARRANTY:
                raise RuleBroken("only warranty lines are checked", line_id=f"pay type {line['pay_type']}")
            fitted = line.get("part_number") and store.installed_part(tx, ro["vehicle_id"], line["part_number"])
            row = self._decide(tx, ro["repair_order_id"], ro["branch_id"], line,
                               decided_by=check["decided_by"] or "unknown",
                               installed_on=fitted["installed_on"] if fitted else check["installed_on"],
                               installed_km=check["installed_km"], odometer_km=check["odometer_km"],
                               exclusions=check["exclusions"])
            return CHECK.dump(row)

    @rpc
    def list_warranty_checks(self, repair_order_id):
        with self.db.read() as tx:
            ro = self._repair_order(tx, repair_order_id)
            return [CHECK.dump(c) for c in store.warranty_checks(tx, ro["repair_order_id"])]

    @rpc
    def take_claim_step(self, claim_id, data):
        step = load(schemas.ClaimStep, data)
        with self.db.command() as tx:
            row = self._claim(tx, claim_id, lock=True)
            claim = domain.WarrantyClaim(**{k: row[k] for k in ("claim_id", "repair_order_id", "invoice_id",
                                                                "branch_id", "value_cents", "lines", "status",
                                                                "steps")})
            claim.take_step(step["step"], by=step["by"] or "unknown", now=now(), reason=step["reason"])
            saved = store.save_claim_steps(tx, claim)
            tx.publish_recorded(claim)
            return CLAIM.dump(_claim_out(saved))

    @rpc
    def get_warranty_claim(self, claim_id):
        with self.db.read() as tx:
            return CLAIM.dump(_claim_out(self._claim(tx, claim_id)))

    @rpc
    def claim_packet(self, claim_id):
        """What the manufacturer is sent: VIN (asked of crm, which holds vehicles), odometer, fault codes
        and findings (kept from diagnosis.recorded), parts with numbers, labour and clocked time (kept
        from job.finished), the repair order number (from repair_order.opened)."""
        with self.db.read() as tx:
            claim = self._claim(tx, claim_id)
            ro = store.repair_order(tx, claim["repair_order_id"]) or {}
            invoice = store.invoice(tx, claim["invoice_id"])
            checks = store.warranty_decisions(tx, claim["repair_order_id"])
        vehicle = self._vehicle(ro.get("vehicle_id"))
        findings = ro.get("findings") or []
        odometers = [c["odometer_km"] for c in checks.values() if c["odometer_km"] is not None]
        return PACKET.dump({
            **claim, "repair_order_number": ro.get("number"), "invoice_number": invoice["number"],
            "vehicle_id": ro.get("vehicle_id"), "vin": vehicle.get("vin"), "plate": ro.get("plate"),
            "odometer_km": max(odometers) if odometers else vehicle.get("odometer_km"),
            "fault_codes": [f["code"] for f in findings if f.get("code")], "findings": findings,
            "parts": [{"part_number": l["part_number"], "description": l["description"], "quantity": l["quantity"],
                       "net_cents": l["net_cents"]} for l in claim["lines"] if l["kind"] == "part"],
            "labour": [{"operation": l["description"], "hours": l["quantity"], "net_cents": l["net_cents"]}
                       for l in claim["lines"] if l["kind"] == "labour"],
            "clocked_seconds": ro.get("clocked_seconds", 0)})

    def _vehicle(self, vehicle_id) -> dict:
        if vehicle_id is None:
            return {}
        try:  # crm slow or the vehicle erased: the packet says null for the VIN, it never fails
            return ask("crm", "the vehicle", self.crm_rpc.get_vehicle, str(vehicle_id),
                       none_for=(errors.NotFound, errors.Forbidden)) or {}
        except errors.Unavailable:
            return {}

    @timer(interval=config.sla_check_interval())
    def remind_warranties_ending(self):
        """warranty.ending once per registered warranty, a month before it ends (claimed with SKIP
        LOCKED and marked in the same transaction: several billing processes never remind twice)."""
        try:
            with self.db.transaction() as tx:
                for w in store.claim_warranties_ending(tx, (now() + REMIND_BEFORE).date()):
                    tx.publish("warranty.ending", w["branch_id"], customer_id=w["customer_id"],
                               vehicle_id=w["vehicle_id"], what=f"{w['terms']} warranty of part {w['part_number']}",
                               ends_on=w["ends_on"], part_number=w["part_number"])
        except errors.Unavailable:
            return

    # -- credit notes and refunds --------------------------------------------------------------------
    @rpc
    def issue_credit_note(self, data):
        note = load(schemas.NewCreditNote, data)
        with self.db.command() as tx:
            invoice = self._invoice(tx, note["invoice_id"], lock=True)  # credit notes of one invoice queue here
            credit = domain.CreditNote.issue(
                credit_note_id=uuid.uuid4(), invoice=invoice, complaint=store.complaint(tx, note["complaint_id"]),
                amount_cents=note["amount_cents"], kind=note["kind"], reason=note["reason"],
                limits=store.credit_authority(tx), created_by=note["created_by"] or "unknown")
            store.insert_credit_note(tx, domain.stored(credit))
            store.save_credited(tx, invoice["invoice_id"], invoice["credited_cents"] + credit.amount_cents)
            credit.numbered(store.next_credit_note_number(tx, credit.branch_id))  # last: the counter lock
            row = store.set_credit_note_number(tx, credit.credit_note_id, credit.number)
            tx.publish_recorded(credit)
            return CREDIT_NOTE.dump(row)

    @rpc
    def get_credit_note(self, credit_note_id):
        with self.db.read() as tx:
            return CREDIT_NOTE.dump(self._credit_note(tx, credit_note_id))

    @rpc
    def list_credit_notes(self, query):
        filters = load(schemas.CreditNoteQuery, query or {})
        with self.db.read() as tx:
            return page_of(CREDIT_NOTE, store.page_credit_notes(tx, filters))

    @rpc
    def refund_credit_note(self, credit_note_id, data):
        refund = load(schemas.Refund, data)
        with self.db.command() as tx:
            row = self._credit_note(tx, credit_note_id)
            invoice = domain.Invoice.from_row(self._invoice(tx, row["invoice_id"], lock=True))
            row = store.credit_note(tx, row["credit_note_id"], lock=True)  # after the invoice: one lock order
            credit = domain.CreditNote(**{k: row[k] for k in domain.stored_fields(domain.CreditNote)})
            store.insert_payment(tx, credit.refund(invoice, payment_id=uuid.uuid4(), **refund))
            store.save_refunded(tx, credit.credit_note_id, credit.refunded_cents)
            store.save_payments(tx, invoice)
            tx.publish_recorded(credit)
            return CREDIT_NOTE.dump(store.credit_note(tx, credit.credit_note_id))

    @rpc
    def get_credit_authority(self):
        with self.db.read() as tx:
            return _authority_out(store.credit_authority(tx))

    @rpc
    def set_credit_authority(self, data):
        levels = load(schemas.CreditAuthority, data)["levels"]
        with self.db.command() as tx:
            store.save_credit_authority(tx, {lv["level"]: lv["limit_cents"] for lv in levels})
            return _authority_out(store.credit_authority(tx))

    def _repair_order(self, tx, repair_order_id, lock=False):
        return self.scope.admit(store.repair_order(tx, record_id(repair_order_id, "repair_order"), lock=lock),
                                errors.NotFound("no such repair order", {"repair_order_id": ["unknown repair order"]}))

    def _claim(self, tx, claim_id, lock=False):
        return self.scope.admit(store.claim(tx, record_id(claim_id, "claim"), lock=lock),
                                errors.NotFound("no such warranty claim", {"claim_id": ["unknown claim"]}))

    def _credit_note(self, tx, credit_note_id):
        return self.scope.admit(store.credit_note(tx, record_id(credit_note_id, "credit_note")),
                                errors.NotFound("no such credit note", {"credit_note_id": ["unknown credit note"]}))

    def _invoice(self, tx, invoice_id, lock=False):
        return self.scope.admit(store.invoice(tx, record_id(invoice_id, "invoice"), lock=lock),
                                errors.NotFound("no such invoice", {"invoice_id": ["unknown invoice"]}))

    def _dump(self, tx, invoice):
        return INVOICE.dump({**invoice, "lines": store.lines(tx, invoice["invoice_id"]),
                             "credit_notes": store.credit_notes_of(tx, invoice["invoice_id"]),
                             "payments": store.payments_of(tx, invoice["invoice_id"])})


def _json_line(line: dict) -> dict:
    """A line as JSON keeps it: ids and decimal quantities as text."""
    return {k: (str(v) if k in ("line_id", "quantity") and v is not None else v) for k, v in dict(line).items()}


def _claim_out(row: dict) -> dict:
    claim = domain.WarrantyClaim(**{k: row[k] for k in ("claim_id", "repair_order_id", "invoice_id", "branch_id",
                                                        "value_cents", "lines", "status", "steps")})
    return {**row, "step_needed": claim.step_needed}


def _authority_out(limits: dict) -> dict:
    return {"levels": [{"level": level, "limit_cents": limit,
                        "meaning": "up to the invoice's full amount" if limit is None else f"up to {limit} cents"}
                       for level, limit in sorted(limits.items())]}
