"""The OpenAPI 3 document, generated from the route table and the public API's marshmallow schemas
(shared/contracts/api), with the vocabulary that contract names."""
import decimal
import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from gateway import policy
from gateway.routes import ROUTES
from shared.contracts.api import billing as _billing, booking as _booking, crm as _crm, messages as _messages
from shared.contracts.api import parts as _parts, webhooks as _webhooks, workshop as _workshop

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "fields"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": True,
                   "description": "what was wrong, per field (empty when no field is to blame)"}}}}}
ERRORS = {"400": "invalid input, with a message per field", "401": "no valid bearer token",
          "403": "not allowed for this role, or outside the caller's branch or region",
          "404": "no such record", "405": "the method is not allowed on this path; the Allow header lists those that are",
          "409": "the record's state forbids this",
          "415": "the body is not sent as application/json",
          "422": "a business rule refuses this, or an Idempotency-Key reused with another body",
          "429": "too many requests from this address; wait a minute",
          "503": "a service did not answer in time; retry after Retry-After seconds"}
TOO_LONG = {"description": "the request line (path and query) is longer than 4094 bytes; answered by the"
                           " HTTP server in front of the API, as HTML",
            "content": {"text/html": {"schema": {"type": "string"}}}}
# every route answers these (a route with a body 415 too); 429 only where a rate limit applies
COMMON = ("400", "401", "403", "404", "405", "409", "422", "503")

# the values each status-like field of an answer takes (the CHECK constraints and life cycles behind them),
# in the contract's words
_RO = list(_workshop.REPAIR_ORDER_STATUSES)
_BOOKING = list(_booking.BOOKING_STATUSES)
ENUMS = {
    "booking.Booking": {"status": _BOOKING},
    "booking.HistoryEntry": {"from_status": _BOOKING, "to_status": _BOOKING},
    "booking.WalkIn": {"status": ["waiting", "checked_in"]},
    "booking.Arrival": {"status": _BOOKING},
    "workshop.RepairOrder": {"status": _RO, "parts_status": ["none", "pending", "reserved", "short"]},
    "workshop.Stage": {"status": _RO},
    "self_service.Stage": {"status": _RO},
    "self_service.Waiting": {"kind": ["initial", "supplement"]},
    "self_service.InvoiceShown": {"status": ["issued", "paid"]},
    "self_service.CustomerPage": {"status": _RO, "stage": sorted(set(_workshop.PUBLIC_STAGES.values()))},
    "workshop.Quote": {"status": list(_workshop.QUOTE_STATUSES), "kind": ["initial", "supplement"]},
    "workshop.CheckOut": {"kind": list(_workshop.CHECK_KINDS)},
    "workshop.Line": {"option": list(_workshop.QUOTE_OPTIONS)},
    "workshop.FindingOut": {"status": ["red", "amber", "green"]},
    "billing.Invoice": {"status": list(_billing.INVOICE_STATUSES)},
    **{f"webhooks.{name}": {"status": list(_webhooks.SUBSCRIPTION_STATUSES)}
       for name in ("SubscriptionOut", "SubscriptionWithSecret")},
    **{f"webhooks.{name}": {"status": list(_webhooks.DELIVERY_STATUSES)} for name in ("DeliveryOut", "DeliveryWithAttempts")},
    "webhooks.ReplayOut": {"status": list(_webhooks.REPLAY_STATUSES)},
    "billing.WarrantyClaim": {"status": list(_billing.CLAIM_STATUSES),
                              "step_needed": list(_billing.CLAIM_STEPS)},
    "billing.ClaimPacket": {"status": list(_billing.CLAIM_STATUSES)},
    "billing.ClaimStepOut": {"step": [*_billing.CLAIM_STEPS, *_billing.CLAIM_ENDINGS]},
    "billing.CreditNoteOut": {"kind": list(_billing.CREDIT_KINDS)},
    "billing.WarrantyCheckOut": {"terms": list(_billing.PERIODS)},
    "parts.Reservation": {"status": list(_parts.RESERVATION_STATUSES)},
    "parts.Transfer": {"status": sorted(_parts.TRANSFER_STATUSES)},
    "parts.Proposal": {"kind": ["purchase", "transfer"]},
    "parts.LeadTime": {"kind": ["branch", "purchase", "region"]},
    # thresholds, replenishment and shortage escalation
    "parts.Replenishment": {"status": ["proposed", "accepted", "dismissed", "superseded"],
                            "kind": ["purchase", "transfer"], "alert": ["reorder_point", "safety_stock"]},
    "parts.Shortage": {"status": ["open", "served", "cancelled"], "tier": ["local", "region", "group"],
                       "clock_state": ["running", "paused", "stopped"],
                       "clock_outcome": ["met", "breached", "cancelled"]},
    "parts.ShortageProposal": {"kind": ["purchase", "transfer"]},
    "parts.PurchaseOrder": {"status": list(_parts.PURCHASE_ORDER_STATUSES)},  # ledger (services/parts/ledger.py)
    "crm.FollowUp": {"status": list(_crm.FOLLOW_UP_STATUSES), "outcome": list(_crm.OUTCOMES)},
    "crm.Complaint": {"status": list(_crm.COMPLAINT_STATUSES)},
    # messages to customers (shared/contracts/api/messages.py)
    "crm.MessageOut": {"status": list(_messages.STATUSES), "channel": list(_messages.CHANNELS),
                       "purpose": list(_messages.PURPOSES), "key": list(_messages.KINDS)},
    "crm.Attempt": {"result": ["sent", "refused", "unavailable"], "channel": list(_messages.CHANNELS)},
    "crm.ConsentOut": {"channel": list(_messages.CHANNELS), "purpose": list(_messages.PURPOSES)},
    "crm.ConsentsOut": {"preferred_channel": list(_messages.CHANNELS)},
    "crm.ConsentHistoryEntry": {"channel": list(_messages.CHANNELS), "purpose": list(_messages.PURPOSES)},
    "crm.MessageTemplate": {"key": list(_messages.KINDS), "language": list(_messages.LANGUAGES),
                            "source": ["shipped", "branch"]},
    "crm.Feedback": {"status": list(_crm.FEEDBACK_STATUSES)},
    "sla.Clock": {"state": ["running", "paused", "stopped"], "outcome": ["met", "breached", "cancelled"],
                  "standing": ["running", "paused", "at_risk", "met", "breached", "cancelled"]},
}

