"""The extension's Organizations operations, against the emulator over HTTP.

Run with: tests/emulator/serve --self-test
"""
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatorCase(unittest.TestCase):
    """A fresh emulator per test case."""

    def setUp(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=HERE)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sra_emulator", "--port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/sra-emulator/health", timeout=1)
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the emulator exited with {self.proc.returncode} before answering")
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.orgs = self.client("organizations")

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait()

    def client(self, service):
        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )

    def configure(self, **settings):
        req = urllib.request.Request(
            self.url + "/sra-emulator/config", data=json.dumps(settings).encode(), method="POST"
        )
        return json.load(urllib.request.urlopen(req))

    def code(self, fn, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            fn(**kwargs)
        return ctx.exception.response["Error"]["Code"]


class CreateAccount(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")

    def status(self, request_id):
        return self.orgs.describe_create_account_status(CreateAccountRequestId=request_id)[
            "CreateAccountStatus"
        ]

    def test_in_progress_for_the_delay_then_succeeded(self):
        # Long enough for three requests on a busy machine (CI runs these tests
        # beside the Rust build).
        self.configure(create_account_delay_seconds=2)
        first = self.orgs.create_account(AccountName="A", Email="a@example.com")["CreateAccountStatus"]
        self.assertEqual(first["State"], "IN_PROGRESS")
        self.assertNotIn("AccountId", first)
        self.assertEqual(self.status(first["Id"])["State"], "IN_PROGRESS")
        accounts = self.orgs.list_accounts()["Accounts"]
        self.assertEqual(len(accounts), 1, "not listed before it is created")
        time.sleep(2.1)
        done = self.status(first["Id"])
        self.assertEqual(done["State"], "SUCCEEDED")
        self.assertIn("CompletedTimestamp", done)
        emails = [a["Email"] for a in self.orgs.list_accounts()["Accounts"]]
        self.assertIn("a@example.com", emails)
        account = self.orgs.describe_account(AccountId=done["AccountId"])["Account"]
        self.assertEqual(account["Name"], "A")

    def test_a_new_organization_answers_finalizing_for_the_configured_time(self):
        self.configure(finalizing_seconds=30)
        with self.assertRaises(ClientError) as caught:
            self.orgs.create_account(AccountName="A", Email="a@example.com")
        self.assertEqual(caught.exception.response["Error"]["Code"], "FinalizingOrganizationException")
        self.assertEqual(self.orgs.list_create_account_status()["CreateAccountStatuses"], [], "nothing was requested")
        self.configure(finalizing_seconds=0)
        self.orgs.create_account(AccountName="A", Email="a@example.com")

    def test_duplicate_email_fails_with_email_already_exists(self):
        self.orgs.create_account(AccountName="A", Email="a@example.com")
        second = self.orgs.create_account(AccountName="B", Email="A@example.com")["CreateAccountStatus"]
        self.assertEqual(second["State"], "IN_PROGRESS", "AWS reports the failure asynchronously")
        failed = self.status(second["Id"])
        self.assertEqual(failed["State"], "FAILED")
        self.assertEqual(failed["FailureReason"], "EMAIL_ALREADY_EXISTS")
        self.assertNotIn("AccountId", failed)

    def test_reserved_email_belongs_to_another_organization(self):
        self.configure(reserved_emails=["taken@example.com"])
        req = self.orgs.create_account(AccountName="T", Email="taken@example.com")["CreateAccountStatus"]
        self.assertEqual(self.status(req["Id"])["FailureReason"], "EMAIL_ALREADY_EXISTS")

    def test_bad_input_is_rejected(self):
        self.assertEqual(self.code(self.orgs.create_account, AccountName="A", Email="nope@nodot"), "InvalidInputException")
        self.assertEqual(
            self.code(self.orgs.describe_create_account_status, CreateAccountRequestId="car-0123456789abcdef"),
            "CreateAccountStatusNotFoundException",
        )
        self.assertEqual(
            self.code(self.orgs.describe_create_account_status, CreateAccountRequestId="bad"),
            "InvalidInputException",
        )

    def test_list_create_account_status_pages_end(self):
        for i in range(5):
            self.orgs.create_account(AccountName=f"X{i}", Email=f"x{i}@example.com")
        pages = list(
            self.orgs.get_paginator("list_create_account_status").paginate(PaginationConfig={"PageSize": 2})
        )
        ids = [s["Id"] for p in pages for s in p["CreateAccountStatuses"]]
        self.assertEqual(len(pages), 3)
        self.assertEqual(len(ids), 5)
        self.assertEqual(len(set(ids)), 5)
        names = {s["AccountName"] for p in pages for s in p["CreateAccountStatuses"]}
        self.assertNotIn("master", names, "the management account was not created by CreateAccount")

    def test_list_filters_by_state(self):
        self.configure(create_account_delay_seconds=30)
        self.orgs.create_account(AccountName="Slow", Email="slow@example.com")
        done = self.orgs.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
        self.assertEqual(done, [])
        pending = self.orgs.list_create_account_status(States=["IN_PROGRESS"])["CreateAccountStatuses"]
        self.assertEqual([p["AccountName"] for p in pending], ["Slow"])


class OrganizationalUnits(EmulatorCase):
    def test_duplicate_name_under_one_parent_is_rejected(self):
        self.orgs.create_organization(FeatureSet="ALL")
        root = self.orgs.list_roots()["Roots"][0]["Id"]
        sec = self.orgs.create_organizational_unit(ParentId=root, Name="Security")["OrganizationalUnit"]
        self.assertEqual(
            self.code(self.orgs.create_organizational_unit, ParentId=root, Name="Security"),
            "DuplicateOrganizationalUnitException",
        )
        # the same name under another parent is fine
        self.orgs.create_organizational_unit(ParentId=sec["Id"], Name="Security")
        self.assertEqual(
            self.code(self.orgs.create_organizational_unit, ParentId="ou-zzzz-zzzzzzzz", Name="X"),
            "ParentNotFoundException",
        )

    def test_no_organization(self):
        self.assertEqual(
            self.code(self.orgs.create_organizational_unit, ParentId="r-abcd", Name="X"),
            "AWSOrganizationsNotInUseException",
        )


class FailFast(EmulatorCase):
    def test_unimplemented_operation_answers_501_not_500(self):
        # moto 5.2.5 does not implement this Organizations operation.
        t0 = time.time()
        with self.assertRaises(ClientError) as ctx:
            self.orgs.describe_handshake(HandshakeId="h-0123456789")
        err = ctx.exception.response
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
        self.assertEqual(err["Error"]["Code"], "NotImplemented")
        self.assertIn("DescribeHandshake", err["Error"]["Message"])
        self.assertLess(time.time() - t0, 5)

    def test_config_rejects_unknown_settings(self):
        req = urllib.request.Request(
            self.url + "/sra-emulator/config", data=b'{"nope": 1}', method="POST"
        )
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req)
        self.assertEqual(ctx.exception.code, 400)


if __name__ == "__main__":
    unittest.main()


class ServiceControlPolicies(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        self.root = self.orgs.list_roots()["Roots"][0]["Id"]

    def policy(self, name, content):
        return self.orgs.create_policy(
            Name=name, Description="d", Type="SERVICE_CONTROL_POLICY", Content=content
        )["Policy"]["PolicySummary"]["Id"]

    def test_size_and_json_are_checked(self):
        small = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "a:b", "Resource": "*"}]})
        pid = self.policy("ok", small)
        big = json.dumps({"Statement": [{"Effect": "Deny", "Action": ["x:" + "y" * 100] * 60, "Resource": "*"}]})
        self.assertGreater(len(big), 5120)
        self.assertEqual(self.code(self.orgs.create_policy, Name="big", Description="d", Type="SERVICE_CONTROL_POLICY", Content=big), "ConstraintViolationException")
        self.assertEqual(self.code(self.orgs.update_policy, PolicyId=pid, Content=big), "ConstraintViolationException")
        self.assertEqual(self.code(self.orgs.create_policy, Name="bad", Description="d", Type="SERVICE_CONTROL_POLICY", Content="{nope"), "MalformedPolicyDocumentException")

    def test_at_most_five_scps_per_target(self):
        doc = json.dumps({"Statement": [{"Effect": "Deny", "Action": "a:b", "Resource": "*"}]})
        # FullAWSAccess is already attached to the root: four more fit
        ids = [self.policy(f"p{i}", doc) for i in range(5)]
        self.assertEqual(self.code(self.orgs.attach_policy, PolicyId=ids[0], TargetId=self.root), "PolicyTypeNotEnabledException")
        self.orgs.enable_policy_type(RootId=self.root, PolicyType="SERVICE_CONTROL_POLICY")
        for pid in ids[:4]:
            self.orgs.attach_policy(PolicyId=pid, TargetId=self.root)
        self.assertEqual(self.code(self.orgs.attach_policy, PolicyId=ids[4], TargetId=self.root), "ConstraintViolationException")
        # attaching one already there is not a new attachment
        self.assertEqual(self.code(self.orgs.attach_policy, PolicyId=ids[0], TargetId=self.root), "DuplicatePolicyAttachmentException")


