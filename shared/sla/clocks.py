"""SlaClocks: the part of every service that keeps its SLA clocks, driven by the catalogue's events.

A service class that inherits it gets one event handler per event of another service that its
hosted policies name (generated when the class is made, so nameko finds them; `pitlane topology`
lists them), a timer that marks breaches and at-risk clocks as they happen, and the RPCs the
gateway's /metrics and /sla endpoints read. The rules are the `Clock`'s (shared/sla/rules.py): here a
clock is only loaded, told what happened, saved, and what it recorded published.
"""
import logging
import uuid
from datetime import datetime, timezone

from marshmallow import ValidationError, fields, validate, validates_schema
from nameko.timer import timer

from shared import config, org, site_figures, sites
from shared.contracts import errors, events
from shared.sla import rules as sla
from shared.sla import store as sla_store
from shared.bus.messaging import on_event, on_site_event
from shared.bus.rpc import load, rpc
from shared.contracts.schemas import ListQuery, Out, Strict, aware_datetime, page_of

log = logging.getLogger(__name__)


class TargetChange(Strict):
    policy = fields.String(required=True)
    branch_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    target_seconds = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=90 * 86400))


class ClockQuery(ListQuery):
    policy = fields.String(validate=validate.Length(min=1, max=60))
    state = fields.String(validate=validate.OneOf(("running", "paused", "stopped")))
    subject_id = fields.String(validate=validate.Length(min=1, max=80))  # one record's clocks
    outcome = fields.String(validate=validate.OneOf(("met", "breached", "cancelled")), metadata={
        "description": "how the clock ended, or (breached) that it ran past its target while still open"})
    breached_from = aware_datetime(metadata={
        "description": "clocks that breached at or after this moment, still open or ended"})
    breached_to = aware_datetime(metadata={
        "description": "clocks that breached before this moment (after breached_from, when both are given)"})

    @validates_schema
    def breach_window_in_order(self, data, **kwargs):
        if data.get("breached_from") and data.get("breached_to") and data["breached_from"] >= data["breached_to"]:
            raise ValidationError("must be after breached_from", "breached_to")


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
    standing = fields.String(metadata={"description": "open: running, paused, at_risk, or breached (past its"
                                                      " target, never at risk again); ended: met, breached,"
                                                      " cancelled"})
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
    handler = on_event(event_type)(handle)
    handler.pitlane_generated = "SLA clocks (shared/sla/policies.json)"
    return handler


def _shown(rows) -> list[dict]:
    return [{**r, "standing": sla.standing(r["state"], r["at_risk"], r["outcome"])} for r in rows]


# -- the clock's life, for the service `host` --------------------------------------------------------
def apply(tx, host, event_type, event):
    """Start, stop, cancel, pause or resume the clocks that `event` concerns among `host`'s policies."""
    tx.write_together(*starts(tx, host, event_type, event))
    moves(tx, host, event_type, event)


def starts(tx, host, event_type, event) -> list[tuple[str, tuple]]:
    """The inserts of the clocks `event` starts among `host`'s policies (not sent: the caller
    sends them, with the event's own outbox row when it publishes the event itself)."""
    new = []
    if not sla.starts_here(event):
        return new
    for policy in sla.hosted_by(host):
        if policy.move(event_type) == "start" and event.get(policy.subject) is not None:
            target = policy.target_given(event) or sla_store.target(tx, policy.name, event["branch_id"],
                                                                    policy.target_seconds)
            calendar = _calendar(tx, policy, event["branch_id"])
            new.append(sla_store.start(sla.Clock.start(policy, event, target, calendar, uuid.uuid4())))
    return new


def moves(tx, host, event_type, event):
    """Stop, cancel, pause or resume the running clocks that `event` concerns among `host`'s policies."""
    for policy in sla.hosted_by(host):
        move, subject = policy.move(event_type), event.get(policy.subject)
        if move is None or move == "start" or subject is None:
            continue
        row = sla_store.clock(tx, policy.name, subject)
        if row is None:
            continue
        clock = _clock(tx, policy, row)
        if clock.follow(policy, event_type, event):
            sla_store.save(tx, [clock])
            tx.publish_recorded(clock)


def _calendar(tx, policy, branch_id):
    try:
        branch = org.get_branch(tx, branch_id)
    except errors.NotFound:
        branch = None  # no copy of the branch yet: count calendar time rather than lose the clock
    return policy.clock(branch)


def _clock(tx, policy, row) -> sla.Clock:
    return sla.Clock.from_row(row, policy, _calendar(tx, policy, row["branch_id"]))


