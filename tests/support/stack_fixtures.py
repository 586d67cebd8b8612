"""The whole stack for API and end-to-end tests: every service and the gateway, real processes, once per run."""
import pytest

from tests.support import fixtures
from tests.support.gateway import Api, GatewayProcess
from tests.support.infra import wait_for

from shared.config import INTEGRATIONS, SERVICES
BRANCH, OTHER_BRANCH, REGION = "E2E-B1", "E2E-B2", "E2E-R1"
FAR_BRANCH, FAR_REGION = "E2E-C1", "E2E-R2"
PART = "BRK-PAD-F01"


@pytest.fixture(scope="session")
def gateway(stack):
    stack(*SERVICES, *INTEGRATIONS)
    process = GatewayProcess().start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def admin(gateway):
    return Api.as_role(gateway.url, "admin")


def make_world(admin, far=True) -> dict:
    """Two branches of one region (and one of another region with `far`), a part with stock at the first:
    set up through the API, as a stack's tests expect it."""
    branches = [(BRANCH, REGION), (OTHER_BRANCH, REGION)] + ([(FAR_BRANCH, FAR_REGION)] if far else [])
    for branch_id, region_id in branches:
        admin.ok("POST", "/branches", fixtures.branch(branch_id, region_id=region_id, bays=40), status=201)
    admin.ok("POST", "/parts", {"part_number": PART, "description": "front brake pads", "origin": "oem",
                                "price_cents": 8900, "warranty_months": 36, "warranty_km": 50000}, status=201)
    wait_for(lambda: admin.post("/stock/receipts", {"branch_id": BRANCH, "part_number": PART,
                                                    "quantity": 500}).status_code == 201,
             message="parts to know the branch")
    for branch_id, _ in branches:  # crm refuses a customer at a branch it does not know
        wait_for(lambda: admin.post("/customers", {"branch_id": branch_id, "name": "Branch Probe"}).status_code == 201,
                 message=f"crm to know {branch_id}")
    return {"branch": BRANCH, "other_branch": OTHER_BRANCH, "region": REGION, "part": PART,
            **({"far_branch": FAR_BRANCH, "far_region": FAR_REGION} if far else {})}


@pytest.fixture(scope="session")
def world(gateway, admin):
    return make_world(admin)


@pytest.fixture(scope="session")
def advisor(gateway, world):
    return Api.as_role(gateway.url, "advisor", branch_id=BRANCH)


@pytest.fixture(scope="session")
def technician(gateway, world):
    return Api.as_role(gateway.url, "technician", branch_id=BRANCH)


@pytest.fixture(scope="session")
def colleague(gateway, world):
    """A technician of the branch by name: who clocks on and who checks a repair is the token's subject."""
    return lambda name: Api.as_role(gateway.url, "technician", subject=name, branch_id=BRANCH)


@pytest.fixture(scope="session")
def inspector(colleague):
    """The second technician who checks a repair the first one worked on (a peer check)."""
    return colleague("test-inspector")
