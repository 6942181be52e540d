"""Bulk seeding for benchmarks: POST /sra-emulator/seed.

Puts an organization of many accounts into the state `sra apply` leaves it in,
without the hundreds of thousands of calls that would take against a Python
emulator: it adds member accounts to the organization of `management`, and makes
every one of them a member of each security service wherever `admin` already
administers it (GuardDuty detector, Security Hub hub, Inspector, Macie session,
Detective graph), as `sra apply` would have done. Run `sra apply` first on the
small organization, so that the delegations, settings and the SRA accounts are
real; then seed; then `sra plan` must show no changes.

Body: {"management": "<id>", "admin": "<Security Tooling id>", "accounts": N,
"regions": ["us-east-1", ...], "baselines": true, "findings": 0}. With
"findings": N, N Security Hub findings spread over the new accounts and regions
(most severities, products and failed controls, a tenth archived and a
twentieth resolved), each in its own account's hub, as BatchImportFindings
would store it. With "baselines": false the
accounts join as new accounts do after the last apply: members of every
service (the services' auto-enable), without the account baselines (no Config
recorder, EBS default, password policy or public access block). Answers what
it added.

Shortcuts, for benchmarks only: the new accounts get no IAM backend (moto builds
a whole one per account, which 5,000 accounts cannot afford): their access role
is known to STS alone (sts.SEEDED_ROLES), and their baselines (EBS encryption by
default, password policy, S3 account public access block) are set as `sra
apply` sets them; no FullAWSAccess attachment; nothing sra reads depends on it.
"""
import datetime
import random

from moto.guardduty.models import guardduty_backends
from moto.inspector2.models import AccountStatus as InspectorStatus
from moto.inspector2.models import Member as InspectorMember
from moto.inspector2.models import inspector2_backends
from moto.macie2.models import Invitation, Member as MacieMember
from moto.macie2.models import macie2_backends
from moto.organizations import models as org_models
from moto.organizations.models import organizations_backends
from moto.s3control.models import s3control_backends
from moto.securityhub.models import Finding, securityhub_backends

from . import awsconfig, baselines, detective, guardduty, sts
from .inspector2 import SCANS as inspector_scans


def _account(org, n, when):
    """A FakeAccount without the per-account IAM backend moto would build."""
    account = org_models.FakeAccount.__new__(org_models.FakeAccount)
    account.type = "ACCOUNT"
    account.region = org.region
    account.organization_id = org.id
    account.master_account_id = org.master_account_id
    account.create_account_status_id = "car-" + "%032x" % random.getrandbits(128)
    account.id = "%012d" % random.randrange(10**11, 10**12)
    account.name = f"Workload {n:05d}"
    account.email = f"aws+workload-{n:05d}@example.com"
    account.create_time = when
    account.status = "ACTIVE"
    account.state = "ACTIVE"
    account.joined_method = "CREATED"
    account.parent_id = org.root_id
    account.attached_policies = []
    account.tags = {}
    return account


