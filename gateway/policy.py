"""Who may do what: one table, read by every route. Scope (branch, region) is checked separately."""
from shared.contracts import errors
from shared.scope import NOT_IN_SCOPE

READ, WRITE = "read", "write"

# family -> {role: the access it has}. operations read everything and write nothing.
POLICY = {
    "branches":        {"advisor": READ, "technician": READ, "parts_coordinator": READ, "operations": READ, "admin": WRITE},
    "slots":           {"advisor": WRITE, "technician": READ, "operations": READ, "admin": WRITE},
    "customers":       {"advisor": WRITE, "technician": READ, "operations": READ, "admin": WRITE},
    "vehicles":        {"advisor": WRITE, "technician": READ, "operations": READ, "admin": WRITE},
    "bookings":        {"advisor": WRITE, "technician": READ, "operations": READ, "admin": WRITE},
    "repair-orders":   {"advisor": WRITE, "technician": READ, "parts_coordinator": READ, "operations": READ, "admin": WRITE},
    "diagnosis":       {"advisor": WRITE, "technician": WRITE, "admin": WRITE},
    "quotes":          {"advisor": WRITE, "technician": READ, "operations": READ, "admin": WRITE},
    "jobs":            {"advisor": READ, "technician": WRITE, "operations": READ, "admin": WRITE},
    "technician-time": {"advisor": READ, "operations": READ, "admin": READ},
    "quality-checks":  {"technician": WRITE, "admin": WRITE},
    "parts":           {"advisor": READ, "technician": READ, "parts_coordinator": WRITE, "operations": READ, "admin": WRITE},
    "stock":           {"advisor": READ, "technician": READ, "parts_coordinator": WRITE, "operations": READ, "admin": WRITE},
    "reservations":    {"advisor": READ, "technician": READ, "parts_coordinator": READ, "operations": READ, "admin": READ},
    "transfers":       {"advisor": READ, "parts_coordinator": WRITE, "operations": READ, "admin": WRITE},
    "lead-times":      {"advisor": READ, "parts_coordinator": READ, "operations": READ, "admin": WRITE},
    "replenishments":  {"advisor": READ, "parts_coordinator": WRITE, "operations": READ, "admin": WRITE},
    "invoices":        {"advisor": READ, "operations": READ, "admin": READ},
    "payments":        {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "warranty-claims": {"advisor": WRITE, "operations": READ, "admin": WRITE},  # checks and claim steps
    "discounts":       {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "credit-notes":    {"advisor": WRITE, "operations": READ, "admin": WRITE},  # within the complaint level's authority
    "credit-authority": {"advisor": READ, "operations": READ, "admin": WRITE},
    "follow-ups":      {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "surveys":         {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "complaints":      {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "consents":        {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "messages":        {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "message-templates": {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "customer-data":   {"advisor": WRITE, "admin": WRITE},  # erasure and export: a reason is required
    "feedback":        {"advisor": WRITE, "operations": READ, "admin": WRITE},
    "crm-settings":    {"admin": WRITE},
    "dead-letters":    {"operations": READ, "admin": READ},
    "webhooks":        {"operations": READ, "admin": WRITE},  # integrators' subscriptions and their delivery log
    "replays":         {"operations": READ, "admin": WRITE},  # archived events published again into a queue  # replaying one stays an operator's command
    "sla":             {"advisor": READ, "technician": READ, "parts_coordinator": READ, "operations": READ, "admin": WRITE},
    "audit":           {"admin": READ},
    "events":          {"advisor": READ, "technician": READ, "parts_coordinator": READ, "operations": READ, "admin": READ},
}


def allows(role: str, family: str, access: str) -> bool:
    granted = POLICY[family].get(role)
    return granted == WRITE or (granted == READ and access == READ)


def require(principal, family: str, access: str):
    if not allows(principal.role, family, access):
        raise errors.Forbidden(f"a {principal.role} may not {access} {family}", {})


def acting_as(principal, named, field: str):
    """Who did it (diagnosed, clocked on, checked, checked in, handed over): the caller, from the
    token, unless a field names someone. A technician acts only as themself, so the peer check of
    a repair cannot be passed by typing a colleague's name; an advisor or admin may record what a
    named colleague did (the audit log keeps who recorded it)."""
    if named is None:
        return principal.subject
    if principal.role == "technician" and isinstance(named, str) and named != principal.subject:
        raise errors.Forbidden("a technician acts only as themself",
                               {field: ["must be your own name (the token's subject), or left out"]})
    return named


def require_branch(principal, branch_id):
    """Refuse a branch outside the caller's scope."""
    if principal.scoped and branch_id not in principal.branches:
        raise errors.Forbidden("outside your scope", {"branch_id": ["not a branch you act for"]})


def hide(principal, record: dict | None):
    """A record the caller may see, or Forbidden; a scoped caller cannot tell missing from foreign."""
    if principal.scoped and (record is None or not principal.branches & branches_of(record)):
        raise errors.Forbidden(NOT_IN_SCOPE, {})
    return record


def branches_of(record: dict) -> set:
    """The branches a record belongs to: its own, and the sending branch of a transfer."""
    return {b for b in (record.get("branch_id"), record.get("from_branch_id")) if b}
