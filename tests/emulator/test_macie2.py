"""The extension's Macie operations, against the emulator over HTTP."""
import time

import boto3
from botocore.config import Config

from test_organizations import EmulatorCase


class Macie(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        ids = [self.orgs.create_account(AccountName=n, Email=f"{n}@example.com")["CreateAccountStatus"]["Id"] for n in ("admin", "other")]
        time.sleep(0.05)
        self.admin, self.other = [
            self.orgs.describe_create_account_status(CreateAccountRequestId=i)["CreateAccountStatus"]["AccountId"] for i in ids
        ]

    def as_account(self, account):
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
        return boto3.client("macie2", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
                            config=Config(retries={"max_attempts": 1}))

    def test_delegation_configuration_and_members(self):
        mgmt = self.client("macie2")
        self.assertEqual(self.code(mgmt.enable_organization_admin_account, adminAccountId="999999999999"), "ValidationException")
        mgmt.enable_organization_admin_account(adminAccountId=self.admin)
        mgmt.enable_organization_admin_account(adminAccountId=self.admin)
        self.assertEqual(self.code(mgmt.enable_organization_admin_account, adminAccountId=self.other), "ConflictException")
        admin = self.as_account(self.admin)
        self.assertEqual(self.code(admin.describe_organization_configuration), "AccessDeniedException")
        admin.enable_macie()
        admin.update_organization_configuration(autoEnable=True)
        self.assertTrue(admin.describe_organization_configuration()["autoEnable"])
        self.assertEqual(self.code(self.as_account(self.other).update_organization_configuration, autoEnable=True), "AccessDeniedException")
        admin.create_member(account={"accountId": self.other, "email": "other@example.com"})
        self.assertEqual([m["accountId"] for m in admin.list_members()["members"]], [self.other])
        self.assertEqual(self.code(admin.create_member, account={"accountId": "999999999999", "email": "x@example.com"}), "ValidationException")
        mgmt.disable_organization_admin_account(adminAccountId=self.admin)
        self.assertEqual(mgmt.list_organization_admin_accounts()["adminAccounts"], [])
