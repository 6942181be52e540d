"""Security Hub's findings as an administrator sees them: what `sra posture`
reads. Stock moto 5.2.5 stores imported findings per account and Region and
returns them unfiltered; it has no insights.

- What an administrator sees: "The administrator account can view findings
  for ... member accounts" (securityhub-accounts.html): GetFindings and insight
  results cover the caller's findings and those of its members whose status is
  ENABLED, Region by Region; a member removed or disassociated is no longer seen.
  "If cross-Region aggregation is enabled, then when you call GetFindings from the
  home Region, the results include all of the matching findings from both the
  home Region and linked Regions" (API_GetFindings.html): from the aggregator's
  Region, every linked Region's findings are seen too (ALL_REGIONS: every Region
  where the caller has a hub).
- Filters (AwsSecurityFindingFilters, string filters): EQUALS and PREFIX of one
  field are ORed, NOT_EQUALS and PREFIX_NOT_EQUALS ANDed, fields ANDed
  (API_StringFilter.html); at most 10 fields and 20 values a field, and never
  EQUALS with NOT_EQUALS or PREFIX_NOT_EQUALS on one field (InvalidInputException,
  API_AwsSecurityFindingFilters.html). The fields sra sends and a few more are emulated; any
  other field is refused (InvalidInputException), never ignored.
- GetFindings: SortCriteria (one field, asc/desc), MaxResults 1..100, NextToken
  (API_GetFindings.html).
- BatchImportFindings: a finding is its account's own (AwsAccountId must be the
  caller's), Resources must not be empty, RecordState defaults to ACTIVE and
  Workflow.Status to NEW, Region is the hub's; after a finding is created
  BatchImportFindings cannot change its Workflow ("BatchImportFindings can't be
  used to update ... Workflow", API_BatchImportFindings.html), but Security Hub
  resets a NOTIFIED or RESOLVED workflow to NEW when the finding becomes ACTIVE
  again or its compliance fails again (API_Workflow.html).
- BatchUpdateFindings: the caller updates its own findings and, as the
  administrator, its members' (Workflow.Status NEW, NOTIFIED, RESOLVED,
  SUPPRESSED), from the aggregator's Region linked Regions' too; anything else is
  UnprocessedFindings (API_BatchUpdateFindings.html, finding-aggregation.html).
- Insights (CreateInsight, GetInsights, UpdateInsight, DeleteInsight,
  GetInsightResults): a custom insight is its account's, in its Region;
  GetInsightResults counts the findings the caller sees (as GetFindings) that
  match its filters, by GroupByAttribute (API_GetInsightResults.html). The
  quotas (Security Hub endpoints and quotas, sechub.html): "Number of insight
  results: 100 ... The maximum number of aggregated results returned for the
  GetInsightsResults API operation", and 100 custom insights per account and
  Region (LimitExceededException beyond). Which 100 results AWS keeps is not
  documented: here, those with the most findings.
- BatchGetSecurityControls: titles of the controls sra knows; other ids are
  UnprocessedIds (API_BatchGetSecurityControls.html).
"""
import json
import uuid
from urllib.parse import unquote

from moto.securityhub import urls
from moto.securityhub.models import Finding, securityhub_backends
from moto.securityhub.responses import SecurityHubResponse

from .securityhub import _err, _json, _require_hub, _state

# Field -> how a finding's value is read.
_FIELDS = {
    "Id": lambda f: f.get("Id"),
    "AwsAccountId": lambda f: f.get("AwsAccountId"),
    "Region": lambda f: f.get("Region"),
    "ProductName": lambda f: f.get("ProductName"),
    "Title": lambda f: f.get("Title"),
    "SeverityLabel": lambda f: (f.get("Severity") or {}).get("Label"),
    "RecordState": lambda f: f.get("RecordState", "ACTIVE"),
    "WorkflowStatus": lambda f: (f.get("Workflow") or {}).get("Status", "NEW"),
    "ComplianceStatus": lambda f: (f.get("Compliance") or {}).get("Status"),
    "ComplianceSecurityControlId": lambda f: (f.get("Compliance") or {}).get("SecurityControlId"),
    "Type": lambda f: f.get("Types") or [],
    "VulnerabilitiesExploitAvailable": lambda f: [v.get("ExploitAvailable") for v in f.get("Vulnerabilities") or []],
}

# Security Hub's quotas (sechub.html): custom insights per account and Region,
# and values an insight's results hold.
INSIGHTS_PER_REGION = 100
INSIGHT_RESULTS = 100

# Sort fields sra and tests use.
_SORTS = {
    "SeverityNormalized": lambda f: (f.get("Severity") or {}).get("Normalized", 0),
    "FirstObservedAt": lambda f: f.get("FirstObservedAt") or f.get("CreatedAt") or "",
    "CreatedAt": lambda f: f.get("CreatedAt") or "",
    "UpdatedAt": lambda f: f.get("UpdatedAt") or "",
}

