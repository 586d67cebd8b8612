"""The five services together over the real broker: the journey driven by RPC, steps joined by events."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from shared.contracts import errors
from tests.support import fixtures
from tests.support.bus import EventRecorder, rpc_proxy
from tests.support.infra import wait_for

from shared.config import SERVICES


@pytest.fixture(scope="module")
def world(stack):
    stack(*SERVICES)
    with rpc_proxy() as rpc:
        rpc.booking.configure_branch(fixtures.branch("SJ-B1", region_id="SJ-R1", bays=50))
        rpc.parts.catalogue_part({"part_number": "SJ-PAD-1", "description": "brake pads front", "origin": "oem",
                                  "price_cents": 8900, "warranty_months": 36})
        # parts learns of the branch from branch.configured; until then it refuses the stock
        wait_for(lambda: _attempt(rpc.parts.receive_stock,
                                  {"branch_id": "SJ-B1", "part_number": "SJ-PAD-1", "quantity": 5}),
                 message="the branch copy in parts")
        rpc.parts.set_thresholds({"branch_id": "SJ-B1", "part_number": "SJ-PAD-1", "reorder_point": 2,
                                  "safety_stock": 1})
    return "SJ-B1"


def _attempt(call, *args):
    try:
        return call(*args)
    except errors.NotFound:
        return None


def customer_with_vehicle(rpc, branch_id, plate="SJ 1"):
    customer = rpc.crm.create_customer({"branch_id": branch_id, "name": "Ada Example", "email": "ada@example.com"})
    vin = ("WVWZZZ1JZ" + uuid.uuid4().hex.upper()[:8]).replace("I", "J").replace("O", "0").replace("Q", "0")
    vehicle = rpc.crm.register_vehicle({"customer_id": customer["customer_id"], "vin": vin, "plate": plate,
                                        "model": "Golf"})
    return customer, vehicle


def book_and_check_in(rpc, branch_id, customer, vehicle, slot=None):
    request = fixtures.booking_request(branch_id, customer["customer_id"], vehicle["vehicle_id"], slot_start=slot)
    booking = wait_for(lambda: _create(rpc, request), message="vehicle copy in booking")
    rpc.booking.confirm_booking(booking["booking_id"])
    rpc.booking.check_in(booking["booking_id"], {"odometer_km": 42000, "fault_description": "squeal braking",
                                                 "advisor": "sam"})
    page = wait_for(lambda: rpc.workshop.list_repair_orders({"customer_id": customer["customer_id"]})["items"],
                    message="repair order opened")
    return booking, page[0]


def _create(rpc, request):
    try:
        return rpc.booking.create_booking(request)
    except errors.Unprocessable:
        return None


def test_the_whole_journey_across_the_services(world, rpc):
    customer, vehicle = customer_with_vehicle(rpc, world)
    with EventRecorder() as recorder:
        booking, ro = book_and_check_in(rpc, world, customer, vehicle)
        assert ro["status"] == "checked_in" and ro["number"].startswith("RO-SJ-B1-")
        rpc.workshop.record_diagnosis(ro["repair_order_id"], {
            "findings": [{"description": "front pads at 2 mm", "status": "red"}], "diagnosed_by": "tina"})
        quote = rpc.workshop.issue_quote(ro["repair_order_id"], {"lines": [
            {"kind": "labour", "description": "replace front pads", "quantity": "1.5"},
            {"kind": "part", "description": "front pads", "part_number": "SJ-PAD-1", "quantity": "1"},
            {"kind": "labour", "description": "wiper blades", "group": "recommended", "quantity": "0.5"},
        ]})
        labour, part, wipers = quote["lines"]
        assert labour["net_cents"] == 14250 and part["net_cents"] == 8900 and quote["total_cents"] == 27900
        rpc.workshop.approve_quote(ro["repair_order_id"], {
            "quote_id": quote["quote_id"], "consent": {"method": "signature", "by": "Ada Example"},
            "decisions": [{"line_id": labour["line_id"], "approved": True},
                          {"line_id": part["line_id"], "approved": True},
                          {"line_id": wipers["line_id"], "approved": False}]})
        wait_for(lambda: rpc.workshop.get_repair_order(ro["repair_order_id"])["parts_status"] == "reserved",
                 message="parts reserved")
        stock = rpc.parts.get_stock(world, "SJ-PAD-1")
        assert stock["reserved"] >= 1
        job = rpc.workshop.start_job(ro["repair_order_id"], {"technician_id": "tech-1"})
        rpc.workshop.finish_job(ro["repair_order_id"], job["job_id"], {})
        with pytest.raises(errors.Unprocessable):
            rpc.workshop.quality_check(ro["repair_order_id"], {"checked_by": "tech-1", "passed": True})
        rpc.workshop.quality_check(ro["repair_order_id"], {"checked_by": "tech-2", "passed": True})
        delivered = rpc.workshop.deliver(ro["repair_order_id"], {"delivered_by": "sam"})
        assert delivered["status"] == "delivered"
        invoice = wait_for(lambda: _invoice(rpc, ro["repair_order_id"]), message="invoice issued")
        assert invoice["subtotal_cents"] == 23150
        assert invoice["tax_cents"] == 4399  # 19 % of 231.50, half up
        assert invoice["total_cents"] == 27549
        rpc.billing.record_payment(invoice["invoice_id"], {"amount_cents": 7549, "method": "card"})
        paid = rpc.billing.record_payment(invoice["invoice_id"], {"amount_cents": 20000, "method": "cash"})
        assert paid["status"] == "paid" and paid["balance_cents"] == 0
        follow_up = wait_for(lambda: rpc.crm.list_follow_ups({"repair_order_id": ro["repair_order_id"]})["items"],
                             message="follow-up scheduled")[0]
        delivered_at = datetime.fromisoformat(delivered["delivered_at"])
        assert datetime.fromisoformat(follow_up["due_at"]) == delivered_at + timedelta(hours=72)
        recorder.wait_for("invoice.paid", invoice_id=invoice["invoice_id"])
        recorder.wait_for("parts.consumed", repair_order_id=ro["repair_order_id"])
    stock_after = rpc.parts.get_stock(world, "SJ-PAD-1")
    assert stock_after["on_hand"] == stock["on_hand"] - 1
    view = wait_for(lambda: (v := rpc.workshop.customer_view(ro["number"], "sj1"))["status"] == "closed" and v,
                    message="the paid repair order closed")  # closed once its invoice is paid
    assert view["stage"] == "Handed over" and view["approved_total_cents"] == 23150
    assert [l["description"] for l in view["approved_lines"]] == ["replace front pads", "front pads"]
    with pytest.raises(errors.NotFound):
        rpc.workshop.customer_view(ro["number"], "XX 999")


def _invoice(rpc, repair_order_id):
    try:
        return rpc.billing.invoice_for_repair_order(repair_order_id)
    except errors.NotFound:
        return None


def test_the_last_unit_never_goes_to_two_repair_orders(world, rpc):
    rpc.parts.catalogue_part({"part_number": "SJ-LAST-1", "description": "rare sensor", "origin": "oem",
                              "price_cents": 12000, "warranty_months": 24})
    rpc.parts.receive_stock({"branch_id": world, "part_number": "SJ-LAST-1", "quantity": 3})
    orders = []
    for i in range(10):
        customer, vehicle = customer_with_vehicle(rpc, world, plate=f"SJL {i}")
        orders.append(book_and_check_in(rpc, world, customer, vehicle, slot=fixtures.next_slot(hours_ahead=3))[1])
    wait_for(lambda: rpc.workshop.issue_quote(orders[0]["repair_order_id"], {"lines": [
        {"kind": "part", "description": "sensor", "part_number": "SJ-LAST-1", "quantity": "1"}]}),
        message="the part price copy in workshop")

    def approve(ro):
        with rpc_proxy() as proxy:
            quote = proxy.workshop.list_quotes({"repair_order_id": ro["repair_order_id"]})["items"]
            if not quote or quote[-1]["status"] != "open":
                quote = [proxy.workshop.issue_quote(ro["repair_order_id"], {"lines": [
                    {"kind": "part", "description": "sensor", "part_number": "SJ-LAST-1", "quantity": "1"}]})]
            q = quote[-1]
            proxy.workshop.approve_quote(ro["repair_order_id"], {
                "quote_id": q["quote_id"], "consent": {"method": "app", "by": "customer"},
                "decisions": [{"line_id": q["lines"][0]["line_id"], "approved": True}]})

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(approve, orders))

    def settled():
        states = [rpc.workshop.get_repair_order(o["repair_order_id"])["parts_status"] for o in orders]
        return states if all(s in ("reserved", "short") for s in states) else None

    states = wait_for(settled, timeout=30, message="every order reserved or short")
    assert states.count("reserved") == 3 and states.count("short") == 7
    stock = rpc.parts.get_stock(world, "SJ-LAST-1")
    assert stock["reserved"] == 3 and stock["available"] == 0
