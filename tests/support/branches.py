"""A branch of a test's own, and cars to book there: shifts, extras or a slot filled at a shared branch
would change every other test's bookings there."""
import uuid

from tests.support import fixtures
from tests.support.infra import wait_for
from tests.support.journey import vin


def own_branch(admin, world, prefix: str, bays: int) -> str:
    """A new branch in the world's region with `bays` bays, once crm knows it."""
    branch_id = f"{prefix}-{uuid.uuid4().hex[:6]}"
    admin.ok("POST", "/branches", fixtures.branch(branch_id, region_id=world["region"], bays=bays), status=201)
    wait_for(lambda: admin.post("/customers", {"branch_id": branch_id, "name": "Branch Probe"}).status_code == 201,
             message=f"crm to know {branch_id}")
    return branch_id


def cars(api, branch_id, n: int, name: str, plate: str, model: str) -> tuple[str, list[str]]:
    """A customer of the branch with `n` cars: (customer_id, [vehicle_id, ...])."""
    customer = api.ok("POST", "/customers", {"branch_id": branch_id, "name": name})
    return customer["customer_id"], [
        api.ok("POST", "/vehicles", {"customer_id": customer["customer_id"], "vin": vin(),
                                     "plate": f"{plate} {uuid.uuid4().hex[:4]}", "model": model})["vehicle_id"]
        for _ in range(n)]
