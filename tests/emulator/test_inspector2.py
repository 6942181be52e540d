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

    def test_association_starts_no_scan_and_enable_acts_in_the_member(self):
        mgmt = self.client("inspector2")
        mgmt.enable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        admin = self.as_account(self.admin)
        admin.associate_member(accountId=self.other)

        def scans(client, account):
            out = client.batch_get_account_status(accountIds=[account])
            return {k: v["status"] for k, v in out["accounts"][0]["resourceState"].items()}

        self.assertEqual(scans(admin, self.other)["ec2"], "DISABLED", "association starts no scan")
        out = admin.enable(accountIds=[self.admin, self.other], resourceTypes=["EC2", "ECR"])
        self.assertEqual(out["failedAccounts"], [])
        self.assertEqual(scans(admin, self.other), {"ec2": "ENABLED", "ecr": "ENABLED", "lambda": "DISABLED", "lambdaCode": "DISABLED"})
        # The member reads its own status and sees what its administrator turned on.
        own = self.as_account(self.other).batch_get_account_status()["accounts"]
        self.assertEqual([(a["accountId"], a["resourceState"]["ec2"]["status"]) for a in own], [(self.other, "ENABLED")])
        # An account that is not an associated member is refused, not changed.
        r = self.orgs.create_account(AccountName="third", Email="third@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        third = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        out = admin.enable(accountIds=[third], resourceTypes=["EC2"])
        self.assertEqual([(f["accountId"], f["errorCode"]) for f in out["failedAccounts"]], [(third, "ACCESS_DENIED")])
        self.assertEqual(self.as_account(third).batch_get_account_status()["accounts"][0]["resourceState"]["ec2"]["status"], "DISABLED")
        self.assertEqual(self.code(admin.batch_get_account_status, accountIds=[f"{i:012d}" for i in range(101)]), "ValidationException")
        # A member cannot turn on another account's scans.
        out = self.as_account(self.other).enable(accountIds=[self.admin], resourceTypes=["LAMBDA"])
        self.assertEqual([f["errorCode"] for f in out["failedAccounts"]], ["ACCESS_DENIED"])

    def test_the_administrator_is_the_same_in_every_region(self):
        import boto3
        east = self.client("inspector2")
        west = boto3.client("inspector2", endpoint_url=self.url, region_name="us-west-2", aws_access_key_id="test",
                            aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
        east.enable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        self.assertEqual(self.code(west.enable_delegated_admin_account, delegatedAdminAccountId=self.other), "ConflictException")
        west.enable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        for client in (east, west):
            client.disable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        west.enable_delegated_admin_account(delegatedAdminAccountId=self.other)

    def test_coverage_lists_the_scanned_accounts_instances_and_why_some_are_not_scanned(self):
        mgmt = self.client("inspector2")
        mgmt.enable_delegated_admin_account(delegatedAdminAccountId=self.admin)
        admin = self.as_account(self.admin)
        admin.associate_member(accountId=self.other)
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{self.other}:role/OrganizationAccountAccessRole",
                                           RoleSessionName="test")["Credentials"]
        ec2 = boto3.client("ec2", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                           aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
        image = ec2.describe_images()["Images"][0]["ImageId"]
        ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)["Instances"]]
        ec2.stop_instances(InstanceIds=ids[:1])
        stats = lambda **kw: admin.list_coverage_statistics(**kw)
        self.assertEqual(stats()["totalCounts"], 0, "EC2 scanning is off in the member: nothing is covered")
        admin.enable(accountIds=[self.other], resourceTypes=["EC2"])
        by_reason = stats(groupBy="SCAN_STATUS_REASON")
        self.assertEqual(by_reason["totalCounts"], 2)
        self.assertEqual({g["groupKey"]: g["count"] for g in by_reason["countsByGroup"]},
                         {"EC2_INSTANCE_STOPPED": 1, "UNMANAGED_EC2_INSTANCE": 1})
        inactive = stats(groupBy="ACCOUNT_ID", filterCriteria={"scanStatusCode": [{"comparison": "EQUALS", "value": "INACTIVE"}]})
        self.assertEqual(inactive["countsByGroup"], [{"groupKey": self.other, "count": 2}])
        listed = admin.list_coverage(filterCriteria={"scanStatusReason": [{"comparison": "EQUALS", "value": "UNMANAGED_EC2_INSTANCE"}]})
        self.assertEqual([r["resourceId"] for r in listed["coveredResources"]], ids[1:])
        # The member sees its own coverage only; groups page by 5.
        self.assertEqual(self.code(admin.list_coverage_statistics, groupBy="NOPE"), "ValidationException")
