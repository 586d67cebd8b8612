"""The AsyncAPI 2.6 document of the event stream, generated from the event catalogue
(shared/contracts/events.py): one channel per event type, its payload converted from the
catalogue's marshmallow schemas as gateway/openapi.py converts the API's."""
import functools
from urllib.parse import urlparse

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from gateway.openapi import DECIMAL_OUT
from shared import config
from shared.bus.broker import EVENTS_EXCHANGE, connection_params
from shared.contracts import events

ASYNCAPI_VERSION = "2.6.0"
AMQP_BINDINGS = "0.2.0"  # the version of the AMQP bindings written for AsyncAPI 2.x
PERSISTENT = 2  # AMQP delivery mode: the broker writes the message to disk

DESCRIPTION = f"""Every domain event pitlane's services publish, as it travels on RabbitMQ.

**Where.** Every event goes to the durable topic exchange `{EVENTS_EXCHANGE}` with its type as the
routing key (`repair_order.delivered`): each channel below is one routing key. Bind a durable queue
of your own to the exchange with the keys or patterns you need (`repair_order.*`, `transfer.#`, `#`).

**What.** Messages are persistent, `application/json` in UTF-8, and their AMQP `message_id` is the
payload's `event_id`. Every payload carries the envelope (`event_id`, `occurred_at`, `version`,
`branch_id`, `source`) and the event's facts.

**Versions.** A breaking change is a new `version` of the event (the payload's `version`, the
message's `x-pitlane-version`); an added optional fact is not: ignore the facts you do not know.

**At least once.** A message may arrive twice (a publisher that died between the broker's confirm
and its own record of it publishes it again): deduplicate on `event_id`.

**Order.** The events about one subject (a repair order, a transfer) that one service publishes leave
it in commit order while that service runs as one process. Events of different services, and a
message delivered again, come in any order: check the state you hold, not the order of arrival."""

TAGS = {  # the publishing service (the catalogue's source): what its events are about
    "booking": "branches, slots, bookings, arrivals and walk-ins",
    "crm": "customers, vehicles, follow-ups, surveys, complaints, messages to customers",
    "workshop": "repair orders, diagnoses, quotes, jobs, quality checks, hand-over",
    "parts": "the parts catalogue, stock, reservations, transfers, purchase orders",
    "billing": "invoices, payments, discounts, warranty and its claims, credit notes",
    events.ANY_SOURCE: "SLA clocks, published by whichever service owns the clock (`source` names it)",
}
ANY_SOURCE_TAG = "sla"

ENVELOPE = {  # the envelope's fields, first in every payload, in the contract's words
    "event_id": "unique per event, and the AMQP message_id: deduplicate on it",
    "occurred_at": "when it happened, with its UTC offset",
    "version": "the event's version: a breaking change is a new one",
    "branch_id": "the branch it happened at",
    "source": "the service that published it",
}


def _decimal(self, field, **kwargs):
    """Decimals travel as strings ("1.50"), as in the API's answers."""
    return dict(DECIMAL_OUT) if isinstance(field, fields.Decimal) else {}


def _name(schema) -> str | None:
    """Nested schemas of the catalogue (QuoteLine, PartQuantity, ...) become components under their
    class name; the facts of each event are declared inline (`_facts`) and stay in its payload."""
    cls = schema if isinstance(schema, type) else type(schema)
    if cls.__module__ != events.__name__ or cls.__name__.startswith("GeneratedSchema"):
        return None
    return cls.__name__


def _title(event_type: str) -> str:
    words = event_type.replace(".", " ").replace("_", " ")
    return words[0].upper() + words[1:]


def _summary(entry: events.EventSpec) -> str:
    return entry.description or f"{_title(entry.name)}."


def _tag(source: str) -> str:
    return ANY_SOURCE_TAG if source == events.ANY_SOURCE else source


def _payload(converter, entry: events.EventSpec) -> dict:
    schema = converter.schema2jsonschema(entry.schema())
    facts = schema["properties"]
    envelope = {name: {**facts.pop(name), "description": text} for name, text in ENVELOPE.items()}
    envelope["version"]["const"] = entry.version
    if entry.source != events.ANY_SOURCE:
        envelope["source"]["const"] = entry.source
    schema["properties"] = {**envelope, **facts}
    return schema


def _message(converter, entry: events.EventSpec) -> dict:
    publisher = ("whichever service owns the SLA clock (`source` names it)" if entry.source == events.ANY_SOURCE
                 else f"the {entry.source} service")
    return {
        "messageId": entry.name,
        "name": entry.name,
        "title": _title(entry.name),
        "summary": _summary(entry),
        "description": f"Published by {publisher}; version {entry.version}.",
        "contentType": "application/json",
        "tags": [{"name": _tag(entry.source)}],
        "payload": _payload(converter, entry),
        "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": entry.name,
                              "bindingVersion": AMQP_BINDINGS}},
        "x-pitlane-version": entry.version,
        "x-pitlane-source": entry.source,
    }


def _channel(entry: events.EventSpec, vhost: str) -> dict:
    return {
        "description": f"The routing key `{entry.name}` on the topic exchange `{EVENTS_EXCHANGE}`.",
        "bindings": {"amqp": {
            "is": "routingKey",
            "exchange": {"name": EVENTS_EXCHANGE, "type": "topic", "durable": True, "autoDelete": False,
                         "vhost": vhost},
            "bindingVersion": AMQP_BINDINGS}},
        "subscribe": {
            "operationId": "on_" + entry.name.replace(".", "_"),
            "summary": _summary(entry),
            "tags": [{"name": _tag(entry.source)}],
            "bindings": {"amqp": {"deliveryMode": PERSISTENT, "bindingVersion": AMQP_BINDINGS}},
            "message": {"$ref": f"#/components/messages/{entry.name}"},
        },
    }


def build(amqp_uri: str) -> dict:
    """The document for the broker at `amqp_uri` (its host and virtual host; never its credentials)."""
    broker = connection_params(amqp_uri)
    plugin = MarshmallowPlugin(schema_name_resolver=_name)
    # OpenAPI 3.1's schemas are JSON Schema: a nullable fact is {"type": [..., "null"]}, as AsyncAPI reads it
    spec = APISpec(title="pitlane events", version="1.0.0", openapi_version="3.1.0", plugins=[plugin])
    plugin.converter.add_attribute_function(_decimal)
    messages = {name: _message(plugin.converter, entry) for name, entry in events.CATALOGUE.items()}
    sources = dict.fromkeys(entry.source for entry in events.CATALOGUE.values())
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "pitlane events", "version": "1.0.0", "description": DESCRIPTION},
        "servers": {"broker": {
            "url": broker["host"],
            "protocol": urlparse(amqp_uri).scheme or "amqp",
            "protocolVersion": "0.9.1",
            "description": f"RabbitMQ, virtual host `{broker['virtual_host']}`.",
            "security": [{"broker": []}],
        }},
        "defaultContentType": "application/json",
        "channels": {name: _channel(entry, broker["virtual_host"]) for name, entry in events.CATALOGUE.items()},
        "components": {
            "schemas": spec.to_dict().get("components", {}).get("schemas", {}),
            "messages": messages,
            "securitySchemes": {"broker": {
                "type": "userPassword", "description": "a RabbitMQ user of the virtual host, from operations"}},
        },
        "tags": [{"name": _tag(source), "description": TAGS.get(source, f"what the {source} service publishes")}
                 for source in sources],
    }


@functools.cache
def document() -> dict:
    return build(config.amqp_uri())
