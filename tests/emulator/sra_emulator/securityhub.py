"""Security Hub: what stock moto 5.2.5 lacks or gets wrong, to the API reference.

- Organization configuration and the delegated administrator were kept once per
  organization; AWS keeps them per region. Here they are per (organization, region).
- EnableOrganizationAdminAccount is idempotent for the same account and refuses a
  second, different administrator (InvalidInputException) as AWS does, also
  while another Region still has a different one ("To choose a different
  account, you must remove the current Security Hub administrator account in all
  Regions", designate-orgs-admin-account.html).
- Missing operations added: ListOrganizationAdminAccounts,
  DisableOrganizationAdminAccount, DescribeStandards, BatchEnableStandards,
  BatchDisableStandards, GetEnabledStandards, CreateFindingAggregator,
  ListFindingAggregators, GetFindingAggregator, UpdateFindingAggregator and
  DeleteMembers. Standards and aggregators need the hub enabled
  (InvalidAccessException otherwise); an account has at most one aggregator.
- Designating the administrator registers it with Organizations as Security Hub's
  delegated administrator: "When you first choose a Security Hub administrator
  account, Security Hub calls Organizations to make that account the delegated
  administrator account for Security Hub"
- DisassociateMembers (missing in stock) leaves the member listed with a status
  other than enabled; CreateMembers associates such an organization account again.
- ListMembers read OnlyAssociated=false (a query string) as true; now as AWS does.
- CreateMembers of an organization account turns Security Hub on in that
  account, with the default standards, except in the management account, which
  must enable Security Hub itself first: it is UnprocessedAccounts until then
  (API reference, CreateMembers: "Security Hub cannot be enabled automatically
  for the organization management account. The organization management account
  must enable Security Hub before the administrator account enables it as a
  member account",
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_CreateMembers.html).
  EnableSecurityHub with EnableDefaultStandards (the default) enables them; stock
  moto enabled none.
- Under central configuration (ConfigurationType CENTRAL) UpdateOrganizationConfiguration
  refuses AutoEnable=true or default standards in any later request too.
  (https://docs.aws.amazon.com/securityhub/latest/userguide/designate-orgs-admin-account.html).
"""
import json

from moto.securityhub.exceptions import SecurityHubClientError as RESTError
from moto.securityhub import urls
from moto.securityhub.models import SecurityHubBackend, securityhub_backends
from moto.securityhub.responses import SecurityHubResponse

from .common import is_active, org_of

PRINCIPAL = "securityhub.amazonaws.com"

STANDARDS = [
    ("aws-foundational-security-best-practices/v/1.0.0", "AWS Foundational Security Best Practices v1.0.0", True),
    ("cis-aws-foundations-benchmark/v/1.2.0", "CIS AWS Foundations Benchmark v1.2.0", False),
    ("cis-aws-foundations-benchmark/v/1.4.0", "CIS AWS Foundations Benchmark v1.4.0", False),
    ("cis-aws-foundations-benchmark/v/3.0.0", "CIS AWS Foundations Benchmark v3.0.0", False),
    ("nist-800-53/v/5.0.0", "NIST Special Publication 800-53 Revision 5", False),
    ("pci-dss/v/3.2.1", "PCI DSS v3.2.1", False),
]
REGION_LINKING_MODES = ("ALL_REGIONS", "ALL_REGIONS_EXCEPT_SPECIFIED", "SPECIFIED_REGIONS", "NO_REGIONS")


def _err(code, message):
    return RESTError(code, message)


def _get_org_config(self):
    try:
        org_id = self.org_backend.describe_organization()["Organization"]["Id"]
    except Exception:
        from moto.securityhub.exceptions import AWSOrganizationsNotInUseException

        raise AWSOrganizationsNotInUseException()
    key = f"{org_id}/{self.region_name}"
    if key not in SecurityHubBackend._org_configs:
        SecurityHubBackend._org_configs[key] = {
            "admin_account_id": None,
            "auto_enable": False,
            "auto_enable_standards": "DEFAULT",
            "configuration": {"ConfigurationType": "LOCAL", "Status": "ENABLED", "StatusMessage": ""},
        }
    return SecurityHubBackend._org_configs[key]


_original_enable_admin = SecurityHubBackend.enable_organization_admin_account