# Controls sra's tests fail (title as the Security Hub controls reference has it).
CONTROL_TITLES = {
    "S3.1": "S3 general purpose buckets should have block public access settings enabled",
    "S3.8": "S3 general purpose buckets should block public access",
    "IAM.6": "Hardware MFA should be enabled for the root user",
    "EC2.2": "VPC default security groups should not allow inbound or outbound traffic",
    "GuardDuty.1": "GuardDuty should be enabled",
    "Config.1": "AWS Config should be enabled and use the service-linked role for resource recording",
}


def _enabled_members(backend):
    return {a for a, m in backend.members.items() if str(m.get("MemberStatus", "")).upper() == "ENABLED"}


def _linked_regions(backend):
    agg = _state(backend)["aggregator"]
    if agg is None:
        return []
    mode, listed = agg["mode"], agg["regions"]
    with_hub = [r for r, b in securityhub_backends[backend.account_id].items() if getattr(b, "enabled", False)]
    if mode == "SPECIFIED_REGIONS":
        return list(listed)
    if mode == "ALL_REGIONS":
        return with_hub
    if mode == "ALL_REGIONS_EXCEPT_SPECIFIED":
        return [r for r in with_hub if r not in listed]
    return []


# (account, region, finding id) → when it was imported and each time it was
# updated (BatchImportFindings, BatchUpdateFindings): whether a linked Region's
# finding reached the home Region depends on when it last changed. Findings the
# seeding endpoint stores directly are not here: they count as replicated.
TOUCHES = {}


def _touch(account, region, fid):
    import time

    TOUCHES.setdefault((account, region, fid), []).append(time.time())


def _replicated(links, account, region, fid):
    """Whether a linked Region's finding reached the home Region: imported or
    updated while its Region was linked (it stays there after unlinking)."""
    touches = TOUCHES.get((account, region, fid))
    intervals = links.get(region)
    if touches is None or intervals is None:
        return True
    return any(start <= t and (end is None or t < end) for t in touches for start, end in intervals)


def visible(backend):
    """Every finding the caller sees: its own and its enabled members', in its
    Region and, from the aggregator's Region, the linked Regions' that reached it:
    those created or updated while their Region was linked, which stay once it
    is unlinked (see _replicated)."""
    agg = _state(backend)["aggregator"]
    links = (agg or {}).get("links", {})
    linked = [r for r in _linked_regions(backend) if r != backend.region_name]
    regions = [backend.region_name] + linked + sorted(r for r in links if r not in linked and r != backend.region_name)
    out = []
    for region in regions:
        if region not in securityhub_backends[backend.account_id]:
            continue
        own = securityhub_backends[backend.account_id][region]
        accounts = [backend.account_id] + sorted(_enabled_members(own))
        for account in accounts:
            if region in securityhub_backends[account]:
                out.extend(f.data for f in securityhub_backends[account][region].findings
                           if region == backend.region_name or _replicated(links, account, region, f.id))
    return out


def _matches_field(value, filters):
    values = value if isinstance(value, list) else [value]
    positive = [f for f in filters if f.get("Comparison", "EQUALS") in ("EQUALS", "PREFIX")]
    negative = [f for f in filters if f.get("Comparison") in ("NOT_EQUALS", "PREFIX_NOT_EQUALS")]

    def hit(f):
        want, how = f.get("Value"), f.get("Comparison", "EQUALS")
        if how in ("EQUALS", "NOT_EQUALS"):
            return any(v == want for v in values)
        return any(isinstance(v, str) and v.startswith(want) for v in values)

    if positive and not any(hit(f) for f in positive):
        return False
    return not any(hit(f) for f in negative)


def _check_filters(filters):
    """AwsSecurityFindingFilters: "You can filter by up to 10 finding attributes.
    For each attribute, you can provide up to 20 filter values"; and "You can't
    have both an EQUALS filter and a NOT_EQUALS or PREFIX_NOT_EQUALS filter on the
    same field" (API_AwsSecurityFindingFilters.html, API_StringFilter.html)."""
    filters = filters or {}
    if len(filters) > 10:
        raise _err("InvalidInputException", "You can filter by up to 10 finding attributes.")
    for field, given in filters.items():
        if field not in _FIELDS:
            raise _err("InvalidInputException", f"Filter field {field} is not emulated")
        if len(given) > 20:
            raise _err("InvalidInputException", f"{field} holds more than 20 filter values.")
        comparisons = {f.get("Comparison", "EQUALS") for f in given}
        for how in comparisons:
            if how not in ("EQUALS", "PREFIX", "NOT_EQUALS", "PREFIX_NOT_EQUALS"):
                raise _err("InvalidInputException", f"Invalid comparison {how} for {field}")
        if "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
            raise _err("InvalidInputException",
                       f"{field} cannot have both an EQUALS filter and a NOT_EQUALS or PREFIX_NOT_EQUALS filter.")


