"""The parts service's part for issue 24's thresholds, replenishment and shortage escalation: RPCs and
handlers only (validate, load, call the rules of replenishment.py and escalation.py, save, publish).
PartsService inherits it (services/parts/service.py)."""
import uuid

from services.parts import donors, escalation, replenishment, store
from services.parts.sites_service import fresh_now
from shared import org
from shared.bus.messaging import on_event
from shared.bus.rpc import load, record_id, rpc
from shared.contracts import errors
from shared.contracts.api import parts as schemas
from shared.contracts.schemas import page_of
from shared.scope import NOT_IN_SCOPE
from shared.sla import store as sla_store

REPLENISHMENT, SHORTAGE = schemas.Replenishment(), schemas.Shortage()


class ShortageTiers:
    # -- thresholds and replenishment ------------------------------------------------------------------------
    def _replenish(self, tx, stock):
        """After a threshold check that crossed (domain.Stock.crossings): keep the safety flag, supersede
        the open proposal when stock recovered, and make the proposal an alert asks for."""
        if {"below_safety", "safety_recovered"} & set(stock.crossings):
            store.set_below_safety(tx, stock.branch_id, stock.part_number, stock.below_safety)
        if replenishment.supersedes(stock.crossings):
            store.supersede_replenishments(tx, stock.branch_id, stock.part_number)
        alert = replenishment.alert_of(stock.crossings)
        if alert is None or store.open_replenishment_exists(tx, stock.branch_id, stock.part_number):
            return
        row = store.stock(tx, stock.branch_id, stock.part_number)
        coming = replenishment.incoming(row.get("in_transit", 0), row.get("on_order", 0),
                                        store.requested_for(tx, stock.branch_id, stock.part_number))
        quantity = replenishment.quantity_to_bring(stock.available, stock.reorder_point, stock.safety_stock, coming)
        if quantity < 1:
            return
        plan = donors.rank(stock.branch_id, stock.region_id, quantity, store.group_stock(tx, stock.part_number),
                           donors.LeadTimes(store.lead_times(tx)), **fresh_now())
        proposal = replenishment.Replenishment.propose(uuid.uuid4(), stock, alert, coming, plan)
        if proposal is not None and store.insert_replenishment(tx, proposal) is not None:
            tx.publish_recorded(proposal)

    @rpc
    def list_replenishments(self, query):
        filters = load(schemas.ReplenishmentQuery, query or {})
        kind, either_side = replenishment.audience_filter(filters.pop("audience", None))
        with self.db.read() as tx:
            return page_of(REPLENISHMENT, store.page_replenishments(tx, filters, kind, either_side))

    @rpc
    def accept_replenishment(self, replenishment_id, data):
        """One call: a transfer proposal becomes a transfer request (the donor must still give it above
        its safety stock), a purchase proposal a purchase order (ledger.py), each in the same transaction
        as the proposal's acceptance."""
        decision = load(schemas.ReplenishmentDecision, data or {})
        replenishment_id = record_id(replenishment_id, "replenishment")
        with self.db.read() as tx:
            found = self._replenishment(tx, replenishment_id)
            found.check_open(by=self.scope.branches)  # refused here, before a transfer is asked for
        if found.kind == "transfer":
            accepted = []

            def then(tx, transfer_row):
                proposal = self._replenishment(tx, replenishment_id, lock=True)
                proposal.accept(by=self.scope.branches, who=decision["acted_by"],
                                transfer_id=transfer_row["transfer_id"])
                accepted.append(store.save_replenishment(tx, proposal))
                tx.publish_recorded(proposal)

            self._request_transfer({"branch_id": found.branch_id, "from_branch_id": found.from_branch_id,
                                    "part_number": found.part_number, "quantity": found.quantity,
                                    "acted_by": decision["acted_by"]}, donor=True, then=then)
            return REPLENISHMENT.dump(accepted[0])
        with self.db.command() as tx:  # a purchase: the ledger's purchase order, in this transaction
            proposal = self._replenishment(tx, replenishment_id, lock=True)
            proposal.check_open(by=self.scope.branches)
            order, _ = self._place_order(tx, proposal.branch_id, proposal.part_number, proposal.quantity)
            proposal.accept(by=self.scope.branches, who=decision["acted_by"],
                            purchase_order_id=order.purchase_order_id)
            row = store.save_replenishment(tx, proposal)
            tx.publish_recorded(order, proposal)
            return REPLENISHMENT.dump(row)

    @rpc
    def dismiss_replenishment(self, replenishment_id, data):
        load(schemas.ReplenishmentDecision, data or {})
        with self.db.command() as tx:
            proposal = self._replenishment(tx, record_id(replenishment_id, "replenishment"), lock=True)
            proposal.dismiss(by=self.scope.branches)
            return REPLENISHMENT.dump(store.save_replenishment(tx, proposal))

    def _replenishment(self, tx, replenishment_id, lock=False) -> replenishment.Replenishment:
        row = store.replenishment(tx, replenishment_id, lock=lock)
        if row is None:
            raise errors.Forbidden(NOT_IN_SCOPE, {}) if self.scope.limited else \
                errors.NotFound("no such replenishment", {"replenishment_id": ["unknown replenishment"]})
        return replenishment.Replenishment.from_row(row)

    # -- shortage escalation -----------------------------------------------------------------------------------
    @on_event("parts.shortage")
    def open_shortage_escalation(self, tx, event):
        """The order starts to wait: the local tier (its clock started with parts.shortage), its proposal,
        and the loaner car suggested, once per shortage."""
        ro_id, branch_id = event["repair_order_id"], event["branch_id"]
        short = escalation.needs(event["lines"])
        if not short or store.open_shortage(tx, ro_id) is None:  # served or cancelled meanwhile
            return
        region_id = self._region_of(tx, branch_id)
        proposal = escalation.propose("local", branch_id, region_id, short, {}, donors.LeadTimes(store.lead_times(tx)))
        opened = escalation.Escalation.open(ro_id, branch_id, region_id, short, event["occurred_at"], proposal)
        if store.open_escalation(tx, opened):
            tx.publish_recorded(opened)

    @on_event("sla.breached")
    def escalate_shortage(self, tx, event):
        """A tier's clock ran out with the order still waiting and its clock still running (no action
        taken, not served): the next tier, whose clock its event starts."""
        if escalation.tier_of(event["policy"]) is None or event["subject_type"] != "repair_order":
            return
        ro_id = record_id(event["subject_id"], "repair_order")
        row = store.escalation(tx, ro_id, lock=True)
        clock = sla_store.clock(tx, event["policy"], event["subject_id"])
        if row is None or clock is None or clock["state"] != "running" or store.open_shortage(tx, ro_id) is None:
            return
        waiting = escalation.Escalation.from_row(row)
        tier = waiting.due_to_escalate(event["policy"])
        if tier is None:
            return
        shelves = {part: store.group_stock(tx, part) for part in waiting.needs}
        waiting.escalate(tier, event["occurred_at"], escalation.propose(
            tier, waiting.branch_id, waiting.region_id, waiting.needs, shelves, donors.LeadTimes(store.lead_times(tx)),
            **fresh_now()))
        store.save_escalation(tx, waiting)
        tx.publish_recorded(waiting)

    @on_event("transfer.requested")
    def record_shortage_transfer(self, tx, event):
        """A transfer requested for a waiting order is its tier's action (its clock stopped with the event)."""
        self._take_action(tx, event, "transfer", str(event["transfer_id"]), event["from_branch_id"])

    @on_event("purchase.ordered")
    def record_shortage_purchase(self, tx, event):
        self._take_action(tx, event, "purchase", str(event["purchase_order_id"]), None)

    def _take_action(self, tx, event, kind, reference, from_branch_id):
        if event.get("repair_order_id") is None:
            return
        row = store.escalation(tx, event["repair_order_id"], lock=True)
        if row is None:
            return
        waiting = escalation.Escalation.from_row(row)
        if waiting.take({"kind": kind, "reference": reference, "part_number": event["part_number"],
                         "quantity": event["quantity"], "from_branch_id": from_branch_id,
                         "at": event["occurred_at"].isoformat()}):
            store.save_escalation(tx, waiting)

    @on_event("parts.reserved")
    def serve_shortage_escalation(self, tx, event):
        self._end_escalation(tx, event["repair_order_id"], "serve")

    @on_event("repair_order.cancelled")
    def cancel_shortage_escalation(self, tx, event):
        self._end_escalation(tx, event["repair_order_id"], "cancel")

    def _end_escalation(self, tx, ro_id, how):
        row = store.escalation(tx, ro_id, lock=True)
        if row is None or row["status"] != "open":
            return
        waiting = escalation.Escalation.from_row(row)
        getattr(waiting, how)()
        store.save_escalation(tx, waiting)

    @rpc
    def list_shortages(self, query):
        filters = load(schemas.ShortageQuery, query or {})
        filters["status"] = filters.get("status") or "open"
        with self.db.read() as tx:
            return page_of(SHORTAGE, store.page_escalations(tx, filters))

    def _region_of(self, tx, branch_id):
        try:
            return org.get_branch(tx, branch_id).get("region_id")
        except errors.NotFound:
            return None
