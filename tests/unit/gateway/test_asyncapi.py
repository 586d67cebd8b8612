"""The event stream's AsyncAPI document (gateway/asyncapi.py): every catalogue event in it, and the whole
held to the official AsyncAPI 2.6.0 JSON Schema and AMQP binding schemas.

The official schemas are the AsyncAPI initiative's npm package @asyncapi/specs (plain JSON files): no
package on PyPI carries them (asyncapi-python-parser-jonaslagoni reads them from a folder its wheel
leaves out; the others are hand-written pydantic models). It is installed once, pinned, into
.venv/asyncapi-specs with the machine's npm; without npm these tests are skipped, nothing else needs it.
"""
import copy
import json
import shutil
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from gateway import asyncapi
from shared.contracts import events

ROOT = Path(__file__).resolve().parents[3]
SPECS_VERSION = "6.11.1"
SPECS_HOME = ROOT / ".venv" / "asyncapi-specs"
SCHEMA = f"http://asyncapi.com/definitions/{asyncapi.ASYNCAPI_VERSION}/asyncapi.json"
BINDING = f"http://asyncapi.com/bindings/amqp/{asyncapi.AMQP_BINDINGS}/{{}}.json"
ENVELOPE_REQUIRED = {name for name, field in events.Envelope().fields.items() if field.required}


@pytest.fixture(scope="module")
def specs() -> Path:
    """The folder of @asyncapi/specs at SPECS_VERSION, installed with npm if it is not there yet."""
    folder = SPECS_HOME / "node_modules" / "@asyncapi" / "specs"
    manifest = folder / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text())["version"] != SPECS_VERSION:
        if shutil.which("npm") is None:  # `make test` installs it (scripts/setup.sh) when run as root
            pytest.fail("npm is missing: the official AsyncAPI schemas come from its package @asyncapi/specs"
                        " (sudo apt-get install -y npm)")
        subprocess.run(["npm", "install", "--prefix", str(SPECS_HOME), "--no-save", "--no-package-lock",
                        "--no-audit", "--no-fund", f"@asyncapi/specs@{SPECS_VERSION}"],
                       check=True, capture_output=True, timeout=300)
    return folder


@pytest.fixture(scope="module")
def registry(specs) -> Registry:
    """The official schemas by their $id: the AsyncAPI 2.6.0 schema with its definitions, and the AMQP
    bindings (which refer to the 3.0.0 schema's definitions)."""
    files = [specs / "schemas" / f"{asyncapi.ASYNCAPI_VERSION}.json", specs / "schemas" / "3.0.0.json",
             *sorted((specs / "bindings" / "amqp" / asyncapi.AMQP_BINDINGS).glob("*.json"))]
    resources = [Resource.from_contents(json.loads(path.read_text())) for path in files]
    return Registry().with_resources((resource.id(), resource) for resource in resources).crawl()


def validator(registry, uri) -> Draft7Validator:
    return Draft7Validator({"$ref": uri}, registry=registry)


def errors_of(registry, uri, instance) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator(registry, uri).iter_errors(instance)]


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(json.dumps(asyncapi.document()))  # as it is served


def message_of(document, event_type) -> dict:
    reference = document["channels"][event_type]["subscribe"]["message"]["$ref"]
    assert reference == f"#/components/messages/{event_type}"
    return document["components"]["messages"][event_type]


# -- the catalogue, all of it ------------------------------------------------------------------------
def test_every_catalogue_event_has_a_channel_and_a_message_with_its_version_and_source(document):
    assert set(document["channels"]) == set(events.CATALOGUE)
    tags = {tag["name"] for tag in document["tags"]}
    for name, entry in events.CATALOGUE.items():
        channel = document["channels"][name]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == "pitlane.events"
        assert channel["bindings"]["amqp"]["exchange"]["type"] == "topic"
        message = message_of(document, name)
        assert message["name"] == message["messageId"] == message["bindings"]["amqp"]["messageType"] == name
        assert message["contentType"] == "application/json"
        assert message["x-pitlane-version"] == entry.version
        assert message["x-pitlane-source"] == entry.source
        assert message["summary"]
        assert message["tags"] == channel["subscribe"]["tags"] and message["tags"][0]["name"] in tags
        assert channel["subscribe"]["bindings"]["amqp"]["deliveryMode"] == 2  # persistent
    operation_ids = [channel["subscribe"]["operationId"] for channel in document["channels"].values()]
    assert len(set(operation_ids)) == len(operation_ids)


def test_every_payload_carries_the_envelope_then_its_facts(document):
    for name, entry in events.CATALOGUE.items():
        payload = message_of(document, name)["payload"]
        assert ENVELOPE_REQUIRED <= set(payload["required"]), name
        assert list(payload["properties"])[:len(asyncapi.ENVELOPE)] == list(asyncapi.ENVELOPE)
        assert payload["properties"]["version"]["const"] == entry.version
        facts = set(entry.schema().fields) - set(asyncapi.ENVELOPE)
        assert facts <= set(payload["properties"]), name


