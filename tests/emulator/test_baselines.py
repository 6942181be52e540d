"""The extension's account-baseline services, against the emulator over HTTP."""
import time

import boto3
from botocore.config import Config

from test_organizations import EmulatorCase


class Baselines(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        r = self.orgs.create_account(AccountName="w", Email="w@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        self.member = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        self.management = self.orgs.describe_organization()["Organization"]["MasterAccountId"]

    def as_member(self, service, region="us-east-1"):
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{self.member}:role/OrganizationAccountAccessRole",
                                           RoleSessionName="test")["Credentials"]
        return boto3.client(service, endpoint_url=self.url, region_name=region, aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
                            config=Config(retries={"max_attempts": 1}))

    def test_ebs_encryption_by_default_is_per_account_and_region(self):
        east, west = self.as_member("ec2"), self.as_member("ec2", "us-west-2")
        self.assertFalse(east.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])
        east.enable_ebs_encryption_by_default()
        self.assertTrue(east.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])
        self.assertFalse(west.get_ebs_encryption_by_default()["EbsEncryptionByDefault"], "another Region")
        self.assertFalse(self.client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"], "another account")
        east.disable_ebs_encryption_by_default()
        self.assertFalse(east.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])

    def test_the_password_policy_is_per_account_and_an_update_resets_what_it_leaves_out(self):
        iam = self.as_member("iam")
        self.assertEqual(self.code(iam.get_account_password_policy), "NoSuchEntity")
        iam.update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=24, MaxPasswordAge=90,
                                           RequireSymbols=True)
        got = iam.get_account_password_policy()["PasswordPolicy"]
        self.assertEqual((got["MinimumPasswordLength"], got["PasswordReusePrevention"], got["MaxPasswordAge"]), (14, 24, 90))
        iam.update_account_password_policy(MinimumPasswordLength=16)
        got = iam.get_account_password_policy()["PasswordPolicy"]
        self.assertNotIn("PasswordReusePrevention", got)
        self.assertNotIn("MaxPasswordAge", got)
        self.assertFalse(got["RequireSymbols"])
        self.assertEqual(self.code(self.client("iam").get_account_password_policy), "NoSuchEntity", "another account")
        iam.delete_account_password_policy()
        self.assertEqual(self.code(iam.delete_account_password_policy), "NoSuchEntity")

    def test_contacts_of_members_need_the_management_account_and_trusted_access(self):
        contact = dict(AlternateContactType="SECURITY", Name="Sec", Title="Security", EmailAddress="s@example.com",
                       PhoneNumber="+1-555-0100")
        account = self.client("account")
        self.assertEqual(self.code(account.put_alternate_contact, AccountId=self.member, **contact), "AccessDeniedException",
                         "no trusted access yet")
        self.orgs.enable_aws_service_access(ServicePrincipal="account.amazonaws.com")
        account.put_alternate_contact(AccountId=self.member, **contact)
        got = account.get_alternate_contact(AccountId=self.member, AlternateContactType="SECURITY")["AlternateContact"]
        self.assertEqual(got["EmailAddress"], "s@example.com")
        self.assertEqual(self.as_member("account").get_alternate_contact(AlternateContactType="SECURITY")["AlternateContact"]["Name"], "Sec")
        self.assertEqual(self.code(account.put_alternate_contact, AccountId=self.management, **contact), "ValidationException",
                         "the management account names itself by leaving AccountId out")
        account.put_alternate_contact(**contact)
        self.assertEqual(self.code(self.as_member("account").get_alternate_contact, AccountId=self.management,
                                   AlternateContactType="SECURITY"), "AccessDeniedException", "a member names no account")
        self.assertEqual(self.code(account.get_alternate_contact, AccountId="999999999999", AlternateContactType="SECURITY"),
                         "AccessDeniedException", "not in the organization")
