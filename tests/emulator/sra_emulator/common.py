"""Helpers the service extensions share."""
from moto.core.exceptions import JsonRESTError
from moto.organizations.models import organizations_backends


class Error(JsonRESTError):
    """A JSON error with its code, message and HTTP status."""

    def __init__(self, code, message, status=400):
        super().__init__(code, message)
        self.code = status


def org_of(account_id):
    """The organizations backend of the organization `account_id` belongs to
    (as management account or member), or None."""
    if account_id in organizations_backends.master_accounts:
        management, partition = organizations_backends.master_accounts[account_id]
        return organizations_backends[management][partition]
    backend = organizations_backends[account_id]["aws"]
    return backend if backend.org else None
