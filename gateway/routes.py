"""Every route as data: what it calls, who may call it, what scope applies, its schemas.

The Flask views and the OpenAPI document are both generated from this one table. Most routes
call a service's RPC; those with service "gateway" are answered by the gateway itself (its view
is named by `rpc` in gateway/app.py): the SLA fan-out, the audit log, the event catalogue,
self-service, this document, health and metrics.
"""
from dataclasses import dataclass, field
from typing import Callable

from marshmallow import fields, validate

from gateway import self_service
from gateway.policy import READ, WRITE
from shared import config
from shared.contracts.api import billing, booking, crm, parts, workshop
from shared.contracts.api import messages as crm_messages
from shared.contracts.api import webhooks
from shared.contracts.fastschema import Schema
from shared.contracts.schemas import ListQuery
from shared.sla.clocks import Clock, ClockQuery, TargetChange


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    family: str
    access: str
    service: str
    rpc: str
    args: Callable = lambda path, body, query: ()
    body: type | None = None
    query: type | None = None
    response: type | None = None
    page: bool = False
    many: bool = False  # the answer is a plain JSON array of `response` (no page)
    # none | list | body | query | result | record | owner; "owner": the service that owns the record
    # checks the caller's branches itself, in the command's transaction (shared/scope.py)
    scope: str = "none"
    record: tuple | None = None  # (service, getter, lambda path, body: id) for scope "record"
    status: int = 200
    summary: str = ""
    id_field: str | None = None
    tags: tuple = field(default=())
    actor: str | None = None  # the body field naming who did it: the caller unless given (policy.acting_as)
    # for the gateway's own routes: no token needed, the path outside /api/v1, the statuses it answers
    # beyond 200 (the usual set when None), extra query parameters, and answers with a body of their own
    public: bool = False
    root: bool = False
    codes: tuple | None = None
    description: str = ""
    params: tuple = ()
    answers: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.path if self.root else API + self.path

    @property
    def local(self) -> bool:
        return self.service == GATEWAY


API = "/api/v1"
GATEWAY = "gateway"


def _p(name):
    return lambda path, body, query: (path[name],)


def _pb(name):
    return lambda path, body, query: (path[name], body)


def _q(path, body, query):
    return (query,)


def _b(path, body, query):
    return (body,)


def _rec(service, getter, name):
    return (service, getter, lambda path, body: path[name] if name in path else body[name])


class AuditQuery(Schema):
    subject = fields.String()
    role = fields.String()
    from_ = fields.AwareDateTime(data_key="from", attribute="from")
    to = fields.AwareDateTime()
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50)


class AuditEntry(Schema):
    audit_id = fields.Integer()
    at = fields.AwareDateTime()
    subject = fields.String()
    role = fields.String()
    method = fields.String()
    path = fields.String()
    status = fields.Integer()
    record_id = fields.String(allow_none=True)


class SignIn(Schema):
    login = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class Session(Schema):
    token = fields.String()
    token_type = fields.String(metadata={"description": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "seconds until the token expires"})
    login = fields.String()
    name = fields.String()
    role = fields.String()
    branch_id = fields.String(allow_none=True)
    region_id = fields.String(allow_none=True)


class DeadLetterQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DeadLetter(Schema):
    id = fields.String(allow_none=True)
    event_type = fields.String(allow_none=True)
    queue = fields.String(allow_none=True)
    attempts = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    failed_at = fields.String(allow_none=True)


class DeadLetters(Schema):
    count = fields.Integer(metadata={"description": "dead letters waiting in all"})
    items = fields.List(fields.Nested(DeadLetter), metadata={"description": "the oldest `limit`, oldest first"})


class SitePolicy(Schema):
    policy = fields.String()
    met = fields.Integer()
    breached = fields.Integer()
    cancelled = fields.Integer()
    open = fields.Integer()
    compliance = fields.Float(allow_none=True)


class SiteCompliance(Schema):
    site = fields.String(metadata={"description": "the site's name (PITLANE_SITE), `local` for a stack of one site"})
    local = fields.Boolean(metadata={"description": "the site that answered"})
    as_of = fields.AwareDateTime(metadata={"description": "the time of the site's figures"})
    age_seconds = fields.Float(metadata={"description": "how old the site's figures are"})
    compliance = fields.List(fields.Nested(SitePolicy))


class SlaSummary(Schema):
    compliance = fields.List(fields.Dict(), metadata={
        "description": "met, breached, cancelled (counted neither way), open, and compliance = met / (met +"
                       " breached), per policy and branch"})
    at_risk = fields.List(fields.Nested(Clock))
    sites = fields.List(fields.Nested(SiteCompliance), metadata={
        "description": "every site of the group (docs/sites.md): this one first, as of now; each other site as"
                       " of its latest figures (all-time totals, filtered by policy and the caller's branches),"
                       " with their age"})


FREE_FORM = {"type": "object", "additionalProperties": True}
HEALTH = {"type": "object", "required": ["status", "checks"], "properties": {
    "status": {"type": "string", "enum": ["ok", "degraded"]},
    "checks": {"type": "object", "additionalProperties": {"type": "string", "enum": ["up", "down"]}}}}
NUMBER = {"in": "path", "name": "number", "required": True, "schema": {"type": "string"},
          "description": "the repair order's number, such as N1-000042"}
TOKEN = {"in": "path", "name": "token", "required": True, "schema": {"type": "string", "maxLength": 400},
         "description": "the signed link's token"}
PLATE = {"in": "query", "name": "plate", "required": True, "description": "the vehicle's plate (400 without)",
         "schema": {"type": "string"}}


W = WRITE
# booking: a full slot is refused with the next slots that fit the same work
SLOT_FULL = ("the slot cannot take the work (no bay or not enough skilled hours; error.fields.alternatives lists"
             " up to three next slots that fit: [{slot_start, slot_end}]), or the booking's state forbids this",
             {"$ref": "#/components/schemas/Error"})

