"""Helpers the service extensions share."""
import base64
import secrets

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


def is_active(org, account_id):
    """Whether `account_id` is an ACTIVE account of `org`. A closed account stays
    in the organization as SUSPENDED for up to 90 days
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_close.html),
    and no security service can enable it as a member."""
    return any(a.id == account_id and a.status == "ACTIVE" for a in org.accounts)


def active_ids(org):
    """The ids of `org`'s ACTIVE accounts, once (is_active costs a pass over the
    organization each time: a listing of thousands of accounts uses this)."""
    return {a.id for a in org.accounts if a.status == "ACTIVE"}


def page(items, max_results, token, limit, error):
    """One page of `items` the way AWS pages a listing: at most `limit` per page
    (the API's documented maximum, also its default here), `max_results` out of
    1..limit is rejected with `error(message)`, and the token is opaque to the
    caller (here: the index of the next item and a nonce, base64-encoded). Returns (page, next token or None)."""
    if max_results is None or max_results == "":
        size = limit
    else:
        size = int(max_results)
        if not 1 <= size <= limit:
            raise error(f"MaxResults must be between 1 and {limit}, not {size}.")
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1]) if token else 0
    except (ValueError, UnicodeDecodeError, IndexError):
        raise error("The NextToken is not valid.") from None
    if start < 0 or start > len(items):
        raise error("The NextToken is not valid.")
    chunk = items[start : start + size]
    end = start + len(chunk)
    # Unique per answer, as AWS's tokens are: "page:<index>:<nonce>".
    token = base64.urlsafe_b64encode(f"page:{end}:{secrets.token_hex(6)}".encode()).decode()
    return chunk, (token if end < len(items) else None)
