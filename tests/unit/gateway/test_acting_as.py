"""Who did it comes from the token: the rule (gateway.policy.acting_as) and its place in the views."""
import pytest

from gateway import auth, policy
from gateway.app import create_app
from shared.contracts import errors

RO = "55555555-5555-5555-5555-555555555555"


def caller(role, subject="tina", branch="N1"):
    return auth.Principal(subject, role, branch_id=branch, branches=frozenset([branch]))


def test_who_did_it_defaults_to_the_caller():
    assert policy.acting_as(caller("technician"), None, "technician_id") == "tina"
    assert policy.acting_as(caller("advisor", "sam"), None, "advisor") == "sam"


def test_a_technician_acts_only_as_themself():
    assert policy.acting_as(caller("technician"), "tina", "checked_by") == "tina"
    with pytest.raises(errors.Forbidden) as refused:
        policy.acting_as(caller("technician"), "ben", "checked_by")
    assert "checked_by" in refused.value.fields


def test_an_advisor_or_admin_may_record_what_a_named_colleague_did():
    assert policy.acting_as(caller("advisor", "sam"), "tina", "diagnosed_by") == "tina"
    assert policy.acting_as(caller("admin", "root", None), "ben", "checked_by") == "ben"


class Workshop:
    """Answers the workshop's commands with what it was sent."""

    def __init__(self):
        self.sent = []

    def __call__(self, service, method, *args, context_data=None):
        if method == "list_branches":
            return [{"branch_id": "N1", "region_id": "NORTH"}]
        self.sent.append((method, args[-1]))
        return {"repair_order_id": RO, "job_id": "66666666-6666-6666-6666-666666666666", **args[-1]}


class NoStore:
    def audit(self, *args):
        pass


@pytest.fixture
def workshop():
    return Workshop()


@pytest.fixture
def client(workshop):
    return create_app(call=workshop, store=NoStore(), collectors=[]).test_client()


def token(role, subject, **scope):
    return {"Authorization": "Bearer " + auth.issue_token(role, subject, **scope)}


def test_the_gateway_fills_who_did_it_from_the_token_and_refuses_another_technicians_name(client, workshop):
    tina = token("technician", "tina", branch_id="N1")
    assert client.post(f"/api/v1/repair-orders/{RO}/jobs", json={}, headers=tina).status_code == 201
    assert client.post(f"/api/v1/repair-orders/{RO}/quality-check", json={"passed": True},
                       headers=tina).status_code == 200
    assert workshop.sent == [("start_job", {"technician_id": "tina"}),
                             ("quality_check", {"passed": True, "checked_by": "tina"})]
    as_ben = client.post(f"/api/v1/repair-orders/{RO}/quality-check", json={"passed": True, "checked_by": "ben"},
                         headers=tina)
    assert as_ben.status_code == 403 and "checked_by" in as_ben.json["error"]["fields"]
    assert len(workshop.sent) == 2  # nothing was sent on


def test_the_document_says_who_did_it_is_optional(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name, field in (("workshop.StartJob", "technician_id"), ("workshop.QualityCheck", "checked_by"),
                        ("workshop.Diagnosis", "diagnosed_by"), ("workshop.Delivery", "delivered_by"),
                        ("booking.CheckIn", "advisor")):
        assert field not in schemas[name].get("required", ()), name
        assert "token" in schemas[name]["properties"][field]["description"], name
