"""IAM Access Analyzer: not in moto 5.2.5 at all. The operations sra uses, to the
API reference: CreateAnalyzer, GetAnalyzer, ListAnalyzers, DeleteAnalyzer
(REST-JSON). State is per account and region. An ORGANIZATION analyzer may only be
created by the management account or the delegated administrator of
access-analyzer.amazonaws.com (AccessDeniedException); names are unique per
account and region (ConflictException)."""
import datetime
import json
import re
import threading
from urllib.parse import parse_qs, unquote

from moto.iam.models import get_account_id_from
from moto.organizations.models import organizations_backends

from .organizations import delegation_settled

_lock = threading.Lock()
_analyzers = {}  # (account, region) -> {name: analyzer}
TYPES = ("ACCOUNT", "ORGANIZATION", "ACCOUNT_UNUSED_ACCESS", "ORGANIZATION_UNUSED_ACCESS")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,254}$")


def _scope(environ):
    m = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return (m.group(1), m.group(2), m.group(3)) if m else (None, None, None)


def handles(environ):
    return _scope(environ)[2] == "access-analyzer"


def _error(start_response, status, code, message):
    payload = json.dumps({"__type": code, "message": message}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), ("x-amzn-ErrorType", code)])
    return [payload]


def _ok(start_response, body, status="200 OK"):
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _may_create_org_analyzer(account):
    if account in organizations_backends.master_accounts:
        management, partition = organizations_backends.master_accounts[account]
        org = organizations_backends[management][partition]
        return any(a.account.id == account and "access-analyzer.amazonaws.com" in a.services for a in org.admins) and \
            delegation_settled(account, "access-analyzer.amazonaws.com")
    return organizations_backends[account]["aws"].org is not None


def handle(environ, start_response):
    key, region, _ = _scope(environ)
    account = get_account_id_from(key)
    method = environ.get("REQUEST_METHOD")
    path = environ.get("PATH_INFO", "")
    with _lock:
        store = _analyzers.setdefault((account, region), {})
        if path.rstrip("/") == "/analyzer" and method == "PUT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            name, kind = body.get("analyzerName", ""), body.get("type")
            if not NAME_RE.match(name) or kind not in TYPES:
                return _error(start_response, "400 Bad Request", "ValidationException", "analyzerName or type is not valid.")
            if kind.startswith("ORGANIZATION") and not _may_create_org_analyzer(account):
                return _error(start_response, "403 Forbidden", "AccessDeniedException",
                              "Only the management account or the delegated administrator can create an organization analyzer.")
            if name in store:
                return _error(start_response, "409 Conflict", "ConflictException", f"An analyzer named {name} already exists.")
            store[name] = {
                "arn": f"arn:aws:access-analyzer:{region}:{account}:analyzer/{name}",
                "name": name,
                "type": kind,
                "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
                "status": "ACTIVE",
                "tags": body.get("tags") or {},
            }
            return _ok(start_response, {"arn": store[name]["arn"]})
        if path.rstrip("/") == "/analyzer" and method == "GET":
            kind = parse_qs(environ.get("QUERY_STRING", "")).get("type", [None])[0]
            listed = [a for a in store.values() if kind is None or a["type"] == kind]
            return _ok(start_response, {"analyzers": listed})
        m = re.match(r"^/analyzer/([^/]+)$", path)
        if m:
            name = unquote(m.group(1))
            if name not in store:
                return _error(start_response, "404 Not Found", "ResourceNotFoundException", f"Analyzer {name} not found.")
            if method == "GET":
                return _ok(start_response, {"analyzer": store[name]})
            if method == "DELETE":
                del store[name]
                return _ok(start_response, {})
    return _error(start_response, "501 Not Implemented", "NotImplemented",
                  f"the emulator does not implement access-analyzer {method} {path}")
