"""Messages to the customer: which event becomes which message, consent, the channel, templates,
rendering and the retry schedule. No I/O here (services/crm/messages_service.py does it).

Rendering uses `string.Template` ($name placeholders), not Jinja2: branch staff write the overrides,
and a template language with loops, filters and attribute access is more than a text with a few
facts needs and a surface to sandbox; `$name` can only name a fact we hand it, and the placeholders a
template uses are known at save time (Template.get_identifiers), so an unknown one is refused then.
"""
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from zoneinfo import ZoneInfo

from shared.contracts.api.messages import (CHANNELS, COMMON, KINDS, LANGUAGES,  # noqa: F401  (the API's words)
                                           PURPOSES, STATUSES)
from shared.domain import Aggregate, RuleBroken

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MAX_DELAY = timedelta(hours=24)  # the retry schedule never goes past a day: then the message has failed


# -- consent ------------------------------------------------------------------------------------------
def default_consents(email: str | None, phone: str | None, consent_marketing: bool = False) -> dict:
    """What a customer consents to until they say otherwise (docs/api.md, "Messages to customers"):
    service messages and surveys on every channel they gave an address for (email, and sms for a
    phone); chat never by default (it is an app the customer must join); marketing only if they
    agreed to it at registration, and then on the same channels."""
    given = {"email": bool(email), "sms": bool(phone), "chat": False}
    return {(channel, purpose): given[channel] and (purpose != "marketing" or bool(consent_marketing))
            for channel in CHANNELS for purpose in PURPOSES}


@dataclass
class Consents(Aggregate):
    """A customer's consent per (channel, purpose): the defaults, overridden by what they said."""

    customer_id: uuid.UUID
    branch_id: str
    granted: dict  # (channel, purpose) -> bool
    changes: list = field(default_factory=list)  # what `change` decided: dicts for the history

    @classmethod
    def of(cls, customer: dict, stated_rows=()) -> "Consents":
        granted = default_consents(customer.get("email"), customer.get("phone"),
                                   customer.get("consent_marketing", False))
        for row in stated_rows:
            granted[(row["channel"], row["purpose"])] = row["granted"]
        return cls(customer["customer_id"], customer["branch_id"], granted)

    def allows(self, channel: str, purpose: str) -> bool:
        return bool(self.granted.get((channel, purpose)))

    def change(self, wanted: list[dict], by: str, source: str, at: datetime):
        """Set consent per (channel, purpose); only what differs from now is a change in the history."""
        for item in wanted:
            key = (item["channel"], item["purpose"])
            if self.granted.get(key) != item["granted"]:
                self.granted[key] = item["granted"]
                self.changes.append({"customer_id": self.customer_id, "channel": key[0], "purpose": key[1],
                                     "granted": item["granted"], "changed_by": by, "source": source,
                                     "changed_at": at})

    def listed(self) -> list[dict]:
        return [{"channel": c, "purpose": p, "granted": self.granted[(c, p)]} for c in CHANNELS for p in PURPOSES]


def address_of(customer: dict, channel: str) -> str | None:
    """Where a channel reaches the customer: email to the address, sms and chat to the phone."""
    return customer.get("email") if channel == "email" else customer.get("phone")


def choose_channel(customer: dict, consents: Consents, purpose: str, preferred: str | None = None,
                   available=CHANNELS) -> tuple[str | None, str | None]:
    """(channel, None), or (None, why not). The customer's preferred channel when it is consented for
    the purpose and has an address; else the first consented channel with an address (email, sms,
    chat). A channel the provider settings leave unavailable is passed over, and named in the reason."""
    order = ([preferred] if preferred in CHANNELS else []) + [c for c in CHANNELS if c != preferred]
    reasons = []
    for channel in order:
        if not consents.allows(channel, purpose):
            reasons.append(f"{channel}: no consent for {purpose}")
        elif not address_of(customer, channel):
            reasons.append(f"{channel}: no address")
        elif channel not in available:
            reasons.append(f"{channel}: channel unavailable (not configured)")
        else:
            return channel, None
    return None, "no channel: " + "; ".join(reasons)


