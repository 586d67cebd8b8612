"""The OpenAPI 3 document, generated from the route table and the services' marshmallow schemas."""
import decimal
import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from gateway import policy
from gateway.routes import ROUTES, AuditEntry, AuditQuery
from shared import config

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

# the values each status-like field of an answer takes (the CHECK constraints and life cycles behind them)
from services.booking import domain as _booking_domain  # noqa: E402
from services.parts import domain as _parts_domain  # noqa: E402
from services.workshop import domain as _workshop_domain  # noqa: E402

_RO = list(_workshop_domain.LIFE_CYCLE.statuses)
_BOOKING = list(_booking_domain.LIFE_CYCLE.statuses)
ENUMS = {
    "booking.Booking": {"status": _BOOKING},
    "booking.HistoryEntry": {"from_status": _BOOKING, "to_status": _BOOKING},
    "workshop.RepairOrder": {"status": _RO, "parts_status": ["none", "pending", "reserved", "short"]},
    "workshop.Stage": {"status": _RO},
    "workshop.StagePublic": {"status": _RO},
    "workshop.CustomerView": {"status": _RO, "stage": sorted(set(_workshop_domain.PUBLIC_STAGES.values()))},
    "workshop.Quote": {"status": ["open", "approved", "declined", "superseded", "withdrawn"]},
    "workshop.FindingOut": {"status": ["red", "amber", "green"]},
    "billing.Invoice": {"status": ["issued", "paid"]},
    "billing.WarrantyClaim": {"status": ["draft"]},
    "parts.Reservation": {"status": ["held", "consumed", "released"]},
    "parts.Transfer": {"status": sorted(_parts_domain.TRANSFER.statuses)},
    "crm.FollowUp": {"status": ["due", "done"], "outcome": ["reached", "no_answer", "issue_found"]},
    "crm.Complaint": {"status": ["open", "resolved"]},
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


def _name(schema) -> str | None:
    cls = schema if isinstance(schema, type) else schema.__class__
    module = cls.__module__.split(".")
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


def _responses(codes, error_ref, **texts):
    return {code: {"description": texts.get(code, ERRORS[code]), **error_ref} for code in codes}


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


def _hand_written(error_ref) -> dict:
    """The views app.py writes by hand, declared here with every status they answer."""
    from services.workshop.schemas import CustomerView
    from shared.sla.clocks import Clock, ClockQuery, TargetChange

    summary = type("SlaSummary", (Schema,), {
        "__module__": "gateway.sla",
        "compliance": fields.List(fields.Dict(), metadata={"description": "met, breached, cancelled (counted"
                                                                          " neither way), open, and compliance ="
                                                                          " met / (met + breached), per policy and branch"}),
        "at_risk": fields.List(fields.Nested(Clock))})
    secured = {"security": [{"bearer": []}], "tags": ["sla"]}
    json = "application/json"
    health = {"type": "object", "required": ["status", "checks"], "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "checks": {"type": "object", "additionalProperties": {"type": "string", "enum": ["up", "down"]}}}}
    return {
        "/api/v1/self-service/repair-orders/{number}": {"get": {
            "operationId": "customer_view", "summary": "A customer reads their repair order by number and plate",
            "description": "No token needed: the repair order's number and the vehicle's plate (in any spelling:"
                           " case, spaces and dashes do not matter) are the key. Answers 404 for a number and plate"
                           " that do not match, and 429 after 30 lookups a minute from one address.",
            "tags": ["self-service"], "security": [],
            "parameters": _parameters("<number>", {"number": "the repair order's number, such as N1-000042"}) + [
                {"in": "query", "name": "plate", "required": True, "description": "the vehicle's plate (400 without)",
                 "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {json: {"schema": CustomerView}}},
                          **_responses(("400", "404", "405", "429", "503"), error_ref,
                                       **{"404": "no such number and plate"})}}},
        "/api/v1/audit": {"get": {
            "operationId": "list_audit", "summary": "Every write through the API (admin)", "tags": ["audit"],
            "description": "Each write the API answered, newest first: who (subject, role), what (method, path,"
                           " record), when, and the status it got. Admin only. Pages with `limit` and `cursor`.",
            "security": [{"bearer": []}], "parameters": [{"in": "query", "schema": AuditQuery}],
            "responses": {"200": {"description": "OK", "content": {json: {"schema": _page(AuditEntry)}}},
                          **_responses(("400", "401", "403", "405", "503"), error_ref, **{"403": "admin only"})}}},
        "/api/v1/events": {"get": {
            "operationId": "list_events", "summary": "The event catalogue: names, publishers, fields",
            "description": "Every event on the `pitlane.events` exchange: its routing key, the service that"
                           " publishes it and its payload's fields. Any valid token may read it.",
            "tags": ["events"], "security": [{"bearer": []}],
            "responses": {"200": {"description": "OK", "content": {json: {"schema": {
                "type": "object", "additionalProperties": True}}}},
                **_responses(("401", "405"), error_ref)}}},
        "/api/v1/sla/summary": {"get": {
            "operationId": "sla_summary", "summary": "Compliance per policy and branch, and the clocks at risk now",
            "description": "Asks every service for its clocks' figures. Any staff role may read it; a caller"
                           " scoped to a branch or region gets its own branches only.",
            "parameters": [{"in": "query", "schema": ClockQuery}], **secured,
            "responses": {"200": {"description": "OK", "content": {json: {"schema": summary}}},
                          **_responses(("400", "401", "403", "405", "503"), error_ref)}}},
        "/api/v1/sla/clocks": {"get": {
            "operationId": "list_sla_clocks", "summary": "SLA clocks kept by one service",
            "description": "The clocks of one service, filtered by policy, state and window, paged. A caller"
                           " scoped to a branch or region gets its own branches only.",
            "parameters": [{"in": "query", "name": "service", "required": True,
                            "description": "the service whose clocks to list (400 without)",
                            "schema": {"type": "string", "enum": list(config.SERVICES)}},
                           {"in": "query", "schema": ClockQuery}], **secured,
            "responses": {"200": {"description": "OK", "content": {json: {"schema": _page(Clock)}}},
                          **_responses(("400", "401", "403", "405", "503"), error_ref,
                                       **{"400": "no service named, or invalid filters"})}}},
        "/api/v1/sla/targets": {"post": {
            "operationId": "set_sla_target", "summary": "A branch's own target for a policy (admin)", **secured,
            "description": "Overrides one policy's target for one branch; clocks started from now on use it.",
            "requestBody": {"required": True, "content": {json: {"schema": TargetChange}}},
            "responses": {"200": {"description": "OK", "content": {json: {"schema": TargetChange}}},
                          **_responses(("400", "401", "403", "404", "405", "409", "415", "422", "503"), error_ref,
                                       **{"403": "admin only",
                                          "422": "an inactive policy, or one another service keeps"})}}},
        "/api/v1/openapi.json": {"get": {
            "operationId": "openapi_document", "summary": "This document",
            "description": "The OpenAPI 3 document of the API, generated from the route table and its schemas.",
            "tags": ["meta"], "security": [],
            "responses": {"200": {"description": "OK", "content": {json: {"schema": {
                "type": "object", "additionalProperties": True}}}}, **_responses(("405",), error_ref)}}},
        "/healthz": {"get": {
            "operationId": "healthz", "summary": "Whether the gateway reaches RabbitMQ and PostgreSQL",
            "description": "No token needed. 200 when both answer, 503 (status degraded) when either does not.",
            "tags": ["meta"], "security": [],
            "responses": {"200": {"description": "OK", "content": {json: {"schema": health}}},
                          "503": {"description": "RabbitMQ or PostgreSQL does not answer",
                                  "content": {json: {"schema": health}}},
                          **_responses(("405",), error_ref)}}},
    }


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
        codes = COMMON + (("415",) if route.body is not None else ())
        operation = {
            "operationId": route.rpc,
            "summary": _summary(route),
            "description": _description(route),
            "tags": list(route.tags), "security": [{"bearer": []}],
            "parameters": _parameters(route.path),
            "responses": _responses(codes, error_ref),
        }
        if route.query is not None:
            operation["parameters"].append({"in": "query", "schema": route.query})
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
        if route.method == "POST":
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
        operation["responses"][str(route.status)] = success
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/api/v1" + route.path)
        paths.setdefault(path, {})[route.method.lower()] = operation
    paths.update(_hand_written(error_ref))
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

