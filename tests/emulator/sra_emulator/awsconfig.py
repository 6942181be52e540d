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
- IAM's CreateServiceLinkedRole named Config's role AWSServiceRoleForconfig;
  AWS names it AWSServiceRoleForConfig
  (https://docs.aws.amazon.com/config/latest/developerguide/using-service-linked-roles.html).
"""
import datetime
import json

from moto.config.responses import ConfigResponse
from moto.iam import models as iam_models
from moto.iam.models import iam_backends
from moto.organizations.models import organizations_backends

from . import config
from .common import Error, org_of
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


_original_recorder = ConfigResponse.put_configuration_recorder
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


def apply():
    iam_models.SERVICE_NAME_CONVERSION.setdefault("config", "Config")
    ConfigResponse.put_configuration_recorder = put_configuration_recorder
    ConfigResponse.put_configuration_aggregator = put_configuration_aggregator
