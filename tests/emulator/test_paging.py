"""Listings page as AWS pages them, and the benchmark seeding endpoint.

Run with: tests/emulator/serve --self-test
"""
import json
import unittest
import urllib.error
import urllib.request

from botocore.exceptions import ClientError

from test_organizations import EmulatorCase


class Paging(EmulatorCase):
    def seed(self, body):
        req = urllib.request.Request(self.url + "/sra-emulator/seed", data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def test_list_accounts_pages_at_most_20_and_lists_each_account_once(self):
        self.orgs.create_organization(FeatureSet="ALL")
        management = self.orgs.describe_organization()["Organization"]["MasterAccountId"]
        out = self.seed({"management": management, "admin": "000000000000", "accounts": 45, "regions": []})
        self.assertEqual(out["organization_accounts"], 46)
        ids, pages, token = [], 0, None
        while True:
            page = self.orgs.list_accounts(**({"NextToken": token} if token else {}))
            pages += 1
            self.assertLessEqual(len(page["Accounts"]), 20)
            ids += [a["Id"] for a in page["Accounts"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(len(ids), 46)
        self.assertEqual(len(set(ids)), 46)
        self.assertIn(management, ids)

    def test_list_accounts_rejects_max_results_above_20(self):
        self.orgs.create_organization(FeatureSet="ALL")
        with self.assertRaises(ClientError) as err:
            self.orgs.list_accounts(MaxResults=21)
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidInputException")
        self.assertEqual(len(self.orgs.list_accounts(MaxResults=1)["Accounts"]), 1)

    def test_seed_without_an_organization_is_a_bad_request(self):
        with self.assertRaises(urllib.error.HTTPError) as err:
            self.seed({"management": "123456789012", "admin": "1", "accounts": 1, "regions": []})
        self.assertEqual(err.exception.code, 400)


if __name__ == "__main__":
    unittest.main()
