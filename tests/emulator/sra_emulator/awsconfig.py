"""AWS Config: what stock moto 5.2.5 does not check, to the API reference.

- PutConfigurationRecorder and PutConfigurationAggregator accepted any role ARN.
  Config must be able to assume the role: a role that does not exist, or one
  created less than `role_delay_seconds` ago (IAM is eventually consistent; a
  new role is not usable at once), is `InvalidRoleException`
  (https://docs.aws.amazon.com/config/latest/APIReference/API_PutConfigurationAggregator.html,
  Errors).
- PutConfigurationAggregator with an organization source may be called by the
  management account or by Config's registered delegated administrator only
  ("You are not a registered delegated administrator for AWS Config with
  permissions to call ListDelegatedAdministrators API. Ensure that the management
  account registers delegated administrator for AWS Config service principal name
  before the delegated administrator creates an aggregator",
  OrganizationAccessDeniedException, same page); with `delegation_delay_seconds`
  set, only that long after the registration.
- PutDeliveryChannel assumed the bucket existed and let Config write to it. As
  the API reference lists (NoSuchBucketException, InsufficientDeliveryPolicyException:
  "Your Amazon S3 bucket policy does not allow AWS Config to write to it",
  https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html),
  a bucket that does not exist is refused, and so is another account's bucket
  whose policy does not let config.amazonaws.com put objects under
  AWSLogs/<caller>/Config/ with the conditions Config's requests carry
  (aws:SourceAccount, aws:SourceOrgID, s3:x-amz-acl bucket-owner-full-control;
  https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html).
  A Deny that matches wins; a condition on any other key is not met.
- IAM's CreateServiceLinkedRole named Config's role AWSServiceRoleForconfig;
  AWS names it AWSServiceRoleForConfig
  (https://docs.aws.amazon.com/config/latest/developerguide/using-service-linked-roles.html).
"""
import datetime
import fnmatch
import json

from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.iam import models as iam_models
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends
from moto.s3.models import s3_backends

from . import config
from .common import Error, active_ids, is_active, org_of
from .organizations import delegation_settled

PRINCIPAL = "config.amazonaws.com"


def _role_usable(account_id, arn):
    if not arn:
        return False
    name = arn.rsplit("/", 1)[-1]
    for role in iam_backends[account_id]["aws"].roles.values():
        if role.name == name:
            age = (datetime.datetime.now(datetime.timezone.utc) - _aware(role.create_date)).total_seconds()
            return age >= config.get("role_delay_seconds")
    return False


def _aware(when):
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def _invalid_role(arn):
    return Error("InvalidRoleException", f"AWS Config cannot assume the role {arn}.")


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _condition_met(condition, context):
    for operator, pairs in (condition or {}).items():
        if operator not in ("StringEquals", "StringLike"):
            return False
        for key, wanted in pairs.items():
            have = context.get(key.lower())
            if have is None:
                return False
            match = (lambda w: fnmatch.fnmatchcase(have, w)) if operator == "StringLike" else (lambda w: have == w)
            if not any(match(w) for w in _as_list(wanted)):
                return False
    return True


def _statement_matches(statement, action, resource, context):
    principal = statement.get("Principal") or {}
    services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
    if principal != "*" and PRINCIPAL not in services and "*" not in _as_list(principal.get("AWS", [])):
        return False
    if not any(fnmatch.fnmatchcase(action, a.lower()) for a in map(str.lower, _as_list(statement.get("Action", [])))):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement.get("Resource", []))):
        return False
    return _condition_met(statement.get("Condition"), context)


def may_deliver(account, bucket_name):
    """Whether Config, recording in `account`, may put objects in the bucket: its
    own bucket, or a bucket whose policy allows it (and denies nothing of it)."""
    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is None:
        raise Error("NoSuchBucketException", "The specified Amazon S3 bucket does not exist.")
    partition, owner_account = owner
    if owner_account == account:
        return True
    bucket = s3_backends[owner_account][partition].buckets.get(bucket_name)
    policy = json.loads(bucket.policy) if bucket is not None and bucket.policy else {}
    org = org_of(account)
    context = {"aws:sourceaccount": account, "s3:x-amz-acl": "bucket-owner-full-control"}
    if org is not None and org.org is not None:
        context["aws:sourceorgid"] = org.org.id
    resource = f"arn:{partition}:s3:::{bucket_name}/AWSLogs/{account}/Config/ConfigWritabilityCheckFile"
    statements = _as_list(policy.get("Statement", []))
    matching = [s for s in statements if _statement_matches(s, "s3:putobject", resource, context)]
    return any(s.get("Effect") == "Allow" for s in matching) and not any(s.get("Effect") == "Deny" for s in matching)


