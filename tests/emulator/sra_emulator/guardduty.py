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
- UpdateOrganizationConfiguration keeps each feature's additionalConfiguration
  (Runtime Monitoring's agents), refuses it on other features and refuses
  RUNTIME_MONITORING with EKS_RUNTIME_MONITORING in one request, as the API
  reference says; DescribeOrganizationConfiguration returns it.
- Enrolling an organization account (CreateMembers, or auto-enable ALL) turns
  GuardDuty on in that account and Region (a detector with the features the
  organization auto-enables), so reads in the member account see it.
- UpdateDetector changes the features the request names (stock replaced the
  whole list), as the API reference's UpdateDetector describes.
- DisableOrganizationAdminAccount is refused while the administrator still has
  members (the guide's sequence disassociates and deletes them first);
  DisassociateMembers (missing in stock) is refused for organization accounts
  while auto-enable is ALL; ListMembers lists associated members only unless
  onlyAssociated=false (change-guardduty-delegated-admin.html, API reference).
- CreateDetector in an account and Region that has a detector is refused, as in
  AWS (one detector per account and Region); stock moto made a second.
"""
import json

from moto.core.exceptions import JsonRESTError
from moto.guardduty import urls
from moto.guardduty.models import guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.organizations.models import organizations_backends

from .common import active_ids, is_active, org_of, page

MAX_MEMBERS_PER_CALL = 50
PRINCIPAL = "guardduty.amazonaws.com"
# Runtime Monitoring's additional configuration (API reference,
# OrganizationAdditionalConfiguration): "Additional configuration applies to only
# GuardDuty Runtime Monitoring protection plan."
ADDITIONAL = ("EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT")


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


def update_detector(self):
    """Stock moto replaced the detector's whole feature list; AWS changes the
    features named in the request (and their additional configuration) only."""
    detector_id = self.path.split("/")[-1]
    detector = _detector(self.guardduty_backend, detector_id)
    enable = self._get_param("enable")
    if enable is not None:
        detector.enabled = enable
    current = {f["name"]: dict(f) for f in detector.features or []}
    for f in self._get_param("features") or []:
        if f.get("status") not in ("ENABLED", "DISABLED"):
            raise BadRequest("The request is rejected because a feature's status is invalid.")
        merged = current.get(f["name"], {"name": f["name"]})
        merged["status"] = f["status"]
        extras = {e["name"]: dict(e) for e in merged.get("additionalConfiguration", [])}
        for e in f.get("additionalConfiguration") or []:
            if f["name"] not in ("RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING") or e.get("name") not in ADDITIONAL:
                raise BadRequest(f"The request is rejected because {e.get('name')} is not an additional configuration of {f['name']}.")
            extras[e["name"]] = {"name": e["name"], "status": e["status"]}
        if extras:
            merged["additionalConfiguration"] = [extras[n] for n in sorted(extras)]
        current[f["name"]] = merged
    detector.features = [current[n] for n in sorted(current)]
    return "{}"


_original_create_detector = GuardDutyResponse.create_detector


def create_detector(self):
    if self.guardduty_backend.detectors:
        raise BadRequest("The request is rejected because a detector already exists for the current account.")
    return _original_create_detector(self)


def disable_organization_admin_account(self):
    """"Before you remove a delegated GuardDuty administrator account, you must
    disassociate all the member accounts associated with the delegated GuardDuty
    administrator account, and then delete them from the GuardDuty organization"
    (https://docs.aws.amazon.com/guardduty/latest/ug/change-guardduty-delegated-admin.html):
    refused while the administrator has members, associated or not."""
    admin = self._get_param("adminAccountId")
    backend = self.guardduty_backend
    if admin not in backend.admin_account_ids:
        raise BadRequest(f"The request is rejected because {admin} is not the administrator account.")
    admin_backend = guardduty_backends[admin][backend.region_name]
    left = sorted(a for store in _state(admin_backend)["members"].values() for a in store)
    if left:
        raise BadRequest(
            f"The request is rejected because the administrator account {admin} still has member accounts "
            f"({', '.join(left)}): disassociate and delete them first."
        )
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
    features = self._get_param("features") or []
    names = {f.get("name") for f in features}
    if {"RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING"} <= names:
        raise BadRequest("The request is rejected because specifying both EKS Runtime Monitoring and Runtime Monitoring is not allowed.")
    for feature in features:
        if feature.get("autoEnable") not in ("NEW", "ALL", "NONE"):
            raise BadRequest("The request is rejected because a feature's autoEnable is invalid.")
        config["features"][feature["name"]] = feature["autoEnable"]
        for extra in feature.get("additionalConfiguration") or []:
            if feature["name"] not in ("RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING") or extra.get("name") not in ADDITIONAL:
                raise BadRequest(f"The request is rejected because {extra.get('name')} is not an additional configuration of {feature['name']}.")
            if extra.get("autoEnable") not in ("NEW", "ALL", "NONE"):
                raise BadRequest("The request is rejected because an additional configuration's autoEnable is invalid.")
            config.setdefault("additional", {}).setdefault(feature["name"], {})[extra["name"]] = extra["autoEnable"]
    if members == "ALL":
        store = _state(backend)["members"].setdefault(detector_id, {})
        for account in org.accounts:
            if account.id != backend.account_id and account.id not in store and is_active(org, account.id):
                store[account.id] = _member(account.id, account.email, backend.account_id)
                _enable_in_member(backend, account.id)
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
        "features": [_org_feature(config, n, v) for n, v in sorted(config["features"].items())],
    })


def _org_feature(config, name, value):
    out = {"name": name, "autoEnable": value}
    extra = config.get("additional", {}).get(name)
    if extra:
        out["additionalConfiguration"] = [{"name": n, "autoEnable": v} for n, v in sorted(extra.items())]
    return out


def _enable_in_member(backend, account_id):
    """What enrolling does in the member account: GuardDuty on there (a detector)
    with the features the organization auto-enables, so a read in the member
    account sees what it would in AWS ("As a delegated administrator, using
    CreateMembers will enable GuardDuty in the added member accounts", and it
    "applies your organization's auto-enable settings to the member accounts",
    https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateMembers.html)."""
    member = guardduty_backends[account_id][backend.region_name]
    if member.detectors:
        return
    config = _state(backend)["org_config"]
    features = []
    for conf in config.values():
        for name, auto in conf.get("features", {}).items():
            if auto in ("ALL", "NEW"):
                extra = [{"name": n, "status": "ENABLED" if v in ("ALL", "NEW") else "DISABLED"}
                         for n, v in sorted(conf.get("additional", {}).get(name, {}).items())]
                feature = {"name": name, "status": "ENABLED"}
                if extra:
                    feature["additionalConfiguration"] = extra
                features.append(feature)
    member.create_detector(True, "SIX_HOURS", {}, {}, features)


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
        _enable_in_member(backend, account_id)
    return json.dumps({"unprocessedAccounts": unprocessed})


def list_members(self):
    backend = self.guardduty_backend
    detector_id = _detector_id(self)
    _detector(backend, detector_id)
    members = sorted(_state(backend)["members"].get(detector_id, {}).values(), key=lambda m: m["accountId"])
    # onlyAssociated defaults to true (API reference, ListMembers).
    if str(self._get_param("onlyAssociated", "true")).lower() != "false":
        members = [m for m in members if m["relationshipStatus"] == "Enabled"]
    chunk, token = page(members, self._get_param("maxResults"), self._get_param("nextToken"), 50, BadRequest)
    out = {"members": chunk}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def _members_unless_all(self, what):
    """The detector's member store and the accounts asked for, refused while
    auto-enable is ALL for any organization account among them."""
    backend = self.guardduty_backend
    detector_id = _detector_id(self)
    _detector(backend, detector_id)
    store = _state(backend)["members"].setdefault(detector_id, {})
    config = _state(backend)["org_config"].get(detector_id, {})
    org = org_of(backend.account_id)
    asked = self._get_param("accountIds") or []
    in_org = [a for a in asked if org is not None and any(x.id == a for x in org.accounts)]
    if config.get("autoEnableOrganizationMembers") == "ALL" and in_org:
        raise BadRequest(
            f"The request is rejected because autoEnableOrganizationMembers is ALL: {what} the "
            f"organization's account {in_org[0]}."
        )
    return store, asked


def disassociate_members(self):
    """Missing in stock. With auto-enable ALL an organization account cannot be
    disassociated (change-guardduty-delegated-admin.html sets it to NEW or NONE
    first "to prevent an error when you disassociate"); a disassociated member
    stays listed with onlyAssociated=false until DeleteMembers
    (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DisassociateMembers.html)."""
    store, asked = _members_unless_all(self, "GuardDuty cannot disassociate")
    unprocessed = []
    for account_id in asked:
        member = store.get(account_id)
        if member is None:
            unprocessed.append({"accountId": account_id, "result": "The account is not a member."})
        else:
            member["relationshipStatus"] = "Removed"
    return json.dumps({"unprocessedAccounts": unprocessed})


def delete_members(self):
    """"With autoEnableOrganizationMembers configuration for your organization set
    to ALL, you'll receive an error if you attempt to disable GuardDuty for a member
    account in your organization"
    (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_DeleteMembers.html)."""
    store, asked = _members_unless_all(self, "GuardDuty cannot be disabled for")
    unprocessed = []
    for account_id in asked:
        if store.pop(account_id, None) is None:
            unprocessed.append({"accountId": account_id, "result": "The account is not a member."})
    return json.dumps({"unprocessedAccounts": unprocessed})


def get_organization_statistics(self):
    """GetOrganizationStatistics: "Only a delegated GuardDuty administrator of an
    organization can run this API" (API_GetOrganizationStatistics.html). The
    counts are the administrator's in this Region (its members there): the
    organization's active accounts, its members, those associated (Enabled),
    those whose detector here is enabled, and per feature the enabled members
    with that feature ENABLED (API_OrganizationStatistics.html). AWS refreshes
    them up to 24 hours late (updatedAt says when); the emulator's are current."""
    import datetime

    backend = self.guardduty_backend
    org = _require_admin(backend)
    members = {}
    for store in _state(backend)["members"].values():
        members.update(store)
    live = active_ids(org)
    active = [m for m in members.values() if m["relationshipStatus"] == "Enabled" and m["accountId"] in live]
    enabled, features = 0, {}
    for m in active:
        detectors = guardduty_backends[m["accountId"]][backend.region_name].detectors.values()
        on = [d for d in detectors if d.enabled]
        if not on:
            continue
        enabled += 1
        for f in on[0].features or []:
            if f.get("status") == "ENABLED":
                features[f["name"]] = features.get(f["name"], 0) + 1
    # A timestamp in REST-JSON is epoch seconds unless the model says otherwise.
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    return json.dumps({"organizationDetails": {"updatedAt": now, "organizationStatistics": {
        "totalAccountsCount": len(live),
        "memberAccountsCount": len(members),
        "activeAccountsCount": len(active),
        "enabledAccountsCount": enabled,
        "countByFeature": [{"name": n, "enabledAccountsCount": c} for n, c in sorted(features.items())],
    }}})


def apply():
    urls.url_paths.update({
        "{0}/organization/statistics$": GuardDutyResponse.dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/admin$": GuardDutyResponse.dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/member$": GuardDutyResponse.dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/member/delete$": GuardDutyResponse.dispatch,
        "{0}/detector/(?P<detector_id>[^/]+)/member/disassociate$": GuardDutyResponse.dispatch,
        "{0}/admin/disable$": GuardDutyResponse.dispatch,
    })
    GuardDutyResponse.enable_organization_admin_account = enable_organization_admin_account
    GuardDutyResponse.create_detector = create_detector
    GuardDutyResponse.update_detector = update_detector
    GuardDutyResponse.disable_organization_admin_account = disable_organization_admin_account
    GuardDutyResponse.update_organization_configuration = update_organization_configuration
    GuardDutyResponse.describe_organization_configuration = describe_organization_configuration
    GuardDutyResponse.create_members = create_members
    GuardDutyResponse.list_members = list_members
    GuardDutyResponse.delete_members = delete_members
    GuardDutyResponse.disassociate_members = disassociate_members
    GuardDutyResponse.get_organization_statistics = get_organization_statistics
