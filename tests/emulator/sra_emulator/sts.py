"""STS: AssumeRole refuses a role that does not exist, as AWS does. Stock moto
assumes any role ARN ("the role does not need to exist"), so a plan that reads
through a role nobody made would pass in the emulator and fail in AWS. AWS answers
`AccessDenied` ("… is not authorized to perform: sts:AssumeRole on resource …"),
the same answer as for a role whose trust policy does not name the caller
(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html#troubleshoot_roles_cant-assume-role).
The trust policy itself is not evaluated (moto does not).

Also: with IAM enforcement on, S3 Control's account Block Public Access calls are
checked under IAM's action names (see below)."""
from moto.iam.access_control import IAMRequest
from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

_original = STSBackend.assume_role


class AccessDenied(STSClientError):
    code = "AccessDenied"

    def __init__(self, role_arn):
        super().__init__(f"User is not authorized to perform: sts:AssumeRole on resource: {role_arn}")


# (account, role name) of the roles seeded accounts have without an IAM backend
# (see seed.py: moto builds a whole IAM backend per account).
SEEDED_ROLES = set()


def assume_role(self, *args, **kwargs):
    role_arn = kwargs["role_arn"] if "role_arn" in kwargs else args[2]
    parts = role_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/"):
        account, name = parts[4], parts[5].rsplit("/", 1)[-1]
        if (account, name) in SEEDED_ROLES:
            return _original(self, *args, **kwargs)
        if not any(role.name == name for role in iam_backends[account]["global"].get_roles()):
            raise AccessDenied(role_arn)
    return _original(self, *args, **kwargs)


# With IAM enforcement on, moto names an S3 Control call's action after its
# method and path (s3:GetPublicAccessBlock); IAM's name for the account-level
# Block Public Access calls is s3:GetAccountPublicAccessBlock / PutAccount…
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html),
# which is what a policy that works in AWS grants.
_S3_CONTROL_ACTIONS = {
    "GET": "s3:GetAccountPublicAccessBlock",
    "PUT": "s3:PutAccountPublicAccessBlock",
    "DELETE": "s3:PutAccountPublicAccessBlock",
}
_original_request_init = IAMRequest.__init__


def _request_init(self, account_id, method, path, data, body, headers, action):
    _original_request_init(self, account_id, method, path, data, body, headers, action)
    if self._service == "s3" and path.split("?")[0].endswith("/v20180820/configuration/publicAccessBlock"):
        self._action = _S3_CONTROL_ACTIONS.get(method, self._action)


def apply():
    STSBackend.assume_role = assume_role
    IAMRequest.__init__ = _request_init