def put_delivery_channel(self):
    channel = self._get_param("DeliveryChannel") or {}
    if self.config_backend.recorders and channel.get("s3BucketName"):
        if not may_deliver(self.current_account, channel["s3BucketName"]):
            raise Error("InsufficientDeliveryPolicyException",
                        "Your Amazon S3 bucket policy does not allow AWS Config to write to it.")
    return _original_channel(self)


_original_recorder = ConfigResponse.put_configuration_recorder
_original_channel = ConfigResponse.put_delivery_channel
_original_aggregator = ConfigResponse.put_configuration_aggregator


def put_configuration_recorder(self):
    recorder = self._get_param("ConfigurationRecorder") or {}
    if not _role_usable(self.current_account, recorder.get("roleARN")):
        raise _invalid_role(recorder.get("roleARN"))
    return _original_recorder(self)


def put_configuration_aggregator(self):
    body = json.loads(self.body or "{}")
    source = body.get("OrganizationAggregationSource")
    if source:
        account = self.current_account
        org = org_of(account)
        management = org is not None and org.org.master_account_id == account
        registered = org is not None and any(a.account.id == account and PRINCIPAL in a.services for a in org.admins)
        if not management and not (registered and delegation_settled(account, PRINCIPAL)):
            raise Error(
                "OrganizationAccessDeniedException",
                "You are not a registered delegated administrator for AWS Config with permissions to call "
                "ListDelegatedAdministrators API.",
            )
        if not _role_usable(account, source.get("RoleArn")):
            raise _invalid_role(source.get("RoleArn"))
    return _original_aggregator(self)


# (account, region) whose recorder has recorded and delivered at least once: what
# it recorded stays in Config and in the aggregator after the recorder stops or is
# deleted ("After AWS Config stops recording a resource, it retains the
# configuration information that was previously captured",
# select-resources-stopping-recording.html; DeleteConfigurationRecorder "does not
# delete the configuration information that was previously recorded",
# API_DeleteConfigurationRecorder.html).
RECORDED = set()

_original_start = None


def _start(self, recorder_name):
    _original_start(self, recorder_name)
    RECORDED.add((self.account_id, self.region_name))


def _recording(account, region):
    backend = config_backends[account].get(region) if account in config_backends else None
    if backend is None:
        return False
    return any(getattr(r.status, "recording", False) for r in backend.recorders.values()) and bool(backend.delivery_channels)


def _aggregator(self):
    """The request's body and the aggregator it names, in the caller's Region;
    NoSuchConfigurationAggregatorException when there is none."""
    body = json.loads(self.body or "{}")
    backend = config_backends[self.current_account][self.region]
    aggregator = backend.config_aggregators.get(body.get("ConfigurationAggregatorName"))
    if aggregator is None:
        raise Error("NoSuchConfigurationAggregatorException",
                    "The configuration aggregator does not exist. Check the configuration aggregator name and try again.")
    return body, aggregator


def _sources(caller, aggregator):
    """The aggregator's source accounts, and its Regions (None: every Region):
    an organization aggregator's are the organization's active accounts."""
    source = aggregator.organization_aggregation_source
    if source is not None:
        org = org_of(caller)
        active = active_ids(org) if org is not None else set()
        accounts = [a.id for a in org.accounts if a.id in active] if org is not None else []
        return accounts, (None if source.all_aws_regions else list(source.aws_regions or []))
    accounts, regions = [], []
    for s in aggregator.account_aggregation_sources or []:
        accounts.extend(s.account_ids)
        regions = None if s.all_aws_regions else list(s.aws_regions or [])
    return accounts, regions


def get_aggregate_discovered_resource_counts(self):
    """The resources each source account has in the aggregator. What reaches an
    organization aggregator is what each account's recorder records and delivers
    (aggregate-data.html): an account and Region without a recording recorder
    and a delivery channel have nothing there. The emulator models no resource
    beyond one per recording account and Region (a real account always has some:
    its default VPC, its roles); the count says whether data has arrived, not how
    much. What arrived stays when the recorder stops or is deleted (RECORDED)."""
    body, aggregator = _aggregator(self)
    limit = int(body.get("Limit") or 1000)
    if not 0 <= limit <= 1000:
        raise Error("InvalidLimitException", "Limit must be between 0 and 1000")
    limit = limit or 1000
    filters = body.get("Filters") or {}
    accounts, regions = _sources(self.current_account, aggregator)
    counts = {}
    for account in accounts:
        if filters.get("AccountId") and filters["AccountId"] != account:
            continue
        in_scope = [r for r in (config_backends[account].keys() if regions is None else regions)]
        for region in in_scope:
            if filters.get("Region") and filters["Region"] != region:
                continue
            if (account, region) in RECORDED or _recording(account, region):
                key = {"ACCOUNT_ID": account, "AWS_REGION": region}.get(body.get("GroupByKey"), "")
                counts[key] = counts.get(key, 0) + 1
    groups = sorted(counts.items())
    start = int(body.get("NextToken") or 0)
    page = groups[start:start + limit]
    out = {"TotalDiscoveredResources": sum(counts.values())}
    if body.get("GroupByKey"):
        out["GroupByKey"] = body["GroupByKey"]
        out["GroupedResourceCounts"] = [{"GroupName": g, "ResourceCount": n} for g, n in page]
        if start + limit < len(groups):
            out["NextToken"] = str(start + limit)
    return json.dumps(out)


