"""GuardDuty: what stock moto 5.2.5 lacks or gets wrong, to the API reference.

- EnableOrganizationAdminAccount was not idempotent (each call appended the id
  again) and accepted any account: now only the organization's management account
  may call it, only for a member account, and a repeated call changes nothing.
- DisableOrganizationAdminAccount, UpdateOrganizationConfiguration,
  DescribeOrganizationConfiguration, CreateMembers, ListMembers and DeleteMembers
  were missing. Organization configuration may only be read or changed by the
  delegated administrator of that region. AutoEnableOrganizationMembers=ALL
  enrolls every existing member account (AWS does this asynchronously; here at once).
- Designating the administrator enables GuardDuty in its account in that Region
  (a detector appears): "For this administrator account, GuardDuty gets enabled
  automatically only in the designated AWS Region"
  (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_organizations.html).
  It also registers the account with Organizations as GuardDuty's delegated
  administrator, once for every Region (ListDelegatedAdministrators shows it;
  https://docs.aws.amazon.com/guardduty/latest/ug/organizations_permissions.html
  lists organizations:RegisterDelegatedAdministrator among what the call needs,
  and change-guardduty-delegated-admin.html deregisters it as a separate,
  one-time global step: disabling the administrator in a Region does not).
- CreateDetector in an account and Region that has a detector is refused, as in
  AWS (one detector per account and Region); stock moto made a second.
"""
import json

from moto.core.exceptions import JsonRESTError
from moto.guardduty import urls
from moto.guardduty.models import guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.organizations.models import organizations_backends

from .common import is_active, org_of, page

MAX_MEMBERS_PER_CALL = 50
PRINCIPAL = "guardduty.amazonaws.com"


