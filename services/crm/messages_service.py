"""crm's messages to customers: events become queued messages (in the handler's own transaction), a
timer sends them off the request path with retries, and the consent, message and template RPCs.
`MessagesMixin` is one of CrmService's bases."""
import logging
import uuid
from datetime import datetime, timezone

from nameko.timer import timer

from services.crm import channels, erasure, messages
from services.crm import messages_store as store
from services.crm.store import log_contact
from shared import config
from shared.bus.messaging import NotYetKnown, on_event
from shared.bus.rpc import load, record_id, rpc
from shared.contracts import errors
from shared.contracts.api import messages as messages_schemas
from shared.links import customer_link

log = logging.getLogger(__name__)

MESSAGE, TEMPLATE = messages_schemas.MessageOut(), messages_schemas.MessageTemplate()
CONSENTS, HISTORY = messages_schemas.ConsentsOut(), messages_schemas.ConsentHistory()
CLAIM_BATCH = 10  # messages one look claims; sent one after the other, each within channels.TIMEOUT per step
# A claimed message comes back to the queue if its sender dies before it records the try; the lease outlasts
# a whole batch against a provider that hangs at every step, so a slow sender is never overtaken by another.
LEASE_SECONDS = 600


def now():
    return datetime.now(timezone.utc)


class MessageNotResolved(NotYetKnown):
    """An event about a booking or repair order crm has not heard of yet: retried, then dead-lettered."""


def _unknown_customer():
    return errors.NotFound("no such customer", {"customer_id": ["unknown customer"]})


# Erasure and export of a customer (services/crm/erasure.py) take in what messages hold on them.
erasure.register_eraser(store.erase, "messages")
erasure.register_exporter(store.export, "messages")


OWN_MESSAGES = ("follow_up.due", "survey.invited")  # crm's own events that are messages to the customer