def describe_configuration_aggregator_sources_status(self):
    """The aggregator's sources' status: "the last time Config verified
    authorization between the source account and an aggregator account"
    (API_DescribeConfigurationAggregatorSourcesStatus.html). AWS does not document
    whether an organization aggregator lists its accounts one by one; the
    emulator lists one ORGANIZATION source per Region (SourceId: the organization's
    id), and an account aggregator one ACCOUNT source per account and Region.
    An organization source is FAILED while Config cannot assume the aggregator's
    role (it was deleted, say); the error code and message are the emulator's
    words. UpdateStatus filters; Limit is 0 to 100 (InvalidLimitException)."""
    body, aggregator = _aggregator(self)
    limit = int(body.get("Limit") or 0)
    if not 0 <= limit <= 100:
        raise Error("InvalidLimitException", "Limit must be between 0 and 100")
    limit = limit or 100
    wanted = body.get("UpdateStatus")
    if wanted is not None and (not wanted or any(w not in ("FAILED", "SUCCEEDED", "OUTDATED") for w in wanted)):
        raise Error("InvalidParameterValueException", "UpdateStatus holds FAILED, SUCCEEDED or OUTDATED.")
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    sources = []
    source = aggregator.organization_aggregation_source
    if source is not None:
        org = org_of(self.current_account)
        regions = sorted(config_backends[self.current_account].keys()) if source.all_aws_regions \
            else list(source.aws_regions or [])
        usable = _role_usable(self.current_account, source.role_arn)
        for region in regions:
            entry = {"SourceId": org.org.id if org is not None else "", "SourceType": "ORGANIZATION",
                     "AwsRegion": region, "LastUpdateStatus": "SUCCEEDED" if usable else "FAILED",
                     "LastUpdateTime": now}
            if not usable:
                entry["LastErrorCode"] = "AccessDeniedException"
                entry["LastErrorMessage"] = f"Config cannot assume the aggregator's role {source.role_arn}."
            sources.append(entry)
    for s in aggregator.account_aggregation_sources or []:
        regions = sorted(config_backends[self.current_account].keys()) if s.all_aws_regions else list(s.aws_regions or [])
        for account in s.account_ids:
            for region in regions:
                sources.append({"SourceId": account, "SourceType": "ACCOUNT", "AwsRegion": region,
                                "LastUpdateStatus": "SUCCEEDED", "LastUpdateTime": now})
    if wanted:
        sources = [x for x in sources if x["LastUpdateStatus"] in wanted]
    start = int(body.get("NextToken") or 0)
    out = {"AggregatedSourceStatusList": sources[start:start + limit]}
    if start + limit < len(sources):
        out["NextToken"] = str(start + limit)
    return json.dumps(out)


_QUERY_FIELDS = {
    "accountId": lambda r: r["accountId"],
    "awsRegion": lambda r: r["awsRegion"],
    "resourceType": lambda r: "AWS::Config::ConfigurationRecorder",
    "resourceName": lambda r: r["name"],
    "resourceId": lambda r: r["name"],
    "configuration.Name": lambda r: r["name"],
    "configuration.Recording": lambda r: r["recording"],
    "configuration.RoleARN": lambda r: r["role"],
    "configurationItemStatus": lambda r: "OK",
}


