"""parts: catalogue, stock ledger per branch, reservations for repair orders, thresholds, transfers."""
import uuid

from services.parts import domain, schemas, store
from shared import errors, org
from shared.dependencies import Database
from shared.messaging import on_event
from shared.org import BranchDirectory
from shared.rpc import load, record_id, rpc
from shared.sla_service import SlaClocks
from shared.schemas import page_of

PART, STOCK, RESERVATION = schemas.Part(), schemas.Stock(), schemas.Reservation()
MOVEMENT, TRANSFER = schemas.Movement(), schemas.Transfer()
GROUP = "HQ"  # branch_id of group-wide facts such as the catalogue


def _short(free: dict, lines) -> list[dict]:
    """The lines that the branch's free stock (part number -> available) cannot cover."""
    return [{"part_number": p, "requested": q, "available": free.get(p, 0)} for p, q in lines if free.get(p, 0) < q]


class PartsService(SlaClocks, BranchDirectory):
    name = "parts"

    db = Database()

    # -- catalogue -------------------------------------------------------------------------------
    @rpc
    def catalogue_part(self, data):
        part = load(schemas.NewPart, data)
        with self.db.transaction() as tx:
            row = store.upsert_part(tx, part)
            tx.publish("part.catalogued", GROUP, **{k: row[k] for k in (
                "part_number", "description", "origin", "price_cents", "warranty_months", "warranty_km")})
            return PART.dump(row)

    @rpc
    def get_part(self, part_number):
        with self.db.read() as tx:
            return PART.dump(self._part(tx, part_number))

    @rpc
    def list_parts(self, query):
        filters = load(schemas.PartQuery, query or {})
        with self.db.read() as tx:
            return page_of(PART, store.page_parts(tx, filters))

    # -- stock -----------------------------------------------------------------------------------
    @rpc
    def receive_stock(self, data):
        receipt = load(schemas.Receipt, data)
        with self.db.transaction() as tx:
            org.get_branch(tx, receipt["branch_id"])
            self._part(tx, receipt["part_number"])
            store.ensure_stock(tx, receipt["branch_id"], receipt["part_number"])
            row = store.change(tx, receipt["branch_id"], receipt["part_number"], "receipt", receipt["quantity"],
                               on_hand=receipt["quantity"], reference=receipt["reference"])
            self._check_threshold(tx, receipt["branch_id"], receipt["part_number"], row)
            return STOCK.dump(store.stock(tx, receipt["branch_id"], receipt["part_number"]))

    @rpc
    def set_thresholds(self, data):
        levels = load(schemas.Thresholds, data)
        if levels["safety_stock"] > levels["reorder_point"]:
            raise errors.ValidationFailed("safety stock above the reorder point",
                                          {"safety_stock": ["must not exceed reorder_point"]})
        with self.db.transaction() as tx:
            org.get_branch(tx, levels["branch_id"])
            self._part(tx, levels["part_number"])
            store.ensure_stock(tx, levels["branch_id"], levels["part_number"])
            row = store.set_thresholds(tx, levels["branch_id"], levels["part_number"],
                                       levels["reorder_point"], levels["safety_stock"])
            self._check_threshold(tx, levels["branch_id"], levels["part_number"], row)
            return STOCK.dump(store.stock(tx, levels["branch_id"], levels["part_number"]))

    @rpc
    def get_stock(self, branch_id, part_number):
        with self.db.read() as tx:
            row = store.stock(tx, str(branch_id), str(part_number))
            if row is None:
                raise errors.NotFound("no stock record for that part at that branch",
                                      {"part_number": ["not stocked at this branch"]})
            return STOCK.dump(row)

    @rpc
    def list_stock(self, query):
        filters = load(schemas.StockQuery, query or {})
        with self.db.read() as tx:
            return page_of(STOCK, store.page_stock(tx, filters))

    @rpc
    def list_movements(self, query):
        filters = load(schemas.MovementQuery, query or {})
        with self.db.read() as tx:
            return page_of(MOVEMENT, store.page_movements(tx, filters))

    # -- reservations for repair orders ----------------------------------------------------------------
    @on_event("quote.approved")
    def reserve_for_repair_order(self, tx, event):
        wanted = domain.merge_lines(l for l in event["approved_lines"] if l["kind"] == "part")
        if not wanted:
            return
        branch_id, ro_id = event["branch_id"], event["repair_order_id"]
        lines = sorted(wanted.items())  # one lock order: no deadlocks
        # Read without locking: a repair order that already holds parts, or a shortage, needs no lock.
        held, free = store.reservation_outlook(tx, ro_id, branch_id, wanted)
        if held:
            return
        short = _short(free, lines)
        if not short:
            # Announce first and take the stock rows last: a row stays locked from its update to
            # the commit, and every other repair order that wants the part waits for it.
            tx.savepoint("reservation")
            tx.publish("parts.reserved", branch_id, repair_order_id=ro_id,
                       lines=[{"part_number": p, "quantity": q} for p, q in lines])
            changed = []
            for part_number, quantity in lines:
                row = store.change(tx, branch_id, part_number, "reservation", quantity, reserved=quantity,
                                   repair_order_id=ro_id, guard="on_hand - reserved >= %(quantity)s",
                                   reservation_id=uuid.uuid4())
                if row is None:
                    break
                changed.append((part_number, row))
            else:
                for part_number, row in changed:
                    self._check_threshold(tx, branch_id, part_number, row)
                return
            tx.undo_to("reservation")  # another repair order took the last units first
            short = _short(store.reservation_outlook(tx, ro_id, branch_id, wanted)[1], lines)
        tx.publish("parts.shortage", branch_id, repair_order_id=ro_id, lines=short)

    @on_event("repair_order.delivered")
    def consume_for_repair_order(self, tx, event):
        self._settle(tx, event, "consumed", "consumption", "parts.consumed")

    @on_event("repair_order.cancelled")
    def release_for_repair_order(self, tx, event):
        self._settle(tx, event, "released", "release", "parts.released")

    @rpc
    def list_reservations(self, query):
        filters = load(schemas.ReservationQuery, query or {})
        with self.db.read() as tx:
            return page_of(RESERVATION, store.page_reservations(tx, filters))

    # -- transfers between branches and regions --------------------------------------------------------
    @rpc
    def request_transfer(self, data):
        request = load(schemas.TransferRequest, data)
        if request["branch_id"] == request["from_branch_id"]:
            raise errors.ValidationFailed("a transfer moves stock between two branches",
                                          {"from_branch_id": ["must differ from branch_id"]})
        with self.db.transaction() as tx:
            for branch_id in (request["branch_id"], request["from_branch_id"]):
                org.get_branch(tx, branch_id)
            self._part(tx, request["part_number"])
            row = store.insert_transfer(tx, {**request, "transfer_id": uuid.uuid4()})
            self._announce_transfer(tx, "requested", row)
            return TRANSFER.dump(row)

    @rpc
    def advance_transfer(self, transfer_id, data):
        step = load(schemas.TransferStep, data)
        with self.db.transaction() as tx:
            t = self._transfer(tx, transfer_id, lock=True)
            status = domain.transfer_transition(t["status"], step["status"])
            changes = {"status": status}
            if status == "dispatched":
                store.ensure_stock(tx, t["branch_id"], t["part_number"])
                row = store.change(tx, t["from_branch_id"], t["part_number"], "transfer_out", t["quantity"],
                                   on_hand=-t["quantity"], transfer_id=t["transfer_id"],
                                   guard="on_hand - reserved >= %(quantity)s")
                if row is None:
                    raise errors.Conflict("the sending branch has not that many available",
                                          {"quantity": ["more than available at from_branch_id"]})
                store.change(tx, t["branch_id"], t["part_number"], "in_transit", t["quantity"],
                             in_transit=t["quantity"], transfer_id=t["transfer_id"])
                self._check_threshold(tx, t["from_branch_id"], t["part_number"], row)
                changes["tracking_reference"] = step["tracking_reference"] or f"TR-{str(t['transfer_id'])[:8].upper()}"
            elif status == "received":
                received = t["quantity"] if step["received_quantity"] is None else step["received_quantity"]
                if received > t["quantity"]:
                    raise errors.Unprocessable("more received than sent", {"received_quantity": ["above quantity"]})
                row = store.change(tx, t["branch_id"], t["part_number"], "transfer_in", received,
                                   on_hand=received, in_transit=-t["quantity"], transfer_id=t["transfer_id"])
                self._check_threshold(tx, t["branch_id"], t["part_number"], row)
                changes["received_quantity"] = received
            t = store.update_transfer(tx, t["transfer_id"], **changes)
            if status in ("dispatched", "received", "cancelled"):
                self._announce_transfer(tx, status, t)
            return TRANSFER.dump(t)

    @rpc
    def get_transfer(self, transfer_id):
        with self.db.read() as tx:
            return TRANSFER.dump(self._transfer(tx, transfer_id))

    @rpc
    def list_transfers(self, query):
        filters = load(schemas.TransferQuery, query or {})
        with self.db.read() as tx:
            return page_of(TRANSFER, store.page_transfers(tx, filters))

    @rpc
    def operations_figures(self):
        with self.db.read() as tx:
            return {"below_reorder": [dict(r) for r in store.below_reorder_counts(tx)],
                    "open_transfers": [dict(r) for r in store.open_transfer_counts(tx, domain.OPEN_TRANSFER)]}

    # -- helpers -------------------------------------------------------------------------------------------
    def _settle(self, tx, event, status, kind, announce):
        held = store.held_reservations(tx, event["repair_order_id"])
        for r in held:
            consume = status == "consumed"
            row = store.change(tx, r["branch_id"], r["part_number"], kind, r["quantity"],
                               on_hand=-r["quantity"] if consume else 0, reserved=-r["quantity"],
                               repair_order_id=r["repair_order_id"])
            store.close_reservation(tx, r["reservation_id"], status)
            self._check_threshold(tx, r["branch_id"], r["part_number"], row)
        if held:
            tx.publish(announce, event["branch_id"], repair_order_id=event["repair_order_id"],
                       lines=[{"part_number": r["part_number"], "quantity": r["quantity"]} for r in held])

    def _check_threshold(self, tx, branch_id, part_number, row):
        crossing = domain.threshold_change(row["below_reorder"], row["available"], row["reorder_point"])
        if crossing is None:
            return
        store.set_below(tx, branch_id, part_number, crossing == "below")
        region = org.region_of(tx, branch_id) or ""
        if crossing == "below":
            tx.publish("stock.below_threshold", branch_id, part_number=part_number, available=row["available"],
                       reorder_point=row["reorder_point"], safety_stock=row["safety_stock"] or 0, region_id=region)
        else:
            tx.publish("stock.recovered", branch_id, part_number=part_number, available=row["available"],
                       region_id=region)

    def _announce_transfer(self, tx, step, t):
        tx.publish(f"transfer.{step}", t["branch_id"], transfer_id=t["transfer_id"],
                   from_branch_id=t["from_branch_id"], part_number=t["part_number"], quantity=t["quantity"],
                   repair_order_id=t["repair_order_id"], tracking_reference=t["tracking_reference"])

    def _part(self, tx, part_number):
        row = store.part(tx, str(part_number))
        if row is None:
            raise errors.NotFound("no such part in the catalogue", {"part_number": ["unknown part"]})
        return row

    def _transfer(self, tx, transfer_id, lock=False):
        row = store.transfer(tx, record_id(transfer_id, "transfer"), lock=lock)
        if row is None:
            raise errors.NotFound("no such transfer", {"transfer_id": ["unknown transfer"]})
        return row
