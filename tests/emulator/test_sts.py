"""STS AssumeRole refuses a role that does not exist, as AWS does.

Run with: tests/emulator/serve --self-test
"""
import time
import unittest

from botocore.exceptions import ClientError

from test_organizations import EmulatorCase


class AssumeRole(EmulatorCase):
    def test_a_role_that_does_not_exist_is_refused_and_one_that_does_is_assumed(self):
        self.orgs.create_organization(FeatureSet="ALL")
        req = self.orgs.create_account(AccountName="Member", Email="member@example.com")["CreateAccountStatus"]["Id"]
        time.sleep(0.1)
        account = self.orgs.describe_create_account_status(CreateAccountRequestId=req)["CreateAccountStatus"]["AccountId"]
        sts = self.client("sts")
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test"
        )["Credentials"]
        self.assertTrue(creds["AccessKeyId"])
        with self.assertRaises(ClientError) as caught:
            sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/SRAPlanReadOnly", RoleSessionName="test")
        self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDenied")
        self.assertIn("sts:AssumeRole", caught.exception.response["Error"]["Message"])


if __name__ == "__main__":
    unittest.main()
