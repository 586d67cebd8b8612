"""booking: branches and their slots, appointments, reschedules and arrivals."""
import uuid
from datetime import datetime, timezone

from services.booking import domain, schemas, store
from shared import org
from shared.contracts import errors
from shared.cache import Recent
from shared.storage.dependencies import Database
from shared.bus.messaging import on_event
from shared.bus.rpc import ServiceRpcProxy, ask, load, record_id, rpc
from shared.contracts.schemas import page_of
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks

# A branch's settings with its bays, read by every booking: kept a few seconds per process. The
# slot's room itself is always read by the statement that takes the slot (store.take_slot).
_branches = Recent()
BOOKING = schemas.Booking()
BRANCH = schemas.Branch()
SLOT = schemas.Slot()


def now():
    return datetime.now(timezone.utc)


class BookingService(SlaClocks):
    name = "booking"

    db = Database()
    scope = CallerScope()
    crm = ServiceRpcProxy("crm")

    # -- branches -----------------------------------------------------------------------------
    @rpc
    def configure_branch(self, data):
        setup = load(schemas.BranchSetup, data)
        branch_id = setup.pop("branch_id")
        with self.db.command() as tx:
            org.upsert_branch(tx, branch_id, setup)
            store.save_capacity(tx, branch_id, setup["bays"], setup["slot_minutes"])
            tx.publish("branch.configured", branch_id, **setup)
            _branches.forget_when_committed(tx, branch_id)
            return BRANCH.dump(store.branch_with_capacity(tx, branch_id))

    @rpc
    def get_branch(self, branch_id):
        with self.db.read() as tx:
            return BRANCH.dump(self._branch(tx, branch_id))

    @rpc
    def list_branches(self):
        with self.db.read() as tx:
            return BRANCH.dump(store.list_branches(tx), many=True)

    # -- slots ----------------------------------------------------------------------------------
    @rpc
    def list_slots(self, data):
        query = load(schemas.SlotQuery, data)
        with self.db.read() as tx:
            branch = self._branch(tx, query["branch_id"])
            slots = domain.Timetable.of(branch).slots_on(query["date"])
            starts = [s.start for s in slots]
            overrides = store.slot_overrides(tx, branch["branch_id"], starts)
            loads = store.slot_loads(tx, branch["branch_id"], starts)
        at = now()
        out = []
        for slot in slots:
            capacity = domain.slot_capacity(branch["bays"], overrides.get(slot.start))
            booked = loads.get(slot.start, 0)
            out.append({"slot_start": slot.start, "slot_end": slot.end, "capacity": capacity,
                        "booked": booked, "available": slot.available(capacity, booked, at)})
        return SLOT.dump(out, many=True)

    @rpc
    def set_slot_capacity(self, data):
        change = load(schemas.SlotOverride, data)
        with self.db.command() as tx:
            branch = self._branch(tx, change["branch_id"])
            slot = domain.Timetable.of(branch).slot_at(change["slot_start"])
            store.set_slot_override(tx, branch["branch_id"], slot.start, change["capacity"])
        return {"branch_id": branch["branch_id"], "slot_start": slot.start.isoformat(),
                "capacity": change["capacity"]}

    # -- bookings -------------------------------------------------------------------------------
    @rpc
    def create_booking(self, data):
        request = load(schemas.BookingRequest, data)
        with self.db.command() as tx:
            branch = self._branch(tx, request["branch_id"])
            booking = domain.Booking.request(uuid.uuid4(), request, domain.Timetable.of(branch), now())
            created = self._insert(tx, booking)
            # The place is taken last, in the statement that announces the booking: the slot's row
            # stays locked only to the commit, and advisors booking the same slot queue on that lock.
            if not tx.publish_recorded(booking, along=store.taking_slot(branch["branch_id"], booking.slot_start)):
                raise domain.SlotFull()
        created["history"] = [{"at": created["created_at"], "from_status": None, "to_status": "requested",
                               "slot_start": created["slot_start"], "note": "requested"}]
        return BOOKING.dump(created)

    @rpc
    def confirm_booking(self, booking_id):
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            booking.confirm(now())
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    @rpc
    def reschedule_booking(self, booking_id, data):
        change = load(schemas.Reschedule, data)
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            branch = self._branch(tx, booking.branch_id)
            given_up = booking.reschedule(domain.Timetable.of(branch), change["slot_start"], now(), change["note"])
            self._take(tx, branch, booking.slot_start)
            store.free_slot(tx, booking.branch_id, given_up)
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    @rpc
    def cancel_booking(self, booking_id, data):
        change = load(schemas.Cancel, data)
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            freed = booking.cancel(change["reason"], now())
            store.free_slot(tx, booking.branch_id, freed)
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    @rpc
    def check_in(self, booking_id, data):
        arrival = load(schemas.CheckIn, data)
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            booking.check_in(**arrival, plate=store.plate(tx, booking.vehicle_id), now=now())
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    @rpc
    def get_booking(self, booking_id):
        with self.db.read() as tx:
            return BOOKING.dump(self._admit(store.view(tx, record_id(booking_id, "booking"))))

    @rpc
    def list_bookings(self, query):
        filters = load(schemas.BookingQuery, query or {})
        with self.db.read() as tx:
            return page_of(BOOKING, store.page_bookings(tx, filters))

    # -- what other services announce --------------------------------------------------------------
    @on_event("vehicle.registered")
    def copy_vehicle(self, tx, event):
        # the envelope's branch is the owner's: the branch a scoped caller must have to book the vehicle
        store.save_vehicle(tx, event["vehicle_id"], event["customer_id"], event["plate"], event["branch_id"])

    # -- helpers --------------------------------------------------------------------------------
    def _branch(self, tx, branch_id):
        branch = _branches.get(branch_id, lambda: store.branch_with_capacity(tx, branch_id))
        if branch is None:
            raise errors.NotFound(f"branch {branch_id} is not known", {"branch_id": ["unknown branch"]})
        return branch

    def _take(self, tx, branch, slot_start):
        if not store.take_slot(tx, branch["branch_id"], slot_start):
            raise domain.SlotFull()

    def _booking(self, tx, booking_id):
        """The booking a command acts on, locked for the command's transaction."""
        return domain.Booking.from_row(self._admit(store.booking(tx, record_id(booking_id, "booking"), lock=True)))

    def _admit(self, booking):
        return self.scope.admit(booking, errors.NotFound("no such booking", {"booking_id": ["unknown booking"]}))

    def _dump(self, tx, booking_id):
        return BOOKING.dump(store.view(tx, booking_id))

    def _insert(self, tx, booking):
        """The new booking written, once the vehicle it names is the customer's and in the caller's scope.

        The insert itself checks the vehicle against our copy of crm's; only a vehicle the copy
        does not know (registered a moment ago), or gives to another customer or branch, costs more.
        """
        created = store.insert_booking(tx, booking.row(), vehicle_checked=False, vehicle_branches=self.scope.branches)
        if created is None:
            # a vehicle named in the body is checked as a record in the path would be (shared/scope.py)
            vehicle = self.scope.admit(self._vehicle(tx, booking.vehicle_id),
                                       errors.Unprocessable("unknown vehicle", {"vehicle_id": ["no such vehicle"]}))
            booking.check_vehicle(vehicle)
            created = store.insert_booking(tx, booking.row())
        return created

    def _vehicle(self, tx, vehicle_id):
        """Our copy of the vehicle, else crm's answer (None: crm knows none). A copy made before it
        kept the vehicle's branch cannot answer a scoped caller: crm is asked, and the copy filled in."""
        known = store.vehicle(tx, vehicle_id)
        if known is not None and (known["branch_id"] is not None or not self.scope.limited):
            return known
        answer = self._ask_crm_for_vehicle(vehicle_id)
        if answer is not None:
            store.save_vehicle(tx, answer["vehicle_id"], answer["customer_id"], answer["plate"], answer["branch_id"])
        return answer

    def _ask_crm_for_vehicle(self, vehicle_id):
        """Our copy of crm's vehicles lags by milliseconds; a brand-new vehicle is asked for."""
        return ask("crm", "the vehicle", self.crm.get_vehicle, str(vehicle_id))