def check_manual(customer: dict, consents: Consents, channel: str, purpose: str):
    """A message staff send by hand goes only where the customer consented and can be reached."""
    if not consents.allows(channel, purpose):
        raise RuleBroken(f"the customer has not consented to {purpose} messages by {channel}",
                         channel=f"no consent for {purpose} messages by {channel}")
    if not address_of(customer, channel):
        raise RuleBroken(f"the customer has no address for {channel}", channel=f"no {channel} address")


# -- templates ------------------------------------------------------------------------------------------
# KINDS: key -> (purpose, the placeholders it may use); every template may also use the COMMON ones
# (shared/contracts/api/messages.py: branch staff write templates through the API).


def placeholders(body: str) -> set:
    return set(Template(body).get_identifiers())


def check_template(key: str, subject: str, body: str):
    """A template names only the facts its message has; any other placeholder is refused (422) at save."""
    if key not in KINDS:
        raise RuleBroken(f"no message is called {key}", key=f"one of {', '.join(sorted(KINDS))}")
    allowed = COMMON | KINDS[key][1]
    for name, text_ in (("subject", subject), ("body", body)):
        if not Template(text_).is_valid():
            raise RuleBroken(f"the {name} is not a valid template", **{name: "a $ must start a placeholder;"
                                                                        " write $$ for a dollar sign"})
        unknown = placeholders(text_) - allowed
        if unknown:
            raise RuleBroken(f"unknown placeholders in the {name}: {', '.join(sorted(unknown))}",
                             **{name: f"unknown placeholders {sorted(unknown)}; allowed: {sorted(allowed)}"})


def shipped_template(key: str, language: str) -> dict:
    """The template shipped as a file: templates/<language>/<key>.txt, its first line the subject."""
    raw = (TEMPLATE_DIR / language / f"{key}.txt").read_text(encoding="utf-8")
    subject, _, body = raw.partition("\n")
    return {"key": key, "language": language, "subject": subject.strip(), "body": body.strip("\n"),
            "source": "shipped"}


def effective_templates(branch_id: str, overrides=()) -> list[dict]:
    """Every template a branch uses: its own override, else the shipped one."""
    own = {(o["key"], o["language"]): o for o in overrides}
    out = []
    for key in KINDS:
        for language in LANGUAGES:
            row = own.get((key, language))
            out.append({**shipped_template(key, language), "branch_id": branch_id,
                        **({"subject": row["subject"], "body": row["body"], "source": "branch"} if row else {})})
    return out


def render(template: dict, facts: dict) -> tuple[str, str]:
    """(subject, body): the template with the facts; a fact missing is left empty, never an error."""
    values = {k: "" if v is None else str(v) for k, v in facts.items()}
    blank = {name: "" for name in placeholders(template["subject"]) | placeholders(template["body"])}
    return (Template(template["subject"]).substitute({**blank, **values}),
            Template(template["body"]).substitute({**blank, **values}))


def language_of(customer: dict) -> str:
    return customer.get("language") if customer.get("language") in LANGUAGES else "en"


# -- events -> messages -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wanted:
    """A message an event asks for: its template, what it is about (one message per `thing`), its facts."""

    key: str
    thing: str
    customer_id: uuid.UUID | None
    facts: dict
    repair_order_id: uuid.UUID | None = None

    @property
    def purpose(self) -> str:
        return KINDS[self.key][0]


def local(moment: datetime | None, zone: str) -> tuple[str, str]:
    """(date, time) of a moment in the branch's time zone."""
    if moment is None:
        return "", ""
    at = moment.astimezone(ZoneInfo(zone))
    return at.strftime("%Y-%m-%d"), at.strftime("%H:%M")


