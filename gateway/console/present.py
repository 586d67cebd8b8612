"""How the console shows things: times in the branch's time zone, money in its currency, SLA badges."""
from datetime import datetime, time, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CURRENCY = "EUR"
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CNY": "¥", "JPY": "¥", "CHF": "CHF "}
STANDING_LABELS = {"running": "on track", "paused": "paused", "at_risk": "at risk", "breached": "breached",
                   "met": "met", "cancelled": "cancelled"}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def local(value, tz: str | None, fmt: str = "%H:%M") -> str:
    """An instant as the branch's clock shows it."""
    at = parse(value)
    if at is None:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(zone(tz)).strftime(fmt)


def day_start(tz: str | None, now: datetime | None = None) -> datetime:
    """When today (at `now`) began at a branch keeping time zone `tz`, as an aware moment."""
    zone_ = zone(tz)
    return datetime.combine((now or datetime.now(timezone.utc)).astimezone(zone_).date(), time(), zone_)


def money(cents, currency: str | None = None) -> str:
    if cents is None:
        return ""
    currency = currency or DEFAULT_CURRENCY
    amount = (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def left(deadline, now: datetime | None = None) -> str:
    """Time left to a deadline (or past it), in hours and minutes."""
    at = parse(deadline)
    if at is None:
        return ""
    now = now or datetime.now(timezone.utc)
    seconds = int((at - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    hours, minutes = divmod(seconds // 60, 60)
    text = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return f"{text} late" if late else f"{text} left"


def badge(clocks: list[dict] | None, now: datetime | None = None) -> dict | None:
    """The SLA badge of a record from its open clocks: the worst standing, with the time left to
    the nearest deadline. None when no clock runs for it."""
    open_ = [c for c in clocks or [] if c.get("state") in ("running", "paused")]
    if not open_:
        return None
    rank = {"breached": 3, "at_risk": 2, "running": 1, "paused": 0}
    worst = max(open_, key=lambda c: (rank.get(c.get("standing"), 0), -(parse(c.get("deadline")) or
                                                                         datetime.max.replace(tzinfo=timezone.utc)).timestamp()))
    standing = worst.get("standing") or worst.get("state")
    level = {"breached": "breached", "at_risk": "at-risk", "paused": "paused"}.get(standing, "on-track")
    return {"level": level, "label": STANDING_LABELS.get(standing, standing), "policy": worst.get("policy"),
            "left": left(worst.get("deadline"), now) if worst.get("state") == "running" else "paused",
            "deadline": worst.get("deadline")}
