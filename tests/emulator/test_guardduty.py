"""The extension's GuardDuty operations, against the emulator over HTTP."""
import time

from botocore.exceptions import ClientError

from test_organizations import EmulatorCase


class GuardDuty(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        ids = []
        for name in ("admin", "w1", "w2"):
            r = self.orgs.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
            ids.append(r["Id"])
        time.sleep(0.05)
        self.accounts = [
            self.orgs.describe_create_account_status(CreateAccountRequestId=i)["CreateAccountStatus"]["AccountId"]
            for i in ids
        ]
        self.admin = self.accounts[0]
        self.gd = self.client("guardduty")

    def member_client(self, account):
        sts = self.client("sts")
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
        import boto3
        from botocore.config import Config
        return boto3.client(
            "guardduty", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
            config=Config(retries={"max_attempts": 1}),
        )

    def test_enable_admin_is_idempotent_and_checks_membership(self):
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        admins = self.gd.list_organization_admin_accounts()["AdminAccounts"]
        self.assertEqual([a["AdminAccountId"] for a in admins], [self.admin])
        self.assertEqual(self.code(self.gd.enable_organization_admin_account, AdminAccountId="999999999999"), "BadRequestException")
        self.assertEqual(self.code(self.gd.enable_organization_admin_account, AdminAccountId=self.accounts[1]), "BadRequestException")
        self.gd.disable_organization_admin_account(AdminAccountId=self.admin)
        self.assertEqual(self.gd.list_organization_admin_accounts()["AdminAccounts"], [])

    def test_organization_configuration_only_for_the_admin_and_auto_enable_all_enrolls(self):
        admin = self.member_client(self.admin)
        detector = admin.create_detector(Enable=True)["DetectorId"]
        self.assertEqual(self.code(admin.describe_organization_configuration, DetectorId=detector), "BadRequestException")
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        admin.update_organization_configuration(
            DetectorId=detector, AutoEnableOrganizationMembers="ALL",
            Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "ALL"}],
        )
        conf = admin.describe_organization_configuration(DetectorId=detector)
        self.assertEqual(conf["AutoEnableOrganizationMembers"], "ALL")
        self.assertEqual(conf["Features"], [{"Name": "S3_DATA_EVENTS", "AutoEnable": "ALL"}])
        members = admin.list_members(DetectorId=detector)["Members"]
        enrolled = sorted(m["AccountId"] for m in members)
        expected = sorted(a for a in self.accounts[1:] + ["123456789012"])
        self.assertEqual(enrolled, expected)
        self.assertEqual(self.code(admin.delete_members, DetectorId=detector, AccountIds=[self.accounts[1]]), "BadRequestException",
                         "auto-enable ALL keeps every account of the organization")
        admin.update_organization_configuration(DetectorId=detector, AutoEnableOrganizationMembers="NEW")
        admin.delete_members(DetectorId=detector, AccountIds=[self.accounts[1]])
        self.assertNotIn(self.accounts[1], [m["AccountId"] for m in admin.list_members(DetectorId=detector)["Members"]])
        out = admin.create_members(DetectorId=detector, AccountDetails=[{"AccountId": self.accounts[1], "Email": "w1@example.com"}, {"AccountId": "999999999999", "Email": "x@example.com"}])
        self.assertEqual([u["AccountId"] for u in out["UnprocessedAccounts"]], ["999999999999"])
        self.assertIn(self.accounts[1], [m["AccountId"] for m in admin.list_members(DetectorId=detector)["Members"]])
        pages = list(admin.get_paginator("list_members").paginate(DetectorId=detector, PaginationConfig={"PageSize": 1}))
        self.assertEqual(len(pages), 3)


    def test_organization_statistics_for_the_administrator_count_enabled_members_and_features(self):
        admin = self.member_client(self.admin)
        detector = admin.create_detector(Enable=True)["DetectorId"]
        self.assertEqual(self.code(admin.get_organization_statistics), "BadRequestException", "not the administrator yet")
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        admin.update_organization_configuration(
            DetectorId=detector, AutoEnableOrganizationMembers="ALL",
            Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "ALL"}],
        )
        stats = admin.get_organization_statistics()["OrganizationDetails"]["OrganizationStatistics"]
        self.assertEqual((stats["TotalAccountsCount"], stats["MemberAccountsCount"], stats["ActiveAccountsCount"],
                          stats["EnabledAccountsCount"]), (4, 3, 3, 3))
        self.assertEqual(stats["CountByFeature"], [{"Name": "S3_DATA_EVENTS", "EnabledAccountsCount": 3}])
        # A member turns its feature off, another its detector.
        w1 = self.member_client(self.accounts[1])
        w1.update_detector(DetectorId=w1.list_detectors()["DetectorIds"][0],
                           Features=[{"Name": "S3_DATA_EVENTS", "Status": "DISABLED"}])
        w2 = self.member_client(self.accounts[2])
        w2.update_detector(DetectorId=w2.list_detectors()["DetectorIds"][0], Enable=False)
        stats = admin.get_organization_statistics()["OrganizationDetails"]["OrganizationStatistics"]
        self.assertEqual(stats["EnabledAccountsCount"], 2)
        self.assertEqual(stats["CountByFeature"], [{"Name": "S3_DATA_EVENTS", "EnabledAccountsCount": 1}])
        self.assertEqual(self.code(self.member_client(self.accounts[1]).get_organization_statistics), "BadRequestException")

    def test_delegation_enables_guardduty_in_the_admin_and_registers_it(self):
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        admin = self.member_client(self.admin)
        detectors = admin.list_detectors()["DetectorIds"]
        self.assertEqual(len(detectors), 1, "delegation enabled GuardDuty in the admin's account")
        self.assertEqual(self.code(admin.create_detector, Enable=True), "BadRequestException", "one detector per Region")
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        self.assertEqual(admin.list_detectors()["DetectorIds"], detectors, "a repeat makes no second")
        registered = self.orgs.list_delegated_administrators(ServicePrincipal="guardduty.amazonaws.com")
        self.assertEqual([a["Id"] for a in registered["DelegatedAdministrators"]], [self.admin])
        self.gd.disable_organization_admin_account(AdminAccountId=self.admin)
        registered = self.orgs.list_delegated_administrators(ServicePrincipal="guardduty.amazonaws.com")
        self.assertEqual(len(registered["DelegatedAdministrators"]), 1, "deregistering is a separate, global step")

    def test_a_closed_account_is_never_a_member(self):
        closed = self.accounts[2]
        self.orgs.close_account(AccountId=closed)
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        admin = self.member_client(self.admin)
        detector = admin.list_detectors()["DetectorIds"][0]
        admin.update_organization_configuration(DetectorId=detector, AutoEnableOrganizationMembers="ALL")
        members = [m["AccountId"] for m in admin.list_members(DetectorId=detector)["Members"]]
        self.assertIn(self.accounts[1], members)
        self.assertNotIn(closed, members)
        out = admin.create_members(DetectorId=detector, AccountDetails=[{"AccountId": closed, "Email": "w2@example.com"}])
        self.assertEqual([u["AccountId"] for u in out["UnprocessedAccounts"]], [closed])

    def test_an_administrator_with_members_is_removed_only_after_releasing_them(self):
        self.gd.enable_organization_admin_account(AdminAccountId=self.admin)
        admin = self.member_client(self.admin)
        detector = admin.list_detectors()["DetectorIds"][0]
        admin.update_organization_configuration(DetectorId=detector, AutoEnableOrganizationMembers="ALL")
        self.assertEqual(self.code(self.gd.disable_organization_admin_account, AdminAccountId=self.admin), "BadRequestException")
        ids = [m["AccountId"] for m in admin.list_members(DetectorId=detector, OnlyAssociated="false")["Members"]]
        self.assertEqual(self.code(admin.disassociate_members, DetectorId=detector, AccountIds=ids), "BadRequestException",
                         "refused while auto-enable is ALL")
        admin.update_organization_configuration(DetectorId=detector, AutoEnableOrganizationMembers="NONE")
        admin.disassociate_members(DetectorId=detector, AccountIds=ids)
        self.assertEqual(admin.list_members(DetectorId=detector)["Members"], [], "only associated members by default")
        listed = admin.list_members(DetectorId=detector, OnlyAssociated="false")["Members"]
        self.assertEqual({m["RelationshipStatus"] for m in listed}, {"Removed"})
        self.assertEqual(self.code(self.gd.disable_organization_admin_account, AdminAccountId=self.admin), "BadRequestException",
                         "disassociated members still count until deleted")
        admin.delete_members(DetectorId=detector, AccountIds=ids)
        self.gd.disable_organization_admin_account(AdminAccountId=self.admin)
        self.assertEqual(self.gd.list_organization_admin_accounts()["AdminAccounts"], [])

