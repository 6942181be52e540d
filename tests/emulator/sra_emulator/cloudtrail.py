"""CloudTrail: RegisterOrganizationDelegatedAdmin and DeregisterOrganizationDelegatedAdmin,
missing in stock moto 5.2.5. As in AWS, only the organization's management account
may call them, the member must be in the organization, and registering makes the
account the delegated administrator of `cloudtrail.amazonaws.com` in Organizations."""
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError
from moto.organizations.models import organizations_backends

PRINCIPAL = "cloudtrail.amazonaws.com"


class Error(JsonRESTError):
    code = 400


def _org(self):
    org = organizations_backends[self.current_account]["aws"]
    if org.org is None or org.org.master_account_id != self.current_account:
        raise Error("NotOrganizationManagementAccountException", "This operation can be performed only by the management account of an organization.")
    return org


def register_organization_delegated_admin(self):
    member = self._get_param("MemberAccountId")
    org = _org(self)
    if not any(a.id == member for a in org.accounts) or member == self.current_account:
        raise Error("AccountNotFoundException", f"This operation failed because the account {member} is not a member of the organization.")
    for admin in org.admins:
        if PRINCIPAL in admin.services:
            if admin.account.id == member:
                raise Error("AccountRegisteredException", "The account is already registered as a delegated administrator.")
            raise Error("DelegatedAdminAccountLimitExceededException", "The organization already has a delegated administrator for CloudTrail.")
    org.register_delegated_administrator(AccountId=member, ServicePrincipal=PRINCIPAL)
    return "{}"


def deregister_organization_delegated_admin(self):
    member = self._get_param("DelegatedAdminAccountId")
    org = _org(self)
    admin = next((a for a in org.admins if a.account.id == member and PRINCIPAL in a.services), None)
    if admin is None:
        raise Error("AccountNotRegisteredException", "The account is not registered as a delegated administrator.")
    org.deregister_delegated_administrator(AccountId=member, ServicePrincipal=PRINCIPAL)
    return "{}"


def apply():
    CloudTrailResponse.register_organization_delegated_admin = register_organization_delegated_admin
    CloudTrailResponse.deregister_organization_delegated_admin = deregister_organization_delegated_admin