def enable_organization_admin_account(self, admin_account_id):
    current = self._get_org_config()["admin_account_id"]
    if current == admin_account_id:
        return
    if current is not None:
        raise _err("InvalidInputException", f"The request was rejected because account {current} is already the administrator account.")
    # "To choose a different account, you must remove the current Security Hub
    # administrator account in all Regions" (designate-orgs-admin-account.html).
    org_id = self.org_backend.describe_organization()["Organization"]["Id"]
    for key, config in SecurityHubBackend._org_configs.items():
        other = config.get("admin_account_id")
        if key.startswith(f"{org_id}/") and other not in (None, admin_account_id):
            raise _err("InvalidInputException", f"The request was rejected because account {other} is the "
                       f"administrator account in {key.split('/', 1)[1]}: remove it in all Regions first.")
    org = org_of(self.account_id)
    if org is not None and any(a.id == admin_account_id for a in org.accounts):
        if not any(a.account.id == admin_account_id and PRINCIPAL in a.services for a in org.admins):
            org.register_delegated_administrator(AccountId=admin_account_id, ServicePrincipal=PRINCIPAL)
    return _original_enable_admin.__wrapped__(self, admin_account_id) if hasattr(_original_enable_admin, "__wrapped__") else _original_enable_admin(self, admin_account_id)


_original_update_org_config = SecurityHubBackend.update_organization_configuration


def update_organization_configuration(self, auto_enable, auto_enable_standards=None, organization_configuration=None):
    """Under central configuration AutoEnable "is set to false and can't be
    changed" and AutoEnableStandards is NONE (API reference,
    UpdateOrganizationConfiguration); stock moto checked this only in the request
    that switched to CENTRAL."""
    current = self._get_org_config().get("configuration") or {}
    if organization_configuration is None and current.get("ConfigurationType") == "CENTRAL":
        if auto_enable or auto_enable_standards not in (None, "NONE"):
            raise _err("ValidationException", "The request was rejected because AutoEnable must be false and "
                       "AutoEnableStandards NONE when ConfigurationType is CENTRAL.")
    return _original_update_org_config(self, auto_enable, auto_enable_standards, organization_configuration)


_original_create_members = SecurityHubBackend.create_members


def create_members(self, account_details):
    """Suspended (closed) accounts cannot be members: UnprocessedAccounts. A
    disassociated organization account is associated again (its status back to
    enabled), as CreateMembers does for organization accounts in AWS."""
    org = org_of(self.account_id)
    unprocessed, rest = [], []
    for d in account_details:
        account_id = d.get("AccountId")
        member = self.members.get(account_id)
        in_org = org is not None and any(a.id == account_id for a in org.accounts)
        target = securityhub_backends[account_id][self.region_name] if in_org else None
        if in_org and not is_active(org, account_id):
            unprocessed.append({"AccountId": account_id, "ProcessingResult": "The account is suspended or closed."})
            continue
        if in_org and account_id == org.org.master_account_id and not target.enabled:
            unprocessed.append({"AccountId": account_id, "ProcessingResult": (
                "Security Hub cannot be enabled automatically for the organization management account. The "
                "organization management account must enable Security Hub before the administrator account "
                "enables it as a member account.")})
            continue
        if in_org and not target.enabled:
            _enable_hub(target, True)
        if member is not None and member.get("MemberStatus") != "ENABLED":
            member["MemberStatus"] = "ENABLED"
        else:
            rest.append(d)
    return (_original_create_members(self, rest) if rest else []) + unprocessed


def _enable_hub(backend, default_standards):
    import datetime

    backend.enabled = True
    backend.enabled_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
    backend.tags = getattr(backend, "tags", None) or {}
    if default_standards:
        for suffix, _, default in STANDARDS:
            if default:
                arn = _arn(backend, suffix)
                _state(backend)["standards"][arn] = {
                    "StandardsSubscriptionArn": f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:subscription/{suffix}",
                    "StandardsArn": arn,
                    "StandardsInput": {},
                    "StandardsStatus": "READY",
                }


def enable_security_hub(self, enable_default_standards=True, tags=None):
    """A second EnableSecurityHub is a ResourceConflictException, as in AWS
    (API reference, EnableSecurityHub); the default standards are enabled unless
    EnableDefaultStandards is false."""
    if self.enabled:
        raise _err("ResourceConflictException", "Account is already subscribed to Security Hub")
    _enable_hub(self, enable_default_standards)
    self.tags = tags or {}
    return {}


_original_list_members = SecurityHubResponse.list_members


