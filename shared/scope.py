"""The caller's branch scope, carried with a command from the gateway to the service that owns the record.

An advisor or technician may act only on records of their own branches. For a command on a
record (confirm this booking, approve this quote, pay this invoice) the gateway does not ask
the owning service for the record first and then send the command: it sends the command with
the caller's branches as nameko context data, and the service checks the record it has just
read (and locked) in the command's own transaction. One call instead of two, and no window
between the check and the change.

No scope in the call (admins, operations, events, the services' own calls) means every branch.
nameko hands a worker's context data on to the RPCs it makes; only the record helpers that call
`Scope.admit` (a service's own record by id) check it.
"""
from nameko.extensions import DependencyProvider

from shared.contracts import errors

CONTEXT_KEY = "branch_scope"  # travels as the AMQP header "nameko.branch_scope"
TECHNICIAN_KEY = "technician"  # a technician caller's name: they act on their own work only
NOT_IN_SCOPE = "not found in your scope"


class Scope:
    def __init__(self, branches=None, technician=None):
        self.branches = None if branches is None else frozenset(branches)
        self.technician = technician  # set when the caller is a technician (their token's subject)

    @property
    def limited(self) -> bool:
        return self.branches is not None

    def admit(self, record: dict | None, missing: errors.PitlaneError) -> dict:
        """The record, if the caller may act on it.

        No record raises `missing`; a record at another branch raises Forbidden, and so does
        no record for a limited caller, who cannot tell a foreign record from a missing one.
        """
        if record is None:
            raise errors.Forbidden(NOT_IN_SCOPE, {}) if self.limited else missing
        if self.limited and record["branch_id"] not in self.branches:
            raise errors.Forbidden(NOT_IN_SCOPE, {})
        return record


class CallerScope(DependencyProvider):
    """`self.scope` in a worker: the branches the caller of this call may act on."""

    def get_dependency(self, worker_ctx):
        branches = worker_ctx.context_data.get(CONTEXT_KEY)
        if branches is not None and not isinstance(branches, (list, tuple)):
            branches = ()  # a scope we cannot read admits nothing
        technician = worker_ctx.context_data.get(TECHNICIAN_KEY)
        return Scope(branches, technician if isinstance(technician, str) else None)
