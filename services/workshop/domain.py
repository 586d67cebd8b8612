"""Workshop rules, no I/O: the repair order's life cycle, quote pricing, line-by-line approval."""
from decimal import ROUND_HALF_UP, Decimal

from shared import errors

# status -> statuses it may move to (domain.md s4)
TRANSITIONS = {
    "checked_in": {"diagnosed", "awaiting_approval", "cancelled"},
    "diagnosed": {"diagnosed", "awaiting_approval", "cancelled"},
    "awaiting_approval": {"awaiting_approval", "approved", "diagnosed", "cancelled"},
    "approved": {"waiting_for_parts", "in_progress", "cancelled"},
    "waiting_for_parts": {"approved", "cancelled"},
    "in_progress": {"on_hold", "quality_check"},
    "on_hold": {"in_progress"},
    "quality_check": {"ready", "in_progress"},
    "ready": {"delivered"},
    "delivered": set(),
    "cancelled": set(),
}
QUOTABLE = {"checked_in", "diagnosed", "awaiting_approval"}
HOLD_REASONS = ("parts", "approval", "sublet")
CONSENT_METHODS = ("signature", "recorded_verbal", "app")

# What the customer sees of each status, in their words.
PUBLIC_STAGES = {
    "checked_in": "Checked in", "diagnosed": "Diagnosis done", "awaiting_approval": "Quote sent for your approval",
    "approved": "Work approved", "waiting_for_parts": "Waiting for parts", "in_progress": "Work in progress",
    "on_hold": "Work paused", "quality_check": "Quality check", "ready": "Ready for collection",
    "delivered": "Handed over", "cancelled": "Cancelled",
}


def transition(current: str, target: str) -> str:
    if target not in TRANSITIONS.get(current, set()):
        allowed = sorted(TRANSITIONS.get(current, ())) or "none"
        raise errors.Conflict(f"a repair order that is {current} cannot become {target}",
                              {"status": [f"is {current}; allowed next: {allowed}"]})
    return target


def net_cents(quantity: Decimal, unit_price_cents: int) -> int:
    return int((Decimal(quantity) * unit_price_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_line(line: dict, labour_rate_cents: int, part_prices: dict) -> dict:
    """A quote line with its unit price settled (given, the branch rate, or the catalogue) and net."""
    unit = line.get("unit_price_cents")
    if unit is None:
        if line["kind"] == "labour":
            unit = labour_rate_cents
        elif line["kind"] == "part":
            unit = part_prices.get(line.get("part_number"))
            if unit is None:
                raise errors.Unprocessable("a part line needs a price",
                                           {"lines": [f"part {line.get('part_number')} is not in the catalogue;"
                                                      " give unit_price_cents"]})
        else:
            raise errors.Unprocessable("a consumable line needs a price",
                                       {"lines": ["consumables need unit_price_cents"]})
    if line["kind"] == "part" and not line.get("part_number"):
        raise errors.ValidationFailed("a part line needs its part number", {"lines": ["part_number is required"]})
    return {**line, "unit_price_cents": unit, "net_cents": net_cents(line["quantity"], unit)}


def decide(lines: list[dict], decisions: list[dict]) -> tuple[list[dict], list]:
    """Split a quote's lines into approved and declined; every line decided exactly once."""
    by_id = {str(line["line_id"]): line for line in lines}
    decided = {}
    problems = []
    for decision in decisions:
        key = str(decision["line_id"])
        if key not in by_id:
            problems.append(f"line {key} is not on this quote")
        elif key in decided:
            problems.append(f"line {key} is decided twice")
        decided[key] = decision["approved"]
    missing = sorted(set(by_id) - set(decided))
    if missing:
        problems.append(f"undecided lines: {', '.join(missing)}")
    if problems:
        raise errors.Unprocessable("every line of the quote must be approved or declined once",
                                   {"decisions": problems})
    approved = [by_id[k] for k in by_id if decided[k]]
    declined = [by_id[k]["line_id"] for k in by_id if not decided[k]]
    return approved, declined


def parts_needed(lines: list[dict]) -> bool:
    return any(line["kind"] == "part" for line in lines)


def check_peer(checked_by: str, technicians: set[str]):
    """The quality check is done by someone who did not do the work (peer check)."""
    if checked_by in technicians:
        raise errors.Unprocessable("the quality check must be done by someone else than the technician",
                                   {"checked_by": ["worked on this repair order"]})


PARTS_SOURCING_SECONDS = 3600  # domain.md s5: the local supplier tier answers within 1 hour


def remaining_work_seconds(approved_labour_hours: float, clocked_seconds: int, parts_status: str) -> float:
    """Labour still to do, plus the wait for parts that are not reserved yet."""
    remaining = max(approved_labour_hours * 3600 - clocked_seconds, 0.0)
    if parts_status in ("pending", "short"):
        remaining += PARTS_SOURCING_SECONDS
    return remaining
