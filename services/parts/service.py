"""parts: catalogue, stock ledger per branch, reservations and shortages of repair orders, thresholds,
transfers."""
import uuid

from services.parts import catalogue, domain, donors, site_store, store, transfers
from services.parts.tiers_service import ShortageTiers  # thresholds, replenishment, escalation
from shared import config, org
from shared.contracts import errors
from shared.storage.dependencies import Database
from shared.domain import RuleBroken, StateConflict
from shared.bus.messaging import on_event
from shared.org import BranchDirectory
from shared.bus.rpc import ServiceRpcProxy, ask, load, record_id, rpc
from shared.sla.clocks import SlaClocks
from shared.contracts.api import parts as schemas
from shared.contracts.schemas import page_of
from shared.scope import NOT_IN_SCOPE, CallerScope
from services.parts.ledger_service import LedgerCommands  # ledger: adjustments, counts, purchase orders
from services.parts.sites_service import SiteLinks, fresh_now  # figures and transfers across sites

PART, STOCK, RESERVATION = schemas.Part(), schemas.Stock(), schemas.Reservation()
MOVEMENT, TRANSFER = schemas.Movement(), schemas.Transfer()
LEAD_TIME = schemas.LeadTime()
SUBSTITUTE = schemas.Substitute()
GROUP = "HQ"  # branch_id of group-wide facts such as the catalogue


