"""Two sites on this machine (docs/sites.md), each with its own RabbitMQ node, PostgreSQL cluster, service
processes and gateway, linked by real shovels through a proxy that stands for the WAN: a repair order at
north is served by stock at south through a transfer; the link is cut while transfers are in flight and
restored; every step arrives once and in order, both sites serve their customers throughout, donor
ranking stops proposing figures that grew too old, and the group SLA view shows both sites with the age
of their figures. The nodes and clusters are the test's own and are removed; the machine's broker and
database are never used."""
import json
import threading
import time

import pytest
import requests

from tests.support import fixtures
from tests.support.gateway import metric
from tests.support.infra import wait_for
from tests.support.journey import Journey, until
from tests.support.sites import two_sites

NORTH_BRANCH, NORTH_REGION = "N1", "R-NORTH"
SOUTH_BRANCH, SOUTH_REGION = "S1", "R-SOUTH"
SHORT_PART = "TURBO-77"  # only south has it
JOURNEY_PART = "BRK-PAD-F01"  # both sites have plenty: the journeys of each site's own customers
MAX_AGE = 6  # seconds: remote figures older than this are not proposed
STEPS = ["requested", "approved", "picked", "dispatched", "tracking_sent", "received", "closed"]


@pytest.fixture(scope="module")
def linked():
    with two_sites((NORTH_REGION,), (SOUTH_REGION,), figures_interval=1, remote_figures_max_age=MAX_AGE) as sites:
        yield sites


def set_up(site, branch_id, region_id, short_stock):
    admin = site.api("admin")
    admin.ok("POST", "/branches", fixtures.branch(branch_id, region_id=region_id, bays=40), status=201)
    for part_number, description in ((SHORT_PART, "turbocharger"), (JOURNEY_PART, "front brake pads")):
        admin.ok("POST", "/parts", {"part_number": part_number, "description": description, "origin": "oem",
                                    "price_cents": 8900, "warranty_months": 24, "warranty_km": 50000}, status=201)
    wait_for(lambda: admin.post("/stock/receipts", {"branch_id": branch_id, "part_number": JOURNEY_PART,
                                                    "quantity": 200}).status_code == 201,
             timeout=30, message=f"parts at {site.name} to know {branch_id}")
    if short_stock:
        admin.ok("POST", "/stock/receipts", {"branch_id": branch_id, "part_number": SHORT_PART,
                                             "quantity": short_stock}, status=201)
        admin.ok("POST", "/stock/thresholds", {"branch_id": branch_id, "part_number": SHORT_PART,
                                               "reorder_point": 2, "safety_stock": 2})
    wait_for(lambda: admin.post("/customers", {"branch_id": branch_id, "name": "Branch Probe"}).status_code == 201,
             timeout=30, message=f"crm at {site.name} to know {branch_id}")
    return admin


def people(site, branch_id, region_id):
    return {"advisor": site.api("advisor", branch_id=branch_id),
            "technician": site.api("technician", branch_id=branch_id),
            "inspector": site.api("technician", subject=f"inspector-{site.name}", branch_id=branch_id),
            "coordinator": site.api("parts_coordinator", region_id=region_id)}


def short_repair_order(who, branch_id) -> str:
    """A repair order at `branch_id` approved with one turbocharger its branch has none of: it waits."""
    journey = Journey(who["advisor"], who["technician"], who["inspector"], branch_id, part_number=SHORT_PART,
                      slot_start=fixtures.next_slot(hours_ahead=3))
    a = who["advisor"]
    customer = a.ok("POST", "/customers", {"branch_id": branch_id, "name": "Noor North"})
    vehicle = a.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": "WVWZZZ1KZ8W123456",
                                         "plate": "HH N 28", "model": "Passat"})
    booking = until(lambda: a.post("/bookings", fixtures.booking_request(
        branch_id, customer["customer_id"], vehicle["vehicle_id"], journey.slot_start)),
        lambda r: r.status_code == 201, what="the booking").json()
    a.ok("POST", f"/bookings/{booking['booking_id']}/confirmation")
    a.ok("POST", f"/bookings/{booking['booking_id']}/check-in", {"odometer_km": 81000,
                                                                "fault_description": "no boost"})
    ro = until(lambda: a.get("/repair-orders", customer_id=customer["customer_id"]).json().get("items"), bool,
               what="the repair order")[0]["repair_order_id"]
    who["technician"].ok("POST", f"/repair-orders/{ro}/diagnosis", {
        "findings": [{"code": "P0299", "description": "turbo underboost", "status": "red"}]})
    quote = a.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": [
        {"kind": "labour", "group": "must", "description": "replace turbocharger", "quantity": "3"},
        {"kind": "part", "group": "must", "description": "turbocharger", "part_number": SHORT_PART, "quantity": "1"}]})
    a.ok("POST", f"/repair-orders/{ro}/approval", {
        "quote_id": quote["quote_id"], "consent": {"method": "signature", "by": "Noor North"},
        "decisions": [{"line_id": line["line_id"], "approved": True} for line in quote["lines"]]})
    until(lambda: a.ok("GET", f"/repair-orders/{ro}"), lambda r: r["parts_status"] == "short", what="the shortage")
    return ro