def money(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


BRING = "your vehicle documents, the key and any spare key, and the service booklet"

# Stages of repair_order.progress that get no message of their own, because another event tells that
# stage with more to say: diagnosis with the quote (quote.issued), waiting for parts with the loaner
# offer (parts.loaner_suggested).
TOLD_ELSEWHERE = {"diagnosed", "waiting_for_parts"}


def wanted_for(event_type: str, event: dict, booking: dict | None = None, order: dict | None = None,
               zone: str = "UTC") -> Wanted | None:
    """The message an event asks for, or None. `booking` and `order` are crm's read models of the
    booking and repair order the event names (customer, vehicle, number, plate, slot).

    One message per thing: each message names the thing it tells (a stage of one repair order, one
    booking's confirmation); a second event about the same thing maps to the same `thing`, and the
    store keeps one message per thing (the check-in told by progress and by the order's opening,
    ready told by progress and by repair_order.ready)."""
    e = event
    if event_type == "booking.confirmed" and booking:
        date, time = local(e["slot_start"], zone)
        return Wanted("booking_confirmed", f"booking:{e['booking_id']}:confirmed:{e['slot_start'].isoformat()}",
                      booking["customer_id"], {"date": date, "time": time, "advisor": e.get("advisor") or
                                               "our service desk", "bring": BRING,
                                               "service_type": booking.get("service_type") or ""})
    if event_type == "booking.reminder_due":
        date, time = local(e["slot_start"], zone)
        return Wanted("booking_reminder", f"booking:{e['booking_id']}:reminder", e["customer_id"],
                      {"date": date, "time": time, "service_type": e["service_type"]})
    if event_type == "booking.reschedule_offered" and booking:
        options = []
        for a in e["alternatives"]:
            start = a.get("slot_start")
            moment = datetime.fromisoformat(start) if isinstance(start, str) else start
            d, t = local(moment, zone)
            options.append(f"{d} {t}" + (f" ({a['part_of_day']})" if a.get("part_of_day") else ""))
        return Wanted("reschedule_offered", f"booking:{e['booking_id']}:offer:{e['offered_at'].isoformat()}",
                      booking["customer_id"], {"alternatives": "; ".join(options)})
    if event_type == "repair_order.progress":
        stage = e["stage"]
        if stage in TOLD_ELSEWHERE:
            return None
        key = {"checked_in": "checked_in", "ready": "ready"}.get(stage, "progress")
        thing = f"ro:{e['repair_order_id']}:{stage}"
        if stage == "work_in_progress":  # every update is its own: the one that was due, or this event
            thing += f":{e.get('update_due') or e['event_id']}"
        return Wanted(key, thing, e["customer_id"], {"number": e["number"], "plate": e["plate"], "text": e["text"]},
                      e["repair_order_id"])
    if event_type == "repair_order.ready" and order:
        return Wanted("ready", f"ro:{e['repair_order_id']}:ready", order["customer_id"],
                      {"text": "Your car is ready for pick-up."}, e["repair_order_id"])
    if event_type == "quote.issued" and order:
        return Wanted("quote_ready", f"ro:{e['repair_order_id']}:quote:{e['quote_id']}", order["customer_id"],
                      {"total": money(e["total_cents"])}, e["repair_order_id"])
    if event_type == "parts.loaner_suggested" and order:
        return Wanted("waiting_for_parts", f"ro:{e['repair_order_id']}:waiting_for_parts:"
                      f"{e['waiting_since'].isoformat()}", order["customer_id"],
                      {"text": "We are waiting for parts for your car.",
                       "loaner": "We can offer you a loaner car meanwhile; reply or call us to take it."},
                      e["repair_order_id"])
    if event_type == "repair_order.delayed":
        date, time = local(e["new_time"], zone)
        return Wanted("delayed", f"ro:{e['repair_order_id']}:delayed", e["customer_id"],
                      {"number": e["number"], "plate": e["plate"], "reason": e["reason"],
                       "new_time": f"{date} {time}"}, e["repair_order_id"])
    if event_type == "invoice.issued":
        return Wanted("invoice", f"invoice:{e['invoice_id']}", e["customer_id"],
                      {"invoice_number": e["number"], "total": money(e["total_cents"])}, e["repair_order_id"])
    if event_type == "follow_up.due":
        return Wanted("follow_up", f"follow_up:{e['follow_up_id']}:{e['kind']}", e["customer_id"],
                      {"kind": e["kind"]}, e["repair_order_id"])
    if event_type == "survey.invited":
        return Wanted("survey_reminder" if e["reminder"] else "survey",
                      f"survey:{e['survey_id']}:{'reminder' if e['reminder'] else 'invitation'}", e["customer_id"],
                      {"number": e.get("number") or ""}, e["repair_order_id"])
    if event_type == "warranty.ending":
        ends_on = e["ends_on"]
        return Wanted("warranty_ending", f"warranty:{e['vehicle_id']}:{e['what']}:{ends_on}", e["customer_id"],
                      {"what": e["what"], "ends_on": str(ends_on)})
    if event_type == "transfer.tracking_sent" and order and e.get("repair_order_id") and e.get("tracking_reference"):
        return Wanted("transfer_tracking", f"transfer:{e['transfer_id']}:tracking", order["customer_id"],
                      {"tracking_reference": e["tracking_reference"]}, e["repair_order_id"])
    return None


# -- the message and its delivery -------------------------------------------------------------------------
def retry_delay(attempt: int, schedule: list[float], rng: random.Random | None = None) -> float | None:
    """Seconds before the next try after failed attempt number `attempt` (1-based), with +/- 20 % jitter
    so failed messages do not all come back at once; None when the schedule (at most 24 h) is spent."""
    if attempt > len(schedule):
        return None
    base = min(schedule[attempt - 1], MAX_DELAY.total_seconds())
    return base * (rng or random).uniform(0.8, 1.2)


@dataclass
class Message(Aggregate):
    """One message to a customer: queued, then sent, or failed after its retries, or not sent at all
    (no consent, no address, no channel) with the reason."""

    message_id: uuid.UUID
    branch_id: str
    customer_id: uuid.UUID
    key: str
    purpose: str
    channel: str | None
    address: str | None
    subject: str
    body: str
    thing: str | None = None
    repair_order_id: uuid.UUID | None = None
    status: str = "queued"
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None

    @classmethod
    def compose(cls, message_id, branch_id, customer: dict, consents: Consents, wanted_key: str, purpose: str,
                template: dict, facts: dict, at: datetime, thing=None, repair_order_id=None, channel=None,
                preferred=None, available=CHANNELS) -> "Message":
        """The message rendered in the customer's language for the channel chosen; none: not sent, with why."""
        reason = None
        if channel is None:
            channel, reason = choose_channel(customer, consents, purpose, preferred, available)
        elif channel not in available:
            reason = f"{channel}: channel unavailable (not configured)"
        subject, body = render(template, {"name": customer.get("name"), **facts})
        message = cls(message_id, branch_id, customer["customer_id"], wanted_key, purpose, channel,
                      address_of(customer, channel) if channel else None, subject, body, thing, repair_order_id,
                      next_attempt_at=at)
        if reason:
            message.status, message.reason, message.next_attempt_at = "not_sent", reason, None
            message.record("message.failed", message_id=message_id, customer_id=message.customer_id,
                           channel=channel, key=wanted_key, reason=reason, attempts=0)
        return message

    def delivered(self, at: datetime, answer: str):
        """The provider took it: sent."""
        self.attempts += 1
        self.status, self.next_attempt_at = "sent", None
        self.record("message.sent", message_id=self.message_id, customer_id=self.customer_id,
                    channel=self.channel, key=self.key, attempts=self.attempts)

    def attempt_failed(self, at: datetime, answer: str, schedule: list[float], rng=None):
        """The provider refused or was away: try again later by the schedule, or fail when it is spent."""
        self.attempts += 1
        delay = retry_delay(self.attempts, schedule, rng)
        if delay is None:
            self.status, self.reason, self.next_attempt_at = "failed", answer[:500], None
            self.record("message.failed", message_id=self.message_id, customer_id=self.customer_id,
                        channel=self.channel, key=self.key, reason=self.reason, attempts=self.attempts)
        else:
            self.next_attempt_at = at + timedelta(seconds=delay)

    @classmethod
    def from_row(cls, row: dict) -> "Message":
        return cls(**{k: row[k] for k in ("message_id", "branch_id", "customer_id", "key", "purpose", "channel",
                                          "address", "subject", "body", "thing", "repair_order_id", "status",
                                          "reason", "attempts", "next_attempt_at")})


def stored(message: Message) -> dict:
    return {k: v for k, v in vars(message).items() if k != "events"}
