"""parts' ledger commands: adjustments, counts, purchase orders and the desk's outlook.

A mixin of PartsService: its RPCs use the service's dependencies (db, scope, workshop) and helpers
(_arrive, _part, _repair_order, _check_thresholds). Each validates, loads, calls ledger.py's rules,
saves with store.py and publishes.
"""
import uuid
from datetime import datetime, timezone

from services.parts import donors, ledger, store
from shared import org
from shared.bus.rpc import load, record_id, rpc
from shared.contracts import errors
from shared.contracts.api import parts as schemas
from shared.contracts.schemas import page_of
from shared.domain import StateConflict
from shared.scope import NOT_IN_SCOPE

STOCK, COUNT, PURCHASE_ORDER = schemas.Stock(), schemas.CountResult(), schemas.PurchaseOrder()
OUTLOOK, LEDGER_CHECK = schemas.Outlook(), schemas.LedgerCheck()


class LedgerCommands:
    # -- adjustments and counts --------------------------------------------------------------------------
    @rpc
    def adjust_stock(self, data):
        """Units added to or taken off the shelf for a reason; found units go to the orders waiting."""
        request = load(schemas.Adjustment, data)
        branch_id, part_number = request["branch_id"], request["part_number"]
        move = ledger.adjustment(branch_id, part_number, request["quantity"], request["reason"], request["note"])
        with self.db.command() as tx:
            org.get_branch(tx, branch_id)
            self._part(tx, part_number)
            if move.quantity > 0:
                self._arrive(tx, branch_id, [move])
            else:
                store.ensure_stock(tx, branch_id, part_number)
                shelf = store.stock(tx, branch_id, part_number, lock=True)
                ledger.not_taking_reserved(shelf["available"], move.quantity)
                self._take_off(tx, move, "quantity")
            row = store.stock(tx, branch_id, part_number)
            tx.publish("stock.adjusted", branch_id, part_number=part_number, quantity=move.quantity,
                       reason=request["reason"], note=request["note"], on_hand=row["on_hand"],
                       available=row["available"])
            return STOCK.dump(row)

    @rpc
    def count_stock(self, data):
        """A count of the shelf: on hand becomes the count, by a count movement of the difference."""
        request = load(schemas.StockCount, data)
        branch_id, part_number = request["branch_id"], request["part_number"]
        with self.db.command() as tx:
            org.get_branch(tx, branch_id)
            self._part(tx, part_number)
            store.lock_shelf(tx, branch_id)  # as _arrive takes it: shelf first, then the row
            store.ensure_stock(tx, branch_id, part_number)
            shelf = store.stock(tx, branch_id, part_number, lock=True)
            count = ledger.Count(branch_id, part_number, request["counted_quantity"], shelf["on_hand"],
                                 shelf["reserved"])
            move = count.movement()
            if move is not None and move.quantity > 0:
                self._arrive(tx, branch_id, [move])
            elif move is not None:
                self._take_off(tx, move, "counted_quantity")
            row = store.stock(tx, branch_id, part_number)
            tx.publish("stock.counted", branch_id, part_number=part_number, counted_quantity=count.counted,
                       difference=count.difference, on_hand=row["on_hand"], available=row["available"])
            return COUNT.dump({**row, "counted_quantity": count.counted, "difference": count.difference})

    def _take_off(self, tx, move, field):
        row = store.apply(tx, move)
        if row is None:  # the guard: never below what repair orders hold
            raise StateConflict("that would take reserved units", **{field: "more than available (not reserved)"})
        self._check_thresholds(tx, move.branch_id, {move.part_number: row})

    # -- purchase orders -------------------------------------------------------------------------------------
    @rpc
    def place_purchase_order(self, data):
        request = load(schemas.NewPurchaseOrder, data)
        named = self._repair_order(request["repair_order_id"]) if request["repair_order_id"] else None
        with self.db.command() as tx:
            org.get_branch(tx, request["branch_id"])
            self._part(tx, request["part_number"])
            order, row = self._place_order(tx, request["branch_id"], request["part_number"], request["quantity"],
                                           request["expected_at"], request["repair_order_id"],
                                           request["supplier_reference"], named)
            tx.publish_recorded(order)
            return PURCHASE_ORDER.dump(row)

    def _place_order(self, tx, branch_id, part_number, quantity, expected_at=None, repair_order_id=None,
                     supplier_reference=None, named=None):
        """A purchase order placed and its units on order, in `tx` (a coordinator's order, or an accepted
        replenishment proposal); expected after the group's purchase lead time unless a date is given.
        The caller publishes the order's events."""
        expected_at = expected_at or ledger.expected_at(
            datetime.now(timezone.utc), donors.LeadTimes(store.lead_times(tx)).purchase())
        order = ledger.PurchaseOrder.place(uuid.uuid4(), branch_id, part_number, quantity, expected_at,
                                           repair_order_id, supplier_reference, repair_order=named,
                                           by=self.scope.branches)
        row = store.insert_purchase_order(tx, order)
        store.ensure_stock(tx, order.branch_id, order.part_number)
        for move in order.take_movements():
            store.apply(tx, move)
        return order, row

    def _receive_purchase(self, receipt):
        """A receipt against a purchase order (POST /stock/receipts with purchase_order_id): the units
        arrive (waiting repair orders are served) and come off the order; never more than outstanding."""
        with self.db.command() as tx:
            order = self._purchase_order(tx, receipt["purchase_order_id"], lock=True)
            order.receive(receipt["quantity"], receipt["branch_id"], receipt["part_number"], by=self.scope.branches)
            store.save_purchase_order(tx, order)
            self._arrive(tx, order.branch_id, order.take_movements())
            tx.publish_recorded(order)
            return STOCK.dump(store.stock(tx, order.branch_id, order.part_number))

    @rpc
    def cancel_purchase_order(self, purchase_order_id, data):
        request = load(schemas.PurchaseOrderCancellation, data)
        with self.db.command() as tx:
            order = self._purchase_order(tx, purchase_order_id, lock=True)
            order.cancel(request["reason"], by=self.scope.branches)
            row = store.save_purchase_order(tx, order)
            for move in order.take_movements():
                if move.quantity and store.apply(tx, move) is None:
                    raise RuntimeError(f"on order of {order.part_number} at {order.branch_id} below its orders")
            tx.publish_recorded(order)
            return PURCHASE_ORDER.dump(row)

    @rpc
    def get_purchase_order(self, purchase_order_id):
        with self.db.read() as tx:
            row = store.purchase_order(tx, record_id(purchase_order_id, "purchase_order"))
            if row is None:
                raise errors.NotFound("no such purchase order", {"purchase_order_id": ["unknown purchase order"]})
            return PURCHASE_ORDER.dump(row)

    @rpc
    def list_purchase_orders(self, query):
        filters = load(schemas.PurchaseOrderQuery, query or {})
        with self.db.read() as tx:
            return page_of(PURCHASE_ORDER, store.page_purchase_orders(tx, filters))

    # -- the service desk's outlook --------------------------------------------------------------------------
    @rpc
    def stock_outlook(self, query):
        """Per branch: free now, in transit to it with ETA, on order for it with the expected date, and
        the earliest time it has the quantity; figures only, for the whole group (as /stock/group)."""
        filters = load(schemas.OutlookQuery, query or {})
        part_number, branch_id = filters["part_number"], filters.get("branch_id")
        with self.db.read() as tx:
            self._part(tx, part_number)
            if branch_id is not None:
                org.get_branch(tx, branch_id)
            answer = ledger.outlook(part_number, filters["quantity"], store.outlook_shelves(tx, part_number, branch_id),
                                    store.outlook_transits(tx, part_number, branch_id),
                                    store.outlook_orders(tx, part_number, branch_id),
                                    donors.LeadTimes(store.lead_times(tx)), datetime.now(timezone.utc))
            return OUTLOOK.dump(answer)

    @rpc
    def check_ledger(self, branch_id, part_number):
        """A stock row and what its movements add up to, read in one snapshot: they agree, always."""
        branch_id, part_number = str(branch_id), str(part_number)
        with self.db.read() as tx:
            row = store.stock(tx, branch_id, part_number)
            if row is None:
                raise errors.NotFound("no stock record for that part at that branch",
                                      {"part_number": ["not stocked at this branch"]})
            return LEDGER_CHECK.dump(ledger.check(row, branch_id, part_number,
                                                  store.ledger_totals(tx, branch_id, part_number)))

    def _purchase_order(self, tx, purchase_order_id, lock=False) -> ledger.PurchaseOrder:
        row = store.purchase_order(tx, record_id(purchase_order_id, "purchase_order"), lock=lock)
        if row is None:  # as shared/scope.py answers: a scoped caller cannot tell missing from foreign
            raise errors.Forbidden(NOT_IN_SCOPE, {}) if self.scope.limited else \
                errors.NotFound("no such purchase order", {"purchase_order_id": ["unknown purchase order"]})
        return ledger.PurchaseOrder.from_row(row)
