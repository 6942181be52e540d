"""The extension's Inspector rules, against the emulator over HTTP."""
import time

import boto3
from botocore.config import Config

from test_organizations import EmulatorCase


class Inspector(EmulatorCase):
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
        return boto3.client("inspector2", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
                            config=Config(retries={"max_attempts": 1}))

    def test_delegation_rules(self):
        mgmt = self.client("inspector2")
        self.assertEqual(self.code(mgmt.enable_delegated_admin_account, delegatedAdminAccountId="999999999999"), "ValidationException")
        mgmt.enable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        mgmt.enable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        self.assertEqual(self.code(mgmt.enable_delegated_admin_account, delegatedAdminAccountId=self.other), "ConflictException")
        listed = mgmt.list_delegated_admin_accounts()["delegatedAdminAccounts"]
        self.assertEqual([a["accountId"] for a in listed], [self.admin])
        self.assertEqual(self.code(self.as_account(self.other).update_organization_configuration, autoEnable={"ec2": True, "ecr": True}), "AccessDeniedException")
        admin = self.as_account(self.admin)
        admin.update_organization_configuration(autoEnable={"ec2": True, "ecr": True, "lambda": True})
        self.assertTrue(admin.describe_organization_configuration()["autoEnable"]["lambda"])
        self.assertEqual(self.code(admin.associate_member, accountId="999999999999"), "ValidationException")
        admin.associate_member(accountId=self.other)
        self.assertEqual([m["accountId"] for m in admin.list_members()["members"]], [self.other])
        mgmt.disable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        self.assertEqual(mgmt.list_delegated_admin_accounts()["delegatedAdminAccounts"], [])