class PartsService(SlaClocks, BranchDirectory, LedgerCommands, ShortageTiers, SiteLinks):
    name = "parts"

    db = Database()
    scope = CallerScope()  # the caller's branches, when the gateway sends them (shared/scope.py)
    workshop = ServiceRpcProxy("workshop")  # a repair order a transfer names is workshop's to find

    # -- catalogue -------------------------------------------------------------------------------
    @rpc
    def catalogue_part(self, data):
        part = load(schemas.NewPart, data)
        terms = catalogue.warranty_terms(part["origin"], part["wear_part"], part["warranty_months"], part["warranty_km"])
        part = {**part, "warranty_months": terms.months, "warranty_km": terms.km, "warranty_source": terms.source}
        with self.db.command() as tx:
            row = store.upsert_part(tx, part)
            tx.publish("part.catalogued", GROUP, **{k: row[k] for k in (
                "part_number", "description", "origin", "price_cents", "warranty_months", "warranty_km",
                "wear_part", "warranty_source")})
            return PART.dump(row)

    @rpc
    def get_part(self, part_number):
        with self.db.read() as tx:
            return self._with_fitments(tx, self._part(tx, part_number))

    # -- catalogue: approved substitutes and fitment by model ----------------------------------
    @rpc
    def approve_substitute(self, part_number, data):
        """A coordinator approves a part that may be fitted instead, with how it differs (both ways if
        asked). The answer: the part's substitutes."""
        request = load(schemas.NewSubstitute, data)
        with self.db.command() as tx:
            part = self._part(tx, part_number)["part_number"]
            if store.part(tx, request["substitute_part_number"]) is None:
                raise RuleBroken("a substitute is a part of the catalogue", substitute_part_number="unknown part")
            pairs = [(part, request["substitute_part_number"]), (request["substitute_part_number"], part)]
            approved = catalogue.approve_substitute(part, request["substitute_part_number"], request["differences"],
                                                    request["both_ways"], store.substitutions_approved(tx, pairs))
            if store.add_substitutions(tx, approved) < len(approved):  # approved by someone else meanwhile
                raise StateConflict("substitute already approved",
                                    substitute_part_number=f"{request['substitute_part_number']} is approved for"
                                                           f" {part} already")
            return [SUBSTITUTE.dump(r) for r in store.substitutes(tx, part)]

    @rpc
    def list_substitutes(self, part_number, query):
        filters = load(schemas.SubstituteQuery, query or {})
        with self.db.read() as tx:
            part = self._part(tx, part_number)["part_number"]
            if filters.get("branch_id") is not None:
                org.get_branch(tx, filters["branch_id"])
            return [SUBSTITUTE.dump(r) for r in store.substitutes(tx, part, filters.get("branch_id"))]

    @rpc
    def add_fitment(self, part_number, data):
        """A model the part fits; the answer: the part with its fitments."""
        request = load(schemas.NewFitment, data)
        with self.db.command() as tx:
            part = self._part(tx, part_number)
            fit = catalogue.fitment(part["part_number"], **request)
            if store.add_fitment(tx, fit) is None:
                raise StateConflict("the part has this fitment already",
                                    year_from=f"{fit.make} {fit.model} from {fit.year_from} is recorded already")
            return self._with_fitments(tx, part)

    def _with_fitments(self, tx, part):
        return PART.dump({**part, "fitments": store.fitments(tx, part["part_number"])})

    @rpc
    def list_parts(self, query):
        filters = load(schemas.PartQuery, query or {})
        with self.db.read() as tx:
            return page_of(PART, store.page_parts(tx, filters))

    # -- stock -----------------------------------------------------------------------------------
    @rpc
    def receive_stock(self, data):
        receipt = load(schemas.Receipt, data)
        if receipt["purchase_order_id"] is not None:  # ledger: against a purchase order (ledger_service.py)
            return self._receive_purchase(receipt)
        with self.db.command() as tx:
            org.get_branch(tx, receipt["branch_id"])
            self._part(tx, receipt["part_number"])
            self._arrive(tx, receipt["branch_id"], [domain.movement(
                "receipt", receipt["branch_id"], receipt["part_number"], receipt["quantity"],
                reference=receipt["reference"])])
            return STOCK.dump(store.stock(tx, receipt["branch_id"], receipt["part_number"]))

    @rpc
    def set_thresholds(self, data):
        levels = load(schemas.Thresholds, data)
        if levels["safety_stock"] > levels["reorder_point"]:
            raise errors.ValidationFailed("safety stock above the reorder point",
                                          {"safety_stock": ["must not exceed reorder_point"]})
        with self.db.command() as tx:
            org.get_branch(tx, levels["branch_id"])
            self._part(tx, levels["part_number"])
            store.ensure_stock(tx, levels["branch_id"], levels["part_number"])
            row = store.set_thresholds(tx, levels["branch_id"], levels["part_number"],
                                       levels["reorder_point"], levels["safety_stock"])
            self._check_thresholds(tx, levels["branch_id"], {levels["part_number"]: row})
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
        if wanted:
            self._reserve(tx, event, wanted, domain.need_priority(event.get("priority")))

    @on_event("supplement.approved")
    def reserve_for_supplement(self, tx, event):
        """A supplement's part lines, all or nothing, as a quote's: the order already holds its quote's
        parts, and these come on top; an order still waiting for its quote's parts waits for these too."""
        wanted = domain.merge_lines(l for l in event["approved_lines"] if l["kind"] == "part")
        if wanted:
            earlier = store.shortage(tx, event["repair_order_id"])
            priority = domain.need_priority(earlier and earlier["priority"])
            self._reserve(tx, event, wanted, priority, supplement=True)

    def _reserve(self, tx, event, wanted, priority, supplement=False):
        branch_id, ro_id = event["branch_id"], event["repair_order_id"]
        # Read without locking: a repair order that already holds parts needs no lock, and one whose
        # parts are all free takes them with the conditional updates alone.
        outlook = store.reservation_outlook(tx, ro_id, branch_id, wanted)
        if outlook["held"] and not supplement:
            return
        def order():
            return domain.Shortage(ro_id, branch_id, wanted, priority, event["occurred_at"])

        allocation = domain.Allocation(branch_id, dict(outlook["free"]))
        # (a no here rests on the unlocked count: it is asked again below, and its event dropped)
        if not outlook["waiting"] and allocation.reserve(order()):
            # Announce first and take the stock rows last: a row stays locked from its update to the
            # commit, and every other repair order that wants the part waits for it.
            tx.savepoint("reservation")
            tx.publish_recorded(allocation)
            rows = self._take(tx, allocation)
            if rows is not None:
                self._check_thresholds(tx, branch_id, rows)
                return
            tx.undo_to("reservation")  # another repair order took the last units first
        # Short by the unlocked count: decide again with the branch's shelf and the rows locked, so
        # that stock arriving meanwhile either is seen here or sees this order waiting.
        store.lock_shelf(tx, branch_id)
        still_waiting = store.open_shortage(tx, ro_id) if supplement else None
        if still_waiting is not None:  # it waits for its quote's parts: now for the supplement's too
            waiting = domain.Shortage.from_row(still_waiting)
            waiting.add(wanted)
            store.save_shortage(tx, waiting)
            return
        allocation = domain.Allocation(branch_id, store.lock_stock(tx, branch_id, wanted))
        waiting = order()
        # a short order's lines carry the approved substitutes the branch has enough of (catalogue)
        if allocation.reserve(waiting, store.substitutes_at(tx, branch_id, wanted)):
            rows = self._take(tx, allocation, must=True)
            store.end_shortages(tx, [ro_id], "served")  # an earlier approval of it may have waited
            self._check_thresholds(tx, branch_id, rows)
        else:
            store.save_shortage(tx, waiting)
        tx.publish_recorded(allocation)

    @on_event("repair_order.delivered")
    def consume_for_repair_order(self, tx, event):
        held = store.held_reservations(tx, event["repair_order_id"])
        rows = {}
        for r in held:
            rows[(r["branch_id"], r["part_number"])] = store.apply(tx, domain.movement(
                "issue_to_job", r["branch_id"], r["part_number"], r["quantity"], repair_order_id=r["repair_order_id"]))
            store.close_reservation(tx, r["reservation_id"], "consumed")
        for (branch_id, part_number), row in rows.items():
            self._check_thresholds(tx, branch_id, {part_number: row})
        if held:
            tx.publish("parts.consumed", event["branch_id"], repair_order_id=event["repair_order_id"],
                       lines=[{"part_number": r["part_number"], "quantity": r["quantity"]} for r in held])

    @on_event("repair_order.cancelled")
    def release_for_repair_order(self, tx, event):
        """A cancelled order waits no more, and the parts it held go to the orders waiting for them."""
        branch_id, ro_id = event["branch_id"], event["repair_order_id"]
        store.lock_shelf(tx, branch_id)  # before the reads: an order found short at this moment is seen
        shortage = store.open_shortage(tx, ro_id)
        if shortage is not None:
            waiting = domain.Shortage.from_row(shortage)
            waiting.close()
            store.end_shortages(tx, [ro_id], waiting.status)
        held = store.held_reservations(tx, ro_id)
        if not held:
            return
        for r in held:
            store.close_reservation(tx, r["reservation_id"], "released")
        tx.publish("parts.released", branch_id, repair_order_id=ro_id,
                   lines=[{"part_number": r["part_number"], "quantity": r["quantity"]} for r in held])
        self._arrive(tx, branch_id, [domain.movement("release", branch_id, r["part_number"], r["quantity"],
                                                     repair_order_id=ro_id) for r in held])

    @rpc
    def list_reservations(self, query):
        filters = load(schemas.ReservationQuery, query or {})
        with self.db.read() as tx:
            return page_of(RESERVATION, store.page_reservations(tx, filters))

    # -- transfers between branches and regions --------------------------------------------------------
    @rpc
    def request_transfer(self, data):
        return self._request_transfer(data)

    def _request_transfer(self, data, donor=False, then=None):
        """A transfer request; from an accepted donor proposal (`donor`), the donor must still be able
        to give the quantity above its safety stock, read in the same transaction. `then(tx, row)`
        runs in that transaction too (an accepted replenishment proposal, tiers_service.py)."""
        request = load(schemas.TransferRequest, data)
        if request["branch_id"] == request["from_branch_id"]:
            raise errors.ValidationFailed("a transfer moves stock between two branches",
                                          {"from_branch_id": ["must differ from branch_id"]})
        named = self._repair_order(request["repair_order_id"]) if request["repair_order_id"] else None
        with self.db.command() as tx:
            here = config.site()
            if self._site_of_branch(tx, request["branch_id"]) is not None:
                raise StateConflict("a transfer is requested at the receiving branch's site",
                                    branch_id=["a branch of another site: request it there"])
            from_site = self._site_of_branch(tx, request["from_branch_id"])  # another site's branch, or None
            self._part(tx, request["part_number"])
            if donor:
                shelf = (store.stock(tx, request["from_branch_id"], request["part_number"]) if from_site is None
                         else site_store.remote_shelf(tx, request["from_branch_id"], request["part_number"]))
                donors.accept(shelf, request["quantity"], **fresh_now())
            actor = request.pop("acted_by")
            transfer = transfers.Transfer.request(uuid.uuid4(), **request, by=self.scope.branches, repair_order=named,
                                               actor=actor, from_site=from_site, here=here)
            row = store.insert_transfer(tx, transfer)
            tx.publish_recorded(transfer)
            if then is not None:
                then(tx, row)
            return TRANSFER.dump(row)

    # -- donors across the group -----------------------------------------------------------------------------
    @rpc
    def group_stock(self, query):
        """Every branch's stock of a part above its safety stock: the group-wide view every coordinator
        has (figures only: no customer, no order), whatever their region."""
        filters = load(schemas.GroupStockQuery, query or {})
        with self.db.read() as tx:
            self._part(tx, filters["part_number"])
            fresh = fresh_now()
            return [donors.shelf(r, **fresh) for r in store.group_stock(tx, filters["part_number"])]

    @rpc
    def rank_donors(self, query):
        filters = load(schemas.DonorQuery, query or {})
        with self.db.read() as tx:
            branch = org.get_branch(tx, filters["branch_id"])
            self._part(tx, filters["part_number"])
            plan = donors.rank(filters["branch_id"], branch.get("region_id"), filters["quantity"],
                               store.group_stock(tx, filters["part_number"]), donors.LeadTimes(store.lead_times(tx)),
                               **fresh_now())
            return {**plan, "part_number": filters["part_number"]}

    @rpc
    def accept_donor(self, data):
        """A coordinator takes a donor proposal: it becomes a transfer request, the answer the transfer."""
        return self._request_transfer(data, donor=True)

    @rpc
    def list_lead_times(self):
        with self.db.read() as tx:
            return [LEAD_TIME.dump(r) for r in store.lead_times(tx)]

    @rpc
    def set_lead_time(self, data):
        entry = load(schemas.LeadTimeEntry, data)
        entry = donors.lead_time_entry(entry["kind"], entry["from_id"], entry["to_id"], entry["hours"])
        with self.db.command() as tx:
            return LEAD_TIME.dump(store.set_lead_time(tx, entry))

    @rpc
    def advance_transfer(self, transfer_id, data):
        step = load(schemas.TransferStep, data)
        with self.db.command() as tx:
            transfer = self._transfer(tx, transfer_id, lock=True)
            hours = self._delivery_hours(tx, transfer) if step["status"] == "dispatched" else None
            transfer.advance(step["status"], by=self.scope.branches, received_quantity=step["received_quantity"],
                             tracking_reference=step["tracking_reference"], actor=step["acted_by"],
                             delivery_hours=hours)
            return self._save_transfer(tx, transfer)

    @rpc
    def send_tracking(self, transfer_id, data):
        sent = load(schemas.TransferTracking, data)
        with self.db.command() as tx:
            transfer = self._transfer(tx, transfer_id, lock=True)
            transfer.send_tracking(sent["tracking_reference"], by=self.scope.branches, actor=sent["acted_by"])
            return self._save_transfer(tx, transfer)

    @rpc
    def write_off_transfer(self, transfer_id, data):
        loss = load(schemas.TransferWriteOff, data)
        with self.db.command() as tx:
            transfer = self._transfer(tx, transfer_id, lock=True)
            transfer.write_off(loss["reason"], loss["quantity"], by=self.scope.branches, actor=loss["acted_by"])
            return self._save_transfer(tx, transfer)

    def _save_transfer(self, tx, transfer):
        """Keep a transfer after a step, announce it, and move its stock: units received arrive (and
        serve the orders waiting there, the one the transfer was sent for first); units dispatched leave."""
        row = store.save_transfer(tx, transfer)
        tx.publish_recorded(transfer)
        moves = transfer.take_movements()
        if any(m.kind == "transfer_in" for m in moves):
            self._arrive(tx, transfer.branch_id, moves, linked=transfer.repair_order_id)
        elif any(m.kind in ("transfer_out", "in_transit") for m in moves):  # (only one of them between sites)
            self._send(tx, moves)
        else:
            for m in moves:  # written off on the road: out of transit at the receiving branch
                store.apply(tx, m)
        return TRANSFER.dump(row)

    def _delivery_hours(self, tx, transfer) -> int:
        """The lead time from the sending branch to the receiving one: the delivery clock's target."""
        regions = {b: self._region_anywhere(tx, b) for b in (transfer.from_branch_id, transfer.branch_id)}
        return donors.LeadTimes(store.lead_times(tx)).between(
            transfer.from_branch_id, regions[transfer.from_branch_id], transfer.branch_id, regions[transfer.branch_id])

    @rpc
    def get_transfer(self, transfer_id):
        with self.db.read() as tx:
            row = store.transfer(tx, record_id(transfer_id, "transfer"))
            if row is None:
                raise errors.NotFound("no such transfer", {"transfer_id": ["unknown transfer"]})
            return TRANSFER.dump({**row, "steps": store.transfer_steps(tx, row["transfer_id"])})

    @rpc
    def list_transfers(self, query):
        filters = load(schemas.TransferQuery, query or {})
        with self.db.read() as tx:
            return page_of(TRANSFER, store.page_transfers(tx, filters))

    @rpc
    def operations_figures(self):
        with self.db.read() as tx:
            return {"below_reorder": [dict(r) for r in store.below_reorder_counts(tx)],
                    "open_transfers": [dict(r) for r in store.open_transfer_counts(tx, transfers.OPEN_TRANSFER)]}

    # -- helpers -------------------------------------------------------------------------------------------
    def _arrive(self, tx, branch_id, arrivals, linked=None):
        """Stock arrives at a branch (a receipt, a transfer received, a release): apply the movements,
        then give it to the open shortages there that want it, in order of need (the repair order a
        transfer was sent for, `linked`, first)."""
        store.lock_shelf(tx, branch_id)
        arrived = {m.part_number for m in arrivals}
        waiting = [domain.Shortage.from_row(r) for r in store.open_shortages(tx, branch_id, arrived)]
        parts = arrived | {p for s in waiting for p in s.wanted}
        free = store.lock_stock(tx, branch_id, parts, create=arrived)
        rows = {}
        for m in arrivals:
            rows[m.part_number] = store.apply(tx, m)
            if rows[m.part_number] is None:  # more released or received than was reserved or in transit
                raise RuntimeError(f"{m.kind} of {m.quantity} {m.part_number} at {branch_id} refused by its guard")
            free[m.part_number] = rows[m.part_number]["available"]
        if waiting:
            allocation = domain.Allocation(branch_id, free)
            served = allocation.serve(waiting, linked)
            rows.update(self._take(tx, allocation, must=True))
            store.end_shortages(tx, [s.repair_order_id for s in served], "served")  # what Allocation made them
            tx.publish_recorded(allocation)
        self._check_thresholds(tx, branch_id, rows)
        return rows

    def _send(self, tx, moves):
        """A dispatch: the units leave the sending branch, if it has them free, and are in transit."""
        for m in moves:
            store.ensure_stock(tx, m.branch_id, m.part_number)
            row = store.apply(tx, m)
            if row is None:
                raise StateConflict("the sending branch has not that many available",
                                    quantity=["more than available at from_branch_id"])
            self._check_thresholds(tx, m.branch_id, {m.part_number: row})

    def _take(self, tx, allocation, must=False) -> dict | None:
        """Reserve what the allocation gave (part number -> the stock row after it), or None when a
        conditional update found the units gone; with the rows locked (`must`) that cannot happen."""
        rows = {}
        for ro_id, part_number, quantity in allocation.taken:
            row = store.apply(tx, domain.movement("reservation", allocation.branch_id, part_number, quantity,
                                                  repair_order_id=ro_id), reservation_id=uuid.uuid4())
            if row is None:
                if must:
                    raise RuntimeError(f"{part_number} at {allocation.branch_id} changed under its lock")
                return None
            rows[part_number] = row
        return rows

    def _check_thresholds(self, tx, branch_id, rows: dict):
        """The alerts of the stock rows a command changed, as they stand at its end."""
        for part_number, row in sorted(rows.items()):
            stock = domain.Stock.from_row(branch_id, part_number, row)
            if stock.check_threshold():
                store.set_below(tx, branch_id, part_number, stock.below_reorder)
                tx.publish_recorded(stock)
                self._replenish(tx, stock)  # the safety flag and the replenishment proposal

    def _repair_order(self, repair_order_id) -> domain.KnownRepairOrder | None:
        """The repair order a transfer names, as workshop knows it; None when there is none the
        caller may see (workshop checks the caller's scope, handed on with the call). Asked only
        for a transfer, so that no journey pays for a copy of every repair order."""
        row = ask("workshop", "the repair order", self.workshop.get_repair_order, str(repair_order_id),
                  none_for=(errors.NotFound, errors.Forbidden))
        if row is None:
            return None
        return domain.KnownRepairOrder(repair_order_id, row["branch_id"], row["priority"])

    def _part(self, tx, part_number):
        row = store.part(tx, str(part_number))
        if row is None:
            raise errors.NotFound("no such part in the catalogue", {"part_number": ["unknown part"]})
        return row

    def _transfer(self, tx, transfer_id, lock=False) -> transfers.Transfer:
        row = store.transfer(tx, record_id(transfer_id, "transfer"), lock=lock)
        if row is None:  # as shared/scope.py Scope.admit answers: a scoped caller cannot tell missing from foreign
            raise errors.Forbidden(NOT_IN_SCOPE, {}) if self.scope.limited else \
                errors.NotFound("no such transfer", {"transfer_id": ["unknown transfer"]})
        return transfers.Transfer.from_row(row, config.site())
