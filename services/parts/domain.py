"""Parts rules, no I/O: stock figures, threshold crossings, the transfer life cycle."""
from shared import errors

ORIGINS = ("oem", "alternative")
MOVEMENTS = ("receipt", "reservation", "release", "consumption", "adjustment", "transfer_out", "in_transit",
             "transfer_in")

# domain.md s5: requested -> approved -> picked -> dispatched -> received (part or full) -> closed; or cancelled
TRANSFER_TRANSITIONS = {
    "requested": {"approved", "cancelled"},
    "approved": {"picked", "cancelled"},
    "picked": {"dispatched", "cancelled"},
    "dispatched": {"received"},
    "received": {"closed"},
    "closed": set(),
    "cancelled": set(),
}
OPEN_TRANSFER = {"requested", "approved", "picked", "dispatched", "received"}


def transfer_transition(current: str, target: str) -> str:
    if target not in TRANSFER_TRANSITIONS.get(current, set()):
        allowed = sorted(TRANSFER_TRANSITIONS.get(current, ())) or "none"
        raise errors.Conflict(f"a {current} transfer cannot become {target}",
                              {"status": [f"is {current}; allowed next: {allowed}"]})
    return target


def available(on_hand: int, reserved: int) -> int:
    return on_hand - reserved


def threshold_change(below_before: bool, available_now: int, reorder_point: int | None) -> str | None:
    """'below' when stock just fell under the reorder point, 'recovered' when it just came back.

    One alert per crossing: staying below says nothing new, and neither does staying above.
    """
    if reorder_point is None:
        return None
    below_now = available_now < reorder_point
    if below_now and not below_before:
        return "below"
    if below_before and not below_now:
        return "recovered"
    return None


def merge_lines(lines) -> dict:
    """Quantities per part number, summing repeated lines of the same part."""
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line["part_number"]] = wanted.get(line["part_number"], 0) + int(line["quantity"])
    return wanted