MOMENT = ("an ISO 8601 moment with its UTC offset (Z or +01:00): one without an offset is refused (400),"
          " not read as UTC; between 1900-01-01 and 2200-01-01")
RULES = {  # query parameters the server checks beyond their type
    "from": "start of the window (inclusive); " + MOMENT,
    "to": "end of the window; must be after `from` (400 otherwise); " + MOMENT,
    "cursor": "the `next_cursor` of the previous page, passed back unchanged (opaque, at most 500"
              " characters); anything else is refused (400)",
    "limit": "items per page",
}
ACTOR = ("who did it; left out, the caller (the token's subject). A technician may give only their own"
         " name (403 otherwise); an advisor or admin may record what a named colleague did")
VIN = {"pattern": "^[A-HJ-NPR-Z0-9]{17}$",
       "description": "17 letters and digits, never I, O or Q (lower case is accepted and kept in capitals)"}
DECIMAL_OUT = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
               "description": "a decimal as a string, with the places its column keeps: \"1.50\""}


def _decimal(self, field, **kwargs):
    """Decimals are strings in the document as in the answers ("1.50"); an input decimal states its
    range and its places in a pattern and description (a JSON number is accepted as well)."""
    from marshmallow import fields as f

    if not isinstance(field, f.Decimal):
        return {}
    if getattr(field, "max_places", None) is not None:  # shared.contracts.schemas.FixedDecimal: input
        places = field.max_places
        return {"type": "string", "pattern": rf"^[0-9]{{1,8}}(\.[0-9]{{1,{places}}})?$"}
    return dict(DECIMAL_OUT)


CONTRACT = ["shared", "contracts", "api"]
OWNERS = {"messages": "crm"}  # the contract module -> the service it names, where the two differ


def _name(schema) -> str | None:
    cls = schema if isinstance(schema, type) else schema.__class__
    module = cls.__module__.split(".")
    if module[:3] == CONTRACT and len(module) > 3:  # shared.contracts.api.booking.Booking: booking.Booking
        owner = OWNERS.get(module[3], module[3])
    else:
        owner = module[1] if module[0] in ("services", "shared", "gateway") and len(module) > 1 else module[0]
    partial = "" if isinstance(schema, type) or not schema.only else "Public"
    return f"{owner}.{cls.__name__}{partial}"


@functools.cache
def _page(schema_cls):
    return type(f"{schema_cls.__name__}Page", (Schema,), {
        "__module__": schema_cls.__module__,
        "items": fields.List(fields.Nested(schema_cls)),
        "next_cursor": fields.String(allow_none=True, metadata={"description": "pass as ?cursor= for the next page"}),
    })


def _parameters(path, descriptions=None):
    return [{"in": "path", "name": name, "required": True,
             "description": (descriptions or {}).get(name, f"the record's {name.replace('_', ' ')}"),
             "schema": {"type": "string"}}
            for name in re.findall(r"<(?:\w+:)?(\w+)>", path)]


def _description(route) -> str:
    who = ", ".join(role for role, access in policy.POLICY[route.family].items()
                    if policy.allows(role, route.family, route.access))
    parts = [f"Needs {route.access} access to {route.family}: {who}."]
    if route.scope != "none":
        parts.append("A caller scoped to a branch or region sees and acts only within it (403 outside).")
    if route.page:
        parts.append("Pages with `limit` and `cursor`: pass `next_cursor` back as `cursor` until it is null.")
    if route.method == "POST":
        parts.append("Send an Idempotency-Key to retry safely: the same key and body get the first answer again.")
    return " ".join(parts)


