"""Inspector (inspector2): what stock moto 5.2.5 gets wrong, to the API reference.

- EnableDelegatedAdminAccount accepted any caller and any account and a second
  administrator: now only the management account may call it
  (AccessDeniedException), only for a member (ValidationException), a second,
  different administrator is a ConflictException, and repeating it is harmless.
  DisableDelegatedAdminAccount removes the administrator (stock kept a DISABLED
  entry listed forever).
- UpdateOrganizationConfiguration / DescribeOrganizationConfiguration may only be
  called by the region's delegated administrator (AccessDeniedException).
- AssociateMember takes only accounts of the organization (ValidationException).
- ListMembers returned every member in one answer: it pages at most 50 (the API's
  maximum), in account order; maxResults outside 1..50 is a ValidationException.
"""
import json

from moto.inspector2.models import inspector2_backends
from moto.inspector2.responses import Inspector2Response
from moto.organizations.models import organizations_backends

from .common import Error, is_active, org_of, page

_original = {
    name: getattr(Inspector2Response, name)
    for name in (
        "enable_delegated_admin_account",
        "describe_organization_configuration",
        "update_organization_configuration",
        "associate_member",
    )
}



def enable_delegated_admin_account(self):
    backend = self.inspector2_backend
    admin = self._get_param("delegatedAdminAccountId")
    org = organizations_backends[backend.account_id]["aws"]
    if org.org is None:
        raise Error("AccessDeniedException", "Only the management account of an organization can do this.", 403)
    if admin == backend.account_id or not any(a.id == admin for a in org.accounts):
        raise Error("ValidationException", f"The account {admin} is not a member of the organization.")
    others = [a for a, s in backend.admin_accounts.items() if s == "ENABLED" and a != admin]
    if others:
        raise Error("ConflictException", f"The organization already has the delegated administrator {others[0]}.", 409)
    backend.admin_accounts[admin] = "ENABLED"
    return json.dumps({"delegatedAdminAccountId": admin})


def disable_delegated_admin_account(self):
    backend = self.inspector2_backend
    admin = self._get_param("delegatedAdminAccountId")
    if backend.admin_accounts.pop(admin, None) is None:
        raise Error("ResourceNotFoundException", f"{admin} is not the delegated administrator.", 404)
    return json.dumps({"delegatedAdminAccountId": admin})


def _require_admin(self):
    backend = self.inspector2_backend
    org = org_of(backend.account_id)
    if org is None:
        raise Error("AccessDeniedException", "The account is not in an organization.", 403)
    management = inspector2_backends[org.org.master_account_id][backend.region_name]
    if management.admin_accounts.get(backend.account_id) != "ENABLED":
        raise Error("AccessDeniedException", "Only the delegated administrator can do this.", 403)
    return org


def describe_organization_configuration(self):
    _require_admin(self)
    return _original["describe_organization_configuration"](self)


def update_organization_configuration(self):
    _require_admin(self)
    return _original["update_organization_configuration"](self)


def associate_member(self):
    org = _require_admin(self)
    account = self._get_param("accountId")
    if not any(a.id == account for a in org.accounts) or account == self.inspector2_backend.account_id:
        raise Error("ValidationException", f"The account {account} is not a member of the organization.")
    if not is_active(org, account):
        raise Error("ValidationException", f"The account {account} is suspended or closed.")
    return _original["associate_member"](self)


def _validation(message):
    return Error("ValidationException", message)


def list_members(self):
    members = sorted(self.inspector2_backend.list_members(), key=lambda m: m.account_id)
    chunk, token = page(members, self._get_param("maxResults"), self._get_param("nextToken"), 50, _validation)
    out = {"members": [m.to_json() for m in chunk]}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def apply():
    Inspector2Response.list_members = list_members
    Inspector2Response.enable_delegated_admin_account = enable_delegated_admin_account
    Inspector2Response.disable_delegated_admin_account = disable_delegated_admin_account
    Inspector2Response.describe_organization_configuration = describe_organization_configuration
    Inspector2Response.update_organization_configuration = update_organization_configuration
    Inspector2Response.associate_member = associate_member
