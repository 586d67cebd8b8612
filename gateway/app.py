"""The Flask app: views generated from the route table, auth and scope, idempotency, audit."""
import hashlib
import logging
import threading
import time
from datetime import datetime, timezone

from flask import Flask, g, jsonify, request
from marshmallow.fields import List
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from gateway import asyncapi, auth, console, errors as error_mapping, metrics, openapi, policy, rpc, self_service, staff
from gateway.routes import ROUTES, AuditQuery, DeadLetterQuery, Route, SignIn
from shared import config, sites
from shared.contracts import errors, events
from shared.contracts.schemas import MAX_DEPTH
from shared.sla import rules as sla
from shared.sla.clocks import ClockQuery, TargetChange
from shared.bus.rpc import COMMAND, DEADLINE, load
from shared.scope import CONTEXT_KEY as SCOPE_KEY, NOT_IN_SCOPE, TECHNICIAN_KEY

log = logging.getLogger(__name__)


class RateLimit:
    """A token bucket per client address, for the unauthenticated self-service lookups."""

    def __init__(self, per_minute=30):
        self.rate, self.capacity = per_minute / 60.0, per_minute
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, client) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, at = self.buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens < 1:
                self.buckets[client] = (tokens, now)
                return False
            self.buckets[client] = (tokens - 1, now)
            return True


def create_app(call=None, store=None, collectors=None):
    """`call(service, method, *args)` and `store` are injectable so unit tests need no services."""
    app = Flask(__name__)
    app.json.sort_keys = False
    call = call or rpc.call
    directory = rpc.BranchDirectory() if call is rpc.call else _Directory(call)
    if store is None:
        from gateway.store import GatewayStore

        store = GatewayStore()
    app.config["call"], app.config["store"] = call, store
    error_mapping.register(app)
    if collectors is None:
        collectors = _default_collectors(call)
    exposition = metrics.install(app, collectors)
    limiter = RateLimit()
    sign_in_limiter = RateLimit(per_minute=10)

    def principal():
        if "principal" not in g:
            g.principal = auth.authenticate(directory.of_region)
        return g.principal

    records = rpc.RecordBranches()

    door = self_service.Door(call)

    def limited():
        if not limiter.allow(request.remote_addr or "?"):
            raise _TooMany()

    def decided(view_of):
        """The customer's decisions on the order `view_of()` finds: the body first, so a bad one is
        400 whoever sends it and costs no lookup of the address's allowance (which is for lookups)."""
        decisions = load(self_service.Decisions, _json_body())
        limited()
        return jsonify(self_service.public(call, door.decide(view_of(), decisions)))

    def customer_view(who, number):
        limited()
        return jsonify(self_service.public(call, door.by_number(number, request.args.get("plate", ""))))

    def customer_decide(who, number):
        return decided(lambda: door.by_number(number, request.args.get("plate", "")))

    def customer_link(who, token):
        limited()
        return jsonify(self_service.public(call, door.by_link(token)))

    def customer_link_decide(who, token):
        return decided(lambda: door.by_link(token))

    def sign_in(who):
        body = load(SignIn, _json_body())
        # per login and address: a dealership's staff share one address; one login is not guessed at
        if not sign_in_limiter.allow(f"{request.remote_addr or '?'}\0{body['login'].strip().lower()}"):
            raise _TooMany()
        member = staff.sign_in(store, body["login"], body["password"])
        ttl = staff.TOKEN_SECONDS
        return jsonify({"token": member.token(ttl), "token_type": "Bearer", "expires_in": ttl, "login": member.login,
                        "name": member.name, "role": member.role, "branch_id": member.branch_id,
                        "region_id": member.region_id})

    def dead_letters(who):
        from pitlane import dlq

        query = load(DeadLetterQuery, request.args.to_dict())
        count, letters = dlq.peek(config.amqp_uri(), limit=query["limit"])
        return jsonify({"count": count, "items": [{k: v for k, v in letter.items() if k != "payload"}
                                                  for letter in letters]})

    def audit(who):
        filters = load(AuditQuery, request.args.to_dict())
        page = store.audit_page(filters)
        return jsonify({"items": [_audit_row(r) for r in page["items"]], "next_cursor": page["next_cursor"]})

    def sla_summary(who):
        answers = _fan_out(call, "sla_summary", _scoped_query(who, ClockQuery))
        compliance = sorted((r for a in answers for r in a["compliance"]), key=lambda r: (r["policy"], r["branch_id"]))
        remote = [{**entry, "as_of": datetime.fromisoformat(entry["as_of"])}
                  for a in answers for entry in a.get("sites", ())]
        group = sites.group_view(config.site(), compliance, remote, datetime.now(timezone.utc))
        return jsonify({"compliance": compliance,
                        "at_risk": sorted((c for a in answers for c in a["at_risk"]), key=lambda c: c["deadline"] or ""),
                        "sites": [{**s, "as_of": s["as_of"].isoformat()} for s in group]})

    def sla_clocks(who):
        query = _scoped_query(who, ClockQuery)
        service = query.pop("service", None)
        if service not in SLA_HOSTS:
            raise errors.ValidationFailed("name the service whose clocks to list",
                                          {"service": [f"one of {', '.join(SLA_HOSTS)}"]})
        return jsonify(call(service, "list_sla_clocks", query))

    def sla_target(who):
        raw = _json_body()
        body = load(TargetChange, raw)
        try:
            host = sla.policy(body["policy"]).host
        except LookupError:
            raise errors.ValidationFailed("unknown policy", {"policy": ["not in the SLA catalogue"]}) from None
        result = call(host, "set_sla_target", raw)
        store.audit(who, "POST", request.path, 200, body["policy"])
        return jsonify(result)

    def healthz(who):
        checks = {"rabbitmq": _broker_ok(), "postgresql": _database_ok(store)}
        status = 200 if all(checks.values()) else 503
        return jsonify({"status": "ok" if status == 200 else "degraded",
                        "checks": {k: "up" if v else "down" for k, v in checks.items()}}), status

    own = {"customer_view": customer_view, "customer_view_by_link": customer_link, "customer_decide": customer_decide,
           "customer_decide_by_link": customer_link_decide, "sign_in": sign_in, "list_dead_letters": dead_letters, "list_audit": audit, "sla_summary": sla_summary,
           "list_sla_clocks": sla_clocks, "set_sla_target": sla_target, "healthz": healthz,
           "list_events": lambda who: jsonify(events.json_schema_like()),
           "openapi_document": lambda who: jsonify(openapi.document()),
           "asyncapi_document": lambda who: jsonify(asyncapi.document()),
           "metrics": lambda who: exposition()}
    for route in ROUTES:
        view = _own_view(route, own[route.rpc], principal) if route.local else \
            _view(route, call, store, principal, records, directory)
        app.add_url_rule(route.url, endpoint=f"{route.method} {route.path}", view_func=view, methods=[route.method])
    console.install(app)
    return app


