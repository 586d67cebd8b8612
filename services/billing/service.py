"""billing: invoices from delivered repair orders, payments, warranty claims."""
import uuid
from datetime import datetime, timezone

from services.billing import domain, schemas, store
from shared import org
from shared.contracts import errors
from shared.storage.dependencies import Database
from shared.bus.messaging import on_event
from shared.org import BranchDirectory
from shared.bus.rpc import load, record_id, rpc
from shared.contracts.schemas import page_of
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks

INVOICE, PAYMENT, CLAIM = schemas.Invoice(), schemas.PaymentOut(), schemas.WarrantyClaim()


def now():
    return datetime.now(timezone.utc)


class BillingService(SlaClocks, BranchDirectory):
    name = "billing"

    db = Database()
    scope = CallerScope()

    @on_event("repair_order.delivered")
    def issue_invoice(self, tx, event):
        if store.invoice_for_repair_order(tx, event["repair_order_id"]):
            return
        branch = org.get_branch(tx, event["branch_id"])
        invoice = domain.Invoice.issue(
            invoice_id=uuid.uuid4(), number=store.next_number(tx, event["branch_id"]),
            repair_order_id=event["repair_order_id"], branch_id=event["branch_id"],
            customer_id=event["customer_id"], lines=event["lines"], tax_rate_bp=branch["tax_rate_bp"], now=now())
        if store.insert_invoice(tx, domain.stored(invoice), invoice.lines) is None:
            return  # the same delivery, announced twice at once: the other one invoiced it
        claim = domain.WarrantyClaim.of(invoice, claim_id=uuid.uuid4())
        if claim is not None:
            store.insert_claim(tx, domain.stored(claim))
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
            return page_of(CLAIM, store.page_claims(tx, filters))

    def _invoice(self, tx, invoice_id, lock=False):
        return self.scope.admit(store.invoice(tx, record_id(invoice_id, "invoice"), lock=lock),
                                errors.NotFound("no such invoice", {"invoice_id": ["unknown invoice"]}))

    def _dump(self, tx, invoice):
        return INVOICE.dump({**invoice, "lines": store.lines(tx, invoice["invoice_id"])})
