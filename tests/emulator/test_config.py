"""The extension's AWS Config checks, against the emulator over HTTP."""
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
