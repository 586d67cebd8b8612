"""The gateway writes one access log line per request (gunicorn's access log, on by default)."""
import uuid

from tests.support.infra import wait_for


def test_every_request_leaves_one_line_in_the_access_log(gateway, admin):
    marker = uuid.uuid4().hex
    admin.get("/customers", q=marker)
    admin.get(f"/bookings/{uuid.uuid4()}")  # a 404 is logged too
    lines = wait_for(lambda: [l for l in gateway.log_path.read_text().splitlines() if marker in l],
                     message="the request's access log line")
    assert len(lines) == 1 and "GET /api/v1/customers" in lines[0] and " 200 " in lines[0], lines
