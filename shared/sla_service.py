"""SlaClocks: the part of every service that keeps its SLA clocks, driven by the catalogue's events.

A service class that inherits it gets one event handler per event its hosted policies name
(generated when the class is made, so nameko finds them), a timer that marks breaches and
at-risk clocks as they happen, and the RPCs the gateway's /metrics and /sla endpoints read.
"""
import logging
import uuid
from datetime import datetime, timezone

from marshmallow import fields, validate
from nameko.timer import timer

from shared import config, errors, events, org, sla, sla_store
from shared.messaging import on_event
from shared.rpc import load, rpc
from shared.schemas import ListQuery, Out, Strict, aware_datetime, page_of

log = logging.getLogger(__name__)


class TargetChange(Strict):
    policy = fields.String(required=True)
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    target_seconds = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=90 * 86400))


class ClockQuery(ListQuery):
    policy = fields.String(validate=validate.Length(min=1, max=60))
    state = fields.String(validate=validate.OneOf(("running", "paused", "stopped")))


class Clock(Out):
    clock_id = fields.UUID()
    policy = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    branch_id = fields.String()
    region_id = fields.String(allow_none=True)
    safety_critical = fields.Boolean()
    target_seconds = fields.Integer()
    started_at = aware_datetime()
    deadline = aware_datetime(allow_none=True)
    state = fields.String()
    outcome = fields.String(allow_none=True)
    at_risk = fields.Boolean()
    pause_reason = fields.String(allow_none=True)
    breached_at = aware_datetime(allow_none=True)
    ended_at = aware_datetime(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)


CLOCK = Clock()


def now():
    return datetime.now(timezone.utc)


def _handler(event_type):
    def handle(self, tx, event):
        apply(tx, self.name, event_type, event)

    handle.__name__ = "sla_on_" + event_type.replace(".", "_")
    return on_event(event_type)(handle)


# -- the clock's life, for the service `host` --------------------------------------------------------
def apply(tx, host, event_type, event):
    """Start, stop, pause or resume the clocks that `event` concerns among `host`'s policies."""
    for policy in sla.hosted_by(host):
        subject = event.get(policy.subject)
        if subject is None or event_type not in policy.events:
            continue
        if event_type == policy.start:
            _start(tx, policy, event, str(subject))
            if event_type not in policy.stop and event_type not in policy.pause and event_type not in policy.resume:
                continue  # only started: nothing more to do with it
        clock = sla_store.clock(tx, policy.name, subject)
        if clock is None:
            continue
        if event_type in policy.stop:
            _stop(tx, policy, clock)
        elif event_type in policy.pause:
            _pause(tx, policy, clock, policy.pause[event_type])
        elif event_type in policy.resume:
            _resume(tx, policy, clock)


def _calendar(tx, policy, branch_id):
    try:
        branch = org.get_branch(tx, branch_id)
    except errors.NotFound:
        branch = None  # no copy of the branch yet: count calendar time rather than lose the clock
    return policy.clock(branch)


def _start(tx, policy, event, subject):
    at = event["occurred_at"]
    target = sla_store.target(tx, policy.name, event["branch_id"], policy.target_seconds)
    calendar = _calendar(tx, policy, event["branch_id"])
    safety = bool(policy.safety_critical_when) and all(
        str(event.get(k)) == str(v) for k, v in policy.safety_critical_when.items())
    sla_store.start(tx, {
        "clock_id": uuid.uuid4(), "policy": policy.name, "subject_type": policy.subject.removesuffix("_id"),
        "subject_id": subject, "branch_id": event["branch_id"], "safety_critical": safety,
        "target_seconds": target, "started_at": at, "deadline": sla.deadline(calendar, at, target, 0),
        "at_risk_at": sla.at_risk_from(calendar, at, target, 0, policy.at_risk_share)})


def _spent(tx, policy, clock, at):
    calendar = _calendar(tx, policy, clock["branch_id"])
    spent = clock["spent_seconds"]
    if clock["state"] == "running":
        spent += calendar.seconds_between(clock["running_since"], at)
    return spent


def _stop(tx, policy, clock):
    if clock["state"] == "stopped":
        return
    at = now()
    spent = _spent(tx, policy, clock, at)
    result = sla.outcome(spent, clock["target_seconds"], clock["outcome"])
    if clock["state"] == "paused":
        sla_store.resume(tx, clock["clock_id"], at)
    newly_breached = result == "breached" and clock["breached_at"] is None
    clock = sla_store.update(tx, clock["clock_id"], state="stopped", outcome=result, running_since=None,
                             deadline=None, at_risk_at=None, spent_seconds=spent, ended_at=at,
                             duration_seconds=spent, breached_at=at if newly_breached else clock["breached_at"])
    if result == "met":
        announce(tx, "sla.met", clock)
    elif newly_breached:  # breached only now, at the stop: the timer did not announce it
        announce(tx, "sla.breached", clock)