def donors_at_north(north_admin, quantity=1):
    return north_admin.ok("GET", "/donors", branch_id=NORTH_BRANCH, part_number=SHORT_PART, quantity=quantity)


def journeys(site, who, branch_id, count, results, offset):
    """`count` whole journeys of the site's own customers, booking to follow-up, one after the other."""
    for i in range(count):
        journey = Journey(who["advisor"], who["technician"].another(), who["inspector"], branch_id,
                          part_number=JOURNEY_PART, slot_start=fixtures.next_slot(hours_ahead=10 + offset + i))
        try:
            journey.run()
            results.append((site.name, time.monotonic()))
        except AssertionError as exc:
            results.append((site.name, f"failed: {exc}"[:300]))


def console_page(site, login, role, path, **scope) -> str:
    """A console page as a member of the site's staff sees it, signed in with a password."""
    password = "pitlane-sites-test"
    site.cli("staff", "add", "--login", login, "--role", role, "--password", password,
             *[arg for key, value in scope.items() for arg in (f"--{key}", value)])
    with requests.Session() as browser:
        signed = browser.post(site.url + "/console/sign-in", data={"login": login, "password": password}, timeout=30)
        assert signed.status_code == 200, signed.text[:300]
        page = browser.get(site.url + path, timeout=60)
        assert page.status_code == 200, page.text[:300]
        return page.text


def waiting_in_status(site, to) -> int:
    """What `pitlane sites status` at `site` says waits for `to`."""
    (line,) = [line for line in site.cli("sites", "status").stdout.splitlines() if f"pitlane-to-{to} " in line]
    waiting = line.split("waiting", 1)[1].split()[0]
    return int(waiting) if waiting.isdigit() else 0


def resend_crossing_events(source, target, like) -> list:
    """Publish again into `target`'s sites.events every crossing event of `source`'s parts outbox whose
    type is `like` (SQL LIKE), as they left the first time."""
    import kombu
    import psycopg

    with psycopg.connect(source.dsn) as conn:
        rows = conn.execute("SELECT event_type, payload::text FROM parts.outbox WHERE crossing AND event_type LIKE %s"
                            " ORDER BY id", (like,)).fetchall()
    with kombu.Connection(target.amqp_uri) as broker:
        producer = broker.Producer(exchange=kombu.Exchange("sites.events", "topic", durable=True))
        for event_type, payload in rows:
            producer.publish(payload, routing_key=event_type, content_type="application/json",
                             content_encoding="utf-8", delivery_mode=2)
    return rows


def steps_of(admin, transfer_id):
    return [s["step"] for s in admin.ok("GET", f"/transfers/{transfer_id}")["steps"]]