class ResourceControlPolicies(EmulatorCase):
    def setUp(self):
        super().setUp()
        self.orgs.create_organization(FeatureSet="ALL")
        self.root = self.orgs.list_roots()["Roots"][0]["Id"]

    def rcp(self, statement=None):
        return self.orgs.create_policy(
            Name="r", Description="d", Type="RESOURCE_CONTROL_POLICY",
            Content=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )

    def test_only_what_the_rcp_syntax_allows(self):
        good = {"Effect": "Deny", "Principal": "*", "Action": ["s3:*"], "Resource": "*"}
        for bad in [
            dict(good, Effect="Allow"),
            dict(good, Principal={"AWS": "*"}),
            dict(good, Action="*"),
            {k: v for k, v in dict(good, NotAction=["s3:GetObject"]).items() if k != "Action"},
        ]:
            self.assertEqual(self.code(self.rcp, statement=bad), "MalformedPolicyDocumentException", bad)
        pid = self.rcp(good)["Policy"]["PolicySummary"]["Id"]
        self.assertEqual(self.code(self.orgs.attach_policy, PolicyId=pid, TargetId=self.root), "PolicyTypeNotEnabledException")
        self.orgs.enable_policy_type(RootId=self.root, PolicyType="RESOURCE_CONTROL_POLICY")
        self.orgs.attach_policy(PolicyId=pid, TargetId=self.root)
        attached = self.orgs.list_policies_for_target(TargetId=self.root, Filter="RESOURCE_CONTROL_POLICY")["Policies"]
        self.assertEqual(sorted(p["Name"] for p in attached), ["RCPFullAWSAccess", "r"])