def _summary(route) -> str:
    if route.summary:
        return route.summary
    words = route.rpc.replace("_", " ")
    return words[0].upper() + words[1:]


def _operation(route, error_ref) -> dict:
    codes = route.codes or (COMMON + (("415",) if route.body is not None else ()))
    operation = {
        "operationId": route.rpc,
        "summary": _summary(route),
        "description": route.description or _description(route),
        "tags": list(route.tags),
        "security": [] if route.public else [{"bearer": []}],
        "parameters": [p for p in _parameters(route.path) if p["name"] not in {q["name"] for q in route.params}]
        + list(route.params),
        "responses": {},
    }
    for code in codes:
        operation["responses"][code] = _answer(route.answers.get(code), ERRORS[code], error_ref)
    if route.query is not None:
        operation["parameters"].append({"in": "query", "schema": route.query})
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
    if route.method == "POST" and not route.local:
        operation["parameters"].append({
            "in": "header", "name": "Idempotency-Key", "required": False,
            "description": "at most 200 characters (longer is refused, never cut); the same key with the"
                           " same body answers the first result again, with another body 422",
            "schema": {"type": "string", "maxLength": 200}})
    success = {"description": "OK"}
    if route.response is not None:
        if route.page:
            schema = _page(route.response)
        elif route.many:
            schema = {"type": "array", "items": route.response}
        else:
            schema = route.response
        success["content"] = {"application/json": {"schema": schema}}
    operation["responses"][str(route.status)] = _answer(route.answers.get(str(route.status)), None, None) \
        if str(route.status) in route.answers else success
    return operation


def _answer(given, default_text, error_ref) -> dict:
    """A response: an error with its usual text, or the route's own text, or (a tuple) its own text,
    schema and content type (default JSON)."""
    if isinstance(given, tuple):
        text, schema, *media = given
        return {"description": text, "content": {(media or ["application/json"])[0]: {"schema": schema}}}
    return {"description": given or default_text, **error_ref}


@functools.cache
def document() -> dict:
    plugin = MarshmallowPlugin(schema_name_resolver=_name)
    spec = APISpec(title="pitlane API", version="1.0.0", openapi_version="3.0.3", plugins=[plugin],
                   info={"description": "After-sales for multi-branch dealer groups. Bearer tokens carry a role "
                                        "and a branch or region scope; POSTs accept an Idempotency-Key. Every "
                                        "error has the shape {\"error\": {\"code\", \"message\", \"fields\"}}."})
    plugin.converter.add_attribute_function(_decimal)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", ERROR)
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.url), {})[route.method.lower()] = \
            _operation(route, error_ref)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return _rules(_numbers(spec.to_dict()))


def _rules(doc: dict) -> dict:
    """What the server enforces beyond a field's type, stated where a client reads it: status enums,
    the window, the cursor, the VIN, the time zone of every moment."""
    schemas = doc["components"]["schemas"]
    for name, enums in ENUMS.items():
        for field_name, values in enums.items():
            prop = schemas[name]["properties"][field_name]
            prop["enum"] = list(values) + ([None] if prop.get("nullable") else [])
    for name in ("crm.NewVehicle",):
        schemas[name]["properties"]["vin"].update(VIN)
    for route in ROUTES:  # who did it comes from the token (policy.acting_as): optional over HTTP
        if route.actor:
            schema = schemas[_name(route.body)]
            schema["required"] = [f for f in schema.get("required", ()) if f != route.actor] or None
            if schema["required"] is None:
                del schema["required"]
            schema["properties"][route.actor]["description"] = ACTOR
    for operations in doc["paths"].values():
        for operation in operations.values():
            # branch_ids is set from the caller's scope, never read from the query: not a parameter
            operation["parameters"] = [p for p in operation.get("parameters", ()) if p["name"] != "branch_ids"]
            for parameter in operation["parameters"]:
                if parameter["in"] == "query" and parameter["name"] in RULES:
                    parameter.setdefault("description", RULES[parameter["name"]])
                    if parameter["name"] == "cursor":  # what paging issues: url-safe base64 without padding
                        parameter["schema"]["pattern"] = "^[A-Za-z0-9_-]*$"
                elif parameter.get("schema", {}).get("format") == "date-time":
                    parameter.setdefault("description", MOMENT)
            # the HTTP server itself refuses a request line over 4094 bytes, before any view
            operation["responses"].setdefault("414", TOO_LONG)
    _walk(doc)
    return doc


def _walk(value):
    if isinstance(value, dict):
        if value.get("format") == "date-time" and "description" not in value:
            value["description"] = MOMENT
        for item in value.values():
            _walk(item)
    elif isinstance(value, list):
        for item in value:
            _walk(item)


def _numbers(value):
    """Bounds of decimal fields come out of apispec as Decimal, which JSON writes as a string:
    the document states them as numbers, as OpenAPI wants them."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value

