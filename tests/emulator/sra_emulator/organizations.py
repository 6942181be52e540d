"""AWS Organizations: what stock moto 5.2.5 gets wrong, fixed to the API reference.

- CreateAccount is asynchronous in AWS: it answers IN_PROGRESS and the request ends
  SUCCEEDED or FAILED later. Stock moto answers SUCCEEDED at once and never fails.
  Here a request stays IN_PROGRESS for `create_account_delay_seconds`, and ends
  FAILED with EMAIL_ALREADY_EXISTS when the email belongs to another account (one in
  the organization, one being created, or one listed in `reserved_emails`).
  The account's access role gets administrator rights, as AWS gives it.
- DescribeCreateAccountStatus / ListCreateAccountStatus read those requests; stock
  moto's ListCreateAccountStatus returned the page length as NextToken, so page 2
  repeated forever. It also listed the management account, which AWS does not.
- ListAccounts pages at most 20 accounts (the API's maximum; stock moto gave 100
  and accepted any MaxResults, and its token broke when two accounts joined in the
  same instant); MaxResults outside 1..20 is an InvalidInputException.
- CreateOrganizationalUnit rejects a second OU of the same name under one parent
  (DuplicateOrganizationalUnitException) and an unknown parent
  (ParentNotFoundException); stock moto accepted both.
- RegisterDelegatedAdministrator rejected the principals of Security Hub,
  Inspector, Detective, Config, CloudTrail and Trusted Advisor, and left an empty
  administrator behind after a rejection; both fixed.
- Service control policies: CreatePolicy/UpdatePolicy reject a document that is not
  JSON (MalformedPolicyDocumentException) or longer than 5,120 characters, and
  AttachPolicy a sixth SCP on one target (ConstraintViolationException with
  POLICY_CONTENT_LIMIT_EXCEEDED / MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED); stock moto accepted
  all three. AttachPolicy of a policy already on the target answers
  DuplicatePolicyAttachmentException, as AWS does; stock moto succeeded silently.
"""
import functools
import json
import re
import threading
import time
import uuid

from moto.core.exceptions import JsonRESTError
from moto.organizations import models
from moto.organizations.exceptions import (
    AWSOrganizationsNotInUseException,
    DuplicateOrganizationalUnitException,
    InvalidInputException,
)

from . import config
from .common import page

Backend = models.OrganizationsBackend
_original = {
    name: getattr(Backend, name)
    for name in ("create_account", "create_organizational_unit", "_reset", "create_policy", "update_policy", "attach_policy", "create_organization")
}
_lock = threading.RLock()

EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
ACCOUNT_NAME_RE = re.compile(r"^[\u0020-\u007E]+$")
REQUEST_ID_RE = re.compile(r"^car-[a-z0-9]{8,32}$")
MAX_LIST_RESULTS = 20