def matching(findings, filters):
    _check_filters(filters)
    return [f for f in findings if all(_matches_field(_FIELDS[k](f), v) for k, v in (filters or {}).items())]


def get_findings(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    params = _json(self)
    found = matching(visible(backend), params.get("Filters"))
    criteria = params.get("SortCriteria") or []
    for c in reversed(criteria):
        key = _SORTS.get(c.get("Field"))
        if key is None:
            raise _err("InvalidInputException", f"Sort field {c.get('Field')} is not emulated")
        found.sort(key=key, reverse=c.get("SortOrder", "asc").lower() == "desc")
    size = int(params.get("MaxResults") or 100)
    if not 1 <= size <= 100:
        raise _err("InvalidInputException", "MaxResults must be a number between 1 and 100")
    start = int(params.get("NextToken") or 0)
    page = found[start:start + size]
    token = str(start + size) if start + size < len(found) else None
    return json.dumps({"Findings": page, **({"NextToken": token} if token else {})})


def batch_import_findings(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    failed, ok = [], 0
    for data in _json(self).get("Findings") or []:
        fid = data.get("Id", "")
        problem = None
        if data.get("AwsAccountId") != backend.account_id:
            problem = ("AccessDenied", f"Account {backend.account_id} cannot import findings for {data.get('AwsAccountId')}")
        elif not isinstance(data.get("Resources"), list) or not data["Resources"]:
            problem = ("InvalidInput", "Finding must contain at least one resource in the Resources array")
        if problem:
            failed.append({"Id": fid, "ErrorCode": problem[0], "ErrorMessage": problem[1]})
            continue
        existing = next((f for f in backend.findings if f.id == fid), None)
        if existing is None:
            data = dict(data)
            data["Region"] = backend.region_name  # Security Hub sets it, never the caller
            data.setdefault("RecordState", "ACTIVE")
            data.setdefault("Workflow", {"Status": "NEW"})
            backend.findings.append(Finding(fid, data))
            _touch(backend.account_id, backend.region_name, fid)
        else:
            _touch(backend.account_id, backend.region_name, fid)
            fixed = ("Workflow", "Note", "UserDefinedFields", "VerificationState", "Region")
            update = {k: v for k, v in data.items() if k not in fixed}
            old = existing.data
            reopened = (old.get("RecordState") == "ARCHIVED" and update.get("RecordState") == "ACTIVE") or (
                (old.get("Compliance") or {}).get("Status") == "PASSED"
                and (update.get("Compliance") or {}).get("Status") in ("WARNING", "FAILED", "NOT_AVAILABLE"))
            existing.data.update(update)
            # "Security Hub CSPM also resets the workflow status from NOTIFIED or
            # RESOLVED to NEW" when a finding is active again or fails again (API_Workflow).
            if reopened and (old.get("Workflow") or {}).get("Status") in ("NOTIFIED", "RESOLVED"):
                existing.data["Workflow"] = {"Status": "NEW"}
        ok += 1
    return json.dumps({"FailedCount": len(failed), "SuccessCount": ok, "FailedFindings": failed})


def batch_update_findings(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    params = _json(self)
    status = (params.get("Workflow") or {}).get("Status")
    if status is not None and status not in ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"):
        raise _err("InvalidInputException", f"Invalid workflow status {status}")
    # From the aggregator's Region, linked Regions' findings too ("you can use
    # BatchUpdateFindings from the aggregation Region to update findings from
    # linked Regions", finding-aggregation.html).
    regions = [backend.region_name] + [r for r in _linked_regions(backend) if r != backend.region_name]
    processed, unprocessed = [], []
    for ident in params.get("FindingIdentifiers") or []:
        hit = None
        for region in regions:
            own = securityhub_backends[backend.account_id][region]
            for account in {backend.account_id} | _enabled_members(own):
                store = securityhub_backends[account].get(region) if account in securityhub_backends else None
                for f in (store.findings if store else []):
                    if f.id == ident.get("Id") and f.data.get("ProductArn") == ident.get("ProductArn"):
                        hit, where = f, (account, region)
        if hit is None:
            unprocessed.append({"FindingIdentifier": ident, "ErrorCode": "FindingNotFound",
                                "ErrorMessage": "The finding was not found, or the caller cannot update it"})
            continue
        if status is not None:
            hit.data["Workflow"] = {"Status": status}
        _touch(where[0], where[1], hit.id)
        processed.append(ident)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def _insights(backend):
    return _state(backend).setdefault("insights", {})


def _insight_arn(self):
    path = unquote(self.path.split("?")[0])
    return path.split("/insights/results/", 1)[1] if "/insights/results/" in path else path.split("/insights/", 1)[1]


def _insight_out(arn, i):
    return {"InsightArn": arn, "Name": i["Name"], "Filters": i["Filters"], "GroupByAttribute": i["GroupByAttribute"]}


def create_insight(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    params = _json(self)
    for key in ("Name", "Filters", "GroupByAttribute"):
        if not params.get(key):
            raise _err("InvalidInputException", f"{key} is required")
    _check_filters(params["Filters"])
    if params["GroupByAttribute"] not in _FIELDS:
        raise _err("InvalidInputException", f"GroupByAttribute {params['GroupByAttribute']} is not emulated")
    if len(_insights(backend)) >= INSIGHTS_PER_REGION:
        raise _err("LimitExceededException", f"The account has {INSIGHTS_PER_REGION} custom insights in this Region")
    arn = f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:insight/{backend.account_id}/custom/{uuid.uuid4()}"
    _insights(backend)[arn] = {k: params[k] for k in ("Name", "Filters", "GroupByAttribute")}
    return json.dumps({"InsightArn": arn})


def get_insights(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    params = _json(self)
    arns = params.get("InsightArns")
    items = [(a, i) for a, i in _insights(backend).items() if not arns or a in arns]
    size = int(params.get("MaxResults") or 100)
    start = int(params.get("NextToken") or 0)
    page = items[start:start + size]
    token = str(start + size) if start + size < len(items) else None
    return json.dumps({"Insights": [_insight_out(a, i) for a, i in page], **({"NextToken": token} if token else {})})


def _insight(backend, arn):
    found = _insights(backend).get(arn)
    if found is None:
        raise _err("ResourceNotFoundException", f"Insight {arn} not found")
    return found


def update_insight(self):
    backend = self.securityhub_backend
    arn = _insight_arn(self)
    insight = _insight(backend, arn)
    params = _json(self)
    if "Filters" in params:
        _check_filters(params["Filters"])
    for key in ("Name", "Filters", "GroupByAttribute"):
        if key in params:
            insight[key] = params[key]
    return "{}"


def delete_insight(self):
    backend = self.securityhub_backend
    arn = _insight_arn(self)
    _insight(backend, arn)
    del _insights(backend)[arn]
    return json.dumps({"InsightArn": arn})


def get_insight_results(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    arn = _insight_arn(self)
    insight = _insight(backend, arn)
    counts = {}
    read = _FIELDS[insight["GroupByAttribute"]]
    for f in matching(visible(backend), insight["Filters"]):
        values = read(f)
        for v in (values if isinstance(values, list) else [values]):
            if v is not None:
                counts[v] = counts.get(v, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:INSIGHT_RESULTS]
    return json.dumps({"InsightResults": {
        "InsightArn": arn,
        "GroupByAttribute": insight["GroupByAttribute"],
        "ResultValues": [{"GroupByAttributeValue": v, "Count": n} for v, n in ordered],
    }})


def batch_get_security_controls(self):
    backend = self.securityhub_backend
    _require_hub(backend)
    ids = _json(self).get("SecurityControlIds") or []
    known = [i for i in ids if i in CONTROL_TITLES]
    controls = [{
        "SecurityControlId": i,
        "SecurityControlArn": f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:security-control/{i}",
        "Title": CONTROL_TITLES[i],
        "Description": CONTROL_TITLES[i],
        "RemediationUrl": f"https://docs.aws.amazon.com/console/securityhub/{i}/remediation",
        "SeverityRating": "HIGH",
        "SecurityControlStatus": "ENABLED",
    } for i in known]
    return json.dumps({"SecurityControls": controls, "UnprocessedIds": [
        {"SecurityControlId": i, "ErrorCode": "RESOURCE_NOT_FOUND"} for i in ids if i not in CONTROL_TITLES]})


def apply():
    urls.url_paths.update({
        "{0}/findings/batchupdate$": SecurityHubResponse.dispatch,
        "{0}/insights$": SecurityHubResponse.dispatch,
        "{0}/insights/get$": SecurityHubResponse.dispatch,
        "{0}/insights/results/(?P<arn>.+)$": SecurityHubResponse.dispatch,
        "{0}/insights/(?P<arn>.+)$": SecurityHubResponse.dispatch,
        "{0}/securityControls/batchGet$": SecurityHubResponse.dispatch,
    })
    for fn in (get_findings, batch_import_findings, batch_update_findings, create_insight, get_insights,
               update_insight, delete_insight, get_insight_results, batch_get_security_controls):
        setattr(SecurityHubResponse, fn.__name__, fn)