def test_nested_facts_are_shared_components(document):
    delivered = message_of(document, "repair_order.delivered")["payload"]["properties"]["lines"]
    assert delivered["items"] == {"$ref": "#/components/schemas/QuoteLine"}
    quantity = document["components"]["schemas"]["QuoteLine"]["properties"]["quantity"]
    assert quantity["type"] == "string"  # a decimal travels as "1.50"


def test_the_document_does_not_carry_the_brokers_credentials():
    document = json.dumps(asyncapi.build("amqps://integrator:s3cret@rabbit.example:5671/dealers"))
    assert "s3cret" not in document and "integrator" not in document
    server = json.loads(document)["servers"]["broker"]
    assert (server["url"], server["protocol"]) == ("rabbit.example:5671", "amqps")
    assert json.loads(document)["channels"]["invoice.paid"]["bindings"]["amqp"]["exchange"]["vhost"] == "dealers"


def test_the_document_is_built_once_per_process():
    assert asyncapi.document() is asyncapi.document()


# -- the official schemas ----------------------------------------------------------------------------
def test_the_document_is_valid_asyncapi(registry, document):
    assert errors_of(registry, SCHEMA, document) == []


def test_its_amqp_bindings_are_valid(registry, document):
    for name, channel in document["channels"].items():
        assert errors_of(registry, BINDING.format("channel"), channel["bindings"]["amqp"]) == [], name
        assert errors_of(registry, BINDING.format("operation"), channel["subscribe"]["bindings"]["amqp"]) == [], name
        message = document["components"]["messages"][name]
        assert errors_of(registry, BINDING.format("message"), message["bindings"]["amqp"]) == [], name


def test_every_payload_is_a_valid_schema_and_every_reference_resolves(registry, document):
    schema_object = f"http://asyncapi.com/definitions/{asyncapi.ASYNCAPI_VERSION}/schema.json"
    for name, message in document["components"]["messages"].items():
        assert errors_of(registry, schema_object, message["payload"]) == [], name
        Draft7Validator.check_schema(message["payload"])
    resolver = Registry().with_resource("", DRAFT7.create_resource(document)).resolver()
    for reference in references(document):
        assert resolver.lookup(reference).contents, reference


def references(value):
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


BREAKAGES = {
    "info without its title": lambda d: d["info"].pop("title"),
    "an operation with a field AsyncAPI does not know": lambda d: d["channels"]["invoice.paid"]["subscribe"]
    .update(publishes="invoice.paid"),
    "a message whose contentType is not a string": lambda d: d["components"]["messages"]["invoice.paid"]
    .update(contentType=1),
    "a tag without its name": lambda d: d["tags"][0].pop("name"),
    "a server without its protocol": lambda d: d["servers"]["broker"].pop("protocol"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_document_is_rejected(registry, document, breakage):
    """The validator really follows the official schema's references into its definitions: a fault deep
    in a message or an operation is found, not only one at the top."""
    broken = copy.deepcopy(document)
    BREAKAGES[breakage](broken)
    assert errors_of(registry, SCHEMA, broken)


def test_a_wrong_amqp_binding_is_rejected(registry, document):
    binding = copy.deepcopy(document["channels"]["invoice.paid"]["subscribe"]["bindings"]["amqp"])
    binding["deliveryMode"] = 3
    assert errors_of(registry, BINDING.format("operation"), binding)


# -- the payload schemas against real events -----------------------------------------------------------
def payload_validator(document, event_type) -> Draft7Validator:
    payload = message_of(document, event_type)["payload"]
    return Draft7Validator({**payload, "components": document["components"]})


def delivered() -> dict:
    line = {"line_id": str(uuid.uuid4()), "kind": "part", "group": "must", "description": "front brake pads",
            "part_number": "BRK-PAD-F01", "quantity": "1.50", "unit_price_cents": 4500, "net_cents": 6750,
            "pay_type": "customer"}
    return events.build("repair_order.delivered", "N1", "workshop", repair_order_id=uuid.uuid4(),
                        number="RO-1", customer_id=uuid.uuid4(), vehicle_id=uuid.uuid4(),
                        delivered_at=datetime.now(timezone.utc), lines=[line])


def test_a_published_event_matches_its_payload_schema(document):
    event = json.loads(json.dumps(delivered()))
    assert list(payload_validator(document, "repair_order.delivered").iter_errors(event)) == []
    confirmed = events.build("booking.confirmed", "N1", "booking", booking_id=uuid.uuid4(),
                             slot_start=datetime.now(timezone.utc))
    assert list(payload_validator(document, "booking.confirmed").iter_errors(json.loads(json.dumps(confirmed)))) == []


def test_an_event_that_breaks_the_contract_does_not_match(document):
    check = payload_validator(document, "repair_order.delivered")
    event = json.loads(json.dumps(delivered()))
    assert not check.is_valid({**event, "version": 2})
    assert not check.is_valid({**event, "source": "billing"})
    del event["lines"][0]["line_id"]
    assert not check.is_valid(event)