class CreateAccountStatusNotFoundException(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__(
            "CreateAccountStatusNotFoundException",
            "We can't find an create account request with the CreateAccountRequestId that you specified.",
        )


class ParentNotFoundException(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__(
            "ParentNotFoundException",
            "We can't find a root or OU with the ParentId that you specified.",
        )


class CreateRequest:
    def __init__(self, params, delay, failure):
        self.id = "car-" + uuid.uuid4().hex[:32]
        self.params = params
        self.name = params["AccountName"]
        self.email = params["Email"]
        self.requested = time.time()
        self.ready_at = self.requested + delay
        self.state = "IN_PROGRESS"
        self.failure = failure
        self.failure_reason = None
        self.account_id = None
        self.completed = None

    def describe(self):
        out = {
            "Id": self.id,
            "AccountName": self.name,
            "State": self.state,
            "RequestedTimestamp": self.requested,
        }
        if self.completed is not None:
            out["CompletedTimestamp"] = self.completed
        if self.account_id:
            out["AccountId"] = self.account_id
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
        return out


def _requests(backend):
    if "_sra_requests" not in backend.__dict__:
        backend._sra_requests = []
    return backend._sra_requests


_ticking = threading.local()


def _tick(backend):
    """Finish every request whose delay has passed."""
    if getattr(_ticking, "active", False):
        return
    _ticking.active = True
    try:
        _finish_due(backend)
    finally:
        _ticking.active = False


def _finish_due(backend):
    now = time.time()
    for request in _requests(backend):
        if request.state != "IN_PROGRESS" or now < request.ready_at:
            continue
        request.completed = now
        if request.failure:
            request.state = "FAILED"
            request.failure_reason = request.failure
            continue
        _original["create_account"](backend, **request.params)
        account = backend.accounts[-1]
        _grant_admin(account.id, request.params.get("RoleName") or "OrganizationAccountAccessRole")
        account.create_account_status_id = request.id
        request.account_id = account.id
        request.state = "SUCCEEDED"


def _grant_admin(account_id, role_name):
    """AWS creates the access role with AdministratorAccess; moto with no policy, so
    with IAM enforcement on, nothing could be done through it. An inline policy
    allowing everything stands in for the managed one (moto loads AWS managed
    policies only on request)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["global"]
    admin = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    iam.put_role_policy(role_name, "AdministratorAccess", admin)


def _email_taken(backend, email):
    email = email.lower()
    if email in config.get("reserved_emails"):
        return True
    if any(a.email.lower() == email for a in backend.accounts):
        return True
    return any(
        r.email.lower() == email and r.state == "IN_PROGRESS" for r in _requests(backend)
    )


class FinalizingOrganization(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__(
            "FinalizingOrganizationException",
            "AWS Organizations couldn't perform the operation because your organization hasn't finished "
            "initializing. This can take up to an hour. Try again later.",
        )


def create_organization(self, region, **kwargs):
    """Records when the organization was made: for `finalizing_seconds` after,
    CreateAccount answers FinalizingOrganizationException, as AWS may for up to an
    hour (API_CreateAccount, FinalizingOrganizationException)."""
    out = _original["create_organization"](self, region, **kwargs)
    self._sra_created_at = time.time()
    return out


def create_account(self, **kwargs):
    if self.org is None:
        raise AWSOrganizationsNotInUseException
    if time.time() < getattr(self, "_sra_created_at", 0) + config.get("finalizing_seconds"):
        raise FinalizingOrganization()
    email = kwargs.get("Email") or ""
    name = kwargs.get("AccountName") or ""
    if not (6 <= len(email) <= 64) or not EMAIL_RE.match(email):
        raise InvalidInputException(
            "You provided a value that does not match the required pattern."
        )
    if not (1 <= len(name) <= 50) or not ACCOUNT_NAME_RE.match(name):
        raise InvalidInputException(
            "You provided a value that does not match the required pattern."
        )
    failure = "EMAIL_ALREADY_EXISTS" if _email_taken(self, email) else None
    request = CreateRequest(
        dict(kwargs), config.get("create_account_delay_seconds"), failure
    )
    _requests(self).append(request)
    return {"CreateAccountStatus": request.describe()}


def describe_create_account_status(self, **kwargs):
    request_id = kwargs.get("CreateAccountRequestId") or ""
    if not REQUEST_ID_RE.match(request_id):
        raise InvalidInputException(
            "You provided a value that does not match the required pattern."
        )
    for request in _requests(self):
        if request.id == request_id:
            return {"CreateAccountStatus": request.describe()}
    raise CreateAccountStatusNotFoundException()


def list_create_account_status(self, **kwargs):
    states = kwargs.get("States") or ["IN_PROGRESS", "SUCCEEDED", "FAILED"]
    matching = [r.describe() for r in _requests(self) if r.state in states]
    token = kwargs.get("NextToken")
    start = 0
    if token:
        if not token.isdigit() or int(token) > len(matching):
            raise InvalidInputException("The NextToken value is not valid.")
        start = int(token)
    max_results = int(kwargs.get("MaxResults") or MAX_LIST_RESULTS)
    if not 1 <= max_results <= MAX_LIST_RESULTS:
        raise InvalidInputException("MaxResults must be between 1 and 20.")
    page = matching[start : start + max_results]
    out = {"CreateAccountStatuses": page}
    if start + len(page) < len(matching):
        out["NextToken"] = str(start + len(page))
    return out


def create_organizational_unit(self, **kwargs):
    if self.org is None:
        raise AWSOrganizationsNotInUseException
    parent_id = kwargs.get("ParentId")
    if not any(ou.id == parent_id for ou in self.ou):
        raise ParentNotFoundException()
    name = kwargs.get("Name") or ""
    if not 1 <= len(name) <= 128:
        raise InvalidInputException("You provided a value that is not valid.")
    if any(ou.parent_id == parent_id and ou.name == name for ou in self.ou):
        raise DuplicateOrganizationalUnitException
    return _original["create_organizational_unit"](self, **kwargs)


SCP_MAX_CHARS = 5120
SCP_MAX_PER_TARGET = 5


class ConstraintViolation(JsonRESTError):
    code = 400

    def __init__(self, reason, message):
        super().__init__("ConstraintViolationException", message)
        self.description = json.dumps({"__type": "ConstraintViolationException", "Message": message, "Reason": reason})


class MalformedPolicyDocument(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements of the specified policy type.")


class DuplicatePolicyAttachment(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")


LIMITED_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")


class PolicyTypeNotEnabled(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__(
            "PolicyTypeNotEnabledException",
            "The specified policy type isn't currently enabled in this root. You can't attach policies of the "
            "specified type to entities in a root until you enable that type in the root.",
        )


def _check_rcp_statements(document):
    """What a customer RCP may say: Effect Deny, Principal "*", no NotAction or
    NotPrincipal, no bare "*" action
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html)."""
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicyDocument()
    for st in statements:
        actions = st.get("Action")
        actions = [actions] if isinstance(actions, str) else actions
        if (
            st.get("Effect") != "Deny"
            or st.get("Principal") != "*"
            or "NotAction" in st
            or "NotPrincipal" in st
            or not actions
            or "*" in actions
        ):
            raise MalformedPolicyDocument()


def _check_scp_content(policy_type, content):
    """SCPs and RCPs: JSON, at most 5,120 characters
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html);
    an RCP also follows the RCP syntax."""
    if policy_type not in LIMITED_TYPES or content is None:
        return
    try:
        document = json.loads(content)
    except ValueError:
        raise MalformedPolicyDocument()
    if len(content) > SCP_MAX_CHARS:
        raise ConstraintViolation(
            "POLICY_CONTENT_LIMIT_EXCEEDED",
            "You attempted to create or update a policy that is larger than the maximum size.",
        )
    if policy_type == "RESOURCE_CONTROL_POLICY":
        _check_rcp_statements(document)


def create_policy(self, **kwargs):
    _check_scp_content(kwargs.get("Type"), kwargs.get("Content"))
    return _original["create_policy"](self, **kwargs)


def update_policy(self, **kwargs):
    policy = self.get_policy_by_id(kwargs["PolicyId"])
    _check_scp_content(policy.type, kwargs.get("Content"))
    return _original["update_policy"](self, **kwargs)


def attach_policy(self, **kwargs):
    """A policy attaches only once its type is enabled on the root
    (PolicyTypeNotEnabledException, API_AttachPolicy), at most five of a type per
    target, the AWS managed one included."""
    policy = self.get_policy_by_id(kwargs["PolicyId"])
    if policy.type in LIMITED_TYPES:
        root = next((ou for ou in self.ou if ou.type == "ROOT"), None)
        enabled = root is not None and any(t["Type"] == policy.type for t in root.policy_types)
        if not policy.aws_managed and not enabled:
            raise PolicyTypeNotEnabled()
        target = kwargs["TargetId"]
        holders = [ou for ou in self.ou if ou.id == target] + [a for a in self.accounts if a.id == target]
        for holder in holders:
            if policy in holder.attached_policies:
                raise DuplicatePolicyAttachment()
            attached = [p for p in holder.attached_policies if p.type == policy.type]
            if policy not in attached and len(attached) >= SCP_MAX_PER_TARGET:
                raise ConstraintViolation(
                    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    "You attempted to attach more policies of this type to the target than allowed.",
                )
    return _original["attach_policy"](self, **kwargs)


def list_accounts(self, max_results=None, next_token=None):
    """Accounts in the order they joined, at most MAX_LIST_RESULTS a page; only
    the page is described, so a page costs the same in a large organization."""
    chunk, token = page(self.accounts, max_results, next_token, MAX_LIST_RESULTS, InvalidInputException)
    return [a.describe() for a in chunk], token


def _reset(self):
    _original["_reset"](self)
    self._sra_requests = []


def _serialized(method):
    """Every backend call first finishes due requests, one call at a time."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _lock:
            _tick(self)
            return method(self, *args, **kwargs)

    return wrapper


