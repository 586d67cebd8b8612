"""booking: branches and their slots, appointments, reschedules and arrivals."""
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import eventlet
from nameko.rpc import RpcProxy

from services.booking import domain, schemas, store
from shared import errors, org
from shared.cache import Recent
from shared.dependencies import Database
from shared.messaging import on_event
from shared.rpc import load, record_id, rpc
from shared.schemas import page_of
from shared.scope import CallerScope
from shared.sla_service import SlaClocks

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
    crm = RpcProxy("crm")

    # -- branches -----------------------------------------------------------------------------
    @rpc
    def configure_branch(self, data):
        setup = load(schemas.BranchSetup, data)
        branch_id = setup.pop("branch_id")
        with self.db.transaction() as tx:
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
            slots = domain.slots_for_day(
                query["date"], branch["business_hours"], branch["holidays"],
                ZoneInfo(branch["timezone"]), branch["slot_minutes"],
            )
            starts = [s.start for s in slots]
            overrides = store.slot_overrides(tx, branch["branch_id"], starts)
            loads = store.slot_loads(tx, branch["branch_id"], starts)
        out = []
        for slot in slots:
            capacity = domain.slot_capacity(branch["bays"], overrides.get(slot.start))
            booked = loads.get(slot.start, 0)
            out.append({"slot_start": slot.start, "slot_end": slot.end, "capacity": capacity,
                        "booked": booked, "available": max(capacity - booked, 0)})
        return SLOT.dump(out, many=True)

    @rpc
    def set_slot_capacity(self, data):
        change = load(schemas.SlotOverride, data)
        with self.db.transaction() as tx:
            branch = self._branch(tx, change["branch_id"])
            slot = self._slot(branch, change["slot_start"])
            store.set_slot_override(tx, branch["branch_id"], slot.start, change["capacity"])
        return {"branch_id": branch["branch_id"], "slot_start": slot.start.isoformat(),
                "capacity": change["capacity"]}

    # -- bookings -------------------------------------------------------------------------------
    @rpc
    def create_booking(self, data):
        request = load(schemas.BookingRequest, data)
        booking = {**request, "booking_id": uuid.uuid4(), "status": "requested", "requested_at": now()}
        with self.db.transaction() as tx:
            branch = self._branch(tx, request["branch_id"])
            slot = self._slot(branch, request["slot_start"])
            booking.update(slot_start=slot.start, slot_end=slot.end)
            # The insert itself checks the vehicle against our copy of crm's; only a vehicle the
            # copy does not know (registered a moment ago) or gives to someone else costs more.
            created = store.insert_booking(tx, booking, vehicle_checked=False)
            if created is None:
                known = store.vehicle(tx, request["vehicle_id"]) or self._ask_crm_for_vehicle(request["vehicle_id"])
                self._check_owner(known, request["customer_id"])
                created = store.insert_booking(tx, booking)
            tx.publish(
                "booking.created", branch["branch_id"],
                **{k: booking[k] for k in ("booking_id", "customer_id", "vehicle_id", "slot_start",
                                           "slot_end", "service_type", "priority", "channel",
                                           "requested_at")},
            )
            # Last, so the slot's row is locked only for the commit: advisors booking the same
            # slot at once queue on that lock, and the shorter it is held the more get through.
            self._take(tx, branch, slot)
        created["history"] = [{"at": created["created_at"], "from_status": None, "to_status": "requested",
                               "slot_start": created["slot_start"], "note": "requested"}]
        return BOOKING.dump(created)

    @rpc
    def confirm_booking(self, booking_id):
        with self.db.transaction() as tx:
            booking = self._booking(tx, booking_id, lock=True)
            status = domain.transition(booking["status"], "confirmed")
            store.update_booking(tx, booking["booking_id"], status=status, confirmed_at=now())
            store.add_history(tx, booking["booking_id"], booking["status"], status, booking["slot_start"])
            tx.publish("booking.confirmed", booking["branch_id"], booking_id=booking["booking_id"],
                       slot_start=booking["slot_start"])
            return self._dump(tx, booking["booking_id"])

    @rpc
    def reschedule_booking(self, booking_id, data):
        change = load(schemas.Reschedule, data)
        with self.db.transaction() as tx:
            booking = self._booking(tx, booking_id, lock=True)
            if booking["status"] not in domain.HOLDS_SLOT:
                raise errors.Conflict(f"a {booking['status']} booking cannot be moved",
                                      {"status": [f"is {booking['status']}"]})
            branch = self._branch(tx, booking["branch_id"])
            slot = self._slot(branch, change["slot_start"])
            if slot.start == booking["slot_start"]:
                raise errors.Unprocessable("the booking is already in that slot",
                                           {"slot_start": ["is the current slot"]})
            self._take(tx, branch, slot)
            store.free_slot(tx, branch["branch_id"], booking["slot_start"])
            store.update_booking(tx, booking["booking_id"], slot_start=slot.start, slot_end=slot.end)
            store.add_history(tx, booking["booking_id"], booking["status"], booking["status"],
                              slot.start, change["note"] or "rescheduled")
            tx.publish("booking.rescheduled", branch["branch_id"], booking_id=booking["booking_id"],
                       previous_slot_start=booking["slot_start"], slot_start=slot.start)
            return self._dump(tx, booking["booking_id"])

    @rpc
    def cancel_booking(self, booking_id, data):
        change = load(schemas.Cancel, data)
        with self.db.transaction() as tx:
            booking = self._booking(tx, booking_id, lock=True)
            status = domain.transition(booking["status"], "cancelled")
            store.free_slot(tx, booking["branch_id"], booking["slot_start"])
            store.update_booking(tx, booking["booking_id"], status=status, cancelled_at=now())
            store.add_history(tx, booking["booking_id"], booking["status"], status,
                              booking["slot_start"], change["reason"])
            tx.publish("booking.cancelled", booking["branch_id"], booking_id=booking["booking_id"],
                       reason=change["reason"])
            return self._dump(tx, booking["booking_id"])

    @rpc
    def check_in(self, booking_id, data):
        arrival = load(schemas.CheckIn, data)
        with self.db.transaction() as tx:
            booking = self._booking(tx, booking_id, lock=True)
            status = domain.transition(booking["status"], "checked_in")
            at = now()
            store.update_booking(tx, booking["booking_id"], status=status, checked_in_at=at, **arrival)
            store.add_history(tx, booking["booking_id"], booking["status"], status, booking["slot_start"])
            tx.publish(
                "booking.checked_in", booking["branch_id"], booking_id=booking["booking_id"],
                customer_id=booking["customer_id"], vehicle_id=booking["vehicle_id"],
                priority=booking["priority"], service_type=booking["service_type"],
                checked_in_at=at, plate=self._plate(tx, booking["vehicle_id"]), **arrival,
            )
            return self._dump(tx, booking["booking_id"])

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
        store.save_vehicle(tx, event["vehicle_id"], event["customer_id"], event["plate"])

    # -- helpers --------------------------------------------------------------------------------
    def _branch(self, tx, branch_id):
        branch = _branches.get(branch_id, lambda: store.branch_with_capacity(tx, branch_id))
        if branch is None:
            raise errors.NotFound(f"branch {branch_id} is not known", {"branch_id": ["unknown branch"]})
        return branch

    def _slot(self, branch, slot_start):
        return domain.find_slot(slot_start, branch["business_hours"], branch["holidays"],
                                ZoneInfo(branch["timezone"]), branch["slot_minutes"])

    def _take(self, tx, branch, slot):
        if not store.take_slot(tx, branch["branch_id"], slot.start):
            raise errors.Conflict("the slot is fully booked", {"slot_start": ["no capacity left in this slot"]})

    def _booking(self, tx, booking_id, lock=False):
        return self._admit(store.booking(tx, record_id(booking_id, "booking"), lock=lock))

    def _admit(self, booking):
        return self.scope.admit(booking, errors.NotFound("no such booking", {"booking_id": ["unknown booking"]}))

    def _plate(self, tx, vehicle_id):
        known = store.vehicle(tx, vehicle_id)
        return known["plate"] if known else ""

    def _dump(self, tx, booking_id):
        return BOOKING.dump(store.view(tx, booking_id))

    def _ask_crm_for_vehicle(self, vehicle_id):
        """Our copy of crm's vehicles lags by milliseconds; a brand-new vehicle is asked for."""
        try:
            with eventlet.Timeout(3):
                return self.crm.get_vehicle(str(vehicle_id))
        except errors.NotFound:
            raise errors.Unprocessable("unknown vehicle", {"vehicle_id": ["no such vehicle"]}) from None
        except eventlet.Timeout:
            raise errors.Unavailable("crm did not answer about the vehicle") from None

    @staticmethod
    def _check_owner(vehicle, customer_id):
        if str(vehicle["customer_id"]) != str(customer_id):
            raise errors.Unprocessable("the vehicle belongs to another customer",
                                       {"vehicle_id": ["not this customer's vehicle"]})
