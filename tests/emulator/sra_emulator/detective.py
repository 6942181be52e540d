"""Amazon Detective: not in moto 5.2.5 at all. The operations sra uses, to the API
reference (REST-JSON, every operation a POST):

- CreateGraph / ListGraphs: one behavior graph per account and region; a second
  CreateGraph returns the same graph, as API_CreateGraph says.
- EnableOrganizationAdminAccount (management account only): the account must be
  an organization member other than the management account; if Organizations
  already has a delegated administrator for detective.amazonaws.com it must be that
  account (ValidationException), otherwise Detective registers it there. The admin
  gets a behavior graph if it has none. Repeating it is harmless; a different
  admin while one is set is a ValidationException.
- DisableOrganizationAdminAccount (management account only) removes the region's
  administrator; as in AWS this deletes the organization behavior graph.
- ListOrganizationAdminAccounts (management account only).
- Update/DescribeOrganizationConfiguration: only the region's Detective
  administrator, naming its own graph (AccessDeniedException otherwise).
- CreateMembers / ListMembers: the graph's administrator enables organization
  accounts directly (status ENABLED, invitation type ORGANIZATION); at most 50
  accounts per call; accounts outside the organization go to UnprocessedAccounts.
- ListMembers pages at most 200 (the API's maximum), in account order; MaxResults
  outside 1..200 is a ValidationException.
- AutoEnable adds accounts that join the organization later; sra enrolls the
  existing ones with CreateMembers, as AWS requires, and the emulator does not
  simulate later joins.
"""
import datetime
import json
import re
import threading
import uuid

from moto.iam.models import get_account_id_from

from .common import is_active, org_of, page

_lock = threading.Lock()
_graphs = {}  # (account, region) -> {"arn", "created", "auto_enable", "members": {id: detail}}
_admins = {}  # (management account, region) -> {"account", "time"}
PRINCIPAL = "detective.amazonaws.com"


def _scope(environ):
    m = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return (m.group(1), m.group(2), m.group(3)) if m else (None, None, None)


def handles(environ):
    return _scope(environ)[2] == "detective"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Fail(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _denied(message):
    return Fail("403 Forbidden", "AccessDeniedException", message)


def _invalid(message):
    return Fail("400 Bad Request", "ValidationException", message)


def _reply(start_response, status, body, headers=()):
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *headers])
    return [payload]


def _management(account):
    """The organization whose management account `account` is, or None."""
    org = org_of(account)
    return org if org is not None and org.org.master_account_id == account else None


def _graph(account, region):
    return _graphs.get((account, region))


def _new_graph(account, region):
    graph = {
        "arn": f"arn:aws:detective:{region}:{account}:graph:{uuid.uuid4().hex}",
        "created": _now(),
        "auto_enable": False,
        "members": {},
    }
    _graphs[(account, region)] = graph
    return graph


def _admin_graph(account, region, arn):
    """The graph `arn` if `account` is the region's Detective administrator and owns it."""
    org = org_of(account)
    admin = _admins.get((org.org.master_account_id, region)) if org is not None else None
    graph = _graph(account, region)
    if admin is None or admin["account"] != account or graph is None:
        raise _denied("The request is not from the Detective administrator account of the organization.")
    if arn != graph["arn"]:
        raise Fail("404 Not Found", "ResourceNotFoundException", f"The behavior graph {arn} does not exist.")
    return graph


def _create_graph(account, region, body):
    """A repeat call "always returns the same behavior graph ARN. It does not
    create a new behavior graph"
    (https://docs.aws.amazon.com/detective/latest/APIReference/API_CreateGraph.html)."""
    graph = _graph(account, region)
    if graph is not None:
        return {"GraphArn": graph["arn"]}
    return {"GraphArn": _new_graph(account, region)["arn"]}


def _list_graphs(account, region, body):
    graph = _graph(account, region)
    return {"GraphList": [{"Arn": graph["arn"], "CreatedTime": graph["created"]}] if graph else []}


def _enable_admin(account, region, body):
    org = _management(account)
    if org is None:
        raise _denied("Only the organization management account can designate the Detective administrator account.")
    admin = body.get("AccountId", "")
    if not re.fullmatch(r"[0-9]{12}", admin):
        raise _invalid("AccountId must be a 12-digit account id.")
    if admin == account or not any(a.id == admin for a in org.accounts):
        raise _invalid(f"The account {admin} is not a member account of the organization.")
    delegated = [a.account.id for a in org.admins if PRINCIPAL in a.services]
    if delegated and delegated[0] != admin:
        raise _invalid(f"The organization's delegated administrator for Detective is {delegated[0]}.")
    current = _admins.get((account, region))
    if current is not None and current["account"] != admin:
        raise _invalid(f"The organization already has the Detective administrator {current['account']} in this Region.")
    if not delegated:
        org.register_delegated_administrator(AccountId=admin, ServicePrincipal=PRINCIPAL)
    if current is None:
        _admins[(account, region)] = {"account": admin, "time": _now()}
    if _graph(admin, region) is None:
        _new_graph(admin, region)
    return {}