def list_members(self):
    """Stock moto read the query parameter OnlyAssociated=false as the string
    "false", which is true: disassociated members were never listed."""
    value = self._get_param("OnlyAssociated")
    if isinstance(value, str):
        only = value.lower() != "false"
        members, token = self.securityhub_backend.list_members(
            only_associated=only,
            max_results=int(self._get_param("MaxResults")) if self._get_param("MaxResults") else None,
            next_token=self._get_param("NextToken"),
        )
        out = {"Members": members}
        if token:
            out["NextToken"] = token
        return json.dumps(out)
    return _original_list_members(self)


def disassociate_members(self):
    """Missing in stock moto: the members stay listed (OnlyAssociated=false) with
    a status other than enabled, as in AWS (API reference, Member.MemberStatus)."""
    backend = self.securityhub_backend
    for account_id in _json(self).get("AccountIds") or []:
        member = backend.members.get(account_id)
        if member is not None:
            member["MemberStatus"] = "REMOVED"
    return "{}"


def _state(backend):
    if "_sra" not in backend.__dict__:
        backend._sra = {"standards": {}, "aggregator": None}
    return backend._sra


def _require_hub(backend):
    if not backend.enabled:
        raise _err("InvalidAccessException", f"Account {backend.account_id} is not subscribed to AWS Security Hub")


def _arn(backend, suffix):
    return f"arn:aws:securityhub:{backend.region_name}::standards/{suffix}"


def _json(self):
    return json.loads(self.body) if self.body else {}


def list_organization_admin_accounts(self):
    backend = self.securityhub_backend
    admin = backend._get_org_config()["admin_account_id"]
    accounts = [{"AccountId": admin, "AdminAccountId": admin, "Status": "ENABLED"}] if admin else []
    return json.dumps({"AdminAccounts": accounts})


def disable_organization_admin_account(self):
    backend = self.securityhub_backend
    admin = _json(self).get("AdminAccountId")
    config = backend._get_org_config()
    if config["admin_account_id"] != admin:
        raise _err("InvalidInputException", f"The request was rejected because {admin} is not the administrator account.")
    config["admin_account_id"] = None
    return "{}"


def describe_standards(self):
    backend = self.securityhub_backend
    return json.dumps({
        "Standards": [
            {"StandardsArn": _arn(backend, s), "Name": n, "Description": n, "EnabledByDefault": d,
             "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"}}
            for s, n, d in STANDARDS
        ]
    })