def seed(body):
    management = str(body["management"])
    admin = str(body["admin"])
    count = int(body["accounts"])
    regions = [str(r) for r in body["regions"]]
    backend = organizations_backends[management]["aws"]
    if backend.org is None:
        raise ValueError(f"account {management} has no organization")
    taken = {a.id for a in backend.accounts}
    start = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    added = []
    for n in range(count):
        account = _account(backend.org, len(backend.accounts) + n, start + datetime.timedelta(microseconds=n))
        while account.id in taken:
            account.id = "%012d" % random.randrange(10**11, 10**12)
        taken.add(account.id)
        added.append(account)
    backend.accounts.extend(added)
    with_baselines = bool(body.get("baselines", True))
    for a in added:
        organizations_backends.master_accounts[a.id] = (management, "aws")
        # The access role, and the baselines `sra apply` sets in every account.
        sts.SEEDED_ROLES.add((a.id, "OrganizationAccountAccessRole"))
        if not with_baselines:
            continue
        baselines.PASSWORDS[a.id] = baselines.cis_policy()
        s3control_backends[a.id]["aws"].put_public_access_block(a.id, {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        for region in regions:
            baselines.EBS[(a.id, region)] = True
    # Config records in every account as in Security Tooling (the administrator).
    if with_baselines:
        awsconfig.seed_like(admin, [a.id for a in added], regions)

    enrolled = {}
    for region in regions:
        gd = guardduty_backends[admin][region]
        for detector_id in list(gd.detectors):
            store = guardduty._state(gd)["members"].setdefault(detector_id, {})
            for a in added:
                store[a.id] = guardduty._member(a.id, a.email, admin)
            enrolled["guardduty"] = enrolled.get("guardduty", 0) + len(added)
        hub = securityhub_backends[admin][region]
        if hub.enabled:
            now = datetime.datetime.now(datetime.timezone.utc).isoformat()
            for a in added:
                hub.members[a.id] = {"AccountId": a.id, "Email": a.email, "MemberStatus": "ENABLED",
                                     "InvitedAt": now, "UpdatedAt": now}
            enrolled["securityhub"] = enrolled.get("securityhub", 0) + len(added)
        if inspector2_backends[management][region].admin_accounts.get(admin) == "ENABLED":
            inspector = inspector2_backends[admin][region]
            for a in added:
                inspector.members[a.id] = InspectorMember(account_id=a.id, admin_account_id=admin)
                # Seeded members scan as enrolled ones do (Enable by the administrator).
                scans = InspectorStatus(a.id)
                scans.toggle(["EC2", "ECR", "LAMBDA", "LAMBDA_CODE"], enable=True)
                inspector_scans[(a.id, region)] = scans
            enrolled["inspector2"] = enrolled.get("inspector2", 0) + len(added)
        macie = macie2_backends[admin][region]
        if getattr(macie, "macie_session", None) is not None:
            invitation = Invitation(account_id=admin, admin_account_id=admin, region_name=region)
            for a in added:
                macie.members[a.id] = MacieMember(a.id, region, admin, invitation)
            enrolled["macie2"] = enrolled.get("macie2", 0) + len(added)
        with detective._lock:
            graph = detective._graph(admin, region)
            if graph is not None:
                for a in added:
                    graph["members"][a.id] = {
                        "AccountId": a.id, "EmailAddress": a.email, "GraphArn": graph["arn"],
                        "AdministratorId": admin, "MasterId": admin, "Status": "ENABLED",
                        "InvitationType": "ORGANIZATION", "InvitedTime": detective._now(),
                        "UpdatedTime": detective._now(),
                    }
                enrolled["detective"] = enrolled.get("detective", 0) + len(added)
    seeded = _findings(added, regions, int(body.get("findings", 0)))
    return {"accounts": len(added), "organization_accounts": len(backend.accounts), "enrolled": enrolled,
            "findings": seeded}


_SEVERITIES = [("CRITICAL", 90, 2), ("HIGH", 70, 18), ("MEDIUM", 40, 40), ("LOW", 1, 30), ("INFORMATIONAL", 0, 10)]
_KINDS = [
    ("Security Hub", "Software and Configuration Checks/Industry and Regulatory Standards", "S3.1"),
    ("Security Hub", "Software and Configuration Checks/Industry and Regulatory Standards", "EC2.2"),
    ("Security Hub", "Software and Configuration Checks/Industry and Regulatory Standards", "IAM.6"),
    ("GuardDuty", "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce", None),
    ("Inspector", "Software and Configuration Checks/Vulnerabilities/CVE", None),
]


def _findings(accounts, regions, count):
    """`count` findings in the accounts' hubs (turned on, as their members' are)."""
    if not count or not accounts:
        return 0
    rng = random.Random(count)
    labels = [s for s in _SEVERITIES for _ in range(s[2])]
    for n in range(count):
        account = accounts[n % len(accounts)].id
        region = regions[(n // len(accounts)) % len(regions)]
        hub = securityhub_backends[account][region]
        hub.enabled = True
        label, normalized, _ = rng.choice(labels)
        product, kind, control = rng.choice(_KINDS)
        day = 1 + n % 28
        data = {
            "SchemaVersion": "2018-10-08", "Id": f"seeded-{n}", "GeneratorId": "seed",
            "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
            "AwsAccountId": account, "Region": region, "Types": [kind], "ProductName": product,
            "CreatedAt": f"2026-11-{day:02d}T00:00:00Z", "UpdatedAt": "2026-11-30T00:00:00Z",
            "FirstObservedAt": f"2026-11-{day:02d}T00:00:00Z",
            "Severity": {"Label": label, "Normalized": normalized}, "Title": f"seeded finding {n}",
            "Description": "seeded", "Resources": [{"Type": "Other", "Id": f"arn:aws:s3:::seeded-{n}"}],
            "RecordState": "ARCHIVED" if n % 10 == 9 else "ACTIVE",
            "Workflow": {"Status": "RESOLVED" if n % 20 == 3 else "NEW"},
        }
        if control:
            data["Compliance"] = {"Status": "FAILED", "SecurityControlId": control}
        hub.findings.append(Finding(data["Id"], data))
    return count
