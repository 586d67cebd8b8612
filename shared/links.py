"""Signed links that let a customer open their repair order without an account (the customer page is
issue 26's). The token is signed with itsdangerous (shipped with Flask) under the JWT secret, carries
the repair order and its number, and expires (default 30 days, PITLANE_CUSTOMER_LINK_DAYS)."""
import uuid

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared import config

SALT = "pitlane.customer-link"


class LinkRefused(Exception):
    """A customer link that was tampered with, signed with another key, or has expired."""


def _serializer(secret: str | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret or config.jwt_secret(), salt=SALT)


def customer_token(repair_order_id, number: str, secret: str | None = None) -> str:
    return _serializer(secret).dumps({"ro": str(repair_order_id), "n": number})


def customer_link(repair_order_id, number: str) -> str:
    """`{PITLANE_PUBLIC_URL}/customer/<token>` for one repair order."""
    return f"{config.public_url().rstrip('/')}/customer/{customer_token(repair_order_id, number)}"


def read_customer_link(token: str, max_age_seconds: float | None = None, secret: str | None = None,
                       now: float | None = None) -> dict:
    """{"repair_order_id", "number"} of a link this system signed; LinkRefused if it was changed,
    signed with another key, or is older than its lifetime. `now` (epoch seconds) is for tests."""
    max_age = config.customer_link_days() * 86400 if max_age_seconds is None else max_age_seconds
    serializer = _serializer(secret)
    try:
        if now is None:
            data = serializer.loads(token, max_age=max_age)
        else:
            data, signed_at = serializer.loads(token, return_timestamp=True)
            if now - signed_at.timestamp() > max_age:
                raise SignatureExpired("expired")
    except SignatureExpired:
        raise LinkRefused("the link has expired") from None
    except BadSignature:
        raise LinkRefused("the link is not one we signed") from None
    return {"repair_order_id": uuid.UUID(data["ro"]), "number": data["n"]}
