"""booking: branches and their slots, appointments, reschedules and arrivals."""
import uuid
from datetime import datetime, timedelta, timezone

from nameko.timer import timer

from services.booking import capacity, domain, extras, priority, reschedule, store, waiting
from services.booking import day as day_rules
from services.booking import walk_in as walk_in_rules
from services.booking.walk_in import WalkIn
from shared import config, org, sites
from shared.bus.messaging import on_event
from shared.bus.rpc import ServiceRpcProxy, ask, load, record_id, rpc
from shared.cache import Recent
from shared.contracts import errors
from shared.domain import RuleBroken
from shared.contracts.api import booking as schemas
from shared.contracts.schemas import page_of
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks
from shared.storage.dependencies import Database

# A branch's settings with its bays, read by every booking: kept a few seconds per process. The
# slot's room itself is always read by the statement that takes the slot (store.take_slot).
_branches = Recent()
_catalogues = Recent()  # a branch's service types (capacity.Catalogue), kept as its settings are
BOOKING = schemas.Booking()
BRANCH = schemas.Branch()
SLOT = schemas.Slot()
TECHNICIAN = schemas.Technician()
SERVICE_TYPE = schemas.ServiceType()
WALK_IN = schemas.WalkIn()


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
        refused = sites.Site(config.site(), config.site_regions()).may_configure(setup["region_id"])
        if refused:
            raise RuleBroken(refused, region_id="hosted by another site (docs/sites.md)")
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
            work = self._catalogue(tx, branch["branch_id"]).work_for(query["service_type"]) \
                if "service_type" in query else None
            rooms = self._rooms(tx, branch, slots, work)
        at = now()
        out = []
        for slot, room in rooms:
            line = {"slot_start": slot.start, "slot_end": slot.end, "capacity": room.capacity,
                    "booked": room.booked, "available": slot.available(room.capacity, room.booked, at)}
            if work is not None:
                reason = room.why_not(work, slot.start, at)
                free = room.free_skill_seconds
                line.update(free_bays=room.free_bays, skill=work.skill, hours_needed=work.hours,
                            skill_hours_free=None if free is None else round(free / 3600, 2),
                            bookable=reason is None, reason=reason)
            out.append(line)
        return SLOT.dump(out, many=True)

    # -- technicians and service types --------------------------------------------------------------
    @rpc
    def set_technician(self, data):
        setup = load(schemas.TechnicianSetup, data)
        with self.db.command() as tx:
            branch = self._branch(tx, setup["branch_id"])
            shifts = capacity.plan_shifts(setup["technician_id"], setup["skills"], setup["shifts"],
                                          domain.Timetable.of(branch).tz)
            store.save_technician(tx, branch["branch_id"], setup["technician_id"], setup["skills"], shifts)
            days = [s["day"] for s in shifts] or [now().date()]
            found = store.technicians(tx, branch["branch_id"], min(days), max(days), setup["technician_id"])
            return TECHNICIAN.dump(found[0])

    @rpc
    def list_technicians(self, data):
        query = load(schemas.TechnicianQuery, data)
        with self.db.read() as tx:
            branch = self._branch(tx, query["branch_id"])
            return TECHNICIAN.dump(store.technicians(tx, branch["branch_id"], query["date_from"], query["date_to"]),
                                   many=True)

    @rpc
    def technician_hours(self, branch_id, date_from, date_to):
        """[{technician_id, skills, available_seconds}] from the shifts between the two days (inclusive)."""
        query = load(schemas.TechnicianQuery, {"branch_id": branch_id, "date_from": date_from, "date_to": date_to})
        with self.db.read() as tx:
            branch = self._branch(tx, query["branch_id"])
            return schemas.TechnicianHours().dump(
                store.technician_hours(tx, branch["branch_id"], query["date_from"], query["date_to"]), many=True)

    @rpc
    def set_service_type(self, data):
        setup = load(schemas.ServiceTypeSetup, data)
        with self.db.command() as tx:
            branch = self._branch(tx, setup["branch_id"])
            entry = capacity.catalogue_entry(setup["service_type"], setup["skill"], setup["labour_hours"],
                                             setup["parts"])
            store.save_service_type(tx, branch["branch_id"], entry)
            _catalogues.forget_when_committed(tx, branch["branch_id"])
            return SERVICE_TYPE.dump(self._service_type(capacity.Catalogue.of([entry]), entry["service_type"], True))

    @rpc
    def list_service_types(self, data):
        query = load(schemas.ServiceTypeQuery, data)
        with self.db.read() as tx:
            branch = self._branch(tx, query["branch_id"])
            own = store.service_types(tx, branch["branch_id"])
        catalogue, own_keys = capacity.Catalogue.of(own), {e["service_type"] for e in own}
        return SERVICE_TYPE.dump([self._service_type(catalogue, k, k in own_keys)
                                  for k in sorted({*own_keys, *capacity.CATALOGUE})], many=True)

    @staticmethod
    def _service_type(catalogue, key, branch_own):
        skill, seconds = catalogue.entries[key]
        return {"service_type": key, "skill": skill, "labour_hours": round(seconds / 3600, 2),
                "branch_own": branch_own, "parts": catalogue.kit_for(key)}

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
            work = self._catalogue(tx, branch["branch_id"]).work_for(request["service_type"])
            at, booking_id, displaced = now(), uuid.uuid4(), None
            if request["priority"] == priority.SAFETY_CRITICAL:
                request["slot_start"], displaced = self._make_room(tx, branch, request["slot_start"], work, at)
            booking = domain.Booking.request(booking_id, request, domain.Timetable.of(branch), at, work)
            created = self._insert(tx, booking)
            if displaced is not None:
                self._displace(tx, branch, displaced, booking_id, at)
            # The place is taken last, in the statement that announces the booking: the slot's row
            # stays locked only to the commit, and advisors booking the same slot queue on that lock.
            taking = store.taking_slot(branch["branch_id"], booking.slot_start, booking.slot_end, work.skill,
                                       booking.slot_seconds)
            if not tx.publish_recorded(booking, along=taking):
                raise self._full(tx, branch, booking, work)
            self._take_extras(tx, branch, booking)
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
            took = (booking.skill, booking.slot_seconds)  # what the slot given up holds for it
            given_up = booking.reschedule(domain.Timetable.of(branch), change["slot_start"], now(), change["note"])
            self._take(tx, branch, booking)
            store.free_slot(tx, booking.branch_id, given_up, *took)
            self._free_extras(tx, branch, booking, given_up)
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    @rpc
    def request_reschedule(self, booking_id, data):
        ask = load(schemas.RescheduleRequest, data if data is not None else {})
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            booking.ask_to_reschedule(ask["note"], now())
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    @rpc
    def offer_reschedule(self, booking_id, data):
        offer = load(schemas.RescheduleOffer, data if data is not None else {})
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            branch = self._branch(tx, booking.branch_id)
            timetable, at = domain.Timetable.of(branch), now()
            work = self._work_of(tx, branch, booking)
            if "alternatives" in offer:
                alternatives = self._checked_alternatives(tx, branch, [timetable.slot_at(s) for s in
                                                                       offer["alternatives"]], work, at)
            else:
                today = at.astimezone(timetable.tz).date()
                slots = [s for d in range(capacity.ALTERNATIVES_WITHIN_DAYS + 1)
                         for s in timetable.slots_on(today + timedelta(days=d))]
                alternatives = reschedule.alternatives(self._rooms(tx, branch, slots, work), work, timetable.tz,
                                                       booking.slot_start, at)
            booking.offer_alternatives(alternatives, at)
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    def _checked_alternatives(self, tx, branch, slots, work, at) -> list[dict]:
        """The slots the branch chose, each one that fits the booking's work now (422 naming those that do not)."""
        tz = domain.Timetable.of(branch).tz
        refused = [f"{slot.start.isoformat()}: {reason}" for slot, room in self._rooms(tx, branch, slots, work)
                   if (reason := room.why_not(work, slot.start, at)) is not None]
        if refused:
            raise errors.Unprocessable("an alternative does not fit", {"alternatives": refused})
        return [{"slot_start": s.start, "slot_end": s.end, "part_of_day": reschedule.part_of_day(s.start, tz)}
                for s in sorted(set(slots), key=lambda s: s.start)]

    def _work_of(self, tx, branch, booking) -> capacity.Work:
        if booking.skill is None:  # booked before labour was counted
            return self._catalogue(tx, branch["branch_id"]).work_for(booking.service_type)
        return capacity.Work(booking.service_type, booking.skill, booking.labour_seconds, True)

    @rpc
    def cancel_booking(self, booking_id, data):
        change = load(schemas.Cancel, data)
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            freed = booking.cancel(change["reason"], now())
            store.free_slot(tx, booking.branch_id, freed, booking.skill, booking.slot_seconds)
            self._free_extras(tx, self._branch(tx, booking.branch_id), booking, freed)
            store.save_booking(tx, booking)
            tx.publish_recorded(booking)
            return self._dump(tx, booking.booking_id)

    @rpc
    def record_arrival(self, booking_id):
        with self.db.command() as tx:
            booking = self._booking(tx, booking_id)
            booking.arrive(now())
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

    # -- extras ----------------------------------------------------------------------------------------
    @rpc
    def set_extra(self, data):
        setup = load(schemas.ExtraSetup, data)
        with self.db.command() as tx:
            branch = self._branch(tx, setup["branch_id"])
            store.save_extra(tx, branch["branch_id"], setup["extra"], setup["per"], setup["capacity"])
            return {k: setup[k] for k in ("branch_id", "extra", "per", "capacity")}

    @rpc
    def list_extras(self, data):
        """Each extra the branch offers with what is taken and free, per period of the day."""
        query = load(schemas.ExtraQuery, data)
        with self.db.read() as tx:
            branch = self._branch(tx, query["branch_id"])
            timetable = domain.Timetable.of(branch)
            offered = store.offered_extras(tx, branch["branch_id"])
            day = [extras.period_start("day", s.start, timetable.tz) for s in timetable.slots_on(query["date"])][:1] \
                or [datetime.combine(query["date"], datetime.min.time(), timetable.tz)]
            starts = {"day": day, "slot": [s.start for s in timetable.slots_on(query["date"])]}
            loads = store.extra_loads(tx, branch["branch_id"], starts["day"] + starts["slot"])
        return schemas.ExtraDay().dump([
            {"extra": e, "per": r["per"], "capacity": r["capacity"], "periods": [
                {"period_start": p, "taken": loads.get((e, p), 0), "free": max(r["capacity"] - loads.get((e, p), 0), 0)}
                for p in starts[r["per"]]]} for e, r in offered.items()], many=True)

    # -- the day's arrivals -------------------------------------------------------------------------
    @rpc
    def day_arrivals(self, data):
        """The evening list of tomorrow's arrivals (no date) or the supervisor's view of any day: read live,
        so a booking shows as soon as it is made."""
        query = load(schemas.DayQuery, data)
        with self.db.read() as tx:
            branch = self._branch(tx, query["branch_id"])
            timetable = domain.Timetable.of(branch)
            day = query.get("date") or (now().astimezone(timetable.tz).date() + timedelta(days=1))
            start = datetime.combine(day, datetime.min.time(), timetable.tz)
            end = datetime.combine(day + timedelta(days=1), datetime.min.time(), timetable.tz)
            arrivals = store.arrivals(tx, branch["branch_id"], start, end)
            _, shifts = store.shifts_between(tx, branch["branch_id"], start, end)
            waiting = len(store.waiting_walk_ins(tx, branch["branch_id"]))
            arrivals = day_rules.with_parts(arrivals, self._catalogue(tx, branch["branch_id"]))
        return schemas.Day().dump({
            "branch_id": branch["branch_id"], "date": day, "walk_ins_waiting": waiting,
            "arrivals": arrivals, "parts_to_pick": day_rules.parts_total(arrivals),
            "skills": day_rules.skills_needed(arrivals, shifts, start, end),
            "slots": day_rules.by_slot(timetable.slots_on(day), arrivals)})

    # -- walk-ins ------------------------------------------------------------------------------------
    @rpc
    def walk_in_arrival(self, data):
        arrival = load(schemas.WalkInArrival, data)
        with self.db.command() as tx:
            branch = self._branch(tx, arrival["branch_id"])
            vehicle = self.scope.admit(self._vehicle(tx, arrival["vehicle_id"]),
                                       errors.Unprocessable("unknown vehicle", {"vehicle_id": ["no such vehicle"]}))
            work = self._catalogue(tx, branch["branch_id"]).work_for(arrival["service_type"])
            walk_in = WalkIn.arrive(uuid.uuid4(), arrival, work, now())
            walk_in.check_vehicle(vehicle)
            placed = walk_in_rules.queue(store.waiting_walk_ins(tx, branch["branch_id"]) + [walk_in.row()],
                                         *self._load(tx, branch))
            walk_in.promise(next(w for w in placed if w["walk_in_id"] == walk_in.walk_in_id)["estimated_wait_minutes"])
            store.insert_walk_in(tx, walk_in.row())
            tx.publish_recorded(walk_in)
            return self._in_queue(tx, branch, walk_in.walk_in_id)

    @rpc
    def list_walk_ins(self, data):
        query = load(schemas.WalkInQuery, data)
        with self.db.read() as tx:
            return WALK_IN.dump(self._queue(tx, self._branch(tx, query["branch_id"])), many=True)

    @rpc
    def check_in_walk_in(self, walk_in_id, data):
        """A walk-in received without a slot: its booking is made and checked in, in one command."""
        arrival = load(schemas.CheckIn, data)
        with self.db.command() as tx:
            found = self.scope.admit(store.walk_in(tx, record_id(walk_in_id, "walk_in"), lock=True),
                                     errors.NotFound("no such walk-in", {"walk_in_id": ["unknown walk-in"]}))
            walk_in = WalkIn.from_row(found)
            booking = domain.Booking.from_walk_in(uuid.uuid4(), walk_in, now())
            walk_in.checked_in(booking.booking_id)
            store.insert_booking(tx, booking.row())
            booking.check_in(**arrival, plate=store.plate(tx, booking.vehicle_id), now=now())
            store.save_booking(tx, booking)
            store.save_walk_in(tx, walk_in.row())
            tx.publish_recorded(booking, walk_in)
            return self._dump(tx, booking.booking_id)

    def _queue(self, tx, branch) -> list:
        return walk_in_rules.queue(store.waiting_walk_ins(tx, branch["branch_id"]), *self._load(tx, branch))

    def _load(self, tx, branch) -> tuple[int, int]:
        """(labour seconds of appointments due and not received, how many serve them at once)."""
        due, on_shift, staffed = store.day_load(tx, branch["branch_id"], now())
        return due, on_shift if staffed else branch["bays"]

    def _in_queue(self, tx, branch, walk_in_id) -> dict:
        return WALK_IN.dump(next(w for w in self._queue(tx, branch) if w["walk_in_id"] == walk_in_id))

    @rpc
    def get_booking(self, booking_id):
        with self.db.read() as tx:
            return BOOKING.dump(self._admit(store.view(tx, record_id(booking_id, "booking"))))

    @rpc
    def list_bookings(self, query):
        filters = load(schemas.BookingQuery, query or {})
        with self.db.read() as tx:
            return page_of(BOOKING, store.page_bookings(tx, filters))

    # -- the clock's work: reminders and no-shows ------------------------------------------------------
    @timer(interval=config.sla_check_interval())  # the cadence of the SLA clocks' own check
    def remind_and_mark_no_shows(self):
        """A reminder a day before each visit, once (the mark is in the booking's row, so a restart sends
        none twice); an apology to each customer waiting 15 minutes past the promised time, then every 30;
        a confirmed booking 30 minutes past its slot's start without arrival is a no-show and its place and
        hours are freed."""
        at = now()
        with self.db.transaction() as tx:
            for row in store.reminders_due(tx, at, domain.REMIND_BEFORE):
                booking = domain.Booking.from_row(row)
                booking.remind(at)
                store.save_booking(tx, booking)
                tx.publish_recorded(booking)
        with self.db.transaction() as tx:
            bookings, walk_ins = store.apologies_due(tx, at, waiting.FIRST_APOLOGY_AFTER, waiting.APOLOGY_EVERY)
            for row in bookings:
                booking = domain.Booking.from_row(row)
                booking.apologise_for_the_wait(at)
                store.save_booking(tx, booking)
                tx.publish_recorded(booking)
            for row in walk_ins:
                walk_in = WalkIn.from_row(row)
                walk_in.apologise_for_the_wait(at)
                store.save_walk_in(tx, walk_in.row())
                tx.publish_recorded(walk_in)
        with self.db.transaction() as tx:
            for row in store.no_shows_due(tx, at, domain.NO_SHOW_AFTER):
                booking = domain.Booking.from_row(row)
                freed = booking.no_show(at)
                store.free_slot(tx, booking.branch_id, freed, booking.skill, booking.slot_seconds)
                self._free_extras(tx, self._branch(tx, booking.branch_id), booking, freed)
                store.save_booking(tx, booking)
                tx.publish_recorded(booking)

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

    def _take(self, tx, branch, booking):
        """The booking's place and labour in its (new) slot; a booking from before labour was counted takes
        the labour its service type needs now."""
        if booking.skill is None:
            work = self._catalogue(tx, branch["branch_id"]).work_for(booking.service_type)
            booking.skill, booking.labour_seconds = work.skill, work.seconds
        if not store.take_slot(tx, branch["branch_id"], booking.slot_start, booking.slot_end, booking.skill,
                               booking.slot_seconds):
            raise self._full(tx, branch, booking, capacity.Work(booking.service_type, booking.skill,
                                                                booking.labour_seconds, True))
        self._take_extras(tx, branch, booking)

    def _take_extras(self, tx, branch, booking):
        """The booking's extras in the periods of its slot, each from the branch's capacity (atomic)."""
        if not booking.extras:
            return
        offered = {e: r["per"] for e, r in store.offered_extras(tx, branch["branch_id"]).items()}
        for extra, per, start in extras.periods(booking.extras, offered, booking.slot_start,
                                                domain.Timetable.of(branch).tz):
            if not store.take_extra(tx, branch["branch_id"], extra, start):
                raise extras.ExtraGone(extra, per)

    def _free_extras(self, tx, branch, booking, slot_start):
        """Give back the extras the booking held with the slot starting at `slot_start`."""
        if not booking.extras:
            return
        offered = store.offered_extras(tx, branch["branch_id"])
        tz = domain.Timetable.of(branch).tz
        for extra in booking.extras:
            if extra in offered:
                store.free_extra(tx, branch["branch_id"], extra, extras.period_start(offered[extra]["per"],
                                                                                      slot_start, tz))

    def _full(self, tx, branch, booking, work) -> domain.SlotFull:
        """The refusal of a full slot, with the next slots that fit the same work (read in the failed
        command's transaction, which is rolled back anyway)."""
        timetable = domain.Timetable.of(branch)
        first = booking.slot_start.astimezone(timetable.tz).date()
        slots = [s for d in range(capacity.ALTERNATIVES_WITHIN_DAYS + 1)
                 for s in timetable.slots_on(first + timedelta(days=d))]
        rooms = self._rooms(tx, branch, slots, work)
        return domain.SlotFull(capacity.alternatives(rooms, work, booking.slot_start, now()))

    # -- safety-critical work first ----------------------------------------------------------------------
    def _make_room(self, tx, branch, slot_start, work, at):
        """(the slot safety-critical work takes, a cosmetic priority.Holder to move out of it or None).

        Asked for a slot: that slot, making room in it if it is full and cosmetic work can move. Asked for
        none: priority.emergency_slot over today and the next days. Read before the slot is taken; the
        taking itself stays atomic (a race lost is a 409 like any full slot)."""
        timetable = domain.Timetable.of(branch)
        if slot_start is not None:
            slot = timetable.slot_at(slot_start)
            [(slot, room)] = self._rooms(tx, branch, [slot], work)
            if room.why_not(work, slot.start, at) is None:
                return slot.start, None
            return slot.start, priority.displaceable(slot, room, self._movable(tx, branch, [slot], at), work, at)
        today = at.astimezone(timetable.tz).date()
        slots = [s for d in range(capacity.ALTERNATIVES_WITHIN_DAYS + 1)
                 for s in timetable.slots_on(today + timedelta(days=d))]
        today_ends = datetime.combine(today + timedelta(days=1), datetime.min.time(), timetable.tz)
        todays = [s for s in slots if at < s.start < today_ends]
        slot, holder = priority.emergency_slot(self._rooms(tx, branch, slots, work),
                                               self._movable(tx, branch, todays, at), work, at, today_ends)
        if slot is None:
            raise domain.SlotFull()
        return slot.start, holder

    def _movable(self, tx, branch, slots, at) -> list:
        """The cosmetic bookings in these slots that have another slot to go to."""
        holders = [priority.Holder(**row) for row in store.cosmetic_holders(tx, branch["branch_id"],
                                                                           [s.start for s in slots])]
        return [h for h in holders if self._alternatives_for(tx, branch, h, at)]

    def _alternatives_for(self, tx, branch, holder, at) -> list:
        timetable = domain.Timetable.of(branch)
        work = capacity.Work("", holder.skill or capacity.GENERAL, holder.seconds or 0, True)
        first = holder.slot_start.astimezone(timetable.tz).date()
        slots = [s for d in range(capacity.ALTERNATIVES_WITHIN_DAYS + 1)
                 for s in timetable.slots_on(first + timedelta(days=d))]
        return capacity.alternatives(self._rooms(tx, branch, slots, work), work, holder.slot_start, at)

    def _displace(self, tx, branch, holder, by, at):
        """Move the cosmetic booking to its first alternative and tell the customer the others."""
        booking = self._booking(tx, holder.booking_id)
        if booking.slot_start != holder.slot_start or booking.status not in domain.HOLDS_SLOT:
            raise domain.SlotFull()  # moved by someone else a moment ago: this request lost the race
        alternatives = self._alternatives_for(tx, branch, holder, at)
        if not alternatives:
            raise domain.SlotFull()
        took = (booking.skill, booking.slot_seconds)
        given_up = booking.displace(domain.Timetable.of(branch), alternatives[0].start, alternatives, by,
                                    priority.DISPLACED, at)
        self._take(tx, branch, booking)
        store.free_slot(tx, booking.branch_id, given_up, *took)
        self._free_extras(tx, branch, booking, given_up)
        store.save_booking(tx, booking)
        tx.publish_recorded(booking)

    def _rooms(self, tx, branch, slots, work=None) -> list:
        """[(slot, capacity.SlotRoom)]: each slot's bays and bookings, and given the work, the technician
        seconds on shift and booked, in all and with the work's skill."""
        if not slots:
            return []
        branch_id, starts = branch["branch_id"], [s.start for s in slots]
        overrides = store.slot_overrides(tx, branch_id, starts)
        loads = store.slot_loads(tx, branch_id, starts)
        staffed, shifts, hours, skill_hours = False, [], {}, {}
        if work is not None:
            staffed, shifts = store.shifts_between(tx, branch_id, slots[0].start, slots[-1].end)
            hours, skill_hours = store.slot_hours(tx, branch_id, starts)
        rooms = []
        for slot in slots:
            rooms.append((slot, capacity.SlotRoom(
                domain.slot_capacity(branch["bays"], overrides.get(slot.start)), loads.get(slot.start, 0), staffed,
                capacity.seconds_on_shift(shifts, slot.start, slot.end), hours.get(slot.start, 0),
                capacity.seconds_on_shift(shifts, slot.start, slot.end, work.skill) if work else 0,
                skill_hours.get((slot.start, work.skill), 0) if work else 0,
                int((slot.end - slot.start).total_seconds()))))
        return rooms

    def _catalogue(self, tx, branch_id) -> capacity.Catalogue:
        return _catalogues.get(branch_id, lambda: capacity.Catalogue.of(store.service_types(tx, branch_id)))

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