def batch_enable_standards(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    requests = _json(self).get("StandardsSubscriptionRequests") or []
    if not 1 <= len(requests) <= 25:
        raise _err("InvalidInputException", "StandardsSubscriptionRequests must hold 1 to 25 requests.")
    known = {_arn(backend, s): s for s, _, _ in STANDARDS}
    out = []
    for r in requests:
        arn = r.get("StandardsArn")
        if arn not in known:
            raise _err("InvalidInputException", f"The request was rejected because {arn} is not a valid standard.")
        sub = {
            "StandardsSubscriptionArn": f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:subscription/{known[arn]}",
            "StandardsArn": arn,
            "StandardsInput": r.get("StandardsInput") or {},
            "StandardsStatus": "READY",
        }
        _state(backend)["standards"][arn] = sub
        out.append(sub)
    return json.dumps({"StandardsSubscriptions": out})


def batch_disable_standards(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    arns = _json(self).get("StandardsSubscriptionArns") or []
    out = []
    for sub_arn in arns:
        for arn, sub in list(_state(backend)["standards"].items()):
            if sub["StandardsSubscriptionArn"] == sub_arn:
                del _state(backend)["standards"][arn]
                out.append(dict(sub, StandardsStatus="DELETING"))
    return json.dumps({"StandardsSubscriptions": out})


def get_enabled_standards(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    return json.dumps({"StandardsSubscriptions": list(_state(backend)["standards"].values())})


def _aggregator_out(backend, agg):
    return {
        "FindingAggregatorArn": agg["arn"],
        "FindingAggregationRegion": backend.region_name,
        "RegionLinkingMode": agg["mode"],
        "Regions": agg["regions"],
    }


def _check_linking(params):
    mode = params.get("RegionLinkingMode")
    if mode not in REGION_LINKING_MODES:
        raise _err("InvalidInputException", "RegionLinkingMode must be one of " + ", ".join(REGION_LINKING_MODES))
    regions = params.get("Regions") or []
    if mode in ("SPECIFIED_REGIONS", "ALL_REGIONS_EXCEPT_SPECIFIED") and not regions:
        raise _err("InvalidInputException", f"Regions are required with {mode}.")
    return mode, regions


def create_finding_aggregator(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    if _state(backend)["aggregator"] is not None:
        raise _err("InvalidInputException", "The request was rejected because a finding aggregator already exists.")
    mode, regions = _check_linking(_json(self))
    agg = {
        "arn": f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:finding-aggregator/{backend.account_id[:8]}-sra",
        "mode": mode,
        "regions": regions,
    }
    _state(backend)["aggregator"] = agg
    return json.dumps(_aggregator_out(backend, agg))


def list_finding_aggregators(self):
    backend = self.securityhub_backend
    agg = _state(backend)["aggregator"]
    return json.dumps({"FindingAggregators": [{"FindingAggregatorArn": agg["arn"]}] if agg else []})


def get_finding_aggregator(self):
    backend = self.securityhub_backend
    agg = _state(backend)["aggregator"]
    arn = self.path.split("/findingAggregator/get/", 1)[1]
    from urllib.parse import unquote

    if agg is None or unquote(arn) != agg["arn"]:
        raise _err("ResourceNotFoundException", f"The request was rejected because no finding aggregator was found with ARN {unquote(arn)}.")
    return json.dumps(_aggregator_out(backend, agg))


def update_finding_aggregator(self):
    backend = self.securityhub_backend
    params = _json(self)
    agg = _state(backend)["aggregator"]
    if agg is None or params.get("FindingAggregatorArn") != agg["arn"]:
        raise _err("ResourceNotFoundException", "The request was rejected because no finding aggregator was found.")
    agg["mode"], agg["regions"] = _check_linking(params)
    return json.dumps(_aggregator_out(backend, agg))


def delete_members(self):
    """Only members that joined by invitation can be deleted: "You can't invoke
    this API to delete accounts that belong to an Organizations organization"
    (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_DeleteMembers.html);
    an organization's member is disassociated instead."""
    backend = self.securityhub_backend
    org = org_of(backend.account_id)
    unprocessed = []
    for account_id in _json(self).get("AccountIds") or []:
        if org is not None and any(a.id == account_id for a in org.accounts):
            unprocessed.append({
                "AccountId": account_id,
                "ProcessingResult": "The account belongs to the organization: disassociate it instead.",
            })
        elif backend.members.pop(account_id, None) is None:
            unprocessed.append({"AccountId": account_id, "ProcessingResult": "The account is not a member."})
    return json.dumps({"UnprocessedAccounts": unprocessed})


def apply():
    urls.url_paths.update({
        "{0}/organization/admin$": SecurityHubResponse.dispatch,
        "{0}/organization/admin/disable$": SecurityHubResponse.dispatch,
        "{0}/standards$": SecurityHubResponse.dispatch,
        "{0}/standards/register$": SecurityHubResponse.dispatch,
        "{0}/standards/deregister$": SecurityHubResponse.dispatch,
        "{0}/standards/get$": SecurityHubResponse.dispatch,
        "{0}/findingAggregator/create$": SecurityHubResponse.dispatch,
        "{0}/findingAggregator/list$": SecurityHubResponse.dispatch,
        "{0}/findingAggregator/get/(?P<arn>.+)$": SecurityHubResponse.dispatch,
        "{0}/findingAggregator/update$": SecurityHubResponse.dispatch,
        "{0}/members/delete$": SecurityHubResponse.dispatch,
        "{0}/members/disassociate$": SecurityHubResponse.dispatch,
    })
    SecurityHubBackend._get_org_config = _get_org_config
    SecurityHubBackend.enable_organization_admin_account = enable_organization_admin_account
    SecurityHubBackend.create_members = create_members
    SecurityHubBackend.enable_security_hub = enable_security_hub
    SecurityHubBackend.update_organization_configuration = update_organization_configuration
    for fn in (
        list_organization_admin_accounts, disable_organization_admin_account, describe_standards,
        batch_enable_standards, batch_disable_standards, get_enabled_standards,
        create_finding_aggregator, list_finding_aggregators, get_finding_aggregator,
        update_finding_aggregator, delete_members, disassociate_members, list_members,
    ):
        setattr(SecurityHubResponse, fn.__name__, fn)
