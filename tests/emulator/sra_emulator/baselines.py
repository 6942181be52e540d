"""Account baselines' services, what stock moto 5.2.5 does that sra's checks
rely on, and what it gets wrong or too slowly.

- EC2 GetEbsEncryptionByDefault / EnableEbsEncryptionByDefault /
  DisableEbsEncryptionByDefault: the setting is per account and Region, as in
  AWS (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetEbsEncryptionByDefault.html).
  Stock moto kept it on each account's whole EC2 backend, whose creation (a
  default VPC and its subnets per Region) made reading 1,000 accounts × 4
  Regions take minutes; here it is kept on its own, per (account, Region).
- IAM GetAccountPasswordPolicy / UpdateAccountPasswordPolicy /
  DeleteAccountPasswordPolicy: per account, likewise kept on its own (an IAM
  backend loads every AWS managed policy); no policy is NoSuchEntity, and a
  parameter left out of an update reverts to its default, as the API reference
  says (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccountPasswordPolicy.html).
- S3 Control's account public access block is stock: per account, and only the
  account's own (AccountId must be the caller's), as in AWS.
"""

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.responses.settings import Settings
from moto.iam.exceptions import NoSuchEntity
from moto.iam.responses import IamResponse

# (account, Region) → EBS encryption by default.
EBS = {}
# account → its password policy (as GetAccountPasswordPolicy answers it).
PASSWORDS = {}


def _ebs(self, value):
    self.error_on_dryrun()
    key = (self.current_account, self.region)
    if value is not None:
        EBS[key] = value
    return ActionResult({"EbsEncryptionByDefault": EBS.get(key, False)})


def enable_ebs(self):
    return _ebs(self, True)


def disable_ebs(self):
    return _ebs(self, False)


def get_ebs(self):
    return _ebs(self, None)


def cis_policy():
    """What `sra apply` sets (for seeding)."""
    return {
        "MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True,
        "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True, "ExpirePasswords": False, "PasswordReusePrevention": 24,
        "HardExpiry": False,
    }


def update_password_policy(self):
    policy = {
        "MinimumPasswordLength": self._get_int_param("MinimumPasswordLength", 6),
        "RequireSymbols": self._get_bool_param("RequireSymbols", False),
        "RequireNumbers": self._get_bool_param("RequireNumbers", False),
        "RequireUppercaseCharacters": self._get_bool_param("RequireUppercaseCharacters", False),
        "RequireLowercaseCharacters": self._get_bool_param("RequireLowercaseCharacters", False),
        "AllowUsersToChangePassword": self._get_bool_param("AllowUsersToChangePassword", False),
        "HardExpiry": self._get_bool_param("HardExpiry", False),
    }
    age = self._get_int_param("MaxPasswordAge", 0)
    policy["ExpirePasswords"] = bool(age)
    if age:
        policy["MaxPasswordAge"] = age
    reuse = self._get_int_param("PasswordReusePrevention")
    if reuse:
        policy["PasswordReusePrevention"] = reuse
    PASSWORDS[self.current_account] = policy
    return EmptyResult()


def get_password_policy(self):
    policy = PASSWORDS.get(self.current_account)
    if policy is None:
        raise NoSuchEntity(f"The Password Policy with domain name {self.current_account} cannot be found.")
    return ActionResult({"PasswordPolicy": dict(policy)})


def delete_password_policy(self):
    if PASSWORDS.pop(self.current_account, None) is None:
        raise NoSuchEntity(f"The Password Policy with domain name {self.current_account} cannot be found.")
    return EmptyResult()


def apply():
    Settings.enable_ebs_encryption_by_default = enable_ebs
    Settings.disable_ebs_encryption_by_default = disable_ebs
    Settings.get_ebs_encryption_by_default = get_ebs
    IamResponse.update_account_password_policy = update_password_policy
    IamResponse.get_account_password_policy = get_password_policy
    IamResponse.delete_account_password_policy = delete_password_policy
