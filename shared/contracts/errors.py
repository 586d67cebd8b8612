"""Typed errors that cross RPC intact and map to one HTTP status each at the gateway."""
from nameko.exceptions import deserialize_to_instance


class PitlaneError(Exception):
    """Base of every error a service raises on purpose. Args stay JSON-safe for RPC."""

    code = "error"
    status = 400

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message, fields or {})
        self.message = message
        self.fields = fields or {}

    def __str__(self):
        return self.message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


@deserialize_to_instance
class ValidationFailed(PitlaneError):
    """Input does not have the shape a schema asks for."""

    code = "validation_failed"
    status = 400


@deserialize_to_instance
class NotFound(PitlaneError):
    code = "not_found"
    status = 404


@deserialize_to_instance
class Conflict(PitlaneError):
    """The record exists but its state forbids the command (wrong status, slot full, no stock)."""

    code = "conflict"
    status = 409


@deserialize_to_instance
class Unprocessable(PitlaneError):
    """Well-formed input that breaks a business rule (approving a line not on the quote)."""

    code = "unprocessable"
    status = 422


@deserialize_to_instance
class Forbidden(PitlaneError):
    code = "forbidden"
    status = 403


EXPECTED = (ValidationFailed, NotFound, Conflict, Unprocessable, Forbidden)


def from_marshmallow(err) -> ValidationFailed:
    """A marshmallow ValidationError as our typed error, with per-field messages."""
    messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    return ValidationFailed("invalid input", messages)


@deserialize_to_instance
class Unavailable(PitlaneError):
    """A dependency (database, broker, another service) did not answer; safe to retry later."""

    code = "unavailable"
    status = 503


EXPECTED = EXPECTED + (Unavailable,)


def _domain_table():
    from shared import domain

    # The one table from a rule's refusal to the typed error that crosses RPC (and so to HTTP).
    return (
        (domain.IllegalTransition, Conflict),
        (domain.StateConflict, Conflict),
        (domain.RuleBroken, Unprocessable),
        (domain.NotPermitted, Forbidden),
        (domain.UnknownRecord, NotFound),
    )


def from_domain(exc) -> PitlaneError:
    """A domain exception (shared/domain.py) as the typed error its caller receives."""
    for kind, typed in _domain_table():
        if isinstance(exc, kind):
            return typed(exc.message, exc.fields)
    return Unprocessable(exc.message, exc.fields)


def at_the_edge(exc_info):
    """`exc_info` with a domain exception replaced by its typed error; anything else as it is."""
    from shared.domain import DomainError

    if exc_info is None or not isinstance(exc_info[1], DomainError):
        return exc_info
    typed = from_domain(exc_info[1])
    return (type(typed), typed, exc_info[2])
