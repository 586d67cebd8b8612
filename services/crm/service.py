"""crm: customers and vehicles, follow-ups after delivery, surveys, complaints."""
import uuid
from datetime import datetime, timezone

from nameko.timer import timer

from services.crm import complaints, domain, erasure, store, surveys
from services.crm.feedback import Feedback
from shared import config
from services.crm.messages_service import MessagesMixin
from shared.contracts import errors
from shared.storage.dependencies import Database
from shared.bus.messaging import on_event
from shared.org import BranchDirectory
from shared.bus.rpc import ServiceRpcProxy, ask, load, record_id, rpc
from shared.contracts.api import crm as schemas
from shared.contracts.schemas import page_of
from shared.scope import CallerScope
from shared.sla.clocks import SlaClocks

CUSTOMER, VEHICLE = schemas.Customer(), schemas.Vehicle()
FOLLOW_UP, SURVEY, COMPLAINT = schemas.FollowUp(), schemas.Survey(), schemas.Complaint()
READING, FEEDBACK, TIMELINE = schemas.Reading(), schemas.Feedback(), schemas.TimelineEntry()
SETTINGS, INVITATION = schemas.CrmSettingsOut(), schemas.Invitation()


def unknown_customer():
    return errors.NotFound("no such customer", {"customer_id": ["unknown customer"]})


def now():
    return datetime.now(timezone.utc)


