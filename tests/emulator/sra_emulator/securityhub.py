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
- Central configuration (missing in stock moto beyond the flag): switching to
  CENTRAL needs the delegated administrator, calling from the home Region, the
  Region of its finding aggregator ("Cross-Region aggregation is also a
  prerequisite for using central configuration",
  https://docs.aws.amazon.com/securityhub/latest/userguide/start-central-configuration.html);
  it then holds in the home Region and every linked Region. Configuration
  policies (Create/Update/Get/ListConfigurationPolicies) and their associations
  (Start/Get/ListConfigurationPolicyAssociations) are the administrator's, from
  the home Region only ("Only the ... delegated administrator can invoke this
  operation from the home Region", API_CreateConfigurationPolicy.html). A policy
  takes effect in every account it applies to, in the home Region and every
  linked Region ("Configuration policies take effect in the home Region and all
  linked Regions", aggregation-central-configuration.html); an account's own
  association wins over its OU's, the nearest OU over the root's, and an account
  that joins later inherits ("New accounts will inherit the policy from the root
  or their assigned OU", API_OrganizationConfiguration.html). A policy that turns
  Security Hub on enables it with exactly its standards; the management account's
  hub is left for it to enable (as CreateMembers documents; the documentation is
  silent for policies). An account a policy manages cannot change its standards
  (AccessDeniedException "Account ... is managed by a configuration policy").
  Removing the administrator stops central configuration ("Security Hub
  automatically stops central configuration", central-configuration-intro.html).
"""
import datetime
import json
import uuid

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
    if organization_configuration is not None:
        return _set_configuration_type(self, auto_enable, auto_enable_standards, organization_configuration)
    if current.get("ConfigurationType") == "CENTRAL":
        if auto_enable or auto_enable_standards not in (None, "NONE"):
            raise _err("ValidationException", "The request was rejected because AutoEnable must be false and "
                       "AutoEnableStandards NONE when ConfigurationType is CENTRAL.")
    return _original_update_org_config(self, auto_enable, auto_enable_standards, organization_configuration)


# Central configuration per organization: {"home", "admin", "policies": {id: policy},
# "associations": {target id: (target type, policy id, updated at)}, "version"}.
CENTRAL = {}


def _org_id(backend):
    return backend.org_backend.describe_organization()["Organization"]["Id"]


def _set_configuration_type(self, auto_enable, auto_enable_standards, organization_configuration):
    config = self._get_org_config()
    if not config["admin_account_id"]:
        raise _err("ResourceNotFoundException", "The request was rejected because no administrator account has been designated.")
    if self.account_id != config["admin_account_id"]:
        raise _err("AccessDeniedException", "Only the designated administrator account can update the organization configuration.")
    kind = organization_configuration.get("ConfigurationType")
    if kind not in ("CENTRAL", "LOCAL"):
        raise _err("InvalidInputException", "The request was rejected because the ConfigurationType value must be either CENTRAL or LOCAL.")
    org_id = _org_id(self)
    if kind == "CENTRAL":
        if auto_enable or auto_enable_standards != "NONE":
            raise _err("InvalidInputException", "Auto Enable and AutoEnableStandards can not be enabled for Central Configuration")
        agg = _state(self)["aggregator"]
        if agg is None:
            raise _err("InvalidInputException", "Central configuration needs a home Region: create a finding aggregator "
                       "in it first, then call UpdateOrganizationConfiguration from that Region.")
        state = CENTRAL.setdefault(org_id, {"policies": {}, "associations": {}, "version": 0})
        state.update(home=self.region_name, admin=self.account_id, linked=list(agg["regions"]))
        state["version"] += 1
        regions = [self.region_name, *agg["regions"]]
    else:
        state = CENTRAL.pop(org_id, None)
        regions = [self.region_name, *(state["linked"] if state else [])]
    for region in regions:
        key = f"{org_id}/{region}"
        other = SecurityHubBackend._org_configs.setdefault(key, dict(config, configuration={}))
        other["configuration"] = {"ConfigurationType": kind, "Status": "ENABLED", "StatusMessage": ""}
        other["auto_enable"] = auto_enable
        other["auto_enable_standards"] = auto_enable_standards or other.get("auto_enable_standards")
    return None


def _central(self):
    """The organization's central configuration, for its administrator calling
    from the home Region."""
    backend = self.securityhub_backend
    state = CENTRAL.get(_org_id(backend)) if org_of(backend.account_id) is not None else None
    if state is None:
        raise _err("InvalidAccessException", "The request was rejected because the organization does not use central configuration.")
    if backend.account_id != state["admin"]:
        raise _err("AccessDeniedException", "Only the delegated administrator can manage configuration policies.")
    if backend.region_name != state["home"]:
        raise _err("AccessDeniedException", f"Configuration policies can be managed only from the home Region {state['home']}.")
    return state


def _policy_out(policy, summary=False):
    out = {k: policy[k] for k in ("Arn", "Id", "Name", "Description", "UpdatedAt")}
    if summary:
        out["ServiceEnabled"] = policy["ConfigurationPolicy"]["SecurityHub"].get("ServiceEnabled", False)
    else:
        out.update(CreatedAt=policy["CreatedAt"], ConfigurationPolicy=policy["ConfigurationPolicy"])
    return out


def _checked_document(backend, document):
    hub = (document or {}).get("SecurityHub")
    if hub is None:
        raise _err("InvalidInputException", "ConfigurationPolicy must hold a SecurityHub policy.")
    known = {_arn(backend, s) for s, _, _ in STANDARDS}
    for arn in hub.get("EnabledStandardIdentifiers") or []:
        if arn not in known:
            raise _err("InvalidInputException", f"The request was rejected because {arn} is not a valid standard.")
    return {"SecurityHub": hub}


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def create_configuration_policy(self):
    state = _central(self)
    body = _json(self)
    name = body.get("Name")
    if any(p["Name"] == name for p in state["policies"].values()):
        raise _err("ResourceConflictException", f"A configuration policy named {name} already exists.")
    backend = self.securityhub_backend
    pid = str(uuid.uuid4())
    policy = {
        "Arn": f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:configuration-policy/{pid}",
        "Id": pid, "Name": name, "Description": body.get("Description", ""), "CreatedAt": _now(), "UpdatedAt": _now(),
        "ConfigurationPolicy": _checked_document(backend, body.get("ConfigurationPolicy")),
    }
    state["policies"][pid] = policy
    return json.dumps(_policy_out(policy))


def _policy(state, identifier):
    from urllib.parse import unquote

    identifier = unquote(identifier or "")
    for p in state["policies"].values():
        if identifier in (p["Id"], p["Arn"]):
            return p
    raise _err("ResourceNotFoundException", f"The request was rejected because no configuration policy {identifier} was found.")


def update_configuration_policy(self):
    state = _central(self)
    policy = _policy(state, self.path.rsplit("/", 1)[1])
    body = _json(self)
    if "ConfigurationPolicy" in body:
        policy["ConfigurationPolicy"] = _checked_document(self.securityhub_backend, body["ConfigurationPolicy"])
    for key in ("Name", "Description"):
        if key in body:
            policy[key] = body[key]
    policy["UpdatedAt"] = _now()
    state["version"] += 1
    return json.dumps(_policy_out(policy))


def get_configuration_policy(self):
    state = _central(self)
    return json.dumps(_policy_out(_policy(state, self.path.rsplit("/get/", 1)[1])))


def list_configuration_policies(self):
    state = _central(self)
    return json.dumps({"ConfigurationPolicySummaries": [_policy_out(p, True) for p in state["policies"].values()]})


def _target(self, target):
    org = org_of(self.securityhub_backend.account_id)
    kinds = [k for k in ("AccountId", "OrganizationalUnitId", "RootId") if (target or {}).get(k)]
    if len(kinds) != 1:
        raise _err("InvalidInputException", "Target must name exactly one of AccountId, OrganizationalUnitId or RootId.")
    kind, value = kinds[0], target[kinds[0]]
    found = {
        "AccountId": lambda: any(a.id == value for a in org.accounts),
        "OrganizationalUnitId": lambda: any(ou.id == value for ou in org.ou),
        "RootId": lambda: org.org.root_id == value,
    }[kind]()
    if not found:
        raise _err("ResourceNotFoundException", f"The request was rejected because {value} is not in the organization.")
    return {"AccountId": "ACCOUNT", "OrganizationalUnitId": "ORGANIZATIONAL_UNIT", "RootId": "ROOT"}[kind], value


def _association_out(target_type, target_id, policy_id, kind, updated):
    return {"ConfigurationPolicyId": policy_id, "TargetId": target_id, "TargetType": target_type,
            "AssociationType": kind, "AssociationStatus": "SUCCESS", "UpdatedAt": updated}


def start_configuration_policy_association(self):
    state = _central(self)
    body = _json(self)
    identifier = body.get("ConfigurationPolicyIdentifier")
    policy_id = "SELF_MANAGED_SECURITY_HUB" if identifier == "SELF_MANAGED_SECURITY_HUB" else _policy(state, identifier)["Id"]
    target_type, target_id = _target(self, body.get("Target"))
    state["associations"][target_id] = (target_type, policy_id, _now())
    state["version"] += 1
    return json.dumps(_association_out(target_type, target_id, policy_id, "APPLIED", state["associations"][target_id][2]))


def _effective(org, state, account_id):
    """(policy id, APPLIED or INHERITED) for an account: its own association, the
    nearest OU's, or the root's; None when none applies."""
    account = next((a for a in org.accounts if a.id == account_id), None)
    if account is None:
        return None
    return _effective_for(org, state, account)


def _effective_for(org, state, account):
    account_id = account.id
    if account_id in state["associations"]:
        return state["associations"][account_id][1], "APPLIED"
    parent = account.parent_id
    while parent is not None:
        if parent in state["associations"]:
            return state["associations"][parent][1], "INHERITED"
        ou = next((o for o in org.ou if o.id == parent), None)
        parent = ou.parent_id if ou is not None else None
    return None


def get_configuration_policy_association(self):
    state = _central(self)
    target_type, target_id = _target(self, _json(self).get("Target"))
    if target_id in state["associations"]:
        _, policy_id, updated = state["associations"][target_id]
        return json.dumps(_association_out(target_type, target_id, policy_id, "APPLIED", updated))
    found = _effective(org_of(self.securityhub_backend.account_id), state, target_id) if target_type == "ACCOUNT" else None
    if found is None:
        raise _err("ResourceNotFoundException", f"The request was rejected because {target_id} has no configuration policy association.")
    return json.dumps(_association_out(target_type, target_id, found[0], found[1], _now()))


def list_configuration_policy_associations(self):
    state = _central(self)
    filters = _json(self).get("Filters") or {}
    out = []
    if filters.get("AssociationType") in (None, "APPLIED"):
        out = [_association_out(t, target, p, "APPLIED", u) for target, (t, p, u) in state["associations"].items()]
    if filters.get("AssociationType") in (None, "INHERITED"):
        org = org_of(self.securityhub_backend.account_id)
        for a in org.accounts:
            found = _effective(org, state, a.id)
            if found is not None and found[1] == "INHERITED":
                out.append(_association_out("ACCOUNT", a.id, found[0], "INHERITED", _now()))
    if filters.get("ConfigurationPolicyId"):
        out = [o for o in out if o["ConfigurationPolicyId"] == filters["ConfigurationPolicyId"]]
    return json.dumps({"ConfigurationPolicyAssociationSummaries": out})


def converge():
    """What the policies give each account, in the home Region and every linked
    Region: done before each Security Hub request, for the accounts whose policy
    changed since (and accounts that joined since)."""
    for org_id, state in list(CENTRAL.items()):
        org = org_of(state["admin"])
        if org is None:
            continue
        for account in org.accounts:
            if account.status != "ACTIVE":  # as is_active, without a search per account
                continue
            found = _effective_for(org, state, account)
            policy = state["policies"].get(found[0]) if found else None
            for region in [state["home"], *state["linked"]]:
                backend = securityhub_backends[account.id][region]
                mine = _state(backend)
                stamp = (state["version"], found)
                if mine.get("converged") == stamp:
                    continue
                mine["converged"] = stamp
                mine["managed_by"] = policy["Id"] if policy else None
                hub = (policy or {}).get("ConfigurationPolicy", {}).get("SecurityHub", {})
                if not hub.get("ServiceEnabled"):
                    continue
                if not backend.enabled:
                    if account.id == org.org.master_account_id:
                        mine["converged"] = None  # its own EnableSecurityHub comes first
                        continue
                    _enable_hub(backend, False)
                wanted = {s.rsplit("::standards/", 1)[-1] for s in hub.get("EnabledStandardIdentifiers") or []}
                mine["standards"] = {}
                for suffix in sorted(wanted):
                    arn = _arn(backend, suffix)
                    mine["standards"][arn] = {
                        "StandardsSubscriptionArn": f"arn:aws:securityhub:{region}:{account.id}:subscription/{suffix}",
                        "StandardsArn": arn, "StandardsInput": {}, "StandardsStatus": "READY",
                    }


def _refuse_if_managed(backend):
    if _state(backend).get("managed_by"):
        raise _err("AccessDeniedException", f"Account {backend.account_id} is managed by a configuration policy")


_original_call_action = SecurityHubResponse.call_action


def call_action(self):
    if CENTRAL:
        converge()
    return _original_call_action(self)


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
    # "Security Hub automatically stops central configuration": policies and
    # associations are deleted, accounts keep their settings.
    org_id = _org_id(backend)
    state = CENTRAL.pop(org_id, None)
    if state is not None:
        for region in [state["home"], *state["linked"]]:
            other = SecurityHubBackend._org_configs.get(f"{org_id}/{region}")
            if other is not None:
                other["configuration"] = {"ConfigurationType": "LOCAL", "Status": "ENABLED", "StatusMessage": ""}
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
    _refuse_if_managed(backend)
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
    _refuse_if_managed(backend)
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
    _relink(backend, agg, set())
    return json.dumps(_aggregator_out(backend, agg))


def _relink(backend, agg, before):
    """Each linked Region's linking intervals [start, end]: "Any findings that
    existed in a region at the time that it becomes a linked region will not be
    replicated to the home Region unless there is an update to the finding", and
    "When you stop aggregating data from a linked Region, AWS Security Hub
    doesn't remove any existing aggregated data from that Region"
    (security-hub-region-aggregation.html, finding-aggregation-update.html)."""
    import time

    from .securityhub_findings import _linked_regions

    now = time.time()
    after = set(_linked_regions(backend)) - {backend.region_name}
    links = agg.setdefault("links", {})
    for region in after - before:
        links.setdefault(region, []).append([now, None])
    for region in before - after:
        if links.get(region) and links[region][-1][1] is None:
            links[region][-1][1] = now


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
    from .securityhub_findings import _linked_regions

    before = set(_linked_regions(backend)) - {backend.region_name}
    agg["mode"], agg["regions"] = _check_linking(params)
    _relink(backend, agg, before)
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
        "{0}/configurationPolicy/create$": SecurityHubResponse.dispatch,
        "{0}/configurationPolicy/list$": SecurityHubResponse.dispatch,
        "{0}/configurationPolicy/get/(?P<id>.+)$": SecurityHubResponse.dispatch,
        "{0}/configurationPolicy/(?P<id>[^/]+)$": SecurityHubResponse.dispatch,
        "{0}/configurationPolicyAssociation/associate$": SecurityHubResponse.dispatch,
        "{0}/configurationPolicyAssociation/get$": SecurityHubResponse.dispatch,
        "{0}/configurationPolicyAssociation/list$": SecurityHubResponse.dispatch,
    })
    SecurityHubResponse.call_action = call_action
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
        create_configuration_policy, update_configuration_policy, get_configuration_policy,
        list_configuration_policies, start_configuration_policy_association,
        get_configuration_policy_association, list_configuration_policy_associations,
    ):
        setattr(SecurityHubResponse, fn.__name__, fn)
