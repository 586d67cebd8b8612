"""The audit trail over the real stack: every write lands, with who did it and when."""
import uuid
from datetime import datetime, timezone

from gateway.auth import issue_token
from tests.support.gateway import Api
from tests.support.infra import wait_for


def test_a_write_lands_in_the_audit_trail_with_its_author_and_time(gateway, world, admin):
    subject = f"audit-probe-{uuid.uuid4().hex[:8]}"
    advisor = Api(gateway.url, issue_token("advisor", subject, branch_id=world["branch"]))
    before = datetime.now(timezone.utc)
    customers = [advisor.ok("POST", "/customers", {"branch_id": world["branch"], "name": f"Audited {i}"})
                 for i in range(3)]

    def the_rows():
        rows = admin.ok("GET", "/audit", subject=subject)["items"]
        return rows if len(rows) == 3 else None

    rows = wait_for(the_rows, timeout=5, message="the three writes in the audit trail")
    assert [r["record_id"] for r in rows] == [c["customer_id"] for c in customers]
    for row in rows:
        assert (row["role"], row["method"], row["path"], row["status"]) == ("advisor", "POST", "/api/v1/customers", 201)
        assert before <= datetime.fromisoformat(row["at"]) <= datetime.now(timezone.utc)
