"""Signed customer links (shared/links.py): what a customer's message carries to open their repair order."""
import time
import uuid

import pytest

from shared import links

RO = uuid.uuid4()


def test_a_signed_link_reads_back_to_its_repair_order(monkeypatch):
    monkeypatch.setenv("PITLANE_PUBLIC_URL", "https://service.example.com/")
    url = links.customer_link(RO, "B1-000007")
    assert url.startswith("https://service.example.com/customer/")
    assert links.read_customer_link(url.rsplit("/", 1)[1]) == {"repair_order_id": RO, "number": "B1-000007"}


def test_a_tampered_link_is_refused():
    token = links.customer_token(RO, "B1-000007")
    other = links.customer_token(uuid.uuid4(), "B1-000008")
    forged = other.split(".")[0] + "." + ".".join(token.split(".")[1:])
    for bad in (forged, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "not-a-token"):
        with pytest.raises(links.LinkRefused):
            links.read_customer_link(bad)


def test_a_link_signed_with_another_key_is_refused():
    with pytest.raises(links.LinkRefused):
        links.read_customer_link(links.customer_token(RO, "N", secret="someone-else"))


def test_a_link_expires_after_its_lifetime():
    token = links.customer_token(RO, "N")
    thirty_days = 30 * 86400
    assert links.read_customer_link(token, now=time.time() + thirty_days - 60)["repair_order_id"] == RO
    with pytest.raises(links.LinkRefused, match="expired"):
        links.read_customer_link(token, now=time.time() + thirty_days + 60)