class Delegation(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        r = self.orgs.create_account(AccountName="admin", Email="admin@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        self.admin = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]

    def test_security_services_can_be_delegated_and_rejections_leave_nothing(self):
        for principal in ("securityhub.amazonaws.com", "config.amazonaws.com", "reporting.trustedadvisor.amazonaws.com", "access-analyzer.amazonaws.com"):
            self.orgs.register_delegated_administrator(AccountId=self.admin, ServicePrincipal=principal)
            listed = self.orgs.list_delegated_administrators(ServicePrincipal=principal)["DelegatedAdministrators"]
            self.assertEqual([a["Id"] for a in listed], [self.admin], principal)
        self.assertEqual(self.code(self.orgs.register_delegated_administrator, AccountId=self.admin, ServicePrincipal="nope.amazonaws.com"), "InvalidInputException")
        r = self.orgs.create_account(AccountName="other", Email="other@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        other = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        self.code(self.orgs.register_delegated_administrator, AccountId=other, ServicePrincipal="nope.amazonaws.com")
        admins = [a["Id"] for a in self.orgs.list_delegated_administrators()["DelegatedAdministrators"]]
        self.assertNotIn(other, admins, "a rejected registration leaves no residue")

    def test_cloudtrail_delegated_admin(self):
        ct = self.client("cloudtrail")
        ct.register_organization_delegated_admin(MemberAccountId=self.admin)
        listed = self.orgs.list_delegated_administrators(ServicePrincipal="cloudtrail.amazonaws.com")["DelegatedAdministrators"]
        self.assertEqual([a["Id"] for a in listed], [self.admin])
        self.assertEqual(self.code(ct.register_organization_delegated_admin, MemberAccountId=self.admin), "AccountRegisteredException")
        self.assertEqual(self.code(ct.register_organization_delegated_admin, MemberAccountId="999999999999"), "AccountNotFoundException")
        ct.deregister_organization_delegated_admin(DelegatedAdminAccountId=self.admin)
        self.assertEqual(self.orgs.list_delegated_administrators(ServicePrincipal="cloudtrail.amazonaws.com")["DelegatedAdministrators"], [])


class AccessAnalyzer(EmulatorCase):
    def test_organization_analyzer_needs_delegation_and_names_are_unique(self):
        self.orgs.create_organization(FeatureSet="ALL")
        r = self.orgs.create_account(AccountName="admin", Email="admin@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        admin = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{admin}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
        import boto3
        from botocore.config import Config
        aa = boto3.client("accessanalyzer", endpoint_url=self.url, region_name="us-west-2", aws_access_key_id=c["AccessKeyId"],
                          aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
                          config=Config(retries={"max_attempts": 1}))
        self.assertEqual(self.code(aa.create_analyzer, analyzerName="org", type="ORGANIZATION"), "AccessDeniedException")
        self.orgs.register_delegated_administrator(AccountId=admin, ServicePrincipal="access-analyzer.amazonaws.com")
        arn = aa.create_analyzer(analyzerName="org", type="ORGANIZATION")["arn"]
        self.assertIn(":us-west-2:", arn)
        self.assertEqual(self.code(aa.create_analyzer, analyzerName="org", type="ORGANIZATION"), "ConflictException")
        self.assertEqual([a["name"] for a in aa.list_analyzers(type="ORGANIZATION")["analyzers"]], ["org"])
        self.assertEqual(aa.get_analyzer(analyzerName="org")["analyzer"]["status"], "ACTIVE")
        aa.delete_analyzer(analyzerName="org")
        self.assertEqual(self.code(aa.get_analyzer, analyzerName="org"), "ResourceNotFoundException")
