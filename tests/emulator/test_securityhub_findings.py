"""Findings as an administrator sees them, and insights, over HTTP."""
import time

import test_securityhub

# Only its set-up and helpers (its own tests run in test_securityhub; the class
# is not bound here, so the loader does not run them twice).
_Base = type("_Base", (test_securityhub.SecurityHub,),
             {n: None for n in dir(test_securityhub.SecurityHub) if n.startswith("test_")})


def finding(account, region, fid, label, workflow=None):
    f = {
        "SchemaVersion": "2018-10-08", "Id": fid,
        "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
        "GeneratorId": "test", "AwsAccountId": account, "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-20T00:00:00Z", "UpdatedAt": "2026-11-20T00:00:00Z",
        "Severity": {"Label": label, "Normalized": {"CRITICAL": 90, "HIGH": 70, "LOW": 1}[label]},
        "Title": fid, "Description": "test", "Resources": [{"Type": "Other", "Id": "arn:aws:s3:::" + fid}],
    }
    if workflow:
        f["Workflow"] = {"Status": workflow}
    return f


class Findings(_Base):
    def setUp(self):
        super().setUp()
        r = self.orgs.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        self.member = self.orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        self.east, self.west = self.sh(self.admin, "us-east-1"), self.sh(self.admin, "us-west-2")
        for c in (self.east, self.west):
            c.enable_security_hub(EnableDefaultStandards=False)
            c.create_members(AccountDetails=[{"AccountId": self.member, "Email": "member@example.com"}])
        self.east.create_finding_aggregator(RegionLinkingMode="SPECIFIED_REGIONS", Regions=["us-west-2"])
        m_east, m_west = self.sh(self.member, "us-east-1"), self.sh(self.member, "us-west-2")
        self.assertEqual(m_west.batch_import_findings(Findings=[finding(self.member, "us-west-2", "m-west", "HIGH")])["FailedCount"], 0)
        self.assertEqual(m_east.batch_import_findings(Findings=[finding(self.member, "us-east-1", "m-east", "LOW")])["FailedCount"], 0)
        self.east.batch_import_findings(Findings=[finding(self.admin, "us-east-1", "a-east", "CRITICAL")])

    def ids(self, client, **kw):
        return sorted(f["Id"] for f in client.get_findings(**kw)["Findings"])

    def test_the_administrator_sees_members_and_linked_regions_from_the_home_region(self):
        self.assertEqual(self.ids(self.east), ["a-east", "m-east", "m-west"])
        self.assertEqual(self.ids(self.west), ["m-west"], "no aggregator in us-west-2")
        self.assertEqual(self.ids(self.sh(self.member, "us-east-1")), ["m-east"], "a member sees its own")
        high = {"SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}, {"Value": "CRITICAL", "Comparison": "EQUALS"}]}
        self.assertEqual(self.ids(self.east, Filters=high), ["a-east", "m-west"])
        ordered = self.east.get_findings(SortCriteria=[{"Field": "SeverityNormalized", "SortOrder": "desc"}])["Findings"]
        self.assertEqual([f["Id"] for f in ordered], ["a-east", "m-west", "m-east"])
        self.assertEqual(self.code(self.east.get_findings, Filters={"ResourceTags": [{"Key": "a", "Value": "b", "Comparison": "EQUALS"}]}), "InvalidInputException")
        # The documented limits on filters.
        both = {"SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}, {"Value": "LOW", "Comparison": "NOT_EQUALS"}]}
        self.assertEqual(self.code(self.east.get_findings, Filters=both), "InvalidInputException")
        many = {"Id": [{"Value": str(i), "Comparison": "EQUALS"} for i in range(21)]}
        self.assertEqual(self.code(self.east.get_findings, Filters=many), "InvalidInputException")
        fields = ["Id", "AwsAccountId", "Region", "SeverityLabel", "RecordState", "WorkflowStatus", "ProductName",
                  "ComplianceStatus", "ComplianceSecurityControlId", "Title", "Type"]
        wide = {f: [{"Value": "x", "Comparison": "NOT_EQUALS"}] for f in fields}
        self.assertEqual(self.code(self.east.get_findings, Filters=wide), "InvalidInputException")
        self.assertEqual(self.code(self.east.create_insight, Name="both", Filters=both, GroupByAttribute="AwsAccountId"),
                         "InvalidInputException")
        # A removed member is no longer seen.
        self.west.disassociate_members(AccountIds=[self.member])
        self.assertEqual(self.ids(self.east), ["a-east", "m-east"])

    def test_a_linked_regions_findings_reach_the_home_region_only_while_linked(self):
        aggregator = self.east.list_finding_aggregators()["FindingAggregators"][0]["FindingAggregatorArn"]
        m_west = self.sh(self.member, "us-west-2")
        # Unlinked: what reached the home Region stays; what is new does not arrive.
        self.east.update_finding_aggregator(FindingAggregatorArn=aggregator, RegionLinkingMode="SPECIFIED_REGIONS",
                                            Regions=["us-east-2"])
        m_west.batch_import_findings(Findings=[finding(self.member, "us-west-2", "m-west-later", "HIGH")])
        self.assertEqual(self.ids(self.east), ["a-east", "m-east", "m-west"])
        # Linked again: a finding that existed before is not replicated until it changes.
        self.east.update_finding_aggregator(FindingAggregatorArn=aggregator, RegionLinkingMode="SPECIFIED_REGIONS",
                                            Regions=["us-west-2"])
        self.assertEqual(self.ids(self.east), ["a-east", "m-east", "m-west"])
        changed = finding(self.member, "us-west-2", "m-west-later", "CRITICAL")
        m_west.batch_import_findings(Findings=[changed])
        self.assertEqual(self.ids(self.east), ["a-east", "m-east", "m-west", "m-west-later"])

    def test_imports_are_the_callers_own_and_never_change_the_workflow(self):
        m = self.sh(self.member, "us-east-1")
        out = m.batch_import_findings(Findings=[finding(self.admin, "us-east-1", "forged", "HIGH")])
        self.assertEqual((out["FailedCount"], out["FailedFindings"][0]["ErrorCode"]), (1, "AccessDenied"))
        m.batch_import_findings(Findings=[finding(self.member, "us-east-1", "m-east", "LOW", workflow="RESOLVED")])
        got = m.get_findings()["Findings"][0]
        self.assertEqual(got["Workflow"]["Status"], "NEW")
        # Resolved, then failing again: Security Hub reopens it.
        ident = {"Id": "m-east", "ProductArn": got["ProductArn"]}
        m.batch_update_findings(FindingIdentifiers=[ident], Workflow={"Status": "RESOLVED"})
        passed = dict(got, Compliance={"Status": "PASSED"})
        m.batch_import_findings(Findings=[passed])
        self.assertEqual(m.get_findings()["Findings"][0]["Workflow"]["Status"], "RESOLVED")
        m.batch_import_findings(Findings=[dict(got, Compliance={"Status": "FAILED"})])
        self.assertEqual(m.get_findings()["Findings"][0]["Workflow"]["Status"], "NEW")

    def test_the_administrator_updates_members_findings_and_insights_count_what_it_sees(self):
        active = {"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
                  "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}, {"Value": "NOTIFIED", "Comparison": "EQUALS"}]}
        arn = self.east.create_insight(Name="by severity", Filters=active, GroupByAttribute="SeverityLabel")["InsightArn"]
        results = lambda: {v["GroupByAttributeValue"]: v["Count"] for v in self.east.get_insight_results(InsightArn=arn)["InsightResults"]["ResultValues"]}
        self.assertEqual(results(), {"CRITICAL": 1, "HIGH": 1, "LOW": 1})
        ident = {"Id": "m-west", "ProductArn": f"arn:aws:securityhub:us-west-2:{self.member}:product/{self.member}/default"}
        out = self.east.batch_update_findings(FindingIdentifiers=[ident], Workflow={"Status": "SUPPRESSED"})
        self.assertEqual(out["UnprocessedFindings"], [])
        self.assertEqual(results(), {"CRITICAL": 1, "LOW": 1})
        stranger = self.sh(region="us-east-1")  # the management account, not the administrator
        stranger.enable_security_hub(EnableDefaultStandards=False)
        out = stranger.batch_update_findings(FindingIdentifiers=[ident], Workflow={"Status": "NEW"})
        self.assertEqual(len(out["UnprocessedFindings"]), 1)
        self.assertEqual([i["Name"] for i in self.east.get_insights()["Insights"]], ["by severity"])
        self.east.update_insight(InsightArn=arn, GroupByAttribute="AwsAccountId")
        self.assertEqual(results(), {self.admin: 1, self.member: 1})
        self.east.delete_insight(InsightArn=arn)
        self.assertEqual(self.code(self.east.get_insight_results, InsightArn=arn), "ResourceNotFoundException")
        self.assertEqual(self.west.get_insights()["Insights"], [], "an insight is its Region's")

    def test_insight_results_and_custom_insights_are_capped_at_100(self):
        findings = [finding(self.admin, "us-east-1", f"many-{i}", "LOW") for i in range(150)]
        for f, i in zip(findings, range(150)):
            f["Resources"][0]["Id"] = f"arn:aws:s3:::bucket-{i}"
        self.east.batch_import_findings(Findings=findings[:100])
        self.east.batch_import_findings(Findings=findings[100:])
        active = {"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}
        arn = self.east.create_insight(Name="by id", Filters=active, GroupByAttribute="Id")["InsightArn"]
        values = self.east.get_insight_results(InsightArn=arn)["InsightResults"]["ResultValues"]
        self.assertEqual(len(values), 100, "at most 100 aggregated results")
        for n in range(99):
            self.east.create_insight(Name=f"i{n}", Filters=active, GroupByAttribute="SeverityLabel")
        self.assertEqual(self.code(self.east.create_insight, Name="one too many", Filters=active,
                                   GroupByAttribute="SeverityLabel"), "LimitExceededException")
