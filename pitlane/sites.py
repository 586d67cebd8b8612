"""Linking this site to another (docs/sites.md): the queue where events for it wait, and the shovel
that carries them to its sites.events, set through RabbitMQ's management API. The same can be done
with rabbitmqctl and the definitions in deploy/sites/."""
from urllib.parse import quote, unquote, urlparse

import kombu
import requests

from shared import config
from shared.bus.broker import SITES_INBOUND, SITES_OUTBOUND, queue_arguments, site_queue


def shovel_name(site: str) -> str:
    return f"pitlane-to-{site}"


def _vhost(amqp_uri: str) -> str:
    path = urlparse(amqp_uri).path
    return unquote(path[1:]) if path and path != "/" else "/"


def _api(path: str):
    url = urlparse(config.management_uri())
    base = f"{url.scheme}://{url.hostname}:{url.port or 15672}/api"
    return base + path, (unquote(url.username or "guest"), unquote(url.password or "guest"))


def shovel_definition(site: str, remote_uri: str, reconnect_delay: int = 5) -> dict:
    """The shovel's parameter value: from this site's queue for `site` to that site's sites.events,
    acknowledged to this broker only once the other broker confirmed (nothing lost through a cut).
    The reconnect delay must be a whole number of seconds: RabbitMQ 3.10 restarts a shovel whose
    delay is 1.0 never (a `temporary` child), one whose delay is 1 every second."""
    vhost = _vhost(config.amqp_uri())
    return {
        "src-protocol": "amqp091", "src-uri": "amqp://" if vhost == "/" else f"amqp:///{quote(vhost, safe='')}",
        "src-queue": site_queue(site),
        "dest-protocol": "amqp091", "dest-uri": remote_uri, "dest-exchange": SITES_INBOUND,
        "ack-mode": "on-confirm", "reconnect-delay": max(1, int(reconnect_delay)), "src-delete-after": "never",
    }


def declare_link_queue(site: str):
    """The exchanges (as `pitlane topology` declares them), and the durable queue bound to everything
    this site sends out, for `site`."""
    from shared.bus.messaging import declare_broker_plumbing

    with kombu.Connection(config.amqp_uri()) as conn:
        declare_broker_plumbing(conn)
        kombu.Queue(site_queue(site), kombu.Exchange(SITES_OUTBOUND, "topic", durable=True), routing_key="#",
                    durable=True, queue_arguments=queue_arguments(dead_letters=False))(conn.default_channel).declare()


def ask_for_whole_figures() -> bool:
    """This site's parts service sends every shelf at its next interval, not only what changed: the site
    just linked has none of them yet (shared/sites.py, RemoteSite: deltas follow on from a whole set).
    False when its database cannot be reached now (the whole set then comes within ten intervals)."""
    import psycopg

    try:
        with psycopg.connect(config.dsn("parts"), connect_timeout=5, autocommit=True) as conn:
            conn.execute("UPDATE parts.site_publications SET as_of = NULL WHERE kind = 'stock_snapshot'")
    except psycopg.errors.UndefinedTable:
        return True  # parts has not started here yet: its first figures are a whole set anyway
    except psycopg.OperationalError:
        return False
    return True


def link(site: str, remote_uri: str, reconnect_delay: int = 5) -> dict:
    if site == config.site():
        raise ValueError(f"{site} is this site (PITLANE_SITE)")
    declare_link_queue(site)
    vhost = quote(_vhost(config.amqp_uri()), safe="")
    url, auth = _api(f"/parameters/shovel/{vhost}/{shovel_name(site)}")
    value = shovel_definition(site, remote_uri, reconnect_delay)
    requests.put(url, json={"value": value}, auth=auth, timeout=10).raise_for_status()
    value["whole_figures_asked"] = ask_for_whole_figures()
    return value


def unlink(site: str, drop_queue: bool = False):
    """Remove the shovel; with `drop_queue`, the events waiting for `site` too (they are lost to it)."""
    vhost = quote(_vhost(config.amqp_uri()), safe="")
    url, auth = _api(f"/parameters/shovel/{vhost}/{shovel_name(site)}")
    response = requests.delete(url, auth=auth, timeout=10)
    if response.status_code not in (204, 404):
        response.raise_for_status()
    if drop_queue:
        url, auth = _api(f"/queues/{vhost}/{quote(site_queue(site), safe='')}")
        requests.delete(url, auth=auth, timeout=10)


def status() -> list[dict]:
    """Each link of this site: the shovel's state (running, starting, terminated) and the events waiting."""
    vhost = quote(_vhost(config.amqp_uri()), safe="")
    url, auth = _api(f"/shovels/{vhost}")
    shovels = {s["name"]: s for s in requests.get(url, auth=auth, timeout=10).json()}
    url, auth = _api(f"/parameters/shovel/{vhost}")
    links = []
    for parameter in requests.get(url, auth=auth, timeout=10).json():
        name, value = parameter["name"], parameter["value"]
        queue = value.get("src-queue", "")
        url, auth = _api(f"/queues/{vhost}/{quote(queue, safe='')}")
        found = requests.get(url, auth=auth, timeout=10)
        waiting = found.json().get("messages") if found.ok else None
        links.append({"shovel": name, "state": shovels.get(name, {}).get("state", "not running"), "queue": queue,
                      "waiting": waiting, "to": _redacted(value.get("dest-uri", ""))})
    return links


def _redacted(uri: str) -> str:
    url = urlparse(uri)
    return uri.replace(f":{url.password}@", ":***@") if url.password else uri