def _parse_query(expression):
    """The advanced-query subset the emulator evaluates: `SELECT a, b.c WHERE
    p = 'text' AND q = false ...` (equality only, joined by AND), over the one
    resource type it records: AWS::Config::ConfigurationRecorder. Anything else is
    refused (InvalidExpressionException), never answered wrongly
    (querying-AWS-resources.html, query-components.html)."""
    import re

    m = re.fullmatch(r"\s*SELECT\s+(.+?)\s+WHERE\s+(.+?)\s*", expression, re.IGNORECASE | re.DOTALL)
    if m is None:
        raise Error("InvalidExpressionException", "The emulator evaluates SELECT ... WHERE ... only.")
    fields = [f.strip() for f in m.group(1).split(",")]
    conditions = []
    for part in re.split(r"\s+AND\s+", m.group(2), flags=re.IGNORECASE):
        c = re.fullmatch(r"\s*([\w.]+)\s*=\s*('([^']*)'|true|false)\s*", part, re.IGNORECASE)
        if c is None:
            raise Error("InvalidExpressionException", f"The emulator evaluates equality joined by AND only, not {part!r}.")
        value = c.group(3) if c.group(3) is not None else c.group(2).lower() == "true"
        conditions.append((c.group(1), value))
    unknown = [f for f in fields + [k for k, _ in conditions] if f not in _QUERY_FIELDS]
    if unknown:
        raise Error("InvalidExpressionException", f"The emulator does not know the properties {unknown}.")
    if ("resourceType", "AWS::Config::ConfigurationRecorder") not in conditions:
        raise Error("InvalidExpressionException",
                    "The emulator records one resource type: say resourceType = 'AWS::Config::ConfigurationRecorder'.")
    return fields, conditions


def _nested(fields, row):
    out = {}
    for f in fields:
        *path, last = f.split(".")
        at = out
        for p in path:
            at = at.setdefault(p, {})
        at[last] = _QUERY_FIELDS[f](row)
    return out


def select_aggregate_resource_config(self):
    """SelectAggregateResourceConfig over the aggregator's sources: each
    recorder is a configuration item of type AWS::Config::ConfigurationRecorder,
    "a system resource type" that tracks "if you have stopped or started the
    configuration recorder" (drift-detection.html), with configuration.Recording;
    Results are JSON strings of the selected properties, nested by their dots
    (API_SelectAggregateResourceConfig.html). Limit 0..100. A deleted recorder is
    not listed: what AWS keeps of its item is not documented."""
    body, aggregator = _aggregator(self)
    limit = int(body.get("Limit") or body.get("MaxResults") or 0)
    if not 0 <= limit <= 100:
        raise Error("InvalidLimitException", "Limit must be between 0 and 100")
    limit = limit or 100
    fields, conditions = _parse_query(body.get("Expression") or "")
    accounts, regions = _sources(self.current_account, aggregator)
    rows = []
    for account in accounts:
        if account not in config_backends:
            continue
        for region in sorted(config_backends[account].keys() if regions is None else regions):
            b = config_backends[account].get(region)
            for name, r in sorted((b.recorders if b is not None else {}).items()):
                row = {"accountId": account, "awsRegion": region, "name": name, "role": r.role_arn,
                       "recording": bool(getattr(r.status, "recording", False))}
                if all(_QUERY_FIELDS[k](row) == v for k, v in conditions):
                    rows.append(json.dumps(_nested(fields, row)))
    start = int(body.get("NextToken") or 0)
    out = {"Results": rows[start:start + limit], "QueryInfo": {"SelectFields": [{"Name": f} for f in fields]}}
    if start + limit < len(rows):
        out["NextToken"] = str(start + limit)
    return json.dumps(out)


def seed_like(model_account, accounts, regions):
    """Give `accounts` the recorder (recording) and delivery channel that
    `model_account` has in each region, as `sra apply` would have set them."""
    for region in regions:
        model = config_backends[model_account][region]
        for account in accounts:
            backend = config_backends[account][region]
            for name, recorder in model.recorders.items():
                group = recorder.recording_group
                backend.put_configuration_recorder({
                    "name": name,
                    "roleARN": recorder.role_arn.replace(model_account, account),
                    "recordingGroup": {"allSupported": group.all_supported,
                                       "includeGlobalResourceTypes": group.include_global_resource_types},
                })
            for name, channel in model.delivery_channels.items():
                backend.put_delivery_channel({"name": name, "s3BucketName": channel.s3_bucket_name,
                                              "s3KmsKeyArn": channel.s3_kms_key_arn})
            for name in model.recorders:
                backend.start_configuration_recorder(name)


def apply():
    global _original_start
    from moto.config.models import ConfigBackend

    _original_start = ConfigBackend.start_configuration_recorder
    ConfigBackend.start_configuration_recorder = _start
    ConfigResponse.select_aggregate_resource_config = select_aggregate_resource_config
    iam_models.SERVICE_NAME_CONVERSION.setdefault("config", "Config")
    ConfigResponse.put_configuration_recorder = put_configuration_recorder
    ConfigResponse.put_configuration_aggregator = put_configuration_aggregator
    ConfigResponse.put_delivery_channel = put_delivery_channel
    ConfigResponse.get_aggregate_discovered_resource_counts = get_aggregate_discovered_resource_counts
    ConfigResponse.describe_configuration_aggregator_sources_status = describe_configuration_aggregator_sources_status
