"""The real gateway serves the event stream's AsyncAPI document to anyone, as gateway/asyncapi.py builds it
(tests/unit/gateway/test_asyncapi.py holds the document itself to the official schema)."""
import json
import os

import requests

from gateway import asyncapi


def test_the_asyncapi_document_is_served_without_a_token(gateway):
    response = requests.get(gateway.url + "/api/v1/asyncapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    served = response.json()
    assert served == json.loads(json.dumps(asyncapi.document()))
    # the broker the stack runs on: this run's own virtual host
    exchange = served["channels"]["invoice.paid"]["bindings"]["amqp"]["exchange"]
    assert exchange["vhost"] == os.environ["PITLANE_TEST_VHOST"]
