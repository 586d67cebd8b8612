"""The whole stack for end-to-end tests: five services and the gateway, real processes."""
import pytest

from tests.support import fixtures
from tests.support.gateway import Api, GatewayProcess
from tests.support.infra import wait_for

SERVICES = ("booking", "workshop", "parts", "billing", "crm")
BRANCH, OTHER_BRANCH, REGION = "E2E-B1", "E2E-B2", "E2E-R1"
PART = "BRK-PAD-F01"


@pytest.fixture(scope="session")
def gateway(stack):
    stack(*SERVICES)
    process = GatewayProcess().start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def admin(gateway):
    return Api.as_role(gateway.url, "admin")


@pytest.fixture(scope="session")
def world(gateway, admin):
    """Two branches of one region, a part with stock at the first: set up through the API."""
    for branch_id in (BRANCH, OTHER_BRANCH):
        admin.ok("POST", "/branches", fixtures.branch(branch_id, region_id=REGION, bays=40), status=201)
    admin.ok("POST", "/parts", {"part_number": PART, "description": "front brake pads", "origin": "oem",
                                "price_cents": 8900, "warranty_months": 36, "warranty_km": 50000}, status=201)
    wait_for(lambda: admin.post("/stock/receipts", {"branch_id": BRANCH, "part_number": PART,
                                                    "quantity": 500}).status_code == 201,
             message="parts to know the branch")
    return {"branch": BRANCH, "other_branch": OTHER_BRANCH, "region": REGION, "part": PART}


@pytest.fixture(scope="session")
def advisor(gateway, world):
    return Api.as_role(gateway.url, "advisor", branch_id=BRANCH)


@pytest.fixture(scope="session")
def technician(gateway, world):
    return Api.as_role(gateway.url, "technician", branch_id=BRANCH)