class _TooMany(errors.PitlaneError):
    code = "too_many_requests"
    status = 429

    def __init__(self):
        super().__init__("too many lookups from this address; wait a minute", {})


def _audit_row(row):
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if k != "audit_key"
            and k != "created_at"}


def _own_view(route: Route, answer, principal):
    """A route the gateway answers itself: the token and the role are checked as for any other."""
    def view(**path):
        who = None
        if not route.public:
            who = principal()
            policy.require(who, route.family, route.access)
        return answer(who, **path)

    view.__name__ = f"{route.rpc}_view"
    return view


def _view(route: Route, call, store, principal, records, directory):
    def view(**path):
        who = principal()
        policy.require(who, route.family, route.access)
        body = _body(route, who)
        query = _query(route)
        if route.scope == "body":
            policy.require_branch(who, body.get("branch_id"))
        elif route.scope == "query":
            policy.require_branch(who, query.get("branch_id"))
        elif route.scope == "list" and who.scoped:
            if query.get("branch_id"):
                policy.require_branch(who, query["branch_id"])
            query["branch_ids"] = sorted(who.branches)
        elif route.scope == "record" and who.scoped:
            service, getter, key = route.record
            policy.hide(who, {"branch_id": records.branch_of(call, service, getter, key(path, body))})
        # scope "owner": the owning service checks the record against these branches (shared/scope.py)
        if route.method == "POST" and request.headers.get("Idempotency-Key"):
            return _idempotent(route, call, store, who, path, body, query)
        status, result = _run(route, call, who, path, body, query)
        if route.access == policy.WRITE:
            store.audit(who, route.method, request.path, status, _record_id(route, result, path))
            if route.family == "branches":
                directory.forget()  # a region's coordinators act for a new branch at once
        return jsonify(result), status

    view.__name__ = f"{route.rpc}_view"
    return view


SLA_HOSTS = config.SERVICES  # every service keeps SLA clocks


def _scoped_query(who, schema):
    """The query string checked against `schema` (`service` aside), narrowed to a scoped caller's branches."""
    args = _args(schema)
    load(schema, {k: v for k, v in args.items() if k != "service"})
    if who.scoped:
        if args.get("branch_id"):
            policy.require_branch(who, args["branch_id"])
        args["branch_ids"] = sorted(who.branches)
    return args


def _fan_out(call, method, query):
    return rpc.call_many(call, [(service, method, query) for service in SLA_HOSTS])


def _run(route, call, who, path, body, query, command=None):
    context = {}
    if route.scope in ("owner", "body") and who.scoped:
        # the service checks the record in the path, and every record the body names, against these
        context[SCOPE_KEY] = sorted(who.branches)
    if route.scope == "owner" and who.role == "technician":
        context[TECHNICIAN_KEY] = who.subject  # a technician clocks their own jobs only
    if route.access == policy.WRITE:
        # a command still queued when this request stops waiting (a stopped service) is not started
        context[DEADLINE] = time.time() + config.rpc_timeout()
    if command is not None:
        context[COMMAND] = command  # one command however often the caller retries it (shared/bus/rpc.py)
    try:
        result = call(route.service, route.rpc, *route.args(path, body, query), context_data=context or None)
    except errors.NotFound:
        if who.scoped and route.scope in ("result", "owner", "body"):
            raise errors.Forbidden(NOT_IN_SCOPE, {}) from None
        raise
    if route.scope == "result":
        policy.hide(who, result)
    return route.status, result


