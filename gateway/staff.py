"""Staff who sign in: a login and a password checked against its argon2id hash, and the role,
branch or region the tokens issued to them carry (the same tokens an integrator's client holds).

argon2-cffi hashes and verifies (memory-hard, salted, its parameters kept inside the hash), so a
later change of parameters re-hashes a password the next time its owner signs in.
"""
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway import auth
from shared.contracts import errors

HASHER = PasswordHasher()
MIN_PASSWORD = 10
TOKEN_SECONDS = 12 * 3600  # a signed-in member's token lasts a working day
# a hash to verify against when the login is unknown, so that an unknown login takes as long to
# refuse as a wrong password (no telling which logins exist by the time an answer takes)
_NOBODY = HASHER.hash("no such login: a password nobody has")


class SignInRefused(errors.PitlaneError):
    code = "unauthenticated"
    status = 401


REFUSED = "that login and password do not match a member of staff"


@dataclass(frozen=True)
class Member:
    login: str
    name: str
    role: str
    branch_id: str | None = None
    region_id: str | None = None

    def token(self, ttl_seconds: int = TOKEN_SECONDS) -> str:
        return auth.issue_token(self.role, self.login, branch_id=self.branch_id, region_id=self.region_id,
                                ttl_seconds=ttl_seconds)


def new_member(login: str, name: str, password: str, role: str, branch_id=None, region_id=None) -> tuple[Member, str]:
    """A member and their password's hash; the rules a login and a password must meet."""
    login = (login or "").strip().lower()
    problems = {}
    if not login or len(login) > 80 or any(c.isspace() for c in login):
        problems["login"] = ["1 to 80 characters without spaces"]
    if len(password or "") < MIN_PASSWORD:
        problems["password"] = [f"at least {MIN_PASSWORD} characters"]
    if role not in auth.ROLES:
        problems["role"] = [f"one of {', '.join(auth.ROLES)}"]
    elif role in auth.BRANCH_ROLES and not branch_id:
        problems["branch_id"] = [f"a {role} acts for one branch"]
    elif role == "parts_coordinator" and not region_id:
        problems["region_id"] = ["a parts coordinator acts for one region"]
    if problems:
        raise errors.ValidationFailed("the member of staff cannot be added", problems)
    keep_branch = role in auth.BRANCH_ROLES
    member = Member(login, name or login, role, branch_id if keep_branch else None,
                    region_id if role == "parts_coordinator" else None)
    return member, HASHER.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` is the one `stored_hash` was made from (an unknown login: None)."""
    try:
        return HASHER.verify(stored_hash or _NOBODY, password or "") and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


def sign_in(store, login: str, password: str) -> Member:
    """The member of staff with this login and password; 401 otherwise, the same for either mistake."""
    row = store.staff_member(login) if login and len(login) <= 80 else None
    if not check_password(row["password_hash"] if row else None, password):
        raise SignInRefused(REFUSED, {"password": [REFUSED]})
    if needs_rehash(row["password_hash"]):
        store.rehash_staff(row["login"], HASHER.hash(password))
    return Member(row["login"], row["name"], row["role"], row["branch_id"], row["region_id"])
