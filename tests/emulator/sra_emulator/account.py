"""Account Management (account): what stock moto 5.2.5 lets through, to the API
reference (https://docs.aws.amazon.com/accounts/latest/reference/API_PutAlternateContact.html,
API_GetAlternateContact.html).

- AccountId: "To use this parameter, the caller must be an identity in the
  organization's management account or a delegated administrator account, and
  the specified account ID must be a member account in the same organization.
  The organization must have all features enabled, and the organization must
  have trusted access enabled for the Account Management service". Stock moto
  let any caller name any account. Now a caller that is not the management
  account, an account outside the organization, or an organization without
  trusted access for account.amazonaws.com is AccessDeniedException.
- "The management account can't specify its own AccountId; it must call the
  operation in standalone context by not including the AccountId parameter":
  ValidationException.
"""
from moto.account.responses import AccountResponse

from .common import Error, org_of

PRINCIPAL = "account.amazonaws.com"

_original = {name: getattr(AccountResponse, name) for name in ("put_alternate_contact", "get_alternate_contact")}


def _check(self):
    target = self._get_param("AccountId")
    if not target:
        return
    caller = self.current_account
    org = org_of(caller)
    if org is None or org.org is None or org.org.master_account_id != caller:
        raise Error("AccessDeniedException", "Only the organization's management account may name an AccountId.", 403)
    if target == caller:
        raise Error("ValidationException", "The management account can't specify its own AccountId; it must call "
                    "the operation in standalone context by not including the AccountId parameter.")
    if not any(a.id == target for a in org.accounts):
        raise Error("AccessDeniedException", f"The account {target} is not a member of the organization.", 403)
    if not any(s.get("ServicePrincipal") == PRINCIPAL for s in org.services):
        raise Error("AccessDeniedException", "The organization has not enabled trusted access for "
                    f"{PRINCIPAL}.", 403)


def put_alternate_contact(self):
    _check(self)
    return _original["put_alternate_contact"](self)


def get_alternate_contact(self):
    _check(self)
    return _original["get_alternate_contact"](self)


def apply():
    AccountResponse.put_alternate_contact = put_alternate_contact
    AccountResponse.get_alternate_contact = get_alternate_contact
