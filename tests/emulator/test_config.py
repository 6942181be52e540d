"""The extension's AWS Config checks, against the emulator over HTTP."""
import json
import time

from test_organizations import EmulatorCase

TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}'


class Config(EmulatorCase):
    def recorder(self, role_arn):
        return {"name": "default", "roleARN": role_arn, "recordingGroup": {"allSupported": True}}

    def test_a_recorder_needs_a_role_config_can_assume(self):
        cfg = self.client("config")
        missing = "arn:aws:iam::123456789012:role/nothing-here"
        self.assertEqual(self.code(cfg.put_configuration_recorder, ConfigurationRecorder=self.recorder(missing)), "InvalidRoleException")
        self.configure(role_delay_seconds=2)
        arn = self.client("iam").create_role(RoleName="recorder", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        self.assertEqual(self.code(cfg.put_configuration_recorder, ConfigurationRecorder=self.recorder(arn)), "InvalidRoleException",
                         "a role just created is not usable yet")
        time.sleep(2.2)
        cfg.put_configuration_recorder(ConfigurationRecorder=self.recorder(arn))

    def test_an_organization_aggregator_needs_the_management_account_or_the_delegated_admin(self):
        orgs = self.client("organizations")
        orgs.create_organization(FeatureSet="ALL")
        arn = self.client("iam").create_role(RoleName="aggregator", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        source = {"RoleArn": arn, "AwsRegions": ["us-east-1"]}
        self.client("config").put_configuration_aggregator(ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        bad = {"RoleArn": "arn:aws:iam::123456789012:role/none", "AwsRegions": ["us-east-1"]}
        self.assertEqual(self.code(self.client("config").put_configuration_aggregator, ConfigurationAggregatorName="org",
                                   OrganizationAggregationSource=bad), "InvalidRoleException")

    def test_the_aggregator_counts_resources_of_recording_accounts_only(self):
        orgs = self.client("organizations")
        orgs.create_organization(FeatureSet="ALL")
        management = orgs.describe_organization()["Organization"]["MasterAccountId"]
        cfg = self.client("config")
        arn = self.client("iam").create_role(RoleName="recorder", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        source = {"RoleArn": arn, "AwsRegions": ["us-east-1", "us-west-2"]}
        cfg.put_configuration_aggregator(ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        counts = lambda region: {g["GroupName"]: g["ResourceCount"] for g in cfg.get_aggregate_discovered_resource_counts(
            ConfigurationAggregatorName="org", Filters={"Region": region}, GroupByKey="ACCOUNT_ID")["GroupedResourceCounts"]}
        self.assertEqual(counts("us-east-1"), {}, "nothing records yet")
        cfg.put_configuration_recorder(ConfigurationRecorder=self.recorder(arn))
        bucket = self.client("s3").create_bucket(Bucket="config-delivery")
        cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-delivery"})
        self.assertEqual(counts("us-east-1"), {}, "a recorder that is not recording delivers nothing")
        cfg.start_configuration_recorder(ConfigurationRecorderName="default")
        self.assertEqual(counts("us-east-1"), {management: 1})
        self.assertEqual(counts("us-west-2"), {}, "per Region")
        # The recorder as a configuration item: recording, then stopped; what it
        # recorded stays in the aggregator.
        query = lambda expression: [json.loads(r) for r in cfg.select_aggregate_resource_config(
            ConfigurationAggregatorName="org", Expression=expression)["Results"]]
        recorders = "SELECT accountId, awsRegion, configuration.Recording WHERE resourceType = 'AWS::Config::ConfigurationRecorder'"
        self.assertEqual(query(recorders), [{"accountId": management, "awsRegion": "us-east-1", "configuration": {"Recording": True}}])
        self.assertEqual(query(recorders + " AND configuration.Recording = false"), [])
        cfg.stop_configuration_recorder(ConfigurationRecorderName="default")
        self.assertEqual(query(recorders + " AND configuration.Recording = false"),
                         [{"accountId": management, "awsRegion": "us-east-1", "configuration": {"Recording": False}}])
        self.assertEqual(counts("us-east-1"), {management: 1}, "what was recorded stays after the recorder stops")
        cfg.delete_configuration_recorder(ConfigurationRecorderName="default")
        self.assertEqual(counts("us-east-1"), {management: 1}, "and after it is deleted")
        for unsupported in ("SELECT accountId WHERE resourceType = 'AWS::Config::ConfigurationRecorder' OR accountId = '1'",
                            "SELECT accountId WHERE resourceType = 'AWS::EC2::Instance'",
                            "SELECT COUNT(*) WHERE resourceType = 'AWS::Config::ConfigurationRecorder'"):
            self.assertEqual(self.code(cfg.select_aggregate_resource_config, ConfigurationAggregatorName="org",
                                       Expression=unsupported), "InvalidExpressionException", unsupported)
        self.assertEqual(self.code(cfg.get_aggregate_discovered_resource_counts, ConfigurationAggregatorName="nope"),
                         "NoSuchConfigurationAggregatorException")

    def test_an_organization_sources_status_fails_while_config_cannot_assume_the_role(self):
        orgs = self.client("organizations")
        org = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        iam, cfg = self.client("iam"), self.client("config")
        arn = iam.create_role(RoleName="aggregator", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        source = {"RoleArn": arn, "AwsRegions": ["us-east-1", "us-west-2"]}
        cfg.put_configuration_aggregator(ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        status = lambda **kw: cfg.describe_configuration_aggregator_sources_status(
            ConfigurationAggregatorName="org", **kw)["AggregatedSourceStatusList"]
        self.assertEqual([(s["SourceId"], s["SourceType"], s["AwsRegion"], s["LastUpdateStatus"]) for s in status()],
                         [(org, "ORGANIZATION", "us-east-1", "SUCCEEDED"), (org, "ORGANIZATION", "us-west-2", "SUCCEEDED")])
        self.assertEqual(status(UpdateStatus=["FAILED", "OUTDATED"]), [])
        iam.delete_role(RoleName="aggregator")
        failed = status(UpdateStatus=["FAILED", "OUTDATED"])
        self.assertEqual([(s["AwsRegion"], s["LastUpdateStatus"]) for s in failed], [("us-east-1", "FAILED"), ("us-west-2", "FAILED")])
        self.assertTrue(all(s["LastErrorCode"] and s["LastErrorMessage"] for s in failed))
        self.assertEqual(self.code(cfg.describe_configuration_aggregator_sources_status, ConfigurationAggregatorName="org", Limit=101),
                         "InvalidLimitException")
        self.assertEqual(self.code(cfg.describe_configuration_aggregator_sources_status, ConfigurationAggregatorName="nope"),
                         "NoSuchConfigurationAggregatorException")

    def test_a_delivery_channel_needs_a_bucket_config_may_write_to(self):
        """Another account's bucket must allow config.amazonaws.com to put objects
        under AWSLogs/<account>/Config/, with the conditions Config's requests
        carry; the organization-wide grant sra writes is one."""
        import json

        import boto3
        from botocore.config import Config as BotoConfig
        orgs = self.client("organizations")
        org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        r = orgs.create_account(AccountName="w", Email="w@example.com")["CreateAccountStatus"]
        time.sleep(0.05)
        member = orgs.describe_create_account_status(CreateAccountRequestId=r["Id"])["CreateAccountStatus"]["AccountId"]
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                           RoleSessionName="test")["Credentials"]
        as_member = lambda service: boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"],
            config=BotoConfig(retries={"max_attempts": 1}))
        arn = as_member("iam").create_role(RoleName="recorder", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        cfg = as_member("config")
        cfg.put_configuration_recorder(ConfigurationRecorder=self.recorder(arn))
        channel = {"name": "default", "s3BucketName": "org-logs"}
        self.assertEqual(self.code(cfg.put_delivery_channel, DeliveryChannel=channel), "NoSuchBucketException")
        s3 = self.client("s3")
        s3.create_bucket(Bucket="org-logs")
        self.assertEqual(self.code(cfg.put_delivery_channel, DeliveryChannel=channel), "InsufficientDeliveryPolicyException",
                         "another account's bucket without a policy")

        def grant(org, extra=()):
            statements = [{"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "s3:PutObject",
                           "Resource": "arn:aws:s3:::org-logs/AWSLogs/*/Config/*",
                           "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                                          "aws:SourceOrgID": org}}}, *extra]
            s3.put_bucket_policy(Bucket="org-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))

        grant("o-someoneelse")
        self.assertEqual(self.code(cfg.put_delivery_channel, DeliveryChannel=channel), "InsufficientDeliveryPolicyException",
                         "another organization's grant")
        deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::org-logs/*",
                "Condition": {"StringEquals": {"aws:SourceAccount": member}}}
        grant(org_id, [deny])
        self.assertEqual(self.code(cfg.put_delivery_channel, DeliveryChannel=channel), "InsufficientDeliveryPolicyException",
                         "a Deny that matches wins")
        grant(org_id)
        cfg.put_delivery_channel(DeliveryChannel=channel)
        self.assertEqual(cfg.describe_delivery_channels()["DeliveryChannels"][0]["s3BucketName"], "org-logs")
        # The bucket owner's own recorder needs no grant.
        own = self.client("iam").create_role(RoleName="recorder", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        mine = self.client("config")
        mine.put_configuration_recorder(ConfigurationRecorder=self.recorder(own))
        s3.delete_bucket_policy(Bucket="org-logs")
        mine.put_delivery_channel(DeliveryChannel=channel)
