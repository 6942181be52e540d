"""The extension's Security Hub operations, against the emulator over HTTP."""
import time

import boto3
from botocore.config import Config

from test_organizations import EmulatorCase


class SecurityHub(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        r = self.orgs.create_account(AccountName="admin", Email="admin@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        self.admin = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]

    def sh(self, account=None, region="us-east-1"):
        if account is None:
            return boto3.client("securityhub", endpoint_url=self.url, region_name=region, aws_access_key_id="test",
                                aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
        return boto3.client("securityhub", endpoint_url=self.url, region_name=region, aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
                            config=Config(retries={"max_attempts": 1}))

    def test_admin_per_region_idempotent_listed_and_disabled(self):
        east, west = self.sh(region="us-east-1"), self.sh(region="us-west-2")
        east.enable_organization_admin_account(AdminAccountId=self.admin)
        east.enable_organization_admin_account(AdminAccountId=self.admin)
        self.assertEqual([a["AccountId"] for a in east.list_organization_admin_accounts()["AdminAccounts"]], [self.admin])
        self.assertEqual(west.list_organization_admin_accounts()["AdminAccounts"], [], "per region")
        self.assertEqual(self.code(east.enable_organization_admin_account, AdminAccountId="123456789012"), "InvalidInputException")
        registered = self.orgs.list_delegated_administrators(ServicePrincipal="securityhub.amazonaws.com")
        self.assertEqual([a["Id"] for a in registered["DelegatedAdministrators"]], [self.admin], "registered with Organizations")
        east.disable_organization_admin_account(AdminAccountId=self.admin)
        self.assertEqual(east.list_organization_admin_accounts()["AdminAccounts"], [])

    def test_standards_and_aggregator_need_the_hub(self):
        admin = self.sh(self.admin)
        self.assertEqual(self.code(admin.get_enabled_standards), "InvalidAccessException")
        admin.enable_security_hub(EnableDefaultStandards=False)
        arns = [s["StandardsArn"] for s in admin.describe_standards()["Standards"]]
        fsbp = [a for a in arns if "foundational" in a][0]
        out = admin.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": fsbp}])
        sub = out["StandardsSubscriptions"][0]["StandardsSubscriptionArn"]
        self.assertEqual([s["StandardsArn"] for s in admin.get_enabled_standards()["StandardsSubscriptions"]], [fsbp])
        admin.batch_disable_standards(StandardsSubscriptionArns=[sub])
        self.assertEqual(admin.get_enabled_standards()["StandardsSubscriptions"], [])
        self.assertEqual(self.code(admin.batch_enable_standards, StandardsSubscriptionRequests=[{"StandardsArn": "arn:aws:securityhub:::nope"}]), "InvalidInputException")
        agg = admin.create_finding_aggregator(RegionLinkingMode="SPECIFIED_REGIONS", Regions=["us-west-2"])
        self.assertEqual(self.code(admin.create_finding_aggregator, RegionLinkingMode="ALL_REGIONS"), "InvalidInputException")
        listed = admin.list_finding_aggregators()["FindingAggregators"]
        self.assertEqual([a["FindingAggregatorArn"] for a in listed], [agg["FindingAggregatorArn"]])
        got = admin.get_finding_aggregator(FindingAggregatorArn=agg["FindingAggregatorArn"])
        self.assertEqual(got["Regions"], ["us-west-2"])
        admin.update_finding_aggregator(FindingAggregatorArn=agg["FindingAggregatorArn"], RegionLinkingMode="SPECIFIED_REGIONS", Regions=["us-west-2", "eu-west-1"])
        self.assertEqual(admin.get_finding_aggregator(FindingAggregatorArn=agg["FindingAggregatorArn"])["Regions"], ["us-west-2", "eu-west-1"])

    def test_delete_members_refuses_the_organizations_accounts(self):
        admin = self.sh(self.admin)
        admin.create_members(AccountDetails=[{"AccountId": "999999999999"}])
        admin.delete_members(AccountIds=["999999999999"])
        self.assertEqual(admin.list_members(OnlyAssociated=False)["Members"], [], "an invited account is deleted")
        r = self.orgs.create_account(AccountName="w", Email="w@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        member = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        admin.create_members(AccountDetails=[{"AccountId": member}])
        out = admin.delete_members(AccountIds=[member])
        self.assertEqual([u["AccountId"] for u in out["UnprocessedAccounts"]], [member])
        self.assertEqual([m["AccountId"] for m in admin.list_members(OnlyAssociated=False)["Members"]], [member])

    def test_a_closed_account_is_not_made_a_member(self):
        r = self.orgs.create_account(AccountName="old", Email="old@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        old = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        self.orgs.close_account(AccountId=old)
        out = self.sh(self.admin).create_members(AccountDetails=[{"AccountId": old}])
        self.assertEqual([u["AccountId"] for u in out["UnprocessedAccounts"]], [old])
        self.assertEqual(self.sh(self.admin).list_members(OnlyAssociated=False)["Members"], [])

    def test_enrolment_turns_the_hub_on_in_members_but_not_in_the_management_account(self):
        self.sh().enable_organization_admin_account(AdminAccountId=self.admin)
        admin = self.sh(self.admin)
        admin.enable_security_hub(EnableDefaultStandards=False)
        r = self.orgs.create_account(AccountName="w", Email="w@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        member = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        management = self.orgs.describe_organization()["Organization"]["MasterAccountId"]
        out = admin.create_members(AccountDetails=[{"AccountId": member}, {"AccountId": management}])
        self.assertEqual([u["AccountId"] for u in out["UnprocessedAccounts"]], [management])
        self.assertIn("management account must enable Security Hub", out["UnprocessedAccounts"][0]["ProcessingResult"])
        self.sh(member).describe_hub()
        enabled = [s["StandardsArn"] for s in self.sh(member).get_enabled_standards()["StandardsSubscriptions"]]
        self.assertTrue(any("foundational" in a for a in enabled), "enabled with the default standards")
        self.assertEqual(self.code(self.sh().describe_hub), "InvalidAccessException")
        self.sh().enable_security_hub()
        self.assertEqual(self.code(self.sh().enable_security_hub), "ResourceConflictException")
        self.assertEqual(admin.create_members(AccountDetails=[{"AccountId": management}])["UnprocessedAccounts"], [])
        statuses = {m["AccountId"]: m["MemberStatus"] for m in admin.list_members(OnlyAssociated=False)["Members"]}
        self.assertEqual(statuses, {member: "ENABLED", management: "ENABLED"})

    def test_central_configuration_applies_a_policy_everywhere_and_members_cannot_route_around_it(self):
        east = self.sh()
        for region in ("us-east-1", "us-west-2"):
            self.sh(region=region).enable_organization_admin_account(AdminAccountId=self.admin)
        admin, admin_west = self.sh(self.admin), self.sh(self.admin, "us-west-2")
        admin.enable_security_hub(EnableDefaultStandards=False)
        central = dict(AutoEnable=False, AutoEnableStandards="NONE", OrganizationConfiguration={"ConfigurationType": "CENTRAL"})
        self.assertEqual(self.code(admin.update_organization_configuration, **central), "InvalidInputException",
                         "no home Region yet (no finding aggregator)")
        admin.create_finding_aggregator(RegionLinkingMode="SPECIFIED_REGIONS", Regions=["us-west-2"])
        self.assertEqual(self.code(admin.update_organization_configuration, AutoEnable=True, AutoEnableStandards="NONE",
                                   OrganizationConfiguration={"ConfigurationType": "CENTRAL"}), "InvalidInputException")
        self.assertEqual(self.code(east.update_organization_configuration, **central), "AccessDeniedException",
                         "the administrator's call, not the management account's")
        admin.update_organization_configuration(**central)
        for c in (admin, admin_west):
            self.assertEqual(c.describe_organization_configuration()["OrganizationConfiguration"]["ConfigurationType"], "CENTRAL")
        fsbp = "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
        cis = "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/1.4.0"
        document = {"SecurityHub": {"ServiceEnabled": True, "EnabledStandardIdentifiers": [fsbp, cis],
                                    "SecurityControlsConfiguration": {"DisabledSecurityControlIdentifiers": []}}}
        self.assertEqual(self.code(admin_west.create_configuration_policy, Name="p", ConfigurationPolicy=document),
                         "AccessDeniedException", "policies are managed from the home Region only")
        policy = admin.create_configuration_policy(Name="p", ConfigurationPolicy=document)
        self.assertEqual(self.code(admin.create_configuration_policy, Name="p", ConfigurationPolicy=document), "ResourceConflictException")
        r = self.orgs.create_account(AccountName="w", Email="w@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        member = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        self.assertEqual(self.code(self.sh(member).get_enabled_standards), "InvalidAccessException", "no policy applied yet")
        root = self.orgs.list_roots()["Roots"][0]["Id"]
        admin.start_configuration_policy_association(ConfigurationPolicyIdentifier=policy["Id"], Target={"RootId": root})
        applied = admin.list_configuration_policy_associations(Filters={"AssociationType": "APPLIED"})
        self.assertEqual([(a["TargetType"], a["ConfigurationPolicyId"]) for a in applied["ConfigurationPolicyAssociationSummaries"]],
                         [("ROOT", policy["Id"])])
        for region in ("us-east-1", "us-west-2"):
            got = self.sh(member, region).get_enabled_standards()["StandardsSubscriptions"]
            self.assertEqual(sorted(s["StandardsArn"].split("::standards/")[1] for s in got),
                             ["aws-foundational-security-best-practices/v/1.0.0", "cis-aws-foundations-benchmark/v/1.4.0"], region)
        sub = self.sh(member).get_enabled_standards()["StandardsSubscriptions"][0]["StandardsSubscriptionArn"]
        self.assertEqual(self.code(self.sh(member).batch_disable_standards, StandardsSubscriptionArns=[sub]), "AccessDeniedException",
                         "a member cannot turn a policy's standard off")
        # The management account's hub is its own to enable.
        self.assertEqual(self.code(east.get_enabled_standards), "InvalidAccessException")
        # An account that joins later inherits the root's policy.
        r = self.orgs.create_account(AccountName="later", Email="later@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        later = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        self.assertEqual(len(self.sh(later, "us-west-2").get_enabled_standards()["StandardsSubscriptions"]), 2)
        got = admin.get_configuration_policy_association(Target={"AccountId": later})
        self.assertEqual((got["AssociationType"], got["ConfigurationPolicyId"]), ("INHERITED", policy["Id"]))
        # Fewer standards in the policy: every account follows.
        document["SecurityHub"]["EnabledStandardIdentifiers"] = [fsbp]
        admin.update_configuration_policy(Identifier=policy["Id"], ConfigurationPolicy=document)
        self.assertEqual(len(self.sh(member, "us-west-2").get_enabled_standards()["StandardsSubscriptions"]), 1)
        # Self-managed accounts keep what they have and manage it themselves.
        admin.start_configuration_policy_association(ConfigurationPolicyIdentifier="SELF_MANAGED_SECURITY_HUB", Target={"RootId": root})
        self.sh(member).batch_disable_standards(StandardsSubscriptionArns=[sub.replace("cis-aws-foundations-benchmark/v/1.4.0", "aws-foundational-security-best-practices/v/1.0.0")])
        # Removing the administrator stops central configuration.
        east.disable_organization_admin_account(AdminAccountId=self.admin)
        self.assertEqual(self.code(admin.list_configuration_policies), "InvalidAccessException")
