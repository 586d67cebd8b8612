"""The OpenAPI 3 document, generated from the route table and the services' marshmallow schemas."""
import decimal
import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from gateway.routes import ROUTES, AuditEntry, AuditQuery
from shared import config

ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": True}}}}}
ERRORS = {"400": "invalid input, with a message per field", "401": "no valid bearer token",
          "403": "not allowed for this role, or outside the caller's branch or region",
          "404": "no such record", "409": "the record's state forbids this",
          "422": "a business rule refuses this, or an Idempotency-Key reused with another body",
          "503": "a service did not answer in time; retry after Retry-After seconds"}


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


def _parameters(path):
    return [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"<(?:\w+:)?(\w+)>", path)]


@functools.cache
def document() -> dict:
    spec = APISpec(title="pitlane API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin(schema_name_resolver=_name)],
                   info={"description": "After-sales for multi-branch dealer groups. Bearer tokens carry a role "
                                        "and a branch or region scope; POSTs accept an Idempotency-Key."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", ERROR)
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    paths: dict[str, dict] = {}
    for route in ROUTES:
        operation = {
            "operationId": route.rpc,
            "summary": route.summary or route.rpc.replace("_", " "),
            "tags": list(route.tags), "security": [{"bearer": []}],
            "parameters": _parameters(route.path),
            "responses": {str(code): {"description": text, **error_ref} for code, text in ERRORS.items()},
        }
        if route.query is not None:
            operation["parameters"].append({"in": "query", "schema": route.query})
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
            operation["responses"]["415"] = {"description": "the body is not sent as application/json", **error_ref}
        if route.method == "POST":
            operation["parameters"].append({"in": "header", "name": "Idempotency-Key", "required": False,
                                            "schema": {"type": "string", "maxLength": 200}})
        response_schema = _page(route.response) if route.page and route.response else route.response
        success = {"description": "OK"}
        if response_schema is not None:
            success["content"] = {"application/json": {"schema": response_schema}}
        operation["responses"][str(route.status)] = success
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/api/v1" + route.path)
        paths.setdefault(path, {})[route.method.lower()] = operation
    paths["/api/v1/self-service/repair-orders/{number}"] = {"get": {
        "operationId": "customer_view", "summary": "A customer reads their repair order by number and plate",
        "tags": ["self-service"], "security": [],
        "parameters": _parameters("<number>") + [{"in": "query", "name": "plate", "required": True,
                                                  "schema": {"type": "string"}}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": "CustomerView"}}}, "404": {"description": "no such number and plate", **error_ref},
            "429": {"description": "too many lookups", **error_ref}}}}
    paths["/api/v1/audit"] = {"get": {
        "operationId": "list_audit", "summary": "Every write through the API (admin)", "tags": ["audit"],
        "security": [{"bearer": []}], "parameters": [{"in": "query", "schema": AuditQuery}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": _page(AuditEntry)}}}, "403": {"description": "admin only", **error_ref}}}}
    paths["/api/v1/events"] = {"get": {
        "operationId": "list_events", "summary": "The event catalogue: names, publishers, fields",
        "tags": ["events"], "security": [{"bearer": []}],
        "responses": {"200": {"description": "OK"}, "401": {"description": "no valid token", **error_ref}}}}
    from services.workshop.schemas import CustomerView
    from shared.sla.clocks import Clock, ClockQuery, TargetChange

    summary = type("SlaSummary", (Schema,), {
        "__module__": "gateway.sla",
        "compliance": fields.List(fields.Dict(), metadata={"description": "met, breached, cancelled (counted"
                                                                          " neither way), open, and compliance ="
                                                                          " met / (met + breached), per policy and branch"}),
        "at_risk": fields.List(fields.Nested(Clock))})
    secured = {"security": [{"bearer": []}], "tags": ["sla"]}
    paths["/api/v1/sla/summary"] = {"get": {
        "operationId": "sla_summary", "summary": "Compliance per policy and branch, and the clocks at risk now",
        "parameters": [{"in": "query", "schema": ClockQuery}], **secured,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": summary}}},
                      "401": {"description": "no valid token", **error_ref}}}}
    paths["/api/v1/sla/clocks"] = {"get": {
        "operationId": "list_sla_clocks", "summary": "SLA clocks kept by one service",
        "parameters": [{"in": "query", "name": "service", "required": True, "schema": {
            "type": "string", "enum": list(config.SERVICES)}},
            {"in": "query", "schema": ClockQuery}], **secured,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": _page(Clock)}}},
                      "400": {"description": "no service named", **error_ref}}}}
    paths["/api/v1/sla/targets"] = {"post": {
        "operationId": "set_sla_target", "summary": "A branch's own target for a policy (admin)", **secured,
        "requestBody": {"required": True, "content": {"application/json": {"schema": TargetChange}}},
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": TargetChange}}},
                      "403": {"description": "admin only", **error_ref},
                      "422": {"description": "an inactive policy, or one another service keeps", **error_ref}}}}

    spec.components.schema("workshop.CustomerView", schema=CustomerView)
    paths["/api/v1/self-service/repair-orders/{number}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"] = CustomerView
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return _numbers(spec.to_dict())


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

