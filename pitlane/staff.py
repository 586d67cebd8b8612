"""Staff who sign in to the console: added from the command line, and the demo group's people."""
from gateway import staff
from pitlane.demo_day import ADVISORS, TECHNICIANS

DEMO_PASSWORD = "pitlane-demo"  # the demo's people only; printed by `make run`, never used elsewhere


def add(store, login, name, password, role, branch_id=None, region_id=None):
    member, password_hash = staff.new_member(login, name, password, role, branch_id, region_id)
    store.add_staff(member, password_hash)
    return member


def demo_people() -> list[tuple]:
    """(login, name, role, branch, region) of the demo group's staff: an advisor at N1 and S1, the
    technicians of the demo day (their login is their technician id), a parts coordinator per
    region, operations and an administrator."""
    people = [(f"advisor-{b.lower()}", f"{name.title()} ({b})", "advisor", b, None) for b, name in ADVISORS.items()]
    people += [(t, t.rsplit("-", 1)[1].title(), "technician", b, None) for b, techs in TECHNICIANS.items() for t in techs]
    people += [("parts-north", "Parts North", "parts_coordinator", None, "NORTH"),
               ("parts-south", "Parts South", "parts_coordinator", None, "SOUTH"),
               ("ops", "Operations", "operations", None, None), ("admin", "Administrator", "admin", None, None)]
    return people


def add_demo_people(store) -> list[str]:
    for login, name, role, branch_id, region_id in demo_people():
        if store.staff_member(login) is None:  # a second load keeps a password someone changed
            add(store, login, name, DEMO_PASSWORD, role, branch_id, region_id)
    return [p[0] for p in demo_people()]