def test_a_repair_order_at_north_is_served_by_south_through_a_transfer_across_a_cut_of_the_link(linked):
    north, south, link = linked
    north_admin = set_up(north, NORTH_BRANCH, NORTH_REGION, short_stock=0)
    south_admin = set_up(south, SOUTH_BRANCH, SOUTH_REGION, short_stock=12)
    at_north, at_south = people(north, NORTH_BRANCH, NORTH_REGION), people(south, SOUTH_BRANCH, SOUTH_REGION)

    # a site serves its own regions only
    refused = north_admin.post("/branches", fixtures.branch("S9", region_id=SOUTH_REGION))
    assert refused.status_code == 422 and "region_id" in refused.json()["error"]["fields"], refused.text

    # north ranks south's shelf by south's figures, with their age: 12 on hand, 2 kept as safety stock
    plan = until(lambda: donors_at_north(north_admin), lambda p: p["donors"], timeout=30, what="south's figures")
    (donor,) = plan["donors"]
    assert (donor["branch_id"], donor["site"], donor["can_give"], donor["stale"]) == (SOUTH_BRANCH, "south", 10, False)
    assert donor["age_seconds"] <= MAX_AGE and plan["proposal"]["from_branch_id"] == SOUTH_BRANCH

    # a repair order at north waits for a turbocharger; the coordinator takes south's proposal for it,
    # and asks for three more for the shelf
    ro = short_repair_order(at_north, NORTH_BRANCH)
    coordinator = at_north["coordinator"]
    for_order = coordinator.ok("POST", "/donors/acceptance", {
        "branch_id": NORTH_BRANCH, "from_branch_id": SOUTH_BRANCH, "part_number": SHORT_PART, "quantity": 1,
        "repair_order_id": ro}, status=201)
    assert (for_order["from_site"], for_order["to_site"]) == ("south", "north")
    shelf = [coordinator.ok("POST", "/transfers", {"branch_id": NORTH_BRANCH, "from_branch_id": SOUTH_BRANCH,
                                                   "part_number": SHORT_PART, "quantity": 1}, status=201)
             for _ in range(3)]
    ids = [for_order["transfer_id"]] + [t["transfer_id"] for t in shelf]

    # south gets the requests; north cannot take south's steps
    until(lambda: [south_admin.get(f"/transfers/{i}").status_code for i in ids], lambda codes: codes == [200] * 4,
          timeout=30, what="the requests at south")
    refused = coordinator.post(f"/transfers/{ids[0]}/status", {"status": "approved"})
    assert refused.status_code == 409 and "site, south" in refused.json()["error"]["message"], refused.text
    sender = at_south["coordinator"]
    for transfer_id in ids:
        for step in ("approved", "picked"):
            sender.ok("POST", f"/transfers/{transfer_id}/status", {"status": step})

    until(lambda: [north_admin.ok("GET", f"/transfers/{i}")["status"] for i in ids],
          lambda statuses: statuses == ["picked"] * 4, timeout=30, what="the picks at north")

    # the link goes down with the transfers in flight; each site goes on serving its own customers
    link.cut()
    cut_at = time.monotonic()
    served = []
    workers = [threading.Thread(target=journeys, args=(site, who, branch, 2, served, offset))
               for site, who, branch, offset in ((north, at_north, NORTH_BRANCH, 0), (south, at_south, SOUTH_BRANCH, 5))]
    for worker in workers:
        worker.start()
    for transfer_id in ids:
        sender.ok("POST", f"/transfers/{transfer_id}/status", {"status": "dispatched"})
        sender.ok("POST", f"/transfers/{transfer_id}/tracking", {"tracking_reference": f"DHL-{transfer_id[:8]}"})
    wait_for(lambda: (south.queue_depth("pitlane.sites.to.north") or 0) > 0, timeout=15,
             message="south's steps to wait in its link queue")
    wait_for(lambda: waiting_in_status(south, "north") > 0, timeout=15, message="`pitlane sites status` to show them")
    assert [north_admin.ok("GET", f"/transfers/{i}")["status"] for i in ids] == ["picked"] * 4
    # north's figures of south age past the limit: south is listed, stale, and a purchase is proposed
    plan = until(lambda: donors_at_north(north_admin), lambda p: p["donors"] and p["donors"][0]["stale"],
                 timeout=30, what="south's figures to grow old at north")
    assert plan["proposal"]["kind"] == "purchase" and plan["donors"][0]["age_seconds"] >= MAX_AGE
    group = north_admin.ok("GET", "/sla/summary")["sites"]
    assert [s["site"] for s in group] == ["north", "south"] and group[1]["age_seconds"] >= MAX_AGE
    assert metric(north, "pitlane_site_figures_age_seconds", site="south") >= MAX_AGE  # what SiteFiguresOld watches
    # and the console says so: the coordinator's donor for the waiting order is too old to take, and
    # operations see south's figures ageing
    parts_page = console_page(north, "parts-north", "parts_coordinator", "/console/parts", region=NORTH_REGION)
    assert "site south, figures" in parts_page and "figures too old: ask site south" in parts_page
    operations_page = console_page(north, "ops-north", "operations", "/console/operations")
    assert 'data-site="south"' in operations_page and "link down?" in operations_page
    for worker in workers:
        worker.join(timeout=240)
    assert not [r for r in served if isinstance(r[1], str)], served
    assert sorted(site for site, _ in served) == ["north", "north", "south", "south"]
    assert all(at > cut_at for _, at in served)  # both sites served their customers during the cut

    # the link comes back: south's steps arrive, in order, once
    link.restore()
    until(lambda: [north_admin.ok("GET", f"/transfers/{i}") for i in ids],
          lambda ts: all(t["status"] == "dispatched" and t["tracking_reference"] for t in ts), timeout=60,
          what="the dispatches at north")
    assert north_admin.ok("GET", "/stock", branch_id=NORTH_BRANCH, part_number=SHORT_PART)["items"][0]["in_transit"] == 4
    # the tracking reference, given at south, reached north's workshop as a local event (the advisor's timeline)
    until(lambda: json.dumps(at_north["advisor"].ok("GET", f"/repair-orders/{ro}")["timeline"]),
          lambda timeline: f"DHL-{ids[0][:8]}" in timeline, timeout=30, what="the tracking reference at north")
    plan = until(lambda: donors_at_north(north_admin), lambda p: p["donors"] and not p["donors"][0]["stale"],
                 timeout=30, what="south's figures fresh again")
    assert metric(north, "pitlane_site_figures_age_seconds", site="south") <= MAX_AGE
    assert plan["donors"][0]["available"] == 8  # 12 less the 4 sent

    # north receives: the repair order waiting for the part is served first, then goes on to its invoice
    for transfer_id in ids:
        coordinator.ok("POST", f"/transfers/{transfer_id}/status", {"status": "received"})
        coordinator.ok("POST", f"/transfers/{transfer_id}/status", {"status": "closed"})
    advisor, technician = at_north["advisor"], at_north["technician"]
    assert advisor.ok("GET", f"/repair-orders/{ro}")["parts_status"] == "reserved"
    job = technician.ok("POST", f"/repair-orders/{ro}/jobs", {})
    technician.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {})
    at_north["inspector"].ok("POST", f"/repair-orders/{ro}/quality-check", {"passed": True, "notes": "boost ok"})
    advisor.ok("POST", f"/repair-orders/{ro}/delivery", {})
    until(lambda: advisor.get(f"/repair-orders/{ro}/invoice"), lambda r: r.status_code == 200, what="the invoice")

    # both sites' copies end closed with every step once, in the order taken
    until(lambda: [south_admin.ok("GET", f"/transfers/{i}")["status"] for i in ids],
          lambda statuses: statuses == ["closed"] * 4, timeout=30, what="the receipts and closes at south")
    for transfer_id in ids:
        assert steps_of(north_admin, transfer_id) == STEPS
        assert steps_of(south_admin, transfer_id) == STEPS
    stock = {name: admin.ok("GET", "/stock", branch_id=branch, part_number=SHORT_PART)["items"][0]
             for name, admin, branch in (("north", north_admin, NORTH_BRANCH), ("south", south_admin, SOUTH_BRANCH))}
    assert (stock["south"]["on_hand"], stock["south"]["reserved"]) == (8, 0)
    # four arrived at north, one of them fitted to the repair order delivered
    assert (stock["north"]["on_hand"], stock["north"]["reserved"], stock["north"]["in_transit"]) == (3, 0, 0)
    # a copy of every step south sent, as a shovel that lost its confirms sends again: no second effect
    copies = resend_crossing_events(south, north, "transfer.%")
    assert len(copies) == 4 * 4  # approved, picked, dispatched, tracking_sent of each
    time.sleep(2)
    for transfer_id in ids:
        assert steps_of(north_admin, transfer_id) == STEPS
    assert north_admin.ok("GET", "/stock", branch_id=NORTH_BRANCH, part_number=SHORT_PART)["items"][0]["on_hand"] == 3
    for admin in (north_admin, south_admin):
        assert admin.ok("GET", "/dead-letters")["count"] == 0

    # the group view at either site: both sites' compliance, each with the age of its figures
    for admin, here in ((north_admin, "north"), (south_admin, "south")):
        group = until(lambda: admin.ok("GET", "/sla/summary")["sites"],
                      lambda g: len(g) == 2 and all(s["age_seconds"] <= MAX_AGE for s in g), timeout=30,
                      what=f"the group view at {here}")
        assert group[0]["site"] == here and group[0]["local"] and group[0]["age_seconds"] == 0
        assert {s["site"] for s in group} == {"north", "south"}
        assert all(s["compliance"] for s in group)  # each site's journeys started clocks