def _idempotent(route, call, store, who, path, body, query):
    key = request.headers["Idempotency-Key"]
    if len(key) > MAX_IDEMPOTENCY_KEY:  # never cut: two long keys would collide
        raise errors.ValidationFailed(f"the Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY} characters",
                                      {"Idempotency-Key": [f"at most {MAX_IDEMPOTENCY_KEY} characters"]})
    digest = store.request_hash(route.method, request.path, body)
    earlier = store.claim(who.subject, key, digest)
    if earlier is not None:
        status, result = earlier
        response = jsonify(result)
        response.headers["Idempotent-Replayed"] = "true"
        return response, status
    command = hashlib.sha256(f"{who.subject}\0{key}".encode()).hexdigest()
    try:
        status, result = _run(route, call, who, path, body, query, command)
    except errors.PitlaneError as exc:
        if exc.status >= 500:
            _keep_going(store.release, who.subject, key)  # worth retrying with the same key
        else:
            _keep_going(store.complete, who.subject, key, exc.status,
                        error_mapping.body(exc.code, exc.message, exc.fields))
        raise
    except Exception:
        _keep_going(store.release, who.subject, key)
        raise
    # The work is done: its answer goes to the caller even if it cannot be kept here. Then the key
    # is in progress only until its lease runs out, and the retry's command, sent with the same
    # command id, is answered by the service from the answer it kept with the change.
    _keep_going(store.complete, who.subject, key, status, result)
    store.audit(who, route.method, request.path, status, _record_id(route, result, path))
    return jsonify(result), status


def _keep_going(bookkeeping, *args):
    try:
        bookkeeping(*args)
    except errors.PitlaneError as exc:
        log.warning("idempotency bookkeeping failed (%s): %s; the key's lease frees it", bookkeeping.__name__, exc)


def _record_id(route, result, path):
    if route.id_field and isinstance(result, dict) and result.get(route.id_field) is not None:
        return str(result[route.id_field])
    return next(iter(path.values()), None)


MAX_IDEMPOTENCY_KEY = 200


def _body(route, who):
    if route.body is None:
        return None
    body = _json_body()
    if route.actor and isinstance(body, dict):
        body[route.actor] = policy.acting_as(who, body.get(route.actor), route.actor)
    load(route.body, body)  # 400 with field messages before anything is sent on
    return body


def _json_body():
    """The request's JSON body: 415 unless it is sent as application/json, 400 if it is not JSON
    or nests deeper than the parser goes (shared/contracts/schemas.py refuses past MAX_DEPTH)."""
    if request.content_length or request.mimetype:  # a body was sent (an empty one is a missing body: 400)
        if request.mimetype != "application/json":
            raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    try:
        return request.get_json(force=True, silent=False)
    except BadRequest:
        raise errors.ValidationFailed("the body is not valid JSON", {"_body": ["malformed JSON"]}) from None
    except RecursionError:
        raise errors.ValidationFailed("the body is nested too deeply", {"_body": [TOO_DEEP]}) from None


TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


def _query(route):
    if route.query is None:
        return {}
    args = _args(route.query)
    load(route.query, args)
    return args


def _args(schema):
    """The query string as one value per name; a name given twice is 400 unless `schema` declares
    it a list (then it is passed as the list)."""
    fields = schema._declared_fields
    lists = {f.data_key or name for name, f in fields.items() if isinstance(f, List)}
    args, repeated = {}, {}
    for name, values in request.args.lists():
        if name == "branch_ids":  # set from the caller's scope, never taken from the query
            continue
        if name in lists:
            args[name] = values
        elif len(values) > 1:
            repeated[name] = ["may be given once"]
        else:
            args[name] = values[0]
    if repeated:
        raise errors.ValidationFailed("a query parameter is given more than once", repeated)
    return args


class _Directory:
    """branch -> region through an injected `call` (unit tests)."""

    def __init__(self, call):
        self.call = call

    def of_region(self, region_id):
        return [b["branch_id"] for b in self.call("booking", "list_branches") if b["region_id"] == region_id]

    def forget(self):
        pass  # nothing is kept


def _default_collectors(call):
    try:
        from gateway.sla_metrics import SlaCollector
    except ImportError:
        return []
    from gateway.site_metrics import SiteCollector
    from gateway.webhook_metrics import WebhookCollector
    from gateway.workshop_metrics import WorkshopCollector
    return [SlaCollector(call), WorkshopCollector(call), WebhookCollector(call), SiteCollector(call)]


def _broker_ok():
    import amqp

    from shared import config
    from shared.bus.broker import connection_params

    try:
        with amqp.Connection(**connection_params(config.amqp_uri()), connect_timeout=2):
            return True
    except Exception:
        return False


def _database_ok(store):
    try:
        store.ping()
        return True
    except Exception:
        return False