class MessagesMixin:
    # -- read models: the bookings and repair orders events name without their customer -------------------
    # (kept by crm's one handler of booking.created and of repair_order.opened, services/crm/service.py:
    # an event handled once per service costs one delivery, not one per use)
    def _keep_booking(self, tx, event):
        store.keep_booking(tx, {"booking_id": event["booking_id"], "branch_id": event["branch_id"],
                                "customer_id": event["customer_id"], "vehicle_id": event["vehicle_id"],
                                "service_type": event["service_type"], "slot_start": event["slot_start"]})

    @on_event("booking.rescheduled")
    def move_booking_for_messages(self, tx, event):
        store.move_booking(tx, event["booking_id"], event["slot_start"])

    def _keep_order(self, tx, event):
        store.keep_order(tx, {"repair_order_id": event["repair_order_id"], "branch_id": event["branch_id"],
                              "customer_id": event["customer_id"], "vehicle_id": event["vehicle_id"],
                              "number": event["number"], "plate": event["plate"], "booking_id": event["booking_id"]})

    # -- events -> messages (messages.wanted_for decides which) -----------------------------------------------
    @on_event("booking.confirmed")
    def message_booking_confirmed(self, tx, event):
        self._message_for(tx, "booking.confirmed", event, booking=self._booking(tx, event["booking_id"]))

    @on_event("booking.reminder_due")
    def message_booking_reminder(self, tx, event):
        self._message_for(tx, "booking.reminder_due", event)

    @on_event("booking.reschedule_offered")
    def message_reschedule_offered(self, tx, event):
        self._message_for(tx, "booking.reschedule_offered", event, booking=self._booking(tx, event["booking_id"]))

    @on_event("repair_order.progress")
    def message_progress(self, tx, event):
        self._message_for(tx, "repair_order.progress", event, order=store.order(tx, event["repair_order_id"]))

    @on_event("repair_order.ready")
    def message_ready(self, tx, event):
        self._message_for(tx, "repair_order.ready", event, order=self._order(tx, event["repair_order_id"]))

    @on_event("quote.issued")
    def message_quote_ready(self, tx, event):
        self._message_for(tx, "quote.issued", event, order=self._order(tx, event["repair_order_id"]))

    @on_event("parts.loaner_suggested")
    def message_waiting_for_parts(self, tx, event):
        self._message_for(tx, "parts.loaner_suggested", event, order=self._order(tx, event["repair_order_id"]))

    @on_event("repair_order.delayed")
    def message_delayed(self, tx, event):
        self._message_for(tx, "repair_order.delayed", event, order=store.order(tx, event["repair_order_id"]))

    def _message_invoice(self, tx, event):
        """(from crm's one handler of invoice.issued)"""
        self._message_for(tx, "invoice.issued", event, order=store.order(tx, event["repair_order_id"]))

    def _publish_and_tell(self, tx, *recorded):
        """Publish what crm's own objects recorded, and queue the messages their follow_up.due and
        survey.invited call for in the same transaction: no trip through the broker and back."""
        told = [(e.type, {**e.facts, "branch_id": e.branch_id}) for thing in recorded for e in thing.events
                if e.type in OWN_MESSAGES]
        tx.publish_recorded(*recorded)
        for event_type, event in told:
            self._message_for(tx, event_type, event, order=store.order(tx, event["repair_order_id"]))

    @on_event("transfer.tracking_sent")
    def message_transfer_tracking(self, tx, event):
        """Only a transfer for a customer's repair order concerns a customer."""
        if event.get("repair_order_id") is not None:
            self._message_for(tx, "transfer.tracking_sent", event, order=store.order(tx, event["repair_order_id"]))

    @on_event("warranty.ending")
    def message_warranty_ending(self, tx, event):
        """A month before a warranty ends (billing names the customer)."""
        self._message_for(tx, "warranty.ending", event)

    # -- the sender: off the request path, with retries ------------------------------------------------------
    @timer(interval=config.message_send_interval())
    def send_due_messages(self):
        """Claims the messages due (FOR UPDATE SKIP LOCKED, so two processes never send one twice), sends
        each with no transaction open, then records the attempt: sent, or retried later by the schedule."""
        try:
            with self.db.transaction() as tx:
                claimed = store.claim_due(tx, now(), LEASE_SECONDS, CLAIM_BATCH)
        except errors.Unavailable as exc:
            log.warning("sending messages skipped: %s", exc)
            return
        for row in claimed:
            result, answer = channels.send(row["channel"], row["address"] or "", row["subject"], row["body"],
                                           str(row["message_id"]))
            try:
                self._record_attempt(row["message_id"], result, answer)
            except errors.Unavailable as exc:  # the lease brings it back; the provider may see it twice
                log.warning("could not record the attempt of message %s: %s", row["message_id"], exc)

    def _record_attempt(self, message_id, result, answer):
        at = now()
        with self.db.transaction() as tx:
            message = messages.Message.from_row(store.message(tx, message_id, lock=True))
            if message.status != "queued":
                return
            if result == "sent":
                message.delivered(at, answer)
            else:
                message.attempt_failed(at, answer, config.message_retry_delays())
            store.add_attempt(tx, message_id, at, message.channel, result, answer)
            store.save_delivery(tx, messages.stored(message))
            outcome = {"sent": "sent", "failed": "failed"}.get(message.status, "will retry")
            log_contact(tx, message.customer_id, "message",
                        f"{message.key} by {message.channel}: attempt {message.attempts} {result} ({answer[:200]});"
                        f" {outcome}", ref_id=str(message_id), branch_id=message.branch_id)
            tx.publish_recorded(message)

    # -- consent ----------------------------------------------------------------------------------------------
    @rpc
    def get_consents(self, customer_id):
        with self.db.read() as tx:
            customer = self._message_customer(tx, customer_id)
            return CONSENTS.dump(self._consents_view(tx, customer))

    @rpc
    def set_consents(self, customer_id, data):
        given = load(messages_schemas.ConsentChange, data)
        with self.db.command() as tx:
            customer = self._message_customer(tx, customer_id)
            store.lock_customer(tx, customer["customer_id"])
            consents = messages.Consents.of(customer, store.stated_consents(tx, customer["customer_id"], lock=True))
            consents.change(given["consents"], given["changed_by"] or "staff", given["source"], now())
            preferred_given = "preferred_channel" in (data or {})
            store.save_consents(tx, consents, given["preferred_channel"], preferred_given)
            for change in consents.changes:
                log_contact(tx, customer["customer_id"], "consent",
                            f"{change['purpose']} by {change['channel']}: {'granted' if change['granted'] else 'withdrawn'}"
                            f" ({change['source']})", branch_id=customer["branch_id"])
            return CONSENTS.dump(self._consents_view(tx, store.customer(tx, customer["customer_id"])))

    @rpc
    def get_consent_history(self, customer_id):
        with self.db.read() as tx:
            customer = self._message_customer(tx, customer_id)
            return HISTORY.dump({"customer_id": customer["customer_id"], "branch_id": customer["branch_id"],
                                 "changes": store.consent_history(tx, customer["customer_id"])})

    # -- messages ----------------------------------------------------------------------------------------------
    @rpc
    def list_customer_messages(self, customer_id, query):
        filters = load(messages_schemas.MessageQuery, query or {})
        with self.db.read() as tx:
            customer = self._message_customer(tx, customer_id)
            page = store.messages_page(tx, customer["customer_id"], filters)
            return {"items": [MESSAGE.dump({**row, "attempt_log": store.attempts(tx, row["message_id"])})
                              for row in page["items"]], "next_cursor": page["next_cursor"]}

    @rpc
    def get_message(self, message_id):
        with self.db.read() as tx:
            row = store.message(tx, record_id(message_id, "message"))
            if row is None:
                raise errors.NotFound("no such message", {"message_id": ["unknown message"]})
            return MESSAGE.dump({**row, "attempt_log": store.attempts(tx, row["message_id"])})

    @rpc
    def send_message(self, customer_id, data):
        """A message staff write or pick: refused (422) without consent for the channel and purpose, or
        without an address for it; otherwise queued like any other."""
        given = load(messages_schemas.ManualMessage, data)
        with self.db.command() as tx:
            customer = self._message_customer(tx, customer_id)
            consents = messages.Consents.of(customer, store.stated_consents(tx, customer["customer_id"]))
            messages.check_manual(customer, consents, given["channel"], given["purpose"])
            key = given["template"] or "manual"
            wanted = messages.Wanted(key, None, customer["customer_id"], {"text": given["text"] or ""})
            row = self._queue(tx, wanted, customer["branch_id"], customer=customer, consents=consents,
                              channel=given["channel"], purpose=given["purpose"],
                              by=given["sent_by"] or "staff")
            return MESSAGE.dump({**row, "attempt_log": []})

    # -- templates ---------------------------------------------------------------------------------------------
    @rpc
    def list_message_templates(self, branch_id):
        with self.db.read() as tx:
            self._known_branch(tx, branch_id)
            return [TEMPLATE.dump(t) for t in messages.effective_templates(branch_id,
                                                                          store.branch_templates(tx, branch_id))]

    @rpc
    def set_message_template(self, branch_id, key, language, data):
        given = load(messages_schemas.TemplateChange, data)
        if language not in messages.LANGUAGES:
            raise errors.NotFound("no such language", {"language": [f"one of {', '.join(messages.LANGUAGES)}"]})
        if key not in messages.KINDS:
            raise errors.NotFound("no such message template", {"key": [f"one of {', '.join(messages.KINDS)}"]})
        messages.check_template(key, given["subject"], given["body"])
        with self.db.command() as tx:
            self._known_branch(tx, branch_id)
            store.save_template(tx, branch_id, key, language, given["subject"], given["body"])
            return TEMPLATE.dump({"branch_id": branch_id, "key": key, "language": language,
                                  "subject": given["subject"], "body": given["body"], "source": "branch"})

    # -- helpers ------------------------------------------------------------------------------------------------
    def _message_for(self, tx, event_type, event, booking=None, order=None):
        zone, branch_name = store.branch_zone(tx, event["branch_id"])
        wanted = messages.wanted_for(event_type, event, booking, order, zone)
        if wanted is None:
            return
        customer = store.customer(tx, wanted.customer_id)
        if customer is None:  # a customer crm does not hold (erased, or never registered here)
            log.info("%s: no customer %s to tell", event_type, wanted.customer_id)
            return
        self._queue(tx, wanted, event["branch_id"], customer=customer, order=order, branch_name=branch_name)

    def _queue(self, tx, wanted, branch_id, customer, consents=None, order=None, channel=None, purpose=None,
               by=None, branch_name=None):
        """The message rendered and queued (or recorded as not sent, with why); one per thing."""
        if consents is None:
            consents = messages.Consents.of(customer, store.stated_consents(tx, customer["customer_id"]))
        language = messages.language_of(customer)
        template = store.branch_template(tx, branch_id, wanted.key, language)
        template = template or messages.shipped_template(wanted.key, language)
        if branch_name is None:
            _, branch_name = store.branch_zone(tx, branch_id)
        facts = {"branch": branch_name, **wanted.facts}
        ro_id = wanted.repair_order_id or (order or {}).get("repair_order_id")
        if order is None and ro_id is not None:
            order = store.order(tx, ro_id)
        if order:
            facts.setdefault("number", order["number"])
            facts.setdefault("plate", order["plate"])
        if ro_id is not None and facts.get("number"):
            facts["link"] = customer_link(ro_id, facts["number"])
        message = messages.Message.compose(
            uuid.uuid4(), branch_id, customer, consents, wanted.key, purpose or wanted.purpose, template, facts,
            now(), thing=wanted.thing, repair_order_id=ro_id, channel=channel,
            preferred=customer.get("preferred_channel"), available=channels.available())
        row = store.insert_message(tx, messages.stored(message))
        if row is None:  # this thing was told already (another event about the same stage)
            return None
        note = (f"{message.key} queued by {message.channel}" if message.status == "queued"
                else f"{message.key} not sent: {message.reason}")
        log_contact(tx, customer["customer_id"], "message", note + (f" (by {by})" if by else ""),
                    ref_id=str(message.message_id), branch_id=branch_id)
        tx.publish_recorded(message)
        return row

    def _booking(self, tx, booking_id):
        found = store.booking(tx, booking_id)
        if found is None:
            raise MessageNotResolved(f"booking {booking_id} is not known to crm yet")
        return found

    def _order(self, tx, repair_order_id):
        found = store.order(tx, repair_order_id)
        if found is None:
            raise MessageNotResolved(f"repair order {repair_order_id} is not known to crm yet")
        return found

    def _message_customer(self, tx, customer_id):
        customer = store.customer(tx, record_id(customer_id, "customer"))
        return self.scope.admit(customer, _unknown_customer())

    def _consents_view(self, tx, customer):
        consents = messages.Consents.of(customer, store.stated_consents(tx, customer["customer_id"]))
        return {"customer_id": customer["customer_id"], "branch_id": customer["branch_id"],
                "preferred_channel": customer.get("preferred_channel"), "consents": consents.listed()}

    @staticmethod
    def _known_branch(tx, branch_id):
        if tx.one("SELECT 1 FROM branches WHERE branch_id = %s", (branch_id,)) is None:
            raise errors.NotFound("no such branch", {"branch_id": ["unknown branch"]})
