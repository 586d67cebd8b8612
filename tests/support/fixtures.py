"""Input builders shared by tests: a branch, a booking request, the next open slot."""
from datetime import datetime, timedelta, timezone

WEEK = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def branch(branch_id, region_id=None, bays=4, **overrides):
    return {
        "branch_id": branch_id,
        "region_id": region_id or branch_id.split("-")[0] + "-R1",
        "name": f"Branch {branch_id}",
        "timezone": "UTC",
        "business_hours": WEEK,
        "holidays": [],
        "labour_rate_cents": 9500,
        "tax_rate_bp": 1900,
        "bays": bays,
        "slot_minutes": 60,
        **overrides,
    }


def next_slot(hours_ahead=2, slot_minutes=60) -> str:
    """The start of the `hours_ahead`-th one-hour slot after this hour, for branches open round
    the clock. WEEK closes at 23:59, so no slot starts at 23:00: that hour is not counted, and
    different `hours_ahead` always give different slots."""
    at = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    counted = 0
    while counted < hours_ahead:
        at += timedelta(hours=1)
        if at.hour != 23:
            counted += 1
    return at.isoformat()


def booking_request(branch_id, customer_id, vehicle_id, slot_start=None, **overrides):
    return {
        "branch_id": branch_id,
        "customer_id": str(customer_id),
        "vehicle_id": str(vehicle_id),
        "slot_start": slot_start or next_slot(),
        "service_type": "annual service",
        "priority": "routine",
        "channel": "web",
        "symptoms": "squeal when braking, only when cold",
        **overrides,
    }
