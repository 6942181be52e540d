"""The extension's Detective operations (not in moto at all), against the emulator over HTTP."""
import time

import boto3
from botocore.config import Config

from test_organizations import EmulatorCase


class Detective(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        ids = [self.orgs.create_account(AccountName=n, Email=f"{n}@example.com")["CreateAccountStatus"]["Id"] for n in ("admin", "other")]
        time.sleep(0.05)
        self.admin, self.other = [
            self.orgs.describe_create_account_status(CreateAccountRequestId=i)["CreateAccountStatus"]["AccountId"] for i in ids
        ]

    def as_account(self, account, region="us-east-1"):
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
        return boto3.client("detective", endpoint_url=self.url, region_name=region, aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
                            config=Config(retries={"max_attempts": 1}))

    def test_delegation_graph_configuration_and_members(self):
        mgmt = self.client("detective")
        self.assertEqual(self.code(mgmt.enable_organization_admin_account, AccountId="999999999999"), "ValidationException")
        self.assertEqual(self.code(self.as_account(self.other).enable_organization_admin_account, AccountId=self.admin),
                         "AccessDeniedException")
        mgmt.enable_organization_admin_account(AccountId=self.admin)
        mgmt.enable_organization_admin_account(AccountId=self.admin)  # idempotent
        self.assertEqual(self.code(mgmt.enable_organization_admin_account, AccountId=self.other), "ValidationException")
        delegated = self.orgs.list_delegated_administrators(ServicePrincipal="detective.amazonaws.com")["DelegatedAdministrators"]
        self.assertEqual([a["Id"] for a in delegated], [self.admin])
        listed = mgmt.list_organization_admin_accounts()["Administrators"]
        admin = self.as_account(self.admin)
        graphs = admin.list_graphs()["GraphList"]
        self.assertEqual([a["AccountId"] for a in listed], [self.admin])
        self.assertEqual(listed[0]["GraphArn"], graphs[0]["Arn"])
        graph = graphs[0]["Arn"]
        self.assertEqual(admin.create_graph()["GraphArn"], graph, "a repeat CreateGraph returns the same graph")
        self.assertFalse(admin.describe_organization_configuration(GraphArn=graph)["AutoEnable"])
        admin.update_organization_configuration(GraphArn=graph, AutoEnable=True)
        self.assertTrue(admin.describe_organization_configuration(GraphArn=graph)["AutoEnable"])
        other = self.as_account(self.other)
        other.create_graph()
        other_graph = other.list_graphs()["GraphList"][0]["Arn"]
        self.assertEqual(self.code(other.update_organization_configuration, GraphArn=other_graph, AutoEnable=True),
                         "AccessDeniedException")
        out = admin.create_members(GraphArn=graph, Accounts=[{"AccountId": self.other, "EmailAddress": "other@example.com"},
                                                             {"AccountId": "999999999999", "EmailAddress": "x@example.com"}])
        self.assertEqual([m["AccountId"] for m in out["Members"]], [self.other])
        self.assertEqual([u["AccountId"] for u in out["UnprocessedAccounts"]], ["999999999999"])
        members = admin.list_members(GraphArn=graph)["MemberDetails"]
        self.assertEqual([(m["AccountId"], m["Status"], m["InvitationType"]) for m in members], [(self.other, "ENABLED", "ORGANIZATION")])
        self.assertEqual(self.code(admin.create_members, GraphArn=graph, Accounts=[{"AccountId": self.other, "EmailAddress": "o@example.com"}] * 51), "ValidationException")
        # Regions are independent.
        self.assertEqual(self.as_account(self.admin, "eu-west-1").list_graphs()["GraphList"], [])
        mgmt.disable_organization_admin_account()
        self.assertEqual(mgmt.list_organization_admin_accounts()["Administrators"], [])
        self.assertEqual(admin.list_graphs()["GraphList"], [])