def _pause(tx, policy, clock, reason):
    if clock["state"] != "running":
        return
    at = now()
    spent = _spent(tx, policy, clock, at)
    sla_store.update(tx, clock["clock_id"], state="paused", running_since=None, spent_seconds=spent,
                     deadline=None, at_risk_at=None, pause_reason=reason)
    sla_store.pause(tx, clock["clock_id"], at, reason)


def _resume(tx, policy, clock):
    if clock["state"] != "paused":
        return
    at = now()
    calendar = _calendar(tx, policy, clock["branch_id"])
    spent, target = clock["spent_seconds"], clock["target_seconds"]
    sla_store.update(tx, clock["clock_id"], state="running", running_since=at, pause_reason=None,
                     deadline=sla.deadline(calendar, at, target, spent),
                     at_risk_at=sla.at_risk_from(calendar, at, target, spent, policy.at_risk_share))
    sla_store.resume(tx, clock["clock_id"], at)


def announce(tx, event_type, clock):
    spent = clock["spent_seconds"]
    if clock["state"] == "running":
        spent = _spent(tx, sla.policy(clock["policy"]), clock, now())
    tx.publish(event_type, clock["branch_id"], clock_id=clock["clock_id"], policy=clock["policy"],
               subject_type=clock["subject_type"], subject_id=clock["subject_id"],
               region_id=org.region_of(tx, clock["branch_id"]), started_at=clock["started_at"],
               deadline=clock["deadline"] or clock["ended_at"] or now(), elapsed_seconds=int(spent),
               target_seconds=clock["target_seconds"])


class SlaClocks:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        host = getattr(cls, "name", "")
        used = {e for p in sla.hosted_by(host) for e in p.events}
        # Events this service publishes itself move its clocks in the publishing transaction;
        # only events from other services need a handler (and a trip through the broker).
        own = {e for e in used if events.spec(e).source == host}
        for event_type in sorted(used - own):
            handler = _handler(event_type)
            setattr(cls, handler.__name__, handler)
        if own:
            def on_own_event(tx, event_type, event):
                if event_type in own:
                    apply(tx, host, event_type, event)

            cls.on_own_event = staticmethod(on_own_event)

    # -- breaches and risk, as they happen ---------------------------------------------------------
    @timer(interval=config.sla_check_interval())
    def sla_watch(self):
        """Mark what breached or went at risk since the last look, and announce it once."""
        try:
            with self.db.transaction() as tx:
                at = now()
                for clock in sla_store.claim_breached(tx, at):
                    announce(tx, "sla.breached", clock)
                for clock in sla_store.claim_at_risk(tx, at):
                    announce(tx, "sla.at_risk", clock)
                self._sla_predict_all(tx, at)
        except errors.Unavailable as exc:
            log.warning("SLA watch skipped: %s", exc)

    def _sla_predict_all(self, tx, at):
        predicted = {p.name: p for p in sla.hosted_by(self.name) if p.predictor}
        predict = getattr(self, "sla_predict", None)
        if not predicted or predict is None:
            return
        for clock in sla_store.running_with_policy(tx, predicted):
            finish = predict(predicted[clock["policy"]], clock, tx)
            if finish is not None and clock["deadline"] is not None and finish > clock["deadline"]:
                clock = sla_store.update(tx, clock["clock_id"], at_risk=True)
                announce(tx, "sla.at_risk", clock)

    # -- what the gateway reads ----------------------------------------------------------------------
    @rpc
    def sla_figures(self):
        with self.db.read() as tx:
            return sla_store.figures(tx, now())

    @rpc
    def sla_summary(self, query):
        filters = load(ClockQuery, query or {})
        with self.db.read() as tx:
            rows = sla_store.compliance(tx, filters)
            at_risk = sla_store.at_risk_now(tx, filters)
        for row in rows:
            decided = row["met"] + row["breached"]
            row["compliance"] = round(row["met"] / decided, 4) if decided else None
        return {"compliance": rows, "at_risk": CLOCK.dump(at_risk, many=True)}

    @rpc
    def list_sla_clocks(self, query):
        filters = load(ClockQuery, query or {})
        with self.db.read() as tx:
            return page_of(CLOCK, sla_store.page(tx, filters))

    @rpc
    def set_sla_target(self, data):
        change = load(TargetChange, data)
        try:
            policy = sla.policy(change["policy"])
        except LookupError:
            raise errors.ValidationFailed("unknown policy", {"policy": ["not in the SLA catalogue"]}) from None
        if policy.host != self.name:
            raise errors.Unprocessable(f"{policy.name} clocks are kept by {policy.host}",
                                       {"policy": [f"set it on {policy.host}"]})
        with self.db.transaction() as tx:
            sla_store.set_target(tx, policy.name, change["branch_id"], change["target_seconds"])
        return change
