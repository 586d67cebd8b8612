"""crm: customers and vehicles, follow-ups after delivery, surveys, complaints."""
import uuid
from datetime import datetime, timezone

from services.crm import domain, schemas, store
from shared.contracts import errors
from shared.storage.dependencies import Database
from shared.bus.messaging import on_event
from shared.org import BranchDirectory
from shared.bus.rpc import ServiceRpcProxy, ask, load, record_id, rpc
from shared.contracts.schemas import page_of
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks

CUSTOMER, VEHICLE = schemas.Customer(), schemas.Vehicle()
FOLLOW_UP, SURVEY, COMPLAINT = schemas.FollowUp(), schemas.Survey(), schemas.Complaint()


def unknown_customer():
    return errors.NotFound("no such customer", {"customer_id": ["unknown customer"]})


def now():
    return datetime.now(timezone.utc)


class CrmService(SlaClocks, BranchDirectory):
    name = "crm"

    db = Database()
    scope = CallerScope()
    workshop = ServiceRpcProxy("workshop")  # a repair order named in a complaint is workshop's to find

    # -- customers and vehicles -------------------------------------------------------------
    @rpc
    def create_customer(self, data):
        customer = domain.Customer.register(uuid.uuid4(), **load(schemas.NewCustomer, data))
        with self.db.command() as tx:
            from shared.org import region_of

            if region_of(tx, customer.branch_id) is None:  # crm's copy of the branches (shared/org.py)
                raise errors.Unprocessable("no such branch", {"branch_id": ["unknown branch"]})
            row = store.insert_customer(tx, {**domain.stored(customer), "phone_key": customer.phone_key})
            store.log_contact(tx, row["customer_id"], "registered")
            tx.publish_recorded(customer)
            return CUSTOMER.dump(row)

    @rpc
    def get_customer(self, customer_id):
        with self.db.read() as tx:
            return CUSTOMER.dump(self._customer(tx, customer_id))

    @rpc
    def list_customers(self, query):
        filters = load(schemas.CustomerQuery, query or {})
        with self.db.read() as tx:
            return page_of(CUSTOMER, store.customers_page(tx, filters, self._search(filters)))

    @rpc
    def register_vehicle(self, data):
        given = load(schemas.NewVehicle, data)
        if domain.normalise_vin(given["vin"]) is None:  # the VIN's shape is input: a field error (400)
            raise errors.ValidationFailed("invalid VIN", {"vin": [domain.VIN_SHAPE]})
        with self.db.command() as tx:
            owner = self.scope.admit(store.customer(tx, given.pop("customer_id"), share=True),
                                     errors.Unprocessable("unknown customer", {"customer_id": ["no such customer"]}))
            vehicle = domain.Customer.from_row(owner).register_vehicle(uuid.uuid4(), **given)
            row = store.insert_vehicle(tx, {**domain.stored(vehicle), "plate_key": vehicle.plate_key})
            if row is None:  # one vehicle per VIN: the unique key decides, atomically
                raise errors.Conflict("a vehicle with this VIN is registered", {"vin": ["already registered"]})
            tx.publish_recorded(vehicle)
            return VEHICLE.dump(row)

    @rpc
    def get_vehicle(self, vehicle_id):
        with self.db.read() as tx:
            row = store.vehicle(tx, record_id(vehicle_id, "vehicle"))
            if row is None:
                raise errors.NotFound("no such vehicle", {"vehicle_id": ["unknown vehicle"]})
            return VEHICLE.dump(row)

    @rpc
    def list_vehicles(self, query):
        filters = load(schemas.VehicleQuery, query or {})
        with self.db.read() as tx:
            return page_of(VEHICLE, store.vehicles_page(tx, filters, self._search(filters)))

    # -- follow-ups ------------------------------------------------------------------------------
    @on_event("repair_order.delivered")
    def schedule_follow_up(self, tx, event):
        delivery = {key: event[key] for key in ("repair_order_id", "branch_id", "customer_id", "delivered_at")}
        store.record_delivery(tx, delivery)
        follow_up = domain.FollowUp.schedule(uuid.uuid4(), branch_hours=store.follow_up_hours(tx, event["branch_id"]),
                                             **delivery)
        if store.insert_follow_up(tx, domain.stored(follow_up)) is not None:
            tx.publish_recorded(follow_up)  # one follow-up per repair order, however often delivery is announced

    @rpc
    def get_follow_up(self, follow_up_id):
        with self.db.read() as tx:
            return FOLLOW_UP.dump(self._follow_up(tx, follow_up_id))

    @rpc
    def list_follow_ups(self, query):
        filters = load(schemas.FollowUpQuery, query or {})
        with self.db.read() as tx:
            return page_of(FOLLOW_UP, store.page(tx, store.FOLLOW_UPS, filters))

    @rpc
    def complete_follow_up(self, follow_up_id, data):
        done = load(schemas.FollowUpDone, data)
        with self.db.command() as tx:
            follow_up = domain.FollowUp.from_row(self._follow_up(tx, follow_up_id, lock=True))
            follow_up.complete(done["outcome"], done["notes"], now())
            row = store.save_completion(tx, domain.stored(follow_up))
            store.log_contact(tx, row["customer_id"], "follow_up", f"{done['outcome']}: {done['notes']}")
            tx.publish_recorded(follow_up)
            return FOLLOW_UP.dump(row)

    # -- surveys and complaints -----------------------------------------------------------------
    @rpc
    def record_survey(self, data):
        answer = load(schemas.NewSurvey, data)
        with self.db.command() as tx:
            survey = domain.Survey.answer(uuid.uuid4(), store.delivery(tx, answer["repair_order_id"]), **answer)
            row = store.insert_survey(tx, domain.stored(survey))
            if row is None:  # one survey per repair order: the unique key decides, atomically
                raise errors.Conflict("this repair order already has a survey", {"repair_order_id": ["answered"]})
            store.log_contact(tx, row["customer_id"], "survey", f"score {row['score']}")
            tx.publish_recorded(survey)
            complaint = survey.complaint(uuid.uuid4())  # a low score opens one
            if complaint is not None:
                self._save_complaint(tx, complaint)
                tx.publish_recorded(complaint)
            return SURVEY.dump({**row, "complaint_id": complaint.complaint_id if complaint else None})

    @rpc
    def list_surveys(self, query):
        filters = load(schemas.ListQuery, query or {})
        with self.db.read() as tx:
            return page_of(SURVEY, store.page(tx, store.SURVEYS, filters))

    @rpc
    def open_complaint(self, data):
        """A complaint staff record. The customer, and the repair order if one is named, are checked
        against the caller's scope as a record in the path would be (shared/scope.py): one of another
        branch and one that does not exist get the same 403, so a scoped caller learns nothing of ids
        elsewhere; an unscoped caller (admin) gets 404 for one that does not exist. The complaint's
        own branch is any branch the caller acts for (domain.Complaint.open says why)."""
        given = load(schemas.NewComplaint, data)
        if given["repair_order_id"] is not None:
            self._repair_order(given["repair_order_id"])  # workshop's record: asked before a connection is held
        with self.db.command() as tx:
            customer = self.scope.admit(store.customer(tx, given.pop("customer_id")), unknown_customer())
            complaint = domain.Complaint.open(uuid.uuid4(), customer_id=customer["customer_id"],
                                              acting_for=self.scope.branches, **given)
            row = self._save_complaint(tx, complaint)
            tx.publish_recorded(complaint)
            return COMPLAINT.dump(row)

    @rpc
    def get_complaint(self, complaint_id):
        with self.db.read() as tx:
            row = store.complaint(tx, record_id(complaint_id, "complaint"))
            if row is None:
                raise errors.NotFound("no such complaint", {"complaint_id": ["unknown complaint"]})
            return COMPLAINT.dump(row)

    @rpc
    def list_complaints(self, query):
        filters = load(schemas.ComplaintQuery, query or {})
        with self.db.read() as tx:
            return page_of(COMPLAINT, store.page(tx, store.COMPLAINTS, filters))

    @rpc
    def operations_figures(self):
        with self.db.read() as tx:
            return {"open_complaints": [dict(r) for r in store.open_complaints_by_level(tx)]}

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _search(filters):
        """What `q` looks for (domain.Search); the schema has refused a `q` it cannot be."""
        return domain.Search.of(filters["q"]) if filters.get("q") is not None else None

    @staticmethod
    def _save_complaint(tx, complaint):
        row = store.insert_complaint(tx, domain.stored(complaint))
        store.log_contact(tx, row["customer_id"], "complaint", row["what_happened"][:200])
        return row

    def _customer(self, tx, customer_id):
        row = store.customer(tx, record_id(customer_id, "customer"))
        if row is None:
            raise unknown_customer()
        return row

    def _follow_up(self, tx, follow_up_id, lock=False):
        return self.scope.admit(store.follow_up(tx, record_id(follow_up_id, "follow_up"), lock=lock),
                                errors.NotFound("no such follow-up", {"follow_up_id": ["unknown follow-up"]}))

    def _repair_order(self, repair_order_id):
        """The repair order, if the caller may name it. workshop owns it and admits it against the
        caller's scope, which nameko hands on with this call as context data; crm admits the answer
        too, so the check does not rest on another service's helper alone."""
        found = ask("workshop", "the repair order", self.workshop.get_repair_order, str(repair_order_id))
        return self.scope.admit(found, errors.NotFound("no such repair order",
                                                       {"repair_order_id": ["unknown repair order"]}))
