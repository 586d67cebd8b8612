"""`pitlane sites link`: the shovel it sets (pitlane/sites.py), without a broker."""
import pytest
from click.testing import CliRunner

from pitlane import sites as links
from pitlane.cli import main


def test_the_shovel_takes_this_sites_queue_to_the_other_sites_inbound_exchange_acknowledging_on_confirm(monkeypatch):
    monkeypatch.setenv("PITLANE_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    value = links.shovel_definition("south", "amqp://link:secret@south.example:5672/%2F")
    assert value["src-uri"] == "amqp://" and value["src-queue"] == "pitlane.sites.to.south"
    assert (value["dest-exchange"], value["ack-mode"]) == ("sites.events", "on-confirm")
    assert "dest-exchange-key" not in value  # each event keeps its routing key, its type


def test_a_site_on_a_vhost_of_its_own_names_it_in_the_source(monkeypatch):
    monkeypatch.setenv("PITLANE_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/north%20site")
    assert links.shovel_definition("south", "amqp://x@y/%2F")["src-uri"] == "amqp:///north%20site"


def test_the_reconnect_delay_is_whole_seconds_or_rabbitmq_never_restarts_the_shovel():
    assert links.shovel_definition("south", "amqp://x@y/%2F", reconnect_delay=2.7)["reconnect-delay"] == 2
    assert links.shovel_definition("south", "amqp://x@y/%2F", reconnect_delay=0)["reconnect-delay"] == 1
    result = CliRunner().invoke(main, ["sites", "link", "south", "amqp://x@y/%2F", "--reconnect-delay", "0.5"])
    assert result.exit_code != 0 and "reconnect-delay" in result.output


def test_a_site_is_not_linked_to_itself(monkeypatch):
    monkeypatch.setenv("PITLANE_SITE", "north")
    with pytest.raises(ValueError, match="is this site"):
        links.link("north", "amqp://x@y/%2F")


def test_the_status_hides_the_link_password():
    assert links._redacted("amqp://link:secret@south.example:5672/%2F") == "amqp://link:***@south.example:5672/%2F"