def _no_site_figures(self, *args):
    """(a service that keeps no SLA clocks)"""


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
        cls.sla_own_events = tuple(sorted(own))  # for `pitlane topology`
        if not sla.hosted_by(host):  # no clocks: no figures to send other sites, nor to keep of theirs
            cls.sla_publish_site_figures = cls.sla_keep_site_figures = _no_site_figures
        if own:
            def on_own_event(tx, event_type, event):
                """(the clock inserts to send with the event's outbox row, what to do after it)"""
                if event_type not in own:
                    return (), lambda: None
                return starts(tx, host, event_type, event), lambda: moves(tx, host, event_type, event)

            cls.on_own_event = staticmethod(on_own_event)

    # -- breaches and risk, as they happen ---------------------------------------------------------
    @timer(interval=config.sla_check_interval())
    def sla_watch(self):
        """Mark what breached or went at risk since the last look, and announce it once."""
        policies = {p.name: p for p in sla.hosted_by(self.name)}
        if not policies:
            return
        try:
            with self.db.transaction() as tx:
                at = now()
                # breaches first: a clock that breached is then no longer a candidate for at risk
                self._sla_look(tx, sla_store.due_to_breach(tx, policies, at), policies,
                               lambda clock, policy, row: clock.breach(at))
                self._sla_look(tx, sla_store.due_at_risk(tx, policies, at), policies,
                               lambda clock, policy, row: clock.warn_at_risk(at))
                self._sla_predict_all(tx, at, policies)
        except errors.Unavailable as exc:
            log.warning("SLA watch skipped: %s", exc)

    def _sla_look(self, tx, rows, policies, command):
        """Tell each clock of `rows` what the watch found; save and announce those that moved."""
        moved = []
        for row in rows:
            policy = policies[row["policy"]]
            clock = _clock(tx, policy, row)
            if command(clock, policy, row):
                moved.append(clock)
        sla_store.save(tx, moved)
        tx.publish_recorded(*moved)

    def _sla_predict_all(self, tx, at, policies):
        """Clocks whose remaining work is predicted to finish after their deadline are at risk now."""
        predicted = {name: p for name, p in policies.items() if p.predictor}
        predict = getattr(self, "sla_predict", None)
        if not predicted or predict is None:
            return
        self._sla_look(tx, sla_store.running_with_policy(tx, predicted), predicted,
                       lambda clock, policy, row: clock.warn_at_risk(at, predicted_finish=predict(policy, row, tx)))

    # -- the group view across sites (docs/sites.md) --------------------------------------------------
    @timer(interval=config.site_figures_interval())
    def sla_publish_site_figures(self):
        """Tell the other sites this service's compliance, every interval, once across its processes."""
        site = config.site()
        if site is None or not sla.hosted_by(self.name):
            return
        try:
            with self.db.transaction() as tx:
                claim = site_figures.claim_publication(tx, "sla", config.site_figures_interval())
                if claim is None:
                    return
                figures = sla_store.figures(tx, now())
                tx.publish("sla.site_figures", "GROUP", site=site, service=self.name, as_of=claim[1],
                           compliance=sites.compliance_rows(figures["outcomes"], figures["open"]))
        except errors.Unavailable as exc:
            log.warning("site figures skipped: %s", exc)

    @on_site_event("sla.site_figures")
    def sla_keep_site_figures(self, tx, event_type, event):
        """Another site's figures of this same service: kept for the group view, the newest only."""
        if event["service"] == self.name and event["site"] != config.site():
            site_figures.keep_remote_sla(tx, event["site"], event["as_of"], event["compliance"])

    # -- what the gateway reads ----------------------------------------------------------------------
    @rpc
    def sla_figures(self):
        with self.db.read() as tx:
            figures = sla_store.figures(tx, now())
        figures["open"] = sla.open_by_standing(figures["open"])
        return figures

    @rpc
    def sla_summary(self, query):
        filters = load(ClockQuery, query or {})
        with self.db.read() as tx:
            rows = sla_store.compliance(tx, filters)
            at_risk = sla_store.at_risk_now(tx, filters)
            remote = site_figures.remote_sla(tx)
        for row in rows:
            row["compliance"] = sla.compliance(row["met"], row["breached"])
        return {"compliance": rows, "at_risk": CLOCK.dump(_shown(at_risk), many=True),
                "sites": [{"site": r["site"], "as_of": r["as_of"].isoformat(),
                           "compliance": sites.select(r["compliance"], filters)} for r in remote]}

    @rpc
    def list_sla_clocks(self, query):
        filters = load(ClockQuery, query or {})
        with self.db.read() as tx:
            page = sla_store.page(tx, filters)
        return page_of(CLOCK, {**page, "items": _shown(page["items"])})

    @rpc
    def set_sla_target(self, data):
        change = load(TargetChange, data)
        try:
            policy = sla.policy(change["policy"])
        except LookupError:
            raise errors.ValidationFailed("unknown policy", {"policy": ["not in the SLA catalogue"]}) from None
        policy.check_target_change(self.name)
        with self.db.command() as tx:
            sla_store.set_target(tx, policy.name, change["branch_id"], change["target_seconds"])
        return change