# Delegated-administrator principals AWS accepts that moto's list lacks.
EXTRA_DELEGATION_SERVICES = [
    "securityhub.amazonaws.com",
    "inspector2.amazonaws.com",
    "detective.amazonaws.com",
    "config.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "reporting.trustedadvisor.amazonaws.com",
]
_original_register = Backend.register_delegated_administrator


_registered = {}


def register_delegated_administrator(self, **kwargs):
    """Stock moto left an empty administrator entry behind when it rejected a
    principal; AWS leaves nothing."""
    before = list(self.admins)
    try:
        out = _original_register(self, **kwargs)
    except Exception:
        self.admins[:] = [a for a in self.admins if a in before or a.services]
        raise
    _registered[(kwargs["AccountId"], kwargs["ServicePrincipal"])] = time.monotonic()
    return out


def delegation_settled(account_id, principal):
    """Whether the delegation of `principal` to `account_id` has reached the
    service (config's delegation_delay_seconds after it was registered)."""
    since = _registered.get((account_id, principal))
    return since is None or time.monotonic() - since >= config.get("delegation_delay_seconds")


# Trusted-access principals AWS accepts that moto's list lacks.
EXTRA_TRUSTED_SERVICES = ["malware-protection.guardduty.amazonaws.com"]


def apply():
    for principal in EXTRA_TRUSTED_SERVICES:
        if principal not in models.FakeServiceAccess.TRUSTED_SERVICES:
            models.FakeServiceAccess.TRUSTED_SERVICES.append(principal)
    for principal in EXTRA_DELEGATION_SERVICES:
        if principal not in models.FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            models.FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(principal)
    Backend.register_delegated_administrator = register_delegated_administrator
    Backend._reset = _reset
    Backend.create_account = create_account
    Backend.create_organization = create_organization
    Backend.list_accounts = list_accounts
    Backend.describe_create_account_status = describe_create_account_status
    Backend.list_create_account_status = list_create_account_status
    Backend.create_organizational_unit = create_organizational_unit
    Backend.create_policy = create_policy
    Backend.update_policy = update_policy
    Backend.attach_policy = attach_policy
    for name, member in list(vars(Backend).items()):
        if callable(member) and not name.startswith("_"):
            setattr(Backend, name, _serialized(member))