ROUTES = [
    # branches and slots
    Route("GET", "/branches", "branches", READ, "booking", "list_branches", response=booking.Branch, many=True,
          summary="List branches with region, hours and capacity", tags=("branches",)),
    Route("GET", "/branches/<branch_id>", "branches", READ, "booking", "get_branch", _p("branch_id"),
          response=booking.Branch, summary="One branch", tags=("branches",)),
    Route("POST", "/branches", "branches", W, "booking", "configure_branch", _b, body=booking.BranchSetup,
          response=booking.Branch, status=201, summary="Set up or change a branch", id_field="branch_id",
          tags=("branches",)),
    Route("GET", "/slots", "slots", READ, "booking", "list_slots", _q, query=booking.SlotQuery,
          response=booking.Slot, many=True, scope="query", summary="A day's slots of a branch with what is free",
          tags=("slots",)),
    Route("POST", "/slots/capacity", "slots", W, "booking", "set_slot_capacity", _b, body=booking.SlotOverride,
          scope="body", summary="Lower or raise one slot's maximum", tags=("slots",)),
    Route("POST", "/technicians", "slots", W, "booking", "set_technician", _b, body=booking.TechnicianSetup,
          response=booking.Technician, scope="body", summary="Set a technician's skills and shifts at a branch",
          tags=("slots",)),
    Route("GET", "/technicians", "slots", READ, "booking", "list_technicians", _q, query=booking.TechnicianQuery,
          response=booking.Technician, many=True, scope="query",
          summary="A branch's technicians with their skills and shifts between two days", tags=("slots",)),
    Route("POST", "/extras", "slots", W, "booking", "set_extra", _b, body=booking.ExtraSetup, scope="body",
          summary="How many loaner cars (per day) or pickups and deliveries (per slot) a branch offers",
          tags=("slots",)),
    Route("GET", "/extras", "slots", READ, "booking", "list_extras", _q, query=booking.ExtraQuery,
          response=booking.ExtraDay, many=True, scope="query",
          summary="A day's extras at a branch: capacity, taken and free per period", tags=("slots",)),
    Route("POST", "/service-types", "slots", W, "booking", "set_service_type", _b, body=booking.ServiceTypeSetup,
          response=booking.ServiceType, scope="body", summary="A branch's own skill and estimate for a service type",
          tags=("slots",)),
    Route("GET", "/service-types", "slots", READ, "booking", "list_service_types", _q,
          query=booking.ServiceTypeQuery, response=booking.ServiceType, many=True, scope="query",
          summary="The service types a branch books: skill and estimated labour hours", tags=("slots",)),
    # customers and vehicles
    Route("POST", "/customers", "customers", W, "crm", "create_customer", _b, body=crm.NewCustomer,
          response=crm.Customer, scope="body", status=201, id_field="customer_id", tags=("customers",)),
    Route("GET", "/customers", "customers", READ, "crm", "list_customers", _q, query=crm.CustomerQuery,
          response=crm.Customer, page=True, scope="list", tags=("customers",)),
    Route("GET", "/customers/<customer_id>", "customers", READ, "crm", "get_customer", _p("customer_id"),
          response=crm.Customer, scope="result", tags=("customers",)),
    Route("POST", "/vehicles", "vehicles", W, "crm", "register_vehicle", _b, body=crm.NewVehicle,
          response=crm.Vehicle, scope="owner", status=201,
          id_field="vehicle_id", tags=("vehicles",)),
    Route("GET", "/vehicles", "vehicles", READ, "crm", "list_vehicles", _q, query=crm.VehicleQuery,
          response=crm.Vehicle, page=True, scope="list", tags=("vehicles",)),
    Route("GET", "/vehicles/<vehicle_id>", "vehicles", READ, "crm", "get_vehicle", _p("vehicle_id"),
          response=crm.Vehicle, scope="result", tags=("vehicles",)),
    # bookings
    Route("POST", "/bookings", "bookings", W, "booking", "create_booking", _b, body=booking.BookingRequest,
          response=booking.Booking, scope="body", status=201, id_field="booking_id",
          summary="Book a slot for a customer's vehicle", tags=("bookings",), answers={"409": SLOT_FULL}),
    Route("GET", "/arrivals", "bookings", READ, "booking", "day_arrivals", _q, query=booking.DayQuery,
          response=booking.Day, scope="query",
          summary="A day's arrivals with what they need (tomorrow's when no date): the supervisor's view",
          tags=("bookings",)),
    Route("POST", "/walk-ins", "bookings", W, "booking", "walk_in_arrival", _b, body=booking.WalkInArrival,
          response=booking.WalkIn, scope="body", status=201, id_field="walk_in_id",
          summary="A car came without an appointment: it joins the branch's walk-in queue", tags=("bookings",)),
    Route("GET", "/walk-ins", "bookings", READ, "booking", "list_walk_ins", _q, query=booking.WalkInQuery,
          response=booking.WalkIn, many=True, scope="query",
          summary="The branch's walk-in queue: position and estimated wait", tags=("bookings",)),
    Route("POST", "/walk-ins/<walk_in_id>/check-in", "bookings", W, "booking", "check_in_walk_in",
          _pb("walk_in_id"), body=booking.CheckIn, response=booking.Booking, scope="owner", status=201,
          id_field="walk_in_id", summary="Receive a walk-in without a slot: its booking, checked in",
          actor="advisor", tags=("bookings",)),
    Route("GET", "/bookings", "bookings", READ, "booking", "list_bookings", _q, query=booking.BookingQuery,
          response=booking.Booking, page=True, scope="list", tags=("bookings",)),
    Route("GET", "/bookings/<booking_id>", "bookings", READ, "booking", "get_booking", _p("booking_id"),
          response=booking.Booking, scope="result", tags=("bookings",)),
    Route("POST", "/bookings/<booking_id>/confirmation", "bookings", W, "booking", "confirm_booking",
          _p("booking_id"), response=booking.Booking, scope="owner",
          id_field="booking_id", tags=("bookings",)),
    Route("POST", "/bookings/<booking_id>/reschedule", "bookings", W, "booking", "reschedule_booking",
          _pb("booking_id"), body=booking.Reschedule, response=booking.Booking, scope="owner",
          id_field="booking_id", tags=("bookings",), answers={"409": SLOT_FULL}),
    Route("POST", "/bookings/<booking_id>/reschedule-request", "bookings", W, "booking", "request_reschedule",
          _pb("booking_id"), body=booking.RescheduleRequest, response=booking.Booking, scope="owner",
          id_field="booking_id", summary="The customer asks to move: the branch owes alternatives within 60 minutes",
          tags=("bookings",)),
    Route("POST", "/bookings/<booking_id>/reschedule-offer", "bookings", W, "booking", "offer_reschedule",
          _pb("booking_id"), body=booking.RescheduleOffer, response=booking.Booking, scope="owner",
          id_field="booking_id", summary="Offer 2 to 3 alternatives (morning / midday / evening), given or computed",
          tags=("bookings",)),
    Route("POST", "/bookings/<booking_id>/cancellation", "bookings", W, "booking", "cancel_booking",
          _pb("booking_id"), body=booking.Cancel, response=booking.Booking, scope="owner",
          id_field="booking_id", tags=("bookings",)),
    Route("POST", "/bookings/<booking_id>/arrival", "bookings", W, "booking", "record_arrival", _p("booking_id"),
          response=booking.Booking, scope="owner", id_field="booking_id",
          summary="The customer is at the desk: starts the reception clock (5 min to check-in)", tags=("bookings",)),
    Route("POST", "/bookings/<booking_id>/check-in", "bookings", W, "booking", "check_in", _pb("booking_id"),
          body=booking.CheckIn, response=booking.Booking, scope="owner",
          id_field="booking_id", summary="The car arrived: opens its repair order", actor="advisor",
          tags=("bookings",)),
    # repair orders
    Route("GET", "/repair-orders", "repair-orders", READ, "workshop", "list_repair_orders", _q,
          query=workshop.RepairOrderQuery, response=workshop.RepairOrder, page=True, scope="list",
          tags=("repair-orders",)),
    Route("GET", "/repair-orders/<repair_order_id>", "repair-orders", READ, "workshop", "get_repair_order",
          _p("repair_order_id"), response=workshop.RepairOrder, scope="result", tags=("repair-orders",)),
    Route("POST", "/repair-orders/<repair_order_id>/diagnosis", "diagnosis", W, "workshop", "record_diagnosis",
          _pb("repair_order_id"), body=workshop.Diagnosis, response=workshop.RepairOrder, scope="owner",
          id_field="repair_order_id", actor="diagnosed_by", tags=("repair-orders",)),
    Route("POST", "/repair-orders/<repair_order_id>/quotes", "quotes", W, "workshop", "issue_quote",
          _pb("repair_order_id"), body=workshop.NewQuote, response=workshop.Quote, scope="owner",
          status=201, id_field="quote_id", tags=("quotes",)),
    Route("POST", "/repair-orders/<repair_order_id>/approval", "quotes", W, "workshop", "approve_quote",
          _pb("repair_order_id"), body=workshop.Approval, response=workshop.RepairOrder, scope="owner",
          id_field="repair_order_id", summary="The customer's decision on every line",
          tags=("quotes",)),
    Route("POST", "/repair-orders/<repair_order_id>/jobs", "jobs", W, "workshop", "start_job",
          _pb("repair_order_id"), body=workshop.StartJob, response=workshop.Job, scope="owner",
          status=201, id_field="job_id", summary="A technician clocks on", actor="technician_id", tags=("jobs",)),
    Route("POST", "/repair-orders/<repair_order_id>/jobs/<job_id>/finish", "jobs", W, "workshop", "finish_job",
          lambda path, body, query: (path["repair_order_id"], path["job_id"], body), body=workshop.FinishJob,
          response=workshop.Job, scope="owner", id_field="job_id",
          summary="The technician clocks off", tags=("jobs",)),
    Route("POST", "/repair-orders/<repair_order_id>/jobs/<job_id>/pause", "jobs", W, "workshop", "pause_job",
          lambda path, body, query: (path["repair_order_id"], path["job_id"], body), body=workshop.PauseJob,
          response=workshop.Job, scope="owner", id_field="job_id",
          summary="The technician steps away: the job's clock pauses", tags=("jobs",)),
    Route("POST", "/repair-orders/<repair_order_id>/jobs/<job_id>/resumption", "jobs", W, "workshop", "resume_job",
          lambda path, body, query: (path["repair_order_id"], path["job_id"]), response=workshop.Job,
          scope="owner", id_field="job_id",
          summary="The technician is back: the job's clock runs again (one running clock each)", tags=("jobs",)),
    Route("GET", "/branches/<branch_id>/workshop-settings", "branches", READ, "workshop", "get_workshop_settings",
          _p("branch_id"), response=workshop.WorkshopSettings, scope="result", tags=("branches",),
          summary="The branch's workshop numbers (domain.md defaults unless set)"),
    Route("POST", "/branches/<branch_id>/workshop-settings", "branches", W, "workshop", "set_workshop_settings",
          _pb("branch_id"), body=workshop.WorkshopSettingsChange, response=workshop.WorkshopSettings,
          scope="result", id_field="branch_id", tags=("branches",),
          summary="Change the branch's workshop numbers; null puts one back to its default"),
    Route("POST", "/repair-orders/<repair_order_id>/supplements", "diagnosis", W, "workshop", "request_supplement",
          _pb("repair_order_id"), body=workshop.Supplement, response=workshop.Quote, scope="owner", status=201,
          id_field="quote_id", actor="diagnosed_by", tags=("quotes",),
          summary="A finding during the repair: a supplementary quote for approval; the order waits (on hold)"),
    Route("GET", "/declined-lines", "quotes", READ, "workshop", "list_declined_lines", _q,
          query=workshop.DeclinedQuery, response=workshop.DeclinedLine, many=True, scope="list", tags=("quotes",),
          summary="Lines a customer declined, by customer or vehicle, for later reminders"),
    Route("GET", "/first-time-fix", "repair-orders", READ, "workshop", "first_time_fix", _q,
          query=workshop.TechnicianTimeQuery, response=workshop.FirstTimeFix, scope="query",
          tags=("repair-orders",), summary="Orders delivered in a period and how many came back (comebacks)"),
    Route("GET", "/technician-time", "technician-time", READ, "workshop", "technician_time", _q,
          query=workshop.TechnicianTimeQuery, response=workshop.TechnicianTime, scope="query",
          summary="Efficiency and productivity per technician and branch over a period", tags=("jobs",)),
    Route("POST", "/repair-orders/<repair_order_id>/hold", "repair-orders", W, "workshop", "put_on_hold",
          _pb("repair_order_id"), body=workshop.Hold, response=workshop.RepairOrder, scope="owner",
          id_field="repair_order_id", tags=("repair-orders",)),
    Route("POST", "/repair-orders/<repair_order_id>/resumption", "repair-orders", W, "workshop",
          "resume_repair_order", _p("repair_order_id"), response=workshop.RepairOrder, scope="owner",
          id_field="repair_order_id", tags=("repair-orders",)),
    Route("POST", "/repair-orders/<repair_order_id>/quality-check", "quality-checks", W, "workshop",
          "quality_check", _pb("repair_order_id"), body=workshop.QualityCheck, response=workshop.RepairOrder,
          scope="owner", id_field="repair_order_id", actor="checked_by", tags=("repair-orders",)),
    Route("POST", "/repair-orders/<repair_order_id>/delivery", "repair-orders", W, "workshop", "deliver",
          _pb("repair_order_id"), body=workshop.Delivery, response=workshop.RepairOrder, scope="owner",
          id_field="repair_order_id", summary="Hand the car back: invoices it",
          actor="delivered_by", tags=("repair-orders",)),
    Route("POST", "/repair-orders/<repair_order_id>/cancellation", "repair-orders", W, "workshop",
          "cancel_repair_order", _pb("repair_order_id"), body=workshop.Cancellation, response=workshop.RepairOrder,
          scope="owner", id_field="repair_order_id", tags=("repair-orders",)),
    Route("GET", "/repair-orders/<repair_order_id>/invoice", "invoices", READ, "billing",
          "invoice_for_repair_order", _p("repair_order_id"), response=billing.Invoice, scope="result",
          tags=("invoices",)),
    Route("GET", "/quotes", "quotes", READ, "workshop", "list_quotes", _q, query=workshop.QuoteQuery,
          response=workshop.Quote, page=True, scope="list", tags=("quotes",)),
    Route("GET", "/jobs", "jobs", READ, "workshop", "list_jobs", _q, query=workshop.JobQuery,
          response=workshop.Job, page=True, scope="list", tags=("jobs",)),
    # parts and stock
    Route("POST", "/parts", "parts", W, "parts", "catalogue_part", _b, body=parts.NewPart, response=parts.Part,
          status=201, id_field="part_number", summary="Add a part to the catalogue or change it", tags=("parts",)),
    Route("GET", "/parts", "parts", READ, "parts", "list_parts", _q, query=parts.PartQuery, response=parts.Part,
          page=True, tags=("parts",)),
    Route("GET", "/parts/<part_number>", "parts", READ, "parts", "get_part", _p("part_number"),
          response=parts.Part, tags=("parts",)),
    # catalogue: approved substitutes and fitment by model. Substitutes with ?branch_id= show
    # that branch's available stock: figures only, as /stock/group shows every branch's to every reader
    Route("POST", "/parts/<part_number>/substitutes", "parts", W, "parts", "approve_substitute", _pb("part_number"),
          body=parts.NewSubstitute, response=parts.Substitute, many=True, status=201, id_field="part_number",
          summary="Approve a part that may be fitted instead, with its differences (both ways if asked); the"
          " answer lists the part's substitutes", tags=("parts",)),
    Route("GET", "/parts/<part_number>/substitutes", "parts", READ, "parts", "list_substitutes",
          lambda path, body, query: (path["part_number"], query), query=parts.SubstituteQuery,
          response=parts.Substitute, many=True, summary="A part's approved substitutes with origin, warranty,"
          " price and differences; with branch_id, what that branch has available of each", tags=("parts",)),
    Route("POST", "/parts/<part_number>/fitments", "parts", W, "parts", "add_fitment", _pb("part_number"),
          body=parts.NewFitment, response=parts.Part, status=201, id_field="part_number",
          summary="Record a make, model and model years the part fits; the answer is the part with its fitments",
          tags=("parts",)),
    Route("GET", "/stock", "stock", READ, "parts", "list_stock", _q, query=parts.StockQuery,
          response=parts.Stock, page=True, scope="list", tags=("stock",)),
    Route("GET", "/stock/<branch_id>/<part_number>", "stock", READ, "parts", "get_stock",
          lambda path, body, query: (path["branch_id"], path["part_number"]), response=parts.Stock,
          scope="result", tags=("stock",)),
    Route("POST", "/stock/receipts", "stock", W, "parts", "receive_stock", _b, body=parts.Receipt,
          response=parts.Stock, scope="body", status=201, id_field="part_number", tags=("stock",)),
    Route("POST", "/stock/thresholds", "stock", W, "parts", "set_thresholds", _b, body=parts.Thresholds,
          response=parts.Stock, scope="body", id_field="part_number", tags=("stock",)),
    Route("GET", "/stock-movements", "stock", READ, "parts", "list_movements", _q, query=parts.MovementQuery,
          response=parts.Movement, page=True, scope="list", tags=("stock",)),
    Route("GET", "/reservations", "reservations", READ, "parts", "list_reservations", _q,
          query=parts.ReservationQuery, response=parts.Reservation, page=True, scope="list",
          tags=("reservations",)),
    Route("POST", "/transfers", "transfers", W, "parts", "request_transfer", _b, body=parts.TransferRequest,
          response=parts.Transfer, scope="body", status=201, id_field="transfer_id", actor="acted_by",
          tags=("transfers",)),
    Route("GET", "/transfers", "transfers", READ, "parts", "list_transfers", _q, query=parts.TransferQuery,
          response=parts.Transfer, page=True, scope="list", tags=("transfers",)),
    Route("GET", "/transfers/<transfer_id>", "transfers", READ, "parts", "get_transfer", _p("transfer_id"),
          response=parts.Transfer, scope="result", tags=("transfers",)),
    Route("POST", "/transfers/<transfer_id>/status", "transfers", W, "parts", "advance_transfer",
          _pb("transfer_id"), body=parts.TransferStep, response=parts.Transfer, scope="owner",
          id_field="transfer_id", actor="acted_by", summary="Move a transfer on: the sending branch approves,"
          " picks and dispatches, the receiving branch receives (in parts) and closes", tags=("transfers",)),
    Route("POST", "/transfers/<transfer_id>/tracking", "transfers", W, "parts", "send_tracking", _pb("transfer_id"),
          body=parts.TransferTracking, response=parts.Transfer, scope="owner", id_field="transfer_id",
          actor="acted_by", summary="The carrier's tracking reference, to the receiving branch and the repair"
          " order (within 30 minutes of dispatch)", tags=("transfers",)),
    Route("POST", "/transfers/<transfer_id>/write-off", "transfers", W, "parts", "write_off_transfer",
          _pb("transfer_id"), body=parts.TransferWriteOff, response=parts.Transfer, scope="owner",
          id_field="transfer_id", actor="acted_by", summary="Units that never came out of transit, with the"
          " reason (the receiving branch)", tags=("transfers",)),
    # donors across the group: stock figures of every branch, whatever the caller's region (the documented
    # exception to region scope, like the branch directory); no customer or order is in them
    Route("GET", "/stock/group", "stock", READ, "parts", "group_stock", _q, query=parts.GroupStockQuery,
          response=parts.GroupShelf, many=True, summary="Every branch's available stock of a part, its safety"
          " stock and what it can give above it", tags=("stock",)),
    Route("GET", "/donors", "transfers", READ, "parts", "rank_donors", _q, query=parts.DonorQuery,
          response=parts.DonorRanking, scope="query", summary="The branches that can give a part a branch"
          " is short of, best first, and the proposal: a transfer from the best donor, or a purchase",
          tags=("transfers",)),
    Route("POST", "/donors/acceptance", "transfers", W, "parts", "accept_donor", _b, body=parts.TransferRequest,
          response=parts.Transfer, scope="body", status=201, id_field="transfer_id", actor="acted_by",
          summary="Take a donor"
          " proposal: the transfer request it becomes, if the donor can still give above its safety stock",
          tags=("transfers",)),
    Route("GET", "/lead-times", "lead-times", READ, "parts", "list_lead_times", response=parts.LeadTime,
          many=True, summary="The group's lead-time entries (pairs without one take the defaults)",
          tags=("transfers",)),
    Route("POST", "/lead-times", "lead-times", W, "parts", "set_lead_time", _b, body=parts.LeadTimeEntry,
          response=parts.LeadTime, summary="Set the hours of a branch pair, a region pair or purchases",
          tags=("transfers",)),
    # parts ledger: adjustments, counts, purchase orders, the service desk's outlook
    Route("POST", "/stock/adjustments", "stock", W, "parts", "adjust_stock", _b, body=parts.Adjustment,
          response=parts.Stock, scope="body", status=201, id_field="part_number", summary="Add units to or take"
          " them off a shelf for a reason (signed quantity; never reserved units)", tags=("stock",)),
    Route("POST", "/stock/counts", "stock", W, "parts", "count_stock", _b, body=parts.StockCount,
          response=parts.CountResult, scope="body", status=201, id_field="part_number", summary="Record a count:"
          " on hand becomes the counted quantity (never below what is reserved)", tags=("stock",)),
    Route("GET", "/stock/<branch_id>/<part_number>/ledger", "stock", READ, "parts", "check_ledger",
          lambda path, body, query: (path["branch_id"], path["part_number"]), response=parts.LedgerCheck,
          scope="result", summary="A stock row against what its movements add up to (they always agree)",
          tags=("stock",)),
    Route("GET", "/stock/outlook", "stock", READ, "parts", "stock_outlook", _q, query=parts.OutlookQuery,
          response=parts.Outlook, summary="For the service desk: a part's available units per branch, what is in"
          " transit to each (ETA) and on order (expected date), and the earliest time a branch has the quantity",
          tags=("stock",)),
    Route("POST", "/purchase-orders", "stock", W, "parts", "place_purchase_order", _b,
          body=parts.NewPurchaseOrder, response=parts.PurchaseOrder, scope="body", status=201,
          id_field="purchase_order_id", summary="Order units of a part from the supplier for a branch",
          tags=("purchase-orders",)),
    Route("GET", "/purchase-orders", "stock", READ, "parts", "list_purchase_orders", _q,
          query=parts.PurchaseOrderQuery, response=parts.PurchaseOrder, page=True, scope="list",
          tags=("purchase-orders",)),
    Route("GET", "/purchase-orders/<purchase_order_id>", "stock", READ, "parts", "get_purchase_order",
          _p("purchase_order_id"), response=parts.PurchaseOrder, scope="result", tags=("purchase-orders",)),
    Route("POST", "/purchase-orders/<purchase_order_id>/cancellation", "stock", W, "parts", "cancel_purchase_order",
          _pb("purchase_order_id"), body=parts.PurchaseOrderCancellation, response=parts.PurchaseOrder,
          scope="owner", id_field="purchase_order_id", summary="Call off what is still outstanding on a"
          " purchase order (what arrived stays)", tags=("purchase-orders",)),
    # thresholds, replenishment and shortage escalation
    Route("GET", "/replenishments", "replenishments", READ, "parts", "list_replenishments", _q,
          query=parts.ReplenishmentQuery, response=parts.Replenishment, page=True, scope="list",
          summary="Replenishment proposals made with threshold alerts: ?audience=purchasing (purchases),"
          " warehouse (transfers its branch gives or receives) or desk (everything for its branch)",
          tags=("replenishments",)),
    Route("POST", "/replenishments/<replenishment_id>/acceptance", "replenishments", W, "parts",
          "accept_replenishment", _pb("replenishment_id"), body=parts.ReplenishmentDecision,
          response=parts.Replenishment, scope="owner", id_field="replenishment_id", actor="acted_by",
          summary="Take a proposal with one call: the transfer request (the donor must still give it above its"
          " safety stock) or the purchase order it becomes", tags=("replenishments",)),
    Route("POST", "/replenishments/<replenishment_id>/dismissal", "replenishments", W, "parts",
          "dismiss_replenishment", _pb("replenishment_id"), body=parts.ReplenishmentDecision,
          response=parts.Replenishment, scope="owner", id_field="replenishment_id", actor="acted_by",
          summary="Turn a proposal down", tags=("replenishments",)),
    Route("GET", "/shortages", "reservations", READ, "parts", "list_shortages", _q, query=parts.ShortageQuery,
          response=parts.Shortage, page=True, scope="list", summary="Repair orders waiting for parts (open unless"
          " ?status= says): the escalation tier, its deadline, its proposal and the actions taken",
          tags=("reservations",)),
    # invoices and payments
    Route("GET", "/invoices", "invoices", READ, "billing", "list_invoices", _q, query=billing.InvoiceQuery,
          response=billing.Invoice, page=True, scope="list", tags=("invoices",)),
    Route("GET", "/invoices/<invoice_id>", "invoices", READ, "billing", "get_invoice", _p("invoice_id"),
          response=billing.Invoice, scope="result", tags=("invoices",)),
    Route("POST", "/invoices/<invoice_id>/payments", "payments", W, "billing", "record_payment",
          _pb("invoice_id"), body=billing.Payment, response=billing.Invoice, scope="owner",
          status=201, id_field="invoice_id",
          tags=("payments",)),
    Route("GET", "/payments", "payments", READ, "billing", "list_payments", _q, query=billing.PaymentQuery,
          response=billing.PaymentOut, page=True, scope="list", tags=("payments",)),
    Route("GET", "/warranty-claims", "warranty-claims", READ, "billing", "list_warranty_claims", _q,
          query=billing.ClaimQuery, response=billing.WarrantyClaim, page=True, scope="list",
          tags=("warranty-claims",)),
    # billing in depth: discounts, warranty decisions and claims, credit notes, refunds
    Route("POST", "/repair-orders/<repair_order_id>/discounts", "discounts", W, "billing", "record_discount",
          _pb("repair_order_id"), body=billing.Discount, response=billing.DiscountOut, scope="owner", status=201,
          id_field="repair_order_id", actor="created_by", tags=("invoices",),
          summary="A discount on a line or the whole order (percent_bp or amount_cents, with a reason), applied"
          " when the invoice is issued; 409 once it is"),
    Route("GET", "/repair-orders/<repair_order_id>/discounts", "discounts", READ, "billing", "list_discounts",
          _p("repair_order_id"), response=billing.DiscountOut, many=True, scope="record",
          record=_rec("workshop", "get_repair_order", "repair_order_id"), tags=("invoices",)),
    Route("POST", "/repair-orders/<repair_order_id>/warranty-checks", "warranty-claims", W, "billing",
          "check_warranty", _pb("repair_order_id"), body=billing.WarrantyCheck, response=billing.WarrantyCheckOut,
          scope="owner", status=201, id_field="repair_order_id", actor="decided_by", tags=("warranty-claims",),
          summary="Decide a warranty line's eligibility (period, km, exclusions) with its reason, before work"),
    Route("GET", "/repair-orders/<repair_order_id>/warranty-checks", "warranty-claims", READ, "billing",
          "list_warranty_checks", _p("repair_order_id"), response=billing.WarrantyCheckOut, many=True,
          scope="record", record=_rec("workshop", "get_repair_order", "repair_order_id"),
          tags=("warranty-claims",), summary="Every warranty decision of the repair order, oldest first"),
    Route("GET", "/warranty-claims/<claim_id>", "warranty-claims", READ, "billing", "get_warranty_claim",
          _p("claim_id"), response=billing.WarrantyClaim, scope="result", tags=("warranty-claims",)),
    Route("POST", "/warranty-claims/<claim_id>/steps", "warranty-claims", W, "billing", "take_claim_step",
          _pb("claim_id"), body=billing.ClaimStep, response=billing.WarrantyClaim, scope="record",
          record=_rec("billing", "get_warranty_claim", "claim_id"), status=201, id_field="claim_id", actor="by",
          tags=("warranty-claims",), summary="The claim's next step, in order (409 names the step needed)"),
    Route("GET", "/warranty-claims/<claim_id>/packet", "warranty-claims", READ, "billing", "claim_packet",
          _p("claim_id"), response=billing.ClaimPacket, scope="result", tags=("warranty-claims",),
          summary="What the manufacturer is sent: VIN, odometer, fault codes and findings, parts, labour"),
    Route("POST", "/credit-notes", "credit-notes", W, "billing", "issue_credit_note", _b, body=billing.NewCreditNote,
          response=billing.CreditNoteOut, scope="owner", status=201, id_field="credit_note_id", actor="created_by",
          tags=("credit-notes",), summary="A refund or compensation for a complaint, within its level's authority"
          " (422 names the level needed), never above the invoice less earlier credit notes"),
    Route("GET", "/credit-notes", "credit-notes", READ, "billing", "list_credit_notes", _q,
          query=billing.CreditNoteQuery, response=billing.CreditNoteOut, page=True, scope="list",
          tags=("credit-notes",)),
    Route("GET", "/credit-notes/<credit_note_id>", "credit-notes", READ, "billing", "get_credit_note",
          _p("credit_note_id"), response=billing.CreditNoteOut, scope="result", tags=("credit-notes",)),
    Route("POST", "/credit-notes/<credit_note_id>/refunds", "payments", W, "billing", "refund_credit_note",
          _pb("credit_note_id"), body=billing.Refund, response=billing.CreditNoteOut, scope="record",
          record=_rec("billing", "get_credit_note", "credit_note_id"), status=201, id_field="credit_note_id",
          tags=("credit-notes",), summary="Pay a credit note back: a negative payment on its invoice"),
    Route("GET", "/credit-authority", "credit-authority", READ, "billing", "get_credit_authority",
          response=billing.CreditAuthorityOut, tags=("credit-notes",),
          summary="How much each complaint level may credit (null: the invoice's full amount)"),
    Route("PUT", "/credit-authority", "credit-authority", W, "billing", "set_credit_authority", _b,
          body=billing.CreditAuthority, response=billing.CreditAuthorityOut, tags=("credit-notes",),
          summary="Set the group's credit authority per complaint level (admin)"),
    # follow-ups, surveys, complaints
    Route("GET", "/follow-ups", "follow-ups", READ, "crm", "list_follow_ups", _q, query=crm.FollowUpQuery,
          response=crm.FollowUp, page=True, scope="list", tags=("follow-ups",)),
    Route("GET", "/follow-ups/<follow_up_id>", "follow-ups", READ, "crm", "get_follow_up", _p("follow_up_id"),
          response=crm.FollowUp, scope="result", tags=("follow-ups",)),
    Route("POST", "/follow-ups/<follow_up_id>/completion", "follow-ups", W, "crm", "complete_follow_up",
          _pb("follow_up_id"), body=crm.FollowUpDone, response=crm.FollowUp, scope="owner",
          id_field="follow_up_id", tags=("follow-ups",)),
    Route("POST", "/surveys", "surveys", W, "crm", "record_survey", _b, body=crm.NewSurvey, response=crm.Survey,
          scope="record", record=_rec("workshop", "get_repair_order", "repair_order_id"), status=201,
          id_field="survey_id", tags=("surveys",)),
    Route("GET", "/surveys", "surveys", READ, "crm", "list_surveys", _q, query=ListQuery, response=crm.Survey,
          page=True, scope="list", tags=("surveys",)),
    Route("POST", "/complaints", "complaints", W, "crm", "open_complaint", _b, body=crm.NewComplaint,
          response=crm.Complaint, scope="body", status=201, id_field="complaint_id", tags=("complaints",)),
    Route("GET", "/complaints", "complaints", READ, "crm", "list_complaints", _q, query=crm.ComplaintQuery,
          response=crm.Complaint, page=True, scope="list", tags=("complaints",)),
    Route("GET", "/complaints/<complaint_id>", "complaints", READ, "crm", "get_complaint", _p("complaint_id"),
          response=crm.Complaint, scope="result", tags=("complaints",)),
    # messages to customers: consent, messages and their attempts, branch templates (crm)
    Route("GET", "/customers/<customer_id>/consents", "consents", READ, "crm", "get_consents", _p("customer_id"),
          response=crm_messages.ConsentsOut, scope="result", tags=("consents",),
          summary="The customer's consent per channel and purpose (defaults unless they said otherwise)"),
    Route("PUT", "/customers/<customer_id>/consents", "consents", W, "crm", "set_consents", _pb("customer_id"),
          body=crm_messages.ConsentChange, response=crm_messages.ConsentsOut, scope="record",
          record=_rec("crm", "get_customer", "customer_id"), id_field="customer_id", actor="changed_by",
          tags=("consents",),
          summary="Grant or withdraw consent per channel and purpose; each change goes into the history"),
    Route("GET", "/customers/<customer_id>/consents/history", "consents", READ, "crm", "get_consent_history",
          _p("customer_id"), response=crm_messages.ConsentHistory, scope="result", tags=("consents",),
          summary="Every consent change: what, who, when, from where"),
    Route("GET", "/customers/<customer_id>/messages", "messages", READ, "crm", "list_customer_messages",
          lambda path, body, query: (path["customer_id"], query), query=crm_messages.MessageQuery,
          response=crm_messages.MessageOut, page=True, scope="record",
          record=_rec("crm", "get_customer", "customer_id"), tags=("messages",),
          summary="The customer's messages, with their delivery attempts"),
    Route("POST", "/customers/<customer_id>/messages", "messages", W, "crm", "send_message", _pb("customer_id"),
          body=crm_messages.ManualMessage, response=crm_messages.MessageOut, scope="record",
          record=_rec("crm", "get_customer", "customer_id"), status=201, id_field="message_id",
          actor="sent_by", tags=("messages",),
          summary="Send the customer a message by hand (422 without consent or address for the channel)"),
    Route("GET", "/messages/<message_id>", "messages", READ, "crm", "get_message", _p("message_id"),
          response=crm_messages.MessageOut, scope="result", tags=("messages",),
          summary="One message with every delivery attempt"),
    Route("GET", "/branches/<branch_id>/message-templates", "message-templates", READ, "crm",
          "list_message_templates", _p("branch_id"), response=crm_messages.MessageTemplate, many=True,
          scope="record", record=_rec("booking", "get_branch", "branch_id"), tags=("messages",),
          summary="The templates the branch's messages use: its own, else the shipped ones"),
    Route("PUT", "/branches/<branch_id>/message-templates/<key>/<language>", "message-templates", W, "crm",
          "set_message_template", lambda path, body, query: (path["branch_id"], path["key"], path["language"], body),
          body=crm_messages.TemplateChange, response=crm_messages.MessageTemplate, scope="record",
          record=_rec("booking", "get_branch", "branch_id"), id_field="branch_id", tags=("messages",),
          summary="The branch's own template for one message and language (422: unknown placeholders)"),
    # crm in depth: the customer record, timeline, erasure and export; odometer history;
    # answering invited surveys and their figures; complaint responses, escalation, resolution,
    # reopening; feedback and its reply; a branch's crm thresholds
    Route("PATCH", "/customers/<customer_id>", "customers", W, "crm", "update_customer", _pb("customer_id"),
          body=crm.CustomerChange, response=crm.Customer, scope="record",
          record=_rec("crm", "get_customer", "customer_id"), id_field="customer_id", tags=("customers",),
          summary="Change the customer's details: only those given change"),
    Route("GET", "/customers/<customer_id>/timeline", "customers", READ, "crm", "customer_timeline",
          lambda path, body, query: (path["customer_id"], query), query=crm.TimelineQuery,
          response=crm.TimelineEntry, page=True, scope="record", record=_rec("crm", "get_customer", "customer_id"),
          tags=("customers",), summary="Every contact, visit, booking, repair order, invoice, message, survey"
                                       " and complaint of the customer, newest first"),
    Route("POST", "/customers/<customer_id>/erasure", "customer-data", W, "crm", "erase_customer",
          _pb("customer_id"), body=crm.Erasure, response=crm.Erased, scope="record",
          record=_rec("crm", "get_customer", "customer_id"), actor="erased_by", id_field="customer_id",
          tags=("customers",), summary="Erase the customer's personal data on request (idempotent)"),
    Route("GET", "/customers/<customer_id>/export", "customer-data", READ, "crm", "export_customer",
          _p("customer_id"), scope="record", record=_rec("crm", "get_customer", "customer_id"),
          tags=("customers",), summary="Everything held on the customer, as JSON"),
    Route("POST", "/customers/<customer_id>/feedback", "feedback", W, "crm", "give_feedback", _pb("customer_id"),
          body=crm.NewFeedback, response=crm.Feedback, scope="record",
          record=_rec("crm", "get_customer", "customer_id"), status=201, id_field="feedback_id",
          tags=("feedback",), summary="Feedback from the customer: a reply is owed within 24 h"),
    Route("GET", "/feedback", "feedback", READ, "crm", "list_feedback", _q, query=crm.FeedbackQuery,
          response=crm.Feedback, page=True, scope="list", tags=("feedback",)),
    Route("GET", "/feedback/<feedback_id>", "feedback", READ, "crm", "get_feedback", _p("feedback_id"),
          response=crm.Feedback, scope="result", tags=("feedback",)),
    Route("POST", "/feedback/<feedback_id>/reply", "feedback", W, "crm", "reply_to_feedback", _pb("feedback_id"),
          body=crm.FeedbackReply, response=crm.Feedback, scope="record",
          record=_rec("crm", "get_feedback", "feedback_id"), actor="replied_by", id_field="feedback_id",
          tags=("feedback",)),
    Route("POST", "/vehicles/<vehicle_id>/odometer", "vehicles", W, "crm", "record_reading", _pb("vehicle_id"),
          body=crm.NewReading, response=crm.Reading, scope="record", record=_rec("crm", "get_vehicle", "vehicle_id"),
          status=201, id_field="vehicle_id", tags=("vehicles",),
          summary="An odometer reading: never below the last unless marked a correction (422)"),
    Route("GET", "/vehicles/<vehicle_id>/odometer", "vehicles", READ, "crm", "list_readings", _p("vehicle_id"),
          response=crm.Reading, many=True, scope="record", record=_rec("crm", "get_vehicle", "vehicle_id"),
          tags=("vehicles",), summary="The vehicle's odometer history, oldest first"),
    Route("POST", "/surveys/<survey_id>/answer", "surveys", W, "crm", "answer_survey", _pb("survey_id"),
          body=crm.SurveyAnswer, response=crm.Survey, scope="record",
          record=_rec("crm", "get_survey_invitation", "survey_id"), status=201, id_field="survey_id",
          tags=("surveys",), summary="Answer an invited survey (survey.invited's survey_id)"),
    Route("GET", "/surveys/invitations", "surveys", READ, "crm", "list_survey_invitations", _q,
          query=crm.InvitationQuery, response=crm.Invitation, page=True, scope="list", tags=("surveys",),
          summary="Surveys invited at delivery, answered or not"),
    Route("GET", "/surveys/figures", "surveys", READ, "crm", "survey_figures", _q, query=crm.SurveyFiguresQuery,
          response=crm.SurveyFigures, scope="query", tags=("surveys",),
          summary="A branch's satisfaction and response rate"),
    Route("POST", "/complaints/<complaint_id>/responses", "complaints", W, "crm", "respond_to_complaint",
          _pb("complaint_id"), body=crm.ComplaintResponse, response=crm.Complaint, scope="record",
          record=_rec("crm", "get_complaint", "complaint_id"), actor="responded_by", status=201,
          id_field="complaint_id", tags=("complaints",), summary="An answer to the customer (the first stops the"
                                                                 " response clock)"),
    Route("POST", "/complaints/<complaint_id>/escalations", "complaints", W, "crm", "escalate_complaint",
          _pb("complaint_id"), body=crm.Escalation, response=crm.Complaint, scope="record",
          record=_rec("crm", "get_complaint", "complaint_id"), actor="escalated_by", status=201,
          id_field="complaint_id", tags=("complaints",)),
    Route("POST", "/complaints/<complaint_id>/resolution", "complaints", W, "crm", "resolve_complaint",
          _pb("complaint_id"), body=crm.Resolution, response=crm.Complaint, scope="record",
          record=_rec("crm", "get_complaint", "complaint_id"), id_field="complaint_id", tags=("complaints",),
          summary="Resolve with measures, a deadline and an owner (422 without them)"),
    Route("POST", "/complaints/<complaint_id>/reopening", "complaints", W, "crm", "reopen_complaint",
          _pb("complaint_id"), body=crm.Reopening, response=crm.Complaint, scope="record",
          record=_rec("crm", "get_complaint", "complaint_id"), id_field="complaint_id", tags=("complaints",)),
    Route("POST", "/crm/settings", "crm-settings", W, "crm", "set_crm_settings", _b, body=crm.CrmSettings,
          response=crm.CrmSettingsOut, scope="body", id_field="branch_id", tags=("customers",),
          summary="A branch's survey threshold and reminder delay, and what makes a repair major"),
    # the gateway's own routes
    Route("GET", "/sla/summary", "sla", READ, GATEWAY, "sla_summary", query=ClockQuery, response=SlaSummary,
          summary="Compliance per policy and branch, and the clocks at risk now", tags=("sla",),
          codes=("400", "401", "403", "405", "503"),
          description="Asks every service for its clocks' figures. Any staff role may read it; a caller scoped"
                      " to a branch or region gets its own branches only."),
    Route("GET", "/sla/clocks", "sla", READ, GATEWAY, "list_sla_clocks", query=ClockQuery, response=Clock, page=True,
          summary="SLA clocks kept by one service", tags=("sla",), codes=("400", "401", "403", "405", "503"),
          params=({"in": "query", "name": "service", "required": True,
                   "description": "the service whose clocks to list (400 without)",
                   "schema": {"type": "string", "enum": list(config.SERVICES)}},),
          description="The clocks of one service, filtered by policy, state and window, paged. A caller scoped"
                      " to a branch or region gets its own branches only.",
          answers={"400": "no service named, or invalid filters"}),
    Route("POST", "/sla/targets", "sla", WRITE, GATEWAY, "set_sla_target", body=TargetChange, response=TargetChange,
          summary="A branch's own target for a policy (admin)", tags=("sla",),
          codes=("400", "401", "403", "404", "405", "409", "415", "422", "503"),
          description="Overrides one policy's target for one branch; clocks started from now on use it.",
          answers={"403": "admin only", "422": "an inactive policy, or one another service keeps"}),
    Route("GET", "/audit", "audit", READ, GATEWAY, "list_audit", query=AuditQuery, response=AuditEntry, page=True,
          summary="Every write through the API (admin)", tags=("audit",), codes=("400", "401", "403", "405", "503"),
          description="Each write the API answered, newest first: who (subject, role), what (method, path,"
                      " record), when, and the status it got. Admin only. Pages with `limit` and `cursor`.",
          answers={"403": "admin only"}),
    Route("GET", "/events", "events", READ, GATEWAY, "list_events", response=FREE_FORM,
          summary="The event catalogue: names, publishers, fields", tags=("events",), codes=("401", "405"),
          description="Every event on the `pitlane.events` exchange: its routing key, the service that publishes"
                      " it and its payload's fields. Any valid token may read it."),
    Route("GET", "/self-service/repair-orders/<number>", "self-service", READ, GATEWAY, "customer_view",
          response=self_service.CustomerPage, public=True, params=(NUMBER, PLATE), tags=("self-service",),
          summary="A customer reads their repair order by number and plate",
          codes=("400", "404", "405", "429", "503"), answers={"404": "no such number and plate"},
          description="No token needed: the repair order's number and the vehicle's plate (in any spelling: case,"
                      " spaces and dashes do not matter) are the key. Answers 404 for a number and plate that do"
                      " not match, and 429 after 30 lookups a minute from one address."),
    Route("GET", "/customer/<token>", "self-service", READ, GATEWAY, "customer_view_by_link",
          response=self_service.CustomerPage, public=True, params=(TOKEN,), tags=("self-service",),
          summary="A customer follows the link a message gave them", codes=("404", "405", "429", "503"),
          answers={"404": "a link changed, signed with another key, or expired"},
          description="No token needed: the link crm puts in a message (quote ready, ready for pick-up, survey) is"
                      " signed and lasts `PITLANE_CUSTOMER_LINK_DAYS` (30 by default). Answers the same view as the"
                      " lookup by number and plate; 404 for a link that was changed or has expired, 429 after 30"
                      " lookups a minute from one address."),
    Route("POST", "/self-service/repair-orders/<number>/decisions", "self-service", WRITE, GATEWAY, "customer_decide",
          body=self_service.Decisions, response=self_service.CustomerPage, public=True, params=(NUMBER, PLATE),
          tags=("self-service",), summary="A customer approves or declines each line waiting for them",
          codes=("400", "404", "405", "409", "415", "422", "429", "503"),
          answers={"404": "no such number and plate", "409": "that quote no longer waits for a decision",
                   "422": "a line left undecided, or two options of one item approved together"},
          description="No token needed: the number and plate as for reading. Each line of the quote or supplement"
                      " waiting (`waiting.quote_id`) is approved or declined; the decision is recorded as the"
                      " customer's online consent, by the name given, with the time. Answers the page as it is now."),
    Route("POST", "/customer/<token>/decisions", "self-service", WRITE, GATEWAY, "customer_decide_by_link",
          body=self_service.Decisions, response=self_service.CustomerPage, public=True, params=(TOKEN,),
          tags=("self-service",), summary="A customer decides on the waiting lines through their link",
          codes=("400", "404", "405", "409", "415", "422", "429", "503"),
          answers={"404": "a link changed, signed with another key, or expired",
                   "409": "that quote no longer waits for a decision",
                   "422": "a line left undecided, or two options of one item approved together"},
          description="As the lookup by number and plate, through the signed link a message carried."),
    Route("POST", "/sessions", "sessions", WRITE, GATEWAY, "sign_in", body=SignIn, response=Session, public=True,
          tags=("sessions",), summary="Sign in as a member of staff: a bearer token",
          codes=("400", "401", "405", "415", "429", "503"), answers={"401": "the login and password do not match"},
          description="A member of staff (added with `pitlane staff add`) signs in with login and password and"
                      " gets the same bearer token `pitlane token create` issues: their role, and the branch or"
                      " region they act for. The console signs in this way. The same 401 answers an unknown login"
                      " and a wrong password; 429 after 10 attempts a minute for one login from one address."),
    # webhooks: integrators' subscriptions, their delivery log, redeliveries; replays into queues (webhooks)
    Route("POST", "/webhooks/subscriptions", "webhooks", WRITE, "webhooks", "create_subscription", _b,
          body=webhooks.NewSubscription, response=webhooks.SubscriptionWithSecret, status=201, actor="created_by",
          id_field="subscription_id", tags=("webhooks",), summary="Subscribe a URL to events",
          description="Every event of the types named is POSTed to the URL as published, signed by the Standard"
                      " Webhooks conventions (webhook-id, webhook-timestamp, webhook-signature with the secret),"
                      " retried with backoff for 24 h, then kept as failed for a redelivery. The answer carries"
                      " the secret: keep it, it is not shown again."),
    Route("GET", "/webhooks/subscriptions", "webhooks", READ, "webhooks", "list_subscriptions", _q,
          query=webhooks.SubscriptionQuery, response=webhooks.SubscriptionOut, page=True, tags=("webhooks",),
          summary="Subscriptions, with what waits and what was delivered or given up"),
    Route("GET", "/webhooks/subscriptions/<subscription_id>", "webhooks", READ, "webhooks", "get_subscription",
          _p("subscription_id"), response=webhooks.SubscriptionOut, tags=("webhooks",), summary="One subscription"),
    Route("POST", "/webhooks/subscriptions/<subscription_id>/pause", "webhooks", WRITE, "webhooks",
          "pause_subscription", _p("subscription_id"), response=webhooks.SubscriptionOut, tags=("webhooks",),
          summary="Stop trying; new deliveries wait"),
    Route("POST", "/webhooks/subscriptions/<subscription_id>/resume", "webhooks", WRITE, "webhooks",
          "resume_subscription", _p("subscription_id"), response=webhooks.SubscriptionOut, tags=("webhooks",),
          summary="Try again at once, the waiting deliveries first (also after a pause for failing)"),
    Route("DELETE", "/webhooks/subscriptions/<subscription_id>", "webhooks", WRITE, "webhooks",
          "disable_subscription", _p("subscription_id"), response=webhooks.SubscriptionOut, tags=("webhooks",),
          summary="Unsubscribe: no more deliveries; the log stays"),
    Route("GET", "/webhooks/subscriptions/<subscription_id>/deliveries", "webhooks", READ, "webhooks",
          "list_deliveries", lambda path, body, query: (path["subscription_id"], query), query=webhooks.DeliveryQuery,
          response=webhooks.DeliveryOut, page=True, tags=("webhooks",),
          summary="The delivery log: each event, its status, tries, last answer and latency"),
    Route("GET", "/webhooks/deliveries/<delivery_id>", "webhooks", READ, "webhooks", "get_delivery",
          _p("delivery_id"), response=webhooks.DeliveryWithAttempts, tags=("webhooks",),
          summary="One delivery with every try: when, the status code, the latency, the error"),
    Route("POST", "/webhooks/subscriptions/<subscription_id>/redeliveries", "webhooks", WRITE, "webhooks",
          "redeliver", _pb("subscription_id"), body=webhooks.Redelivery, response=webhooks.RedeliveryOut,
          tags=("webhooks",), summary="Send archived events again: one, those after one, or a time window",
          description="From the event archive (PITLANE_EVENT_ARCHIVE_DAYS, 30 by default, beyond the outboxes'"
                      " 7 days): one event by id, every event after an event id, or those that occurred in a"
                      " window, of the types the subscription wants. An event already waiting is not doubled."),
    Route("POST", "/events/replays", "replays", WRITE, "webhooks", "replay_to_queue", _b, body=webhooks.Replay,
          response=webhooks.ReplayOut, status=202, actor="created_by", id_field="replay_id", tags=("events",),
          summary="Publish archived events again into a queue",
          description="For an integrator's consumer (or a handler's queue) that lost events or started late:"
                      " the archived events of the range are published into the queue in archive order, with"
                      " their own ids (consumers drop what they applied already). A service's handler queue"
                      " gets only its event type unless event_types says otherwise. Runs in the background;"
                      " GET /events/replays/{replay_id} tells how far it is."),
    Route("GET", "/events/replays/<replay_id>", "replays", READ, "webhooks", "get_replay", _p("replay_id"),
          response=webhooks.ReplayOut, tags=("events",), summary="How far a replay is"),
    Route("GET", "/dead-letters", "dead-letters", READ, GATEWAY, "list_dead_letters", query=DeadLetterQuery,
          response=DeadLetters, tags=("operations",), summary="Events a handler kept failing on",
          codes=("400", "401", "403", "405", "503"), answers={"403": "operations and admin only"},
          description="The dead-letter queue as operations see it: how many there are, and the oldest `limit`"
                      " (event type, the handler's queue, attempts, the last error, when it failed), without"
                      " their payloads. Replaying one is an operator's command: `pitlane dlq replay`."),
    Route("GET", "/openapi.json", "meta", READ, GATEWAY, "openapi_document", response=FREE_FORM, public=True,
          summary="This document", tags=("meta",), codes=("405",),
          description="The OpenAPI 3 document of the API, generated from the route table and its schemas."),
    Route("GET", "/asyncapi.json", "meta", READ, GATEWAY, "asyncapi_document", response=FREE_FORM, public=True,
          summary="The event stream's AsyncAPI document", tags=("meta",), codes=("405",),
          description="The AsyncAPI 2.6 document of the events on the exchange pitlane.events, generated from the"
                      " event catalogue: one channel per event type, its payload, version and publisher."),
    Route("GET", "/healthz", "meta", READ, GATEWAY, "healthz", response=HEALTH, public=True, root=True,
          summary="Whether the gateway reaches RabbitMQ and PostgreSQL", tags=("meta",), codes=("405", "503"),
          description="No token needed. 200 when both answer, 503 (status degraded) when either does not.",
          answers={"503": ("RabbitMQ or PostgreSQL does not answer", HEALTH)}),
    Route("GET", "/metrics", "meta", READ, GATEWAY, "metrics", public=True, root=True, tags=("meta",),
          response={"type": "string"}, codes=("405",), summary="Prometheus metrics",
          description="No token needed. The Prometheus text format: request durations by route and status,"
                      " dead letters, and the SLA figures (clocks by policy, branch and outcome, open clocks,"
                      " compliance).", answers={"200": ("OK", {"type": "string"}, "text/plain")}),
]