def _disable_admin(account, region, body):
    if _management(account) is None:
        raise _denied("Only the organization management account can remove the Detective administrator account.")
    current = _admins.pop((account, region), None)
    if current is not None:
        _graphs.pop((current["account"], region), None)
    return {}


def _list_admins(account, region, body):
    if _management(account) is None:
        raise _denied("Only the organization management account can list the Detective administrator account.")
    current = _admins.get((account, region))
    if current is None:
        return {"Administrators": []}
    graph = _graph(current["account"], region)
    return {"Administrators": [{
        "AccountId": current["account"],
        "GraphArn": graph["arn"] if graph else None,
        "DelegationTime": current["time"],
    }]}


def _update_config(account, region, body):
    graph = _admin_graph(account, region, body.get("GraphArn"))
    if not isinstance(body.get("AutoEnable", False), bool):
        raise _invalid("AutoEnable must be a boolean.")
    graph["auto_enable"] = body.get("AutoEnable", False)
    return {}


def _describe_config(account, region, body):
    return {"AutoEnable": _admin_graph(account, region, body.get("GraphArn"))["auto_enable"]}


def _create_members(account, region, body):
    graph = _admin_graph(account, region, body.get("GraphArn"))
    accounts = body.get("Accounts") or []
    if not 1 <= len(accounts) <= 50:
        raise _invalid("Accounts must list between 1 and 50 accounts.")
    org = org_of(account)
    in_org = {a.id: a.email for a in org.accounts}
    members, unprocessed = [], []
    for entry in accounts:
        member_id = entry.get("AccountId", "")
        if member_id not in in_org or member_id == account:
            unprocessed.append({"AccountId": member_id, "Reason": "The account is not an organization member account."})
            continue
        if not is_active(org, member_id):
            unprocessed.append({"AccountId": member_id, "Reason": "The account is suspended or closed."})
            continue
        detail = graph["members"].get(member_id) or {
            "AccountId": member_id,
            "EmailAddress": entry.get("EmailAddress") or in_org[member_id],
            "GraphArn": graph["arn"],
            "AdministratorId": account,
            "MasterId": account,
            "Status": "ENABLED",
            "InvitationType": "ORGANIZATION",
            "InvitedTime": _now(),
            "UpdatedTime": _now(),
        }
        graph["members"][member_id] = detail
        members.append(detail)
    return {"Members": members, "UnprocessedAccounts": unprocessed}


def _list_members(account, region, body):
    graph = _graph(account, region)
    if graph is None or graph["arn"] != body.get("GraphArn"):
        raise Fail("404 Not Found", "ResourceNotFoundException", f"The behavior graph {body.get('GraphArn')} does not exist.")
    members = sorted(graph["members"].values(), key=lambda m: m["AccountId"])
    chunk, token = page(members, body.get("MaxResults"), body.get("NextToken"), 200, _invalid)
    out = {"MemberDetails": chunk}
    if token:
        out["NextToken"] = token
    return out


ROUTES = {
    "/graph": _create_graph,
    "/graphs/list": _list_graphs,
    "/orgs/enableAdminAccount": _enable_admin,
    "/orgs/disableAdminAccount": _disable_admin,
    "/orgs/adminAccountslist": _list_admins,
    "/orgs/updateOrganizationConfiguration": _update_config,
    "/orgs/describeOrganizationConfiguration": _describe_config,
    "/graph/members": _create_members,
    "/graph/members/list": _list_members,
}


def handle(environ, start_response):
    key, region, _ = _scope(environ)
    account = get_account_id_from(key)
    path = environ.get("PATH_INFO", "").rstrip("/")
    route = ROUTES.get(path)
    if route is None or environ.get("REQUEST_METHOD") != "POST":
        return _reply(start_response, "501 Not Implemented",
                      {"__type": "NotImplemented", "message": f"the emulator does not implement detective {path}"},
                      [("x-amzn-ErrorType", "NotImplemented")])
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with _lock:
            return _reply(start_response, "200 OK", route(account, region, body))
    except ValueError:
        return _reply(start_response, "400 Bad Request", {"__type": "ValidationException", "message": "malformed JSON"},
                      [("x-amzn-ErrorType", "ValidationException")])
    except Fail as fail:
        return _reply(start_response, fail.status, {"__type": fail.code, "message": fail.message},
                      [("x-amzn-ErrorType", fail.code)])
