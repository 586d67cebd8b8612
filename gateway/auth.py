"""Bearer tokens (signed JWT) and the caller they name: role, and the branch or region they act for."""
import time
from dataclasses import dataclass, field

import jwt
from flask import request

from shared import config
from shared.contracts import errors

ROLES = ("advisor", "technician", "parts_coordinator", "operations", "admin")
BRANCH_ROLES = ("advisor", "technician")
ALGORITHM = "HS256"


class Unauthenticated(errors.PitlaneError):
    code = "unauthenticated"
    status = 401


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    branch_id: str | None = None
    region_id: str | None = None
    branches: frozenset = field(default=frozenset())  # the branches this caller may see; empty = all

    @property
    def scoped(self) -> bool:
        return self.role in ("advisor", "technician", "parts_coordinator")


def issue_token(role: str, subject: str, branch_id: str | None = None, region_id: str | None = None,
                ttl_seconds: int = 12 * 3600) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role in BRANCH_ROLES and not branch_id:
        raise ValueError(f"a {role} acts for one branch")
    if role == "parts_coordinator" and not region_id:
        raise ValueError("a parts coordinator acts for one region")
    now = int(time.time())
    claims = {"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds}
    if branch_id:
        claims["branch_id"] = branch_id
    if region_id:
        claims["region_id"] = region_id
    return jwt.encode(claims, config.jwt_secret(), algorithm=ALGORITHM)


class VerifiedTokens:
    """Tokens whose signature has been checked, kept per process: a client sends the same token
    with every request, and checking it (PyJWT) cost a tenth of the gateway's CPU per request.
    Only a token identical to one verified is a hit; its expiry is checked on every request."""

    def __init__(self, size: int = 10_000):
        self.size = size
        self._claims: dict[str, dict] = {}

    def claims(self, token: str) -> dict:
        claims = self._claims.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._claims) >= self.size:
                self._claims.clear()  # a burst of new tokens: start over rather than grow
            self._claims[token] = claims
        elif claims["exp"] <= time.time():  # as PyJWT judges it, with no leeway
            self._claims.pop(token, None)
            raise Unauthenticated("the token has expired", {"Authorization": ["expired"]})
        return claims

    @staticmethod
    def _verify(token: str) -> dict:
        try:
            return jwt.decode(token, config.jwt_secret(), algorithms=[ALGORITHM],
                              options={"require": ["exp", "sub", "role"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", {"Authorization": ["expired"]}) from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the token is not valid", {"Authorization": ["invalid token"]}) from None


_verified = VerifiedTokens()


def verified_claims(token: str) -> dict:
    """A token's claims, its signature checked once per process and its expiry every time."""
    return _verified.claims(token)


def authenticate(branches_of_region) -> Principal:
    """The caller of this request; 401 before anything else is looked at."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required", {"Authorization": ["missing bearer token"]})
    claims = verified_claims(token)
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthenticated("the token names no known role", {"Authorization": ["unknown role"]})
    branches = frozenset()
    if role in BRANCH_ROLES:
        branches = frozenset([claims.get("branch_id")]) if claims.get("branch_id") else None
    elif role == "parts_coordinator":
        branches = frozenset(branches_of_region(claims.get("region_id"))) if claims.get("region_id") else None
    if branches is None:
        raise Unauthenticated("the token names no branch or region", {"Authorization": ["no scope"]})
    return Principal(claims["sub"], role, claims.get("branch_id"), claims.get("region_id"), branches)