class BadRequest(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("BadRequestException", message)



def _state(backend):
    if "_sra" not in backend.__dict__:
        backend._sra = {"org_config": {}, "members": {}}
    return backend._sra


def _detector(backend, detector_id):
    return backend.get_detector(detector_id)  # DetectorNotFoundException


def _require_admin(backend):
    org = org_of(backend.account_id)
    if org is None:
        raise BadRequest("The request is rejected because the current account is not in an organization.")
    management = guardduty_backends[org.org.master_account_id][backend.region_name]
    if backend.account_id not in management.admin_account_ids:
        raise BadRequest(
            "The request is rejected because the current account is not the delegated administrator for GuardDuty in this region."
        )
    return org


def enable_organization_admin_account(self):
    admin = self._get_param("adminAccountId")
    backend = self.guardduty_backend
    org = organizations_backends[backend.account_id]["aws"]
    if org.org is None:
        raise BadRequest("The request is rejected because the current account is not the management account of an organization.")
    if not any(a.id == admin for a in org.accounts) or admin == backend.account_id:
        raise BadRequest(f"The request is rejected because the account {admin} is not a member of the organization.")
    if backend.admin_account_ids and admin not in backend.admin_account_ids:
        raise BadRequest("The request is rejected because an administrator account is already enabled for this region.")
    if admin not in backend.admin_account_ids:
        backend.admin_account_ids.append(admin)
    if not any(a.account.id == admin and PRINCIPAL in a.services for a in org.admins):
        org.register_delegated_administrator(AccountId=admin, ServicePrincipal=PRINCIPAL)
    admin_backend = guardduty_backends[admin][backend.region_name]
    if not admin_backend.detectors:
        admin_backend.create_detector(True, "SIX_HOURS", {}, {}, [])
    return "{}"


_original_create_detector = GuardDutyResponse.create_detector


def create_detector(self):
    if self.guardduty_backend.detectors:
        raise BadRequest("The request is rejected because a detector already exists for the current account.")
    return _original_create_detector(self)


def disable_organization_admin_account(self):
    admin = self._get_param("adminAccountId")
    backend = self.guardduty_backend
    if admin not in backend.admin_account_ids:
        raise BadRequest(f"The request is rejected because {admin} is not the administrator account.")
    backend.admin_account_ids.remove(admin)
    return "{}"


def _detector_id(self):
    return self.path.split("/detector/")[1].split("/")[0]


def update_organization_configuration(self):
    backend = self.guardduty_backend
    detector_id = _detector_id(self)
    _detector(backend, detector_id)
    org = _require_admin(backend)
    members = self._get_param("autoEnableOrganizationMembers")
    if members is None:
        members = "NEW" if self._get_param("autoEnable") else "NONE"
    if members not in ("NEW", "ALL", "NONE"):
        raise BadRequest("The request is rejected because autoEnableOrganizationMembers is invalid.")
    config = _state(backend)["org_config"].setdefault(detector_id, {"features": {}})
    config["autoEnableOrganizationMembers"] = members
    for feature in self._get_param("features") or []:
        if feature.get("autoEnable") not in ("NEW", "ALL", "NONE"):
            raise BadRequest("The request is rejected because a feature's autoEnable is invalid.")
        config["features"][feature["name"]] = feature["autoEnable"]
    if members == "ALL":
        store = _state(backend)["members"].setdefault(detector_id, {})
        for account in org.accounts:
            if account.id != backend.account_id and account.id not in store and is_active(org, account.id):
                store[account.id] = _member(account.id, account.email, backend.account_id)
    return "{}"


def describe_organization_configuration(self):
    backend = self.guardduty_backend
    detector_id = _detector_id(self)
    _detector(backend, detector_id)
    _require_admin(backend)
    config = _state(backend)["org_config"].get(detector_id, {"autoEnableOrganizationMembers": "NONE", "features": {}})
    members = config["autoEnableOrganizationMembers"]
    return json.dumps({
        "autoEnable": members != "NONE",
        "autoEnableOrganizationMembers": members,
        "memberAccountLimitReached": False,
        "features": [{"name": n, "autoEnable": v} for n, v in sorted(config["features"].items())],
    })


def _member(account_id, email, admin):
    return {
        "accountId": account_id,
        "email": email,
        "administratorId": admin,
        "masterId": admin,
        "relationshipStatus": "Enabled",
        "invitedAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
    }


def create_members(self):
    backend = self.guardduty_backend
    detector_id = _detector_id(self)
    _detector(backend, detector_id)
    details = self._get_param("accountDetails") or []
    if not 1 <= len(details) <= MAX_MEMBERS_PER_CALL:
        raise BadRequest("The request is rejected because accountDetails must hold 1 to 50 accounts.")
    org = org_of(backend.account_id)
    store = _state(backend)["members"].setdefault(detector_id, {})
    unprocessed = []
    for d in details:
        account_id = d.get("accountId")
        if org is None or not any(a.id == account_id for a in org.accounts) or account_id == backend.account_id:
            unprocessed.append({"accountId": account_id, "result": "The account is not a member of the organization."})
            continue
        if not is_active(org, account_id):
            unprocessed.append({"accountId": account_id, "result": "The account is suspended or closed."})
            continue
        store.setdefault(account_id, _member(account_id, d.get("email"), backend.account_id))
    return json.dumps({"unprocessedAccounts": unprocessed})


def list_members(self):
    backend = self.guardduty_backend
    detector_id = _detector_id(self)
    _detector(backend, detector_id)
    members = sorted(_state(backend)["members"].get(detector_id, {}).values(), key=lambda m: m["accountId"])
    chunk, token = page(members, self._get_param("maxResults"), self._get_param("nextToken"), 50, BadRequest)
    out = {"members": chunk}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def delete_members(self):
    backend = self.guardduty_backend
    detector_id = _detector_id(self)
    _detector(backend, detector_id)
    store = _state(backend)["members"].setdefault(detector_id, {})
    unprocessed = []
    for account_id in self._get_param("accountIds") or []:
        if store.pop(account_id, None) is None:
            unprocessed.append({"accountId": account_id, "result": "The account is not a member."})
    return json.dumps({"unprocessedAccounts": unprocessed})


def apply():
    urls.url_paths.update({
        "{0}/detector/(?P<detector_id>[^/]+)/admin$": GuardDutyResponse.dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/member$": GuardDutyResponse.dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/member/delete$": GuardDutyResponse.dispatch,
        "{0}/admin/disable$": GuardDutyResponse.dispatch,
    })
    GuardDutyResponse.enable_organization_admin_account = enable_organization_admin_account
    GuardDutyResponse.create_detector = create_detector
    GuardDutyResponse.disable_organization_admin_account = disable_organization_admin_account
    GuardDutyResponse.update_organization_configuration = update_organization_configuration
    GuardDutyResponse.describe_organization_configuration = describe_organization_configuration
    GuardDutyResponse.create_members = create_members
    GuardDutyResponse.list_members = list_members
    GuardDutyResponse.delete_members = delete_members