def json_safe(value):
    """The export as JSON can carry it: ids and times as strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (uuid.UUID, datetime)):
        return value.isoformat() if isinstance(value, datetime) else str(value)
    return value


class CrmService(SlaClocks, BranchDirectory, MessagesMixin):
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
        with self.db.read() as tx:  # scope is the gateway's here (route scope "result", and "record" getters)
            row = store.customer(tx, record_id(customer_id, "customer"))
            if row is None:
                raise unknown_customer()
            return CUSTOMER.dump(row)

    @rpc
    def update_customer(self, customer_id, data):
        changes = load(schemas.CustomerChange, data)
        with self.db.command() as tx:
            customer = domain.Customer.from_row(self._customer(tx, customer_id, lock=True))
            customer.update(**changes)
            row = store.save_customer(tx, {**domain.stored(customer), "phone_key": customer.phone_key})
            store.log_contact(tx, customer.customer_id, "updated", ", ".join(sorted(changes)),
                              branch_id=customer.branch_id)
            return CUSTOMER.dump(row)

    @rpc
    def customer_timeline(self, customer_id, query):
        """Every contact, visit, booking, repair order, invoice, message, survey and complaint of the
        customer, newest first, a page at a time."""
        filters = load(schemas.TimelineQuery, query or {})
        with self.db.read() as tx:
            customer = self._customer(tx, customer_id)
            page = store.timeline(tx, customer["customer_id"], filters["cursor"], filters["limit"])
        return {"items": TIMELINE.dump(page["items"], many=True), "next_cursor": page["next_cursor"]}

    @rpc
    def erase_customer(self, customer_id, data):
        """Erasure on request (module erasure.py says what goes and what stays): idempotent; the
        second call changes nothing and publishes nothing."""
        given = load(schemas.Erasure, data)
        with self.db.command() as tx:
            customer = domain.Customer.from_row(self._customer(tx, customer_id, lock=True))
            if not customer.erase(now()):
                return {"customer_id": customer.customer_id, "name": customer.name, "erased_at": customer.erased_at,
                        "already": True, "removed": {}}
            store.save_customer(tx, {**domain.stored(customer), "phone_key": None})
            removed = store.erase_customer_data(tx, customer.customer_id)
            removed.update(erasure.run_erasers(tx, customer.customer_id))
            store.log_contact(tx, customer.customer_id, "erased", f"by {given['erased_by'] or 'staff'}",
                              branch_id=customer.branch_id)
            tx.publish_recorded(customer)
            return {"customer_id": customer.customer_id, "name": customer.name, "erased_at": customer.erased_at,
                    "already": False, "removed": removed}

    @rpc
    def export_customer(self, customer_id):
        """Everything crm holds on the customer (GDPR art. 15), and what the registered exporters hold."""
        with self.db.read() as tx:
            customer = self._customer(tx, customer_id)
            cid = customer["customer_id"]
            vehicles = store.held_on(tx, "vehicles", cid)
            held = {
                "customer": CUSTOMER.dump(customer),
                "vehicles": [{**VEHICLE.dump(v), "odometer": READING.dump(store.readings(tx, v["vehicle_id"]),
                                                                          many=True)} for v in vehicles],
                "timeline": TIMELINE.dump(store.timeline_all(tx, cid), many=True),
                "follow_ups": FOLLOW_UP.dump(store.held_on(tx, "follow_ups", cid), many=True),
                "surveys": SURVEY.dump(store.held_on(tx, "surveys", cid), many=True),
                "complaints": COMPLAINT.dump(store.held_on(tx, "complaints", cid), many=True),
                "feedback": FEEDBACK.dump(store.held_on(tx, "feedback", cid), many=True),
            }
            held["elsewhere"] = erasure.run_exporters(tx, cid)
        return json_safe(held)

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
    def record_reading(self, vehicle_id, data):
        """An odometer reading the API records: never below the last unless marked a correction (422)."""
        given = load(schemas.NewReading, data)
        with self.db.command() as tx:
            vehicle = self.scope.admit(store.vehicle(tx, record_id(vehicle_id, "vehicle"), lock=True),
                                       errors.NotFound("no such vehicle", {"vehicle_id": ["unknown vehicle"]}))
            domain.check_reading(vehicle["odometer_km"], given["odometer_km"], given["correction"])
            km, correction = given["odometer_km"], given["correction"]
            row = store.add_reading(tx, vehicle["vehicle_id"], km, given["read_at"] or now(), "api", correction,
                                    domain.odometer_after(vehicle["odometer_km"], km, correction))
            return READING.dump(row)

    @rpc
    def list_readings(self, vehicle_id):
        with self.db.read() as tx:
            vehicle = self.scope.admit(store.vehicle(tx, record_id(vehicle_id, "vehicle")),
                                       errors.NotFound("no such vehicle", {"vehicle_id": ["unknown vehicle"]}))
            return READING.dump(store.readings(tx, vehicle["vehicle_id"]), many=True)

    # -- what other services tell crm: the timeline and the odometer ------------------------------
    @on_event("booking.checked_in")
    def note_visit(self, tx, event):
        """A visit: on the timeline, and the odometer as read at check-in (domain.odometer_after)."""
        store.log_contact(tx, event["customer_id"], "visit", f"checked in at {event['odometer_km']} km",
                          ref_id=event["booking_id"], branch_id=event["branch_id"], at=event["checked_in_at"])
        vehicle = store.vehicle(tx, event["vehicle_id"], lock=True)
        if vehicle is not None:
            km = event["odometer_km"]
            store.add_reading(tx, vehicle["vehicle_id"], km, event["checked_in_at"], "check_in", False,
                              domain.odometer_after(vehicle["odometer_km"], km))

    @on_event("booking.created")
    def note_booking(self, tx, event):
        store.log_contact(tx, event["customer_id"], "booking", f"{event['service_type']} at {event['slot_start']}",
                          ref_id=event["booking_id"], branch_id=event["branch_id"])
        self._keep_booking(tx, event)
        for row in store.booking_requests_of(tx, event["vehicle_id"]):  # a follow-up asked for this car back
            follow_up = domain.FollowUp.from_row(row)
            if follow_up.booked(event["requested_at"]):
                store.save_completion(tx, domain.stored(follow_up))

    @on_event("repair_order.opened")
    def note_repair_order(self, tx, event):
        store.log_contact(tx, event["customer_id"], "repair_order", f"opened {event['number']}",
                          ref_id=event["repair_order_id"], branch_id=event["branch_id"])
        self._keep_order(tx, event)

    @on_event("invoice.issued")
    def note_invoice(self, tx, event):
        store.log_contact(tx, event["customer_id"], "invoice", f"{event['number']}: {event['total_cents']} cents",
                          ref_id=event["invoice_id"], branch_id=event["branch_id"])
        self._message_invoice(tx, event)

    @on_event("invoice.paid")
    def note_payment(self, tx, event):
        store.log_contact(tx, event["customer_id"], "payment", f"{event['amount_cents']} cents paid",
                          ref_id=event["invoice_id"], branch_id=event["branch_id"], at=event["paid_at"])

    @on_event("credit_note.issued")
    def note_credit_note(self, tx, event):
        store.log_contact(tx, event["customer_id"], "credit_note",
                          f"{event['number']}: {event['amount_cents']} cents {event['kind']}",
                          ref_id=event["credit_note_id"], branch_id=event["branch_id"])

    @on_event("credit_note.refunded")
    def note_refund(self, tx, event):
        store.log_contact(tx, event["customer_id"], "credit_note",
                          f"{event['amount_cents']} cents refunded by {event['method']}",
                          ref_id=event["credit_note_id"], branch_id=event["branch_id"])

    @rpc
    def list_vehicles(self, query):
        filters = load(schemas.VehicleQuery, query or {})
        with self.db.read() as tx:
            return page_of(VEHICLE, store.vehicles_page(tx, filters, self._search(filters)))

    # -- follow-ups ------------------------------------------------------------------------------
    @on_event("repair_order.delivered")
    def schedule_follow_up(self, tx, event):
        """The follow-ups the delivery calls for (domain.follow_up_kinds: 72 h for all, 7 and 30 days
        after a major repair, 1 and 3 months for a first-time customer) and the survey invitation;
        once per repair order, however often delivery is announced."""
        delivery = {key: event[key] for key in ("repair_order_id", "branch_id", "customer_id", "delivered_at")}
        if not store.record_delivery(tx, {**delivery, "number": event["number"], "vehicle_id": event["vehicle_id"]}):
            return
        store.log_contact(tx, event["customer_id"], "delivery", f"{event['number']} handed back",
                          ref_id=event["repair_order_id"], branch_id=event["branch_id"], at=event["delivered_at"])
        settings = store.settings(tx, event["branch_id"])
        first_time = store.earlier_deliveries(tx, event["customer_id"], event["repair_order_id"]) == 0
        hours = store.follow_up_hours(tx, event["branch_id"])
        for kind in domain.follow_up_kinds(event["lines"], first_time, settings["major_total_cents"],
                                           settings["major_labour_hours"]):
            follow_up = domain.FollowUp.schedule(uuid.uuid4(), branch_hours=hours, kind=kind, **delivery)
            if store.insert_follow_up(tx, domain.stored(follow_up)) is not None:
                tx.publish_recorded(follow_up)
        invitation = surveys.Invitation.invite(uuid.uuid4(), repair_order_id=event["repair_order_id"],
                                               branch_id=event["branch_id"], customer_id=event["customer_id"],
                                               number=event["number"], at=event["delivered_at"])
        if store.insert_invitation(tx, domain.stored(invitation)) is not None:
            self._publish_and_tell(tx, invitation)

    @on_event("repair_order.comeback")
    def open_quality_complaint(self, tx, event):
        """A comeback opens a quality complaint: a repeat problem, level 2."""
        customer = store.customer(tx, event["customer_id"]) or {"customer_id": event["customer_id"], "vip": False}
        complaint = self._open(tx, uuid.uuid4(), customer, branch_id=event["branch_id"],
                               repair_order_id=event["repair_order_id"], vehicle_id=event["vehicle_id"],
                               category="repair_quality", source="comeback", triggers=["repeat_problem"],
                               what_happened=(f"comeback: {event['fault_family']} again {event['days_since_delivery']:.1f}"
                                              f" days after {event['previous_number']}"))
        tx.publish_recorded(complaint)

    @timer(interval=config.sla_check_interval())
    def announce_follow_ups_and_remind_surveys(self):
        """follow_up.due once a follow-up's window opens; one survey reminder once the branch's
        delay has passed without an answer. Each row is claimed once (SKIP LOCKED) and marked."""
        at = now()
        try:
            with self.db.transaction() as tx:
                for row in store.follow_ups_opening(tx, at):
                    follow_up = domain.FollowUp.from_row(row)
                    follow_up.announce_due()
                    store.mark_announced(tx, follow_up.follow_up_id, at)
                    self._publish_and_tell(tx, follow_up)
                for row in store.invitations_to_remind(tx, at, surveys.REMINDER_HOURS):
                    invitation = surveys.Invitation.from_row(row)
                    if invitation.remind(at, row["survey_reminder_hours"]):
                        store.save_invitation(tx, domain.stored(invitation))
                        self._publish_and_tell(tx, invitation)
        except errors.Unavailable:
            return

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
        """Done with an outcome. An issue found may open a complaint (`complaint_category`) and/or
        ask booking for an appointment (`request_booking`: follow_up.booking_requested, which the
        booking service may consume; crm does not call booking)."""
        done = load(schemas.FollowUpDone, data)
        with self.db.command() as tx:
            follow_up = domain.FollowUp.from_row(self._follow_up(tx, follow_up_id, lock=True))
            at = now()
            follow_up.complete(done["outcome"], done["notes"], at)
            follow_up.check_next_steps(done["complaint_category"] is not None, done["request_booking"])
            complaint = None
            delivery = store.delivery(tx, follow_up.repair_order_id)
            vehicle_id = delivery["vehicle_id"] if delivery else None
            if done["request_booking"]:
                follow_up.booking_request(vehicle_id, done["notes"] or "issue found at follow-up", at)
            row = store.save_completion(tx, domain.stored(follow_up))
            store.log_contact(tx, row["customer_id"], "follow_up", f"{done['outcome']}: {done['notes']}"
                              + (" (to book)" if done["request_booking"] else ""),
                              ref_id=follow_up.follow_up_id, branch_id=follow_up.branch_id)
            tx.publish_recorded(follow_up)
            if done["complaint_category"]:
                customer = store.customer(tx, follow_up.customer_id)
                complaint = self._open(tx, uuid.uuid4(), customer, branch_id=follow_up.branch_id,
                                       repair_order_id=follow_up.repair_order_id, vehicle_id=vehicle_id,
                                       category=done["complaint_category"], source="follow_up",
                                       what_happened=done["notes"] or f"issue found at the {follow_up.kind} follow-up")
                tx.publish_recorded(complaint)
            return FOLLOW_UP.dump({**row, "complaint_id": complaint.complaint_id if complaint else None})

    # -- surveys and complaints -----------------------------------------------------------------
    @rpc
    def record_survey(self, data):
        """An answer for a delivered repair order; it answers the order's invitation if there is one."""
        answer = load(schemas.NewSurvey, data)
        with self.db.command() as tx:
            invited = store.invitation(tx, repair_order_id=answer["repair_order_id"], lock=True)
            return self._answer(tx, invited, **answer)

    @rpc
    def answer_survey(self, survey_id, data):
        """The answer to an invited survey (survey.invited's survey_id)."""
        answer = load(schemas.SurveyAnswer, data)
        with self.db.command() as tx:
            invited = self.scope.admit(store.invitation(tx, survey_id=record_id(survey_id, "survey"), lock=True),
                                       errors.NotFound("no such survey", {"survey_id": ["unknown survey"]}))
            return self._answer(tx, invited, repair_order_id=invited["repair_order_id"], **answer)

    def _answer(self, tx, invited, *, repair_order_id, score, comment):
        delivery = store.delivery(tx, repair_order_id)
        threshold = store.settings(tx, delivery["branch_id"])["survey_threshold"] if delivery else None
        survey_id = invited["survey_id"] if invited else uuid.uuid4()
        survey = domain.Survey.answer(survey_id, delivery, repair_order_id=repair_order_id, score=score,
                                      comment=comment, threshold=threshold)
        if invited is not None:
            invitation = surveys.Invitation.from_row(invited)
            invitation.answer(now())
            store.save_invitation(tx, domain.stored(invitation))
        row = store.insert_survey(tx, domain.stored(survey))
        if row is None:  # one survey per repair order: the unique key decides, atomically
            raise errors.Conflict("this repair order already has a survey", {"repair_order_id": ["answered"]})
        store.log_contact(tx, row["customer_id"], "survey", f"score {row['score']}", ref_id=survey_id,
                          branch_id=row["branch_id"])
        tx.publish_recorded(survey)
        complaint = None
        if survey.opens_complaint:  # a low score opens one
            customer = store.customer(tx, survey.customer_id)
            complaint = self._open(tx, uuid.uuid4(), customer, branch_id=survey.branch_id,
                                   repair_order_id=repair_order_id, category="other", source="survey",
                                   vehicle_id=delivery.get("vehicle_id"),
                                   what_happened=f"survey score {score}/10: {comment}".strip())
            tx.publish_recorded(complaint)
        return SURVEY.dump({**row, "complaint_id": complaint.complaint_id if complaint else None})

    @rpc
    def list_survey_invitations(self, query):
        filters = load(schemas.InvitationQuery, query or {})
        with self.db.read() as tx:
            return page_of(INVITATION, store.page(tx, store.INVITATIONS, filters))

    @rpc
    def get_survey_invitation(self, survey_id):
        with self.db.read() as tx:
            row = store.invitation(tx, survey_id=record_id(survey_id, "survey"))
            if row is None:
                raise errors.NotFound("no such survey", {"survey_id": ["unknown survey"]})
            return INVITATION.dump(row)

    @rpc
    def survey_figures(self, query):
        branch_id = load(schemas.SurveyFiguresQuery, query or {})["branch_id"]
        if self.scope.limited and branch_id not in self.scope.branches:
            raise errors.Forbidden("not found in your scope", {})
        with self.db.read() as tx:
            scores, invited, _ = store.survey_figures(tx, branch_id)
            threshold = store.settings(tx, branch_id)["survey_threshold"] or domain.COMPLAINT_SCORE
        return {"branch_id": branch_id, "threshold": threshold, **surveys.figures(scores, invited)}

    @rpc
    def set_crm_settings(self, data):
        given = load(schemas.CrmSettings, data)
        with self.db.command() as tx:
            return SETTINGS.dump(store.save_settings(tx, given))

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
            if given["vehicle_id"] is not None:
                vehicle = store.vehicle(tx, given["vehicle_id"])
                if vehicle is None or vehicle["customer_id"] != customer["customer_id"]:
                    raise errors.Unprocessable("not a vehicle of the customer", {"vehicle_id": ["not the customer's"]})
            complaint = self._open(tx, uuid.uuid4(), customer, acting_for=self.scope.branches, **given)
            tx.publish_recorded(complaint)
            return COMPLAINT.dump(store.complaint(tx, complaint.complaint_id))

    @rpc
    def respond_to_complaint(self, complaint_id, data):
        given = load(schemas.ComplaintResponse, data)
        return self._complaint_command(complaint_id, "response", lambda c, tx, at: (
            c.respond(given["responded_by"] or "staff", at),
            store.add_response(tx, c.complaint_id, given["responded_by"] or "staff", given["note"])))

    @rpc
    def escalate_complaint(self, complaint_id, data):
        given = load(schemas.Escalation, data)
        return self._complaint_command(complaint_id, "escalated",
                                       lambda c, tx, at: c.escalate(given["trigger"], at, by=given["escalated_by"]))

    @rpc
    def resolve_complaint(self, complaint_id, data):
        given = load(schemas.Resolution, data)
        return self._complaint_command(complaint_id, "resolved", lambda c, tx, at: c.resolve(
            measures=given["measures"], deadline=given["deadline"], owner=given["owner"], at=at))

    @rpc
    def reopen_complaint(self, complaint_id, data):
        given = load(schemas.Reopening, data)
        return self._complaint_command(complaint_id, "reopened", lambda c, tx, at: c.reopen(given["reason"], at))

    def _complaint_command(self, complaint_id, what, command):
        with self.db.command() as tx:
            row = self.scope.admit(store.complaint(tx, record_id(complaint_id, "complaint"), lock=True),
                                   errors.NotFound("no such complaint", {"complaint_id": ["unknown complaint"]}))
            complaint = complaints.Complaint.from_row(row)
            command(complaint, tx, now())
            saved = store.save_complaint(tx, domain.stored(complaint))
            store.log_contact(tx, complaint.customer_id, "complaint", f"{what} (level {complaint.level})",
                              ref_id=complaint.complaint_id, branch_id=complaint.branch_id)
            tx.publish_recorded(complaint)
            return COMPLAINT.dump(saved)

    # -- feedback ----------------------------------------------------------------------------------
    @rpc
    def give_feedback(self, customer_id, data):
        given = load(schemas.NewFeedback, data)
        with self.db.command() as tx:
            customer = self.scope.admit(store.customer(tx, record_id(customer_id, "customer")), unknown_customer())
            branch_id = given["branch_id"] or (customer["branch_id"] if not self.scope.limited
                                               or customer["branch_id"] in self.scope.branches
                                               else sorted(self.scope.branches)[0])
            feedback = Feedback.receive(uuid.uuid4(), customer_id=customer["customer_id"], branch_id=branch_id,
                                        text=given["text"], channel=given["channel"], at=now(),
                                        acting_for=self.scope.branches)
            row = store.insert_feedback(tx, domain.stored(feedback))
            store.log_contact(tx, customer["customer_id"], "feedback", given["text"][:200],
                              ref_id=feedback.feedback_id, branch_id=branch_id)
            tx.publish_recorded(feedback)
            return FEEDBACK.dump(row)

    @rpc
    def reply_to_feedback(self, feedback_id, data):
        given = load(schemas.FeedbackReply, data)
        with self.db.command() as tx:
            row = self.scope.admit(store.feedback(tx, record_id(feedback_id, "feedback"), lock=True),
                                   errors.NotFound("no such feedback", {"feedback_id": ["unknown feedback"]}))
            feedback = Feedback.from_row(row)
            feedback.answer(given["text"], given["replied_by"] or "staff", now())
            saved = store.save_reply(tx, domain.stored(feedback))
            store.log_contact(tx, feedback.customer_id, "feedback_reply", given["text"][:200],
                              ref_id=feedback.feedback_id, branch_id=feedback.branch_id)
            tx.publish_recorded(feedback)
            return FEEDBACK.dump(saved)

    @rpc
    def get_feedback(self, feedback_id):
        with self.db.read() as tx:
            row = store.feedback(tx, record_id(feedback_id, "feedback"))
            if row is None:
                raise errors.NotFound("no such feedback", {"feedback_id": ["unknown feedback"]})
            return FEEDBACK.dump(row)

    @rpc
    def list_feedback(self, query):
        filters = load(schemas.FeedbackQuery, query or {})
        with self.db.read() as tx:
            return page_of(FEEDBACK, store.page(tx, store.FEEDBACK, filters))

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
    def _open(tx, complaint_id, customer, **details):
        """Open and save a complaint: counted against its matter (one at a time per matter, so
        the third is always seen as the third) and against the customer's VIP flag."""
        matter = complaints.matter_of(customer["customer_id"], details.get("vehicle_id"), details["category"])
        store.lock_matter(tx, matter)
        complaint = complaints.Complaint.open(complaint_id, customer_id=customer["customer_id"], opened_at=now(),
                                              earlier_on_matter=store.complaints_on_matter(tx, matter),
                                              vip=bool(customer.get("vip")), **details)
        row = store.insert_complaint(tx, domain.stored(complaint))
        store.log_contact(tx, row["customer_id"], "complaint", row["what_happened"][:200],
                          ref_id=complaint_id, branch_id=row["branch_id"])
        return complaint

    def _customer(self, tx, customer_id, lock=False):
        cid = record_id(customer_id, "customer")
        row = store.customer_locked(tx, cid) if lock else store.customer(tx, cid)
        return self.scope.admit(row, unknown_customer())

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
