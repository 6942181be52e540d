"""Macie (macie2): what stock moto 5.2.5 lacks or gets wrong, to the API reference.

- EnableOrganizationAdminAccount accepted any caller and account and replaced the
  admin silently: now management account only, members only, a second different
  admin is a ConflictException, repeating it is harmless.
  DisableOrganizationAdminAccount was missing.
  The administrator is the same account in every Region ("The delegated Macie
  administrator account must be the same in all of those Regions",
  accounts-mgmt-ao-admin-change.html): another is a ConflictException.
- UpdateOrganizationConfiguration / DescribeOrganizationConfiguration were
  missing; only the region's delegated administrator, with Macie enabled, may call
  them.
- Macie started enabled in every account; in AWS it is off until EnableMacie, which
  answers ConflictException when it is already on.
- Timestamps (GetMacieSession, ListMembers) came without a time zone, which is not
  the RFC 3339 AWS sends, and the Rust SDK rejects it: they get `Z`.
- ListMembers returned every member in one answer: it pages at most 25 (the API's
  maximum), in account order; maxResults outside 1..25 is a ValidationException.
- CreateMember was missing: the administrator adds an organization account as a
  member directly (no invitation), as for organizations in AWS.
"""
import json
import re

from moto.macie2 import urls
from moto.macie2.models import Invitation, Member, macie2_backends
from moto.macie2.responses import MacieResponse
from moto.organizations.models import organizations_backends

from .common import Error, is_active, org_of, page



def _body(self):
    return json.loads(self.body) if self.body else {}


def enable_organization_admin_account(self):
    backend = self.macie_backend
    admin = _body(self).get("adminAccountId")
    org = organizations_backends[backend.account_id]["aws"]
    if org.org is None:
        raise Error("AccessDeniedException", "Only the management account of an organization can do this.", 403)
    if admin == backend.account_id or not any(a.id == admin for a in org.accounts):
        raise Error("ValidationException", f"The account {admin} is not a member of the organization.")
    current = backend.organization_admin_account_id
    if current and current != admin:
        raise Error("ConflictException", f"The organization already has the delegated administrator {current}.", 409)
    # "The delegated Macie administrator account must be the same in all of those
    # Regions" (accounts-mgmt-ao-admin-change.html).
    for region, other in list(macie2_backends[backend.account_id].items()):
        elsewhere = getattr(other, "organization_admin_account_id", None)
        if region != backend.region_name and elsewhere not in (None, admin):
            raise Error("ConflictException", f"{elsewhere} is the delegated Macie administrator in {region}: it must "
                        "be the same account in every Region.", 409)
    backend.organization_admin_account_id = admin
    return "{}"


def disable_organization_admin_account(self):
    backend = self.macie_backend
    admin = self._get_param("adminAccountId") or self.querystring.get("adminAccountId", [None])[0]
    if backend.organization_admin_account_id != admin:
        raise Error("ResourceNotFoundException", f"{admin} is not the delegated administrator.", 404)
    backend.organization_admin_account_id = None
    return "{}"


def _require_admin(self):
    backend = self.macie_backend
    org = org_of(backend.account_id)
    if org is None:
        raise Error("AccessDeniedException", "The account is not in an organization.", 403)
    management = macie2_backends[org.org.master_account_id][backend.region_name]
    if management.organization_admin_account_id != backend.account_id:
        raise Error("AccessDeniedException", "Only the Macie administrator account can do this.", 403)
    if backend.macie_session is None:
        raise Error("AccessDeniedException", "Macie is not enabled for this account.", 403)
    return org


def _config(backend):
    if "_sra_auto_enable" not in backend.__dict__:
        backend._sra_auto_enable = False
    return backend


def update_organization_configuration(self):
    _require_admin(self)
    auto = _body(self).get("autoEnable")
    if not isinstance(auto, bool):
        raise Error("ValidationException", "autoEnable is required.")
    _config(self.macie_backend)._sra_auto_enable = auto
    return "{}"


def describe_organization_configuration(self):
    _require_admin(self)
    return json.dumps({"autoEnable": _config(self.macie_backend)._sra_auto_enable, "maxAccountLimitReached": False})


def create_member(self):
    org = _require_admin(self)
    backend = self.macie_backend
    account = (_body(self).get("account") or {})
    account_id = account.get("accountId")
    if not any(a.id == account_id for a in org.accounts) or account_id == backend.account_id:
        raise Error("ValidationException", f"The account {account_id} is not a member of the organization.")
    if not is_active(org, account_id):
        raise Error("ValidationException", f"The account {account_id} is suspended or closed.")
    invitation = Invitation(account_id=account_id, admin_account_id=backend.account_id, region_name=backend.region_name)
    backend.members[account_id] = Member(account_id, backend.region_name, backend.account_id, invitation)
    return json.dumps({"arn": backend.members[account_id].arn})


from moto.macie2.models import MacieBackend

_original_init = MacieBackend.__init__
_original_enable = MacieResponse.enable_macie


def _init(self, region_name, account_id):
    _original_init(self, region_name, account_id)
    self.macie_session = None


def enable_macie(self):
    if self.macie_backend.macie_session is not None:
        raise Error("ConflictException", "Macie is already enabled for this account.", 409)
    return _original_enable(self)


_NAIVE = re.compile(r'("\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)"')


def _with_zone(method):
    def wrapper(self):
        return _NAIVE.sub(r'\1Z"', method(self))

    wrapper.__name__ = method.__name__
    return wrapper


def list_members(self):
    members = sorted(self.macie_backend.list_members(), key=lambda m: m.account_id)
    invalid = lambda message: Error("ValidationException", message)  # noqa: E731
    chunk, token = page(members, self._get_param("maxResults"), self._get_param("nextToken"), 25, invalid)
    out = {"members": [m.to_json() for m in chunk]}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def apply():
    MacieResponse.list_members = list_members
    for name in ("get_macie_session", "list_members"):
        setattr(MacieResponse, name, _with_zone(getattr(MacieResponse, name)))
    MacieBackend.__init__ = _init
    MacieResponse.enable_macie = enable_macie
    urls.url_paths.update({"{0}/admin/configuration$": MacieResponse.dispatch})
    MacieResponse.enable_organization_admin_account = enable_organization_admin_account
    MacieResponse.disable_organization_admin_account = disable_organization_admin_account
    MacieResponse.update_organization_configuration = update_organization_configuration
    MacieResponse.describe_organization_configuration = describe_organization_configuration
    MacieResponse.create_member = create_member
