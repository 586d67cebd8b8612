"""The after-sales journey over HTTP only, step by step: used by the e2e test, fault tests, benchmarks."""
import time
import uuid
from datetime import datetime, timedelta, timezone

from tests.support import fixtures


class StepFailed(AssertionError):
    pass


def vin() -> str:
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    raw = uuid.uuid4().int
    return "".join(alphabet[(raw >> (5 * i)) % len(alphabet)] for i in range(17))


def until(fetch, done, timeout=30.0, interval=0.05, what="state", first_after=0.03):
    """Poll `fetch()` until `done(value)`; event-driven steps land a few milliseconds later.

    The first look waits `first_after`: asked at once, the answer is almost always "not yet"
    (an event takes 10 to 30 ms to reach its handler), and every look is a request to serve.
    """
    deadline = time.monotonic() + timeout
    time.sleep(first_after)
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise StepFailed(f"timed out waiting for {what}; last: {str(value)[:300]}")
        time.sleep(interval)


class Journey:
    """One car through the workshop. `timings` keeps each step's seconds for the benchmarks."""

    PART = "BRK-PAD-F01"

    def __init__(self, advisor, technician, inspector, branch_id, slot_start=None, part_number=None):
        """`technician` diagnoses and does the work, `inspector` (another technician) checks it."""
        self.advisor, self.technician, self.inspector, self.branch_id = advisor, technician, inspector, branch_id
        self.slot_start = slot_start or fixtures.next_slot()
        self.part_number = part_number or self.PART
        self.timings: dict[str, float] = {}
        self.state: dict = {}

    def _step(self, name, fn):
        started = time.perf_counter()
        result = fn()
        self.timings[name] = time.perf_counter() - started
        return result

    def run(self, pay: bool = True) -> dict:
        """The journey to the follow-up; with `pay` False it stops at the invoice, unpaid."""
        a, t, s = self.advisor, self.technician, self.state
        s["customer"] = self._step("customer", lambda: a.ok("POST", "/customers", {
            "branch_id": self.branch_id, "name": "Ada Example", "email": "ada@example.com"}))
        s["plate"] = f"J {uuid.uuid4().hex[:5].upper()}"
        s["vehicle"] = self._step("vehicle", lambda: a.ok("POST", "/vehicles", {
            "customer_id": s["customer"]["customer_id"], "vin": vin(), "plate": s["plate"], "model": "Golf"}))
        s["booking"] = self._step("booking", lambda: _created(until(
            lambda: a.post("/bookings", fixtures.booking_request(
                self.branch_id, s["customer"]["customer_id"], s["vehicle"]["vehicle_id"], self.slot_start)),
            lambda r: r.status_code != 422 or "vehicle_id" not in r.json()["error"]["fields"],
            what="the vehicle copy in booking", first_after=0)))  # booking asks crm if its copy lags
        booking_id = s["booking"]["booking_id"]
        self._step("confirm", lambda: a.ok("POST", f"/bookings/{booking_id}/confirmation"))
        self._step("check_in", lambda: a.ok("POST", f"/bookings/{booking_id}/check-in", {
            "odometer_km": 42000, "fault_description": "squeal when braking, only when cold"}))
        s["ro"] = self._step("repair_order_opened", lambda: until(
            lambda: a.get("/repair-orders", customer_id=s["customer"]["customer_id"]).json().get("items"),
            bool, what="the repair order")[0])
        ro = s["ro"]["repair_order_id"]
        self._step("diagnosis", lambda: t.ok("POST", f"/repair-orders/{ro}/diagnosis", {
            "findings": [{"code": "C1234", "description": "front pads at 2 mm", "status": "red"}]}))
        s["quote"] = self._step("quote", lambda: a.ok("POST", f"/repair-orders/{ro}/quotes", {"lines": [
            {"kind": "labour", "group": "must", "description": "replace front brake pads", "quantity": "1.5"},
            {"kind": "part", "group": "must", "description": "front brake pads", "part_number": self.part_number,
             "quantity": "1"},
            {"kind": "labour", "group": "recommended", "description": "replace wiper blades", "quantity": "0.3"},
        ]}))
        lines = s["quote"]["lines"]
        self._step("approval", lambda: a.ok("POST", f"/repair-orders/{ro}/approval", {
            "quote_id": s["quote"]["quote_id"], "consent": {"method": "signature", "by": "Ada Example"},
            "decisions": [{"line_id": lines[0]["line_id"], "approved": True},
                          {"line_id": lines[1]["line_id"], "approved": True},
                          {"line_id": lines[2]["line_id"], "approved": False}]}))
        self._step("parts_reserved", lambda: until(
            lambda: a.ok("GET", f"/repair-orders/{ro}"), lambda r: r["parts_status"] in ("reserved", "short"),
            what="parts reserved"))
        job = self._step("job_started", lambda: t.ok("POST", f"/repair-orders/{ro}/jobs", {}))
        self._step("job_finished", lambda: t.ok("POST", f"/repair-orders/{ro}/jobs/{job['job_id']}/finish", {}))
        self._step("quality_check", lambda: self.inspector.ok("POST", f"/repair-orders/{ro}/quality-check", {
            "passed": True, "notes": "road test fine"}))
        s["delivered"] = self._step("delivery", lambda: a.ok("POST", f"/repair-orders/{ro}/delivery", {}))
        s["invoice"] = self._step("invoice_issued", lambda: until(
            lambda: a.get(f"/repair-orders/{ro}/invoice"), lambda r: r.status_code == 200,
            what="the invoice").json())
        if not pay:
            return s
        s["paid"] = self._step("payment", lambda: a.ok("POST", f"/invoices/{s['invoice']['invoice_id']}/payments", {
            "amount_cents": s["invoice"]["total_cents"], "method": "card"}))
        s["follow_up"] = self._step("follow_up", lambda: until(
            lambda: a.ok("GET", "/follow-ups", repair_order_id=ro)["items"], bool, what="the follow-up")[0])
        return s


def _created(response):
    if response.status_code != 201:
        raise StepFailed(f"booking refused: {response.status_code} {response.text[:300]}")
    return response.json()


def expected_follow_up(delivered_at: str) -> datetime:
    return datetime.fromisoformat(delivered_at).astimezone(timezone.utc) + timedelta(hours=72)
