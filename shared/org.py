"""The organisation tree as each service sees it: its own copy of the branches, kept by events."""
from datetime import date
from zoneinfo import ZoneInfo

from shared.contracts import errors
from shared.cache import Recent
from shared.bus.messaging import on_event


def upsert_branch(tx, branch_id: str, facts: dict):
    _branches.forget_when_committed(tx, branch_id)
    tx.execute(
        "INSERT INTO branches (branch_id, region_id, name, timezone, business_hours, holidays,"
        " labour_rate_cents, tax_rate_bp, currency, updated_at)"
        " VALUES (%(branch_id)s, %(region_id)s, %(name)s, %(timezone)s, %(business_hours)s,"
        " %(holidays)s, %(labour_rate_cents)s, %(tax_rate_bp)s, %(currency)s, now())"
        " ON CONFLICT (branch_id) DO UPDATE SET region_id = EXCLUDED.region_id,"
        " name = EXCLUDED.name, timezone = EXCLUDED.timezone,"
        " business_hours = EXCLUDED.business_hours, holidays = EXCLUDED.holidays,"
        " labour_rate_cents = EXCLUDED.labour_rate_cents, tax_rate_bp = EXCLUDED.tax_rate_bp,"
        " currency = EXCLUDED.currency, updated_at = now()",
        {
            "branch_id": branch_id,
            "region_id": facts["region_id"],
            "name": facts["name"],
            "timezone": facts["timezone"],
            "business_hours": _jsonb(facts["business_hours"]),
            "holidays": _jsonb([d.isoformat() if isinstance(d, date) else d for d in facts["holidays"]]),
            "labour_rate_cents": facts["labour_rate_cents"],
            "tax_rate_bp": facts["tax_rate_bp"],
            "currency": facts.get("currency") or "EUR",  # an event from before currencies: the default
        },
    )


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value)


_branches = Recent()


def get_branch(tx, branch_id: str) -> dict:
    """A branch's settings; kept for a few seconds per process, as they change rarely and every
    booking, quote and SLA clock reads them. A change made by this process shows at once."""
    row = _branches.get(branch_id, lambda: _load_branch(tx, branch_id))
    if row is None:
        raise errors.NotFound(f"branch {branch_id} is not known", {"branch_id": ["unknown branch"]})
    return dict(row)


def _load_branch(tx, branch_id):
    row = tx.one("SELECT * FROM branches WHERE branch_id = %s", (branch_id,))
    if row is not None:
        row["zone"] = ZoneInfo(row["timezone"])
    return row


def region_of(tx, branch_id: str) -> str | None:
    """The branch's region (from the kept settings above), or None for a branch not known here."""
    row = _branches.get(branch_id, lambda: _load_branch(tx, branch_id))
    return row["region_id"] if row else None


class BranchDirectory:
    """Mixin for a service class: keeps the service's `branches` table in step with booking's."""

    @on_event("branch.configured")
    def copy_branch(self, tx, event):
        upsert_branch(tx, event["branch_id"], event)
