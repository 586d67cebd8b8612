"""crm: customers and vehicles, follow-ups after delivery, surveys, complaints."""
import uuid

from services.crm import domain, schemas, store
from shared import errors
from shared.dependencies import Database
from shared.messaging import on_event
from shared.org import BranchDirectory
from shared.rpc import load, record_id, rpc
from shared.schemas import page_of
from shared.scope import CallerScope
from shared.sla_service import SlaClocks

CUSTOMER, VEHICLE = schemas.Customer(), schemas.Vehicle()
FOLLOW_UP, SURVEY, COMPLAINT = schemas.FollowUp(), schemas.Survey(), schemas.Complaint()


class CrmService(SlaClocks, BranchDirectory):
    name = "crm"

    db = Database()
    scope = CallerScope()

    # -- customers and vehicles -------------------------------------------------------------
    @rpc
    def create_customer(self, data):
        customer = {**load(schemas.NewCustomer, data), "customer_id": uuid.uuid4()}
        with self.db.transaction() as tx:
            row = store.insert_customer(tx, customer)
            store.log_contact(tx, row["customer_id"], "registered")
            tx.publish("customer.registered", row["branch_id"], customer_id=row["customer_id"], name=row["name"])
            return CUSTOMER.dump(row)

    @rpc
    def get_customer(self, customer_id):
        with self.db.read() as tx:
            return CUSTOMER.dump(self._customer(tx, customer_id))

    @rpc
    def list_customers(self, query):
        filters = load(schemas.CustomerQuery, query or {})
        with self.db.read() as tx:
            return page_of(CUSTOMER, store.page(tx, store.CUSTOMERS, filters))

    @rpc
    def register_vehicle(self, data):
        vehicle = load(schemas.NewVehicle, data)
        vehicle["vin"] = domain.normalise_vin(vehicle["vin"])
        with self.db.transaction() as tx:
            owner = self.scope.admit(
                tx.one("SELECT * FROM customers WHERE customer_id = %s FOR SHARE", (vehicle["customer_id"],)),
                errors.Unprocessable("unknown customer", {"customer_id": ["no such customer"]}))
            row = store.insert_vehicle(tx, {**vehicle, "vehicle_id": uuid.uuid4(), "branch_id": owner["branch_id"]})
            if row is None:
                raise errors.Conflict("a vehicle with this VIN is registered", {"vin": ["already registered"]})
            tx.publish("vehicle.registered", row["branch_id"], vehicle_id=row["vehicle_id"],
                       customer_id=row["customer_id"], vin=row["vin"], plate=row["plate"], model=row["model"])
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
            return page_of(VEHICLE, store.page(tx, store.VEHICLES, filters))

    # -- follow-ups ------------------------------------------------------------------------------
    @on_event("repair_order.delivered")
    def schedule_follow_up(self, tx, event):
        facts = {"repair_order_id": event["repair_order_id"], "branch_id": event["branch_id"],
                 "customer_id": event["customer_id"], "delivered_at": event["delivered_at"]}
        store.record_delivery(tx, facts)
        due = domain.follow_up_due(event["delivered_at"], store.follow_up_hours(tx, event["branch_id"]))
        row = store.insert_follow_up(tx, {**facts, "follow_up_id": uuid.uuid4(), "due_at": due})
        if row is not None:  # one follow-up per repair order, however often delivery is announced
            tx.publish("follow_up.scheduled", row["branch_id"], follow_up_id=row["follow_up_id"],
                       repair_order_id=row["repair_order_id"], customer_id=row["customer_id"], due_at=due)

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
        with self.db.transaction() as tx:
            current = self._follow_up(tx, follow_up_id, lock=True)
            if current["status"] != "due":
                raise errors.Conflict("the follow-up is already done", {"status": ["is done"]})
            row = store.complete_follow_up(tx, current["follow_up_id"], done["outcome"], done["notes"])
            store.log_contact(tx, row["customer_id"], "follow_up", f"{done['outcome']}: {done['notes']}")
            tx.publish("follow_up.completed", row["branch_id"], follow_up_id=row["follow_up_id"],
                       repair_order_id=row["repair_order_id"], outcome=done["outcome"])
            return FOLLOW_UP.dump(row)

    # -- surveys and complaints -----------------------------------------------------------------
    @rpc
    def record_survey(self, data):
        answer = load(schemas.NewSurvey, data)
        with self.db.transaction() as tx:
            delivered = store.delivery(tx, answer["repair_order_id"])
            if delivered is None:
                raise errors.Unprocessable("no delivered repair order with that id",
                                           {"repair_order_id": ["not delivered, or unknown"]})
            row = store.insert_survey(tx, {**answer, "survey_id": uuid.uuid4(),
                                           "branch_id": delivered["branch_id"],
                                           "customer_id": delivered["customer_id"]})
            if row is None:
                raise errors.Conflict("this repair order already has a survey", {"repair_order_id": ["answered"]})
            store.log_contact(tx, row["customer_id"], "survey", f"score {row['score']}")
            tx.publish("survey.answered", row["branch_id"], survey_id=row["survey_id"],
                       repair_order_id=row["repair_order_id"], customer_id=row["customer_id"], score=row["score"])
            row["complaint_id"] = None
            if domain.survey_opens_complaint(row["score"]):
                complaint = self._open_complaint(tx, {
                    "branch_id": row["branch_id"], "customer_id": row["customer_id"],
                    "repair_order_id": row["repair_order_id"],
                    "what_happened": f"survey score {row['score']}/10: {row['comment']}".strip(),
                    "customer_wants": "", "category": "other", "severity": "medium", "owner": None, "level": 1,
                }, source="survey")
                row["complaint_id"] = complaint["complaint_id"]
            return SURVEY.dump(row)

    @rpc
    def list_surveys(self, query):
        filters = load(schemas.ListQuery, query or {})
        with self.db.read() as tx:
            return page_of(SURVEY, store.page(tx, store.SURVEYS, filters))

    @rpc
    def open_complaint(self, data):
        complaint = load(schemas.NewComplaint, data)
        with self.db.transaction() as tx:
            self._customer(tx, complaint["customer_id"])
            return COMPLAINT.dump(self._open_complaint(tx, complaint, source="staff"))

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
    def _open_complaint(self, tx, complaint, source):
        row = store.insert_complaint(tx, {**complaint, "complaint_id": uuid.uuid4(), "source": source})
        store.log_contact(tx, row["customer_id"], "complaint", row["what_happened"][:200])
        tx.publish("complaint.opened", row["branch_id"], complaint_id=row["complaint_id"],
                   customer_id=row["customer_id"], repair_order_id=row["repair_order_id"],
                   category=row["category"], severity=row["severity"], level=row["level"])
        return row

    def _customer(self, tx, customer_id):
        row = store.customer(tx, record_id(customer_id, "customer"))
        if row is None:
            raise errors.NotFound("no such customer", {"customer_id": ["unknown customer"]})
        return row

    def _follow_up(self, tx, follow_up_id, lock=False):
        return self.scope.admit(store.follow_up(tx, record_id(follow_up_id, "follow_up"), lock=lock),
                                errors.NotFound("no such follow-up", {"follow_up_id": ["unknown follow-up"]}))
