"""The organisation tree as each service sees it: its own copy of the branches, kept by events."""
from datetime import date
from zoneinfo import ZoneInfo

from shared import errors
from shared.messaging import on_event


def upsert_branch(tx, branch_id: str, facts: dict):
    tx.execute(
        "INSERT INTO branches (branch_id, region_id, name, timezone, business_hours, holidays,"
        " labour_rate_cents, tax_rate_bp, updated_at)"
        " VALUES (%(branch_id)s, %(region_id)s, %(name)s, %(timezone)s, %(business_hours)s,"
        " %(holidays)s, %(labour_rate_cents)s, %(tax_rate_bp)s, now())"
        " ON CONFLICT (branch_id) DO UPDATE SET region_id = EXCLUDED.region_id,"
        " name = EXCLUDED.name, timezone = EXCLUDED.timezone,"
        " business_hours = EXCLUDED.business_hours, holidays = EXCLUDED.holidays,"
        " labour_rate_cents = EXCLUDED.labour_rate_cents, tax_rate_bp = EXCLUDED.tax_rate_bp,"
        " updated_at = now()",
        {
            "branch_id": branch_id,
            "region_id": facts["region_id"],
            "name": facts["name"],
            "timezone": facts["timezone"],
            "business_hours": _jsonb(facts["business_hours"]),
            "holidays": _jsonb([d.isoformat() if isinstance(d, date) else d for d in facts["holidays"]]),
            "labour_rate_cents": facts["labour_rate_cents"],
            "tax_rate_bp": facts["tax_rate_bp"],
        },
    )


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def get_branch(tx, branch_id: str) -> dict:
    row = tx.one("SELECT * FROM branches WHERE branch_id = %s", (branch_id,))
    if row is None:
        raise errors.NotFound(f"branch {branch_id} is not known", {"branch_id": ["unknown branch"]})
    row["zone"] = ZoneInfo(row["timezone"])
    return row


def region_of(tx, branch_id: str) -> str | None:
    row = tx.one("SELECT region_id FROM branches WHERE branch_id = %s", (branch_id,))
    return row["region_id"] if row else None


class BranchDirectory:
    """Mixin for a service class: keeps the service's `branches` table in step with booking's."""

    @on_event("branch.configured")
    def copy_branch(self, tx, event):
        upsert_branch(tx, event["branch_id"], event)
