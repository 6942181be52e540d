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
- The delegated administrator is the same account in every Region: enabling
  another while one Region has a different one is a ConflictException
  (designating-admin.html: "that account must be your delegated administrator
  in all other Regions").
- Scanning lives in each account, not in the caller's store: Enable, Disable and
  BatchGetAccountStatus act on the named accounts' own state, so a read in a
  member account sees what its administrator turned on. The caller may name
  itself, or, as the delegated administrator, its associated members ("View and
  manage the status of Amazon Inspector for associated accounts, including
  activating and deactivating", admin-member-relationship); any other account,
  or a suspended one, is a failedAccounts entry (ACCESS_DENIED), not a change.
  accountIds holds at most 100 (ValidationException). Associating a member
  starts no scan (AssociateMember only associates; auto-enable covers new
  members), https://docs.aws.amazon.com/inspector/v2/APIReference/API_Enable.html,
  https://docs.aws.amazon.com/inspector/v2/APIReference/API_BatchGetAccountStatus.html.
"""
import json

from moto.inspector2.models import inspector2_backends
from moto.inspector2.responses import Inspector2Response
from moto.organizations.models import organizations_backends

from .common import Error, active_ids, is_active, org_of, page

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
    # "If you have designated an account as a delegated administrator in one
    # Region, that account must be your delegated administrator in all other
    # Regions" (designating-admin.html).
    for region, other in list(inspector2_backends[backend.account_id].items()):
        elsewhere = [a for a, s in other.admin_accounts.items() if s == "ENABLED" and a != admin]
        if region != backend.region_name and elsewhere:
            raise Error("ConflictException", f"{elsewhere[0]} is the delegated administrator in {region}: the "
                        "delegated administrator must be the same account in every Region.", 409)
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


def _may_manage(backend, account):
    """Whether the caller may act on `account`'s scanning: its own, or an
    associated, active member's when it is the delegated administrator."""
    if account == backend.account_id:
        return True
    org = org_of(backend.account_id)
    if org is None or not is_active(org, account):
        return False
    management = inspector2_backends[org.org.master_account_id][backend.region_name]
    if management.admin_accounts.get(backend.account_id) != "ENABLED":
        return False
    member = backend.members.get(account)
    return member is not None and member.status == "ENABLED"


# (account, region) → that account's own scan status: each account's, not the
# caller's (stock kept them in the caller's store).
SCANS = {}


def _status_of(backend, account, keep=True):
    """The account's own scan status; a read of an account that never had any
    stores nothing (thousands of accounts in the scale benchmark)."""
    from moto.inspector2.models import AccountStatus

    key = (account, backend.region_name)
    if key not in SCANS:
        if not keep:
            return AccountStatus(account)
        SCANS[key] = AccountStatus(account)
    return SCANS[key]


def _accounts(self):
    accounts = self._get_param("accountIds")
    if accounts is None:
        return [self.inspector2_backend.account_id]
    if len(accounts) > 100:
        raise _validation("accountIds holds at most 100 accounts.")
    return accounts


def _denied(account, status=None):
    out = {"accountId": account, "errorCode": "ACCESS_DENIED",
           "errorMessage": f"The caller cannot manage Amazon Inspector for account {account}."}
    if status is not None:
        out["status"] = status
    return out


def _toggle(self, enable):
    backend = self.inspector2_backend
    types = self._get_param("resourceTypes") or []
    if enable and not types:
        raise _validation("resourceTypes must name 1 to 5 resource types.")
    done, failed = [], []
    for account in _accounts(self):
        if not _may_manage(backend, account):
            failed.append(_denied(account, "DISABLED"))
            continue
        status = _status_of(backend, account)
        status.toggle(types or ["EC2", "ECR", "LAMBDA", "LAMBDA_CODE"], enable=enable)
        done.append(status.to_json())
    return json.dumps({"accounts": done, "failedAccounts": failed})


def enable(self):
    return _toggle(self, True)


def disable(self):
    return _toggle(self, False)


def batch_get_account_status(self):
    backend = self.inspector2_backend
    done, failed = [], []
    for account in _accounts(self):
        if not _may_manage(backend, account):
            failed.append(_denied(account))
            continue
        done.append(_status_of(backend, account, keep=False).to_batch_json())
    return json.dumps({"accounts": done, "failedAccounts": failed})


def _validation(message):
    return Error("ValidationException", message)


def list_members(self):
    members = sorted(self.inspector2_backend.list_members(), key=lambda m: m.account_id)
    chunk, token = page(members, self._get_param("maxResults"), self._get_param("nextToken"), 50, _validation)
    out = {"members": [m.to_json() for m in chunk]}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


# Scan status of an EC2 instance under the default scan mode (EC2_SSM_AGENT_BASED):
# a stopped instance is not scanned (EC2_INSTANCE_STOPPED), nor one that Systems
# Manager does not manage (UNMANAGED_EC2_INSTANCE: "the EC2 instance is not
# managed by SSM"). The emulator counts an instance as SSM-managed when it has an
# instance profile (SSM's agent needs one to register); everything else is
# scanned (ACTIVE, SUCCESSFUL). API_ScanStatus.html, API_CoveredResource.html,
# https://docs.aws.amazon.com/inspector/latest/user/scanning-ec2.html.
def _ec2_status(instance):
    if instance._state.name not in ("running", "pending"):
        return "INACTIVE", "EC2_INSTANCE_STOPPED"
    if not getattr(instance, "iam_instance_profile", None):
        return "INACTIVE", "UNMANAGED_EC2_INSTANCE"
    return "ACTIVE", "SUCCESSFUL"


def _covered(backend):
    """The resources the caller's coverage lists: its own and, as the delegated
    administrator, its associated, enabled members' ("If you are the delegated
    administrator, the data covers all accounts in your organization",
    assessing-coverage.html), in accounts where EC2 scanning is ENABLED. EC2
    instances only: the emulator has no ECR image or Lambda coverage."""
    from moto.ec2.models import ec2_backends

    region = backend.region_name
    org = org_of(backend.account_id)
    management = inspector2_backends[org.org.master_account_id][region] if org is not None else None
    delegated = management is not None and management.admin_accounts.get(backend.account_id) == "ENABLED"
    live = active_ids(org) if delegated else set()
    # What _may_manage decides, with the organization's active accounts read once.
    accounts = [backend.account_id] + sorted(
        a for a, m in backend.members.items() if a in live and m.status == "ENABLED" and a != backend.account_id)
    out = []
    for account in accounts:
        status = SCANS.get((account, region))
        if status is None or status.ec2 != "ENABLED":
            continue
        # Look without creating: an account that never ran an instance has none.
        regions = dict.get(ec2_backends, account)
        ec2 = dict.get(regions, region) if regions is not None else None
        if ec2 is None:
            continue
        for reservation in ec2.reservations.values():
            for instance in reservation.instances:
                code, reason = _ec2_status(instance)
                out.append({"accountId": account, "resourceId": instance.id, "resourceType": "AWS_EC2_INSTANCE",
                            "scanType": "PACKAGE", "scanStatus": {"statusCode": code, "reason": reason},
                            "scanMode": "EC2_SSM_AGENT_BASED"})
    return out


_COVERAGE_FIELDS = {
    "accountId": lambda r: r["accountId"],
    "resourceId": lambda r: r["resourceId"],
    "resourceType": lambda r: r["resourceType"],
    "scanStatusCode": lambda r: r["scanStatus"]["statusCode"],
    "scanStatusReason": lambda r: r["scanStatus"]["reason"],
    "scanType": lambda r: r["scanType"],
    "scanMode": lambda r: r["scanMode"],
}
_GROUPS = {
    "ACCOUNT_ID": lambda r: r["accountId"],
    "RESOURCE_TYPE": lambda r: r["resourceType"],
    "SCAN_STATUS_CODE": lambda r: r["scanStatus"]["statusCode"],
    "SCAN_STATUS_REASON": lambda r: r["scanStatus"]["reason"],
}


def _filtered(self):
    """CoverageFilterCriteria: each key a list of 1 to 10 {comparison, value}
    (EQUALS or NOT_EQUALS); a resource matches a key when it equals one EQUALS
    value (if any) and no NOT_EQUALS value (API_CoverageFilterCriteria.html)."""
    criteria = self._get_param("filterCriteria") or {}
    resources = _covered(self.inspector2_backend)
    for key, filters in criteria.items():
        if key not in _COVERAGE_FIELDS:
            raise _validation(f"The emulator does not filter coverage by {key}.")
        if not 1 <= len(filters) <= 10:
            raise _validation(f"filterCriteria.{key} holds 1 to 10 filters.")
        equals = {f["value"] for f in filters if f.get("comparison") == "EQUALS"}
        not_equals = {f["value"] for f in filters if f.get("comparison") == "NOT_EQUALS"}
        if any(f.get("comparison") not in ("EQUALS", "NOT_EQUALS") for f in filters):
            raise _validation("comparison is EQUALS or NOT_EQUALS.")
        field = _COVERAGE_FIELDS[key]
        resources = [r for r in resources
                     if (not equals or field(r) in equals) and field(r) not in not_equals]
    return resources


def list_coverage_statistics(self):
    """ListCoverageStatistics: counts of the covered resources matching the
    filter, grouped by one key, at most 5 groups a page (the model's Counts list
    holds 0 to 5), with totalCounts every page (API_ListCoverageStatistics.html)."""
    resources = _filtered(self)
    group = self._get_param("groupBy")
    out = {"totalCounts": len(resources)}
    if group:
        if group not in _GROUPS:
            raise _validation(f"The emulator does not group coverage by {group}.")
        counts = {}
        for r in resources:
            key = _GROUPS[group](r)
            counts[key] = counts.get(key, 0) + 1
        groups = [{"groupKey": k, "count": n} for k, n in sorted(counts.items())]
        chunk, token = page(groups, None, self._get_param("nextToken"), 5, _validation)
        out["countsByGroup"] = chunk
        if token:
            out["nextToken"] = token
    return json.dumps(out)


def list_coverage(self):
    """ListCoverage: the covered resources matching the filter, at most 200 a page."""
    resources = sorted(_filtered(self), key=lambda r: (r["accountId"], r["resourceId"]))
    chunk, token = page(resources, self._get_param("maxResults"), self._get_param("nextToken"), 200, _validation)
    out = {"coveredResources": chunk}
    if token:
        out["nextToken"] = token
    return json.dumps(out)


def apply():
    from moto.inspector2 import urls

    urls.url_paths.update({
        "{0}/coverage/statistics/list$": Inspector2Response.dispatch,
        "{0}/coverage/list$": Inspector2Response.dispatch,
    })
    Inspector2Response.list_coverage_statistics = list_coverage_statistics
    Inspector2Response.list_coverage = list_coverage
    Inspector2Response.list_members = list_members
    Inspector2Response.enable_delegated_admin_account = enable_delegated_admin_account
    Inspector2Response.disable_delegated_admin_account = disable_delegated_admin_account
    Inspector2Response.describe_organization_configuration = describe_organization_configuration
    Inspector2Response.update_organization_configuration = update_organization_configuration
    Inspector2Response.associate_member = associate_member
    Inspector2Response.enable = enable
    Inspector2Response.disable = disable
    Inspector2Response.batch_get_account_status = batch_get_account_status
