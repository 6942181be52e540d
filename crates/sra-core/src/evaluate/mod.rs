//! Does AWS allow this request? A pure evaluator of the policies sra writes, after
//! AWS's documented policy evaluation logic (IAM User Guide,
//! reference_policies_evaluation-logic.html and
//! reference_policies_evaluation-logic-cross-account.html):
//!
//! 1. An explicit `Deny` in any policy that applies wins.
//! 2. Service control policies are a boundary on principals of member accounts
//!    (never the management account's, never AWS service principals); resource
//!    control policies, on resources of member accounts, whoever asks. `FullAWSAccess` and
//!    `RCPFullAWSAccess` stay attached, so a boundary allows what it does not deny.
//! 3. A KMS key's policy must allow the request, to the principal or to its
//!    account (`:root`, then the account's identity policies decide too).
//! 4. Otherwise, within one account an `Allow` in the identity policy or in the
//!    resource policy suffices; across accounts both must allow.
//!
//! What it does not model, on purpose: permissions boundaries, session policies,
//! policy variables, `NotPrincipal`, date, IP and numeric operators, and trust
//! policies (who may assume a role). A statement it cannot read is an error, never
//! a guess, so a catalog case that meets one fails loudly.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM role, user or account root: its ARN and account.
    Aws { arn: String, account: String },
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service(String),
}

/// One request: who, what, on which resource (and whose it is), with the request
/// context's condition keys besides the ones derived from the principal.
#[derive(Debug, Clone)]
pub struct Request {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    pub resource_account: String,
    pub context: BTreeMap<String, Vec<String>>,
}

/// The organization the request meets.
pub struct Organization<'a> {
    pub id: &'a str,
    pub management_account: &'a str,
    /// Member accounts; an account not listed is outside the organization.
    pub accounts: &'a [&'a str],
}

/// A named policy document and where it applies.
#[derive(Debug, Clone)]
pub struct Named<'a> {
    pub name: String,
    pub document: &'a Value,
}

/// The policies that apply to one request.
#[derive(Debug, Clone, Default)]
pub struct Policies<'a> {
    /// SCPs that reach the principal's account (all levels combined).
    pub scps: Vec<Named<'a>>,
    /// RCPs that reach the resource's account.
    pub rcps: Vec<Named<'a>>,
    /// The resource's own policy (bucket policy, key policy), if any.
    pub resource: Option<Named<'a>>,
    /// Whether the resource is a KMS key: its policy must allow.
    pub resource_is_key: bool,
    /// The principal's identity policies: `None` means an administrator
    /// (`Allow *` on `*`), the attacker model for a member account's admin.
    pub identity: Option<Vec<Named<'a>>>,
}

/// Which policy decided, in words a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `scp`, `rcp`, `bucket policy`, `key policy`, `identity policy`.
    pub layer: String,
    /// The policy's name and the statement id, or why nothing allowed.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Whether a statement of the resource's own policy allows the request (None:
    /// the resource has no policy), whatever else denies it.
    pub resource_policy_allows: Option<bool>,
    /// Every explicit Deny that matched (all of them, for defence in depth), or the
    /// implicit reason for a denial, or what allowed it.
    pub reasons: Vec<Reason>,
}

pub fn evaluate(org: &Organization, policies: &Policies, req: &Request) -> Result<Decision, String> {
    let ctx = context(org, req);
    let (principal_account, is_service) = match &req.principal {
        Principal::Aws { account, .. } => (Some(account.as_str()), false),
        Principal::Service(_) => (None, true),
    };
    let member = |a: &str| a != org.management_account && org.accounts.contains(&a);
    let mut denies = Vec::new();
    let scps_apply = principal_account.is_some_and(member);
    // RCPs reach every principal, AWS services' included (AWS's examples exempt
    // them with aws:PrincipalIsAWSService), on resources of member accounts.
    let rcps_apply = member(&req.resource_account);
    let layers: [(&str, &[Named], bool); 2] =
        [("scp", &policies.scps, scps_apply), ("rcp", &policies.rcps, rcps_apply)];
    for (layer, docs, applies) in layers {
        if !applies {
            continue;
        }
        for doc in docs {
            for sid in matching(doc.document, "Deny", req, &ctx, false)? {
                denies.push(Reason { layer: layer.into(), detail: format!("{} {sid}", doc.name) });
            }
        }
    }
    let resource_layer = if policies.resource_is_key { "key policy" } else { "bucket policy" };
    let mut resource_allows = Vec::new();
    if let Some(doc) = &policies.resource {
        for sid in matching(doc.document, "Deny", req, &ctx, true)? {
            denies.push(Reason { layer: resource_layer.into(), detail: format!("{} {sid}", doc.name) });
        }
        resource_allows = matching(doc.document, "Allow", req, &ctx, true)?;
    }
    let resource_policy_allows = policies.resource.as_ref().map(|_| !resource_allows.is_empty());
    let identity_allows = match (&policies.identity, is_service) {
        (_, true) => false,
        (None, false) => true,
        (Some(docs), false) => {
            let mut any = false;
            for doc in docs {
                for sid in matching(doc.document, "Deny", req, &ctx, false)? {
                    denies.push(Reason { layer: "identity policy".into(), detail: format!("{} {sid}", doc.name) });
                }
                any |= !matching(doc.document, "Allow", req, &ctx, false)?.is_empty();
            }
            any
        }
    };
    if !denies.is_empty() {
        return Ok(Decision { allowed: false, resource_policy_allows, reasons: denies });
    }
    let implicit = |detail: &str| {
        Ok(Decision {
            allowed: false,
            resource_policy_allows,
            reasons: vec![Reason { layer: resource_layer.into(), detail: detail.into() }],
        })
    };
    let same_account = principal_account == Some(req.resource_account.as_str());
    // An Allow that names the principal itself decides; one that names only its
    // account hands the decision to the account's identity policies.
    let names_it = match &policies.resource {
        Some(doc) => !matching_principal(doc.document, "Allow", req, &ctx, Some(names_itself))?.is_empty(),
        None => false,
    };
    let resource_allows_principal = names_it || (!resource_allows.is_empty() && identity_allows);
    let allowed_by = |d: &str| {
        Ok(Decision {
            allowed: true,
            resource_policy_allows,
            reasons: vec![Reason { layer: d.into(), detail: String::new() }],
        })
    };
    if policies.resource_is_key {
        if !resource_allows_principal {
            return implicit("no statement allows it (implicit deny)");
        }
        return allowed_by(resource_layer);
    }
    if is_service {
        return if resource_allows_principal {
            allowed_by(resource_layer)
        } else {
            implicit("no statement allows it (implicit deny)")
        };
    }
    if same_account {
        if identity_allows || resource_allows_principal {
            return allowed_by(if identity_allows { "identity policy" } else { resource_layer });
        }
        return Ok(Decision {
            allowed: false,
            resource_policy_allows,
            reasons: vec![Reason {
                layer: "identity policy".into(),
                detail: "no statement allows it (implicit deny)".into(),
            }],
        });
    }
    if policies.resource.is_none() {
        // Resources without a resource policy (IAM, Config, GuardDuty ...): the
        // calls sra's cases make across accounts are ones the service authorizes
        // for the organization's administrators; the identity policy decides.
        return if identity_allows {
            allowed_by("identity policy")
        } else {
            implicit("no statement allows it (implicit deny)")
        };
    }
    if identity_allows && resource_allows_principal {
        return allowed_by(resource_layer);
    }
    implicit("another account's principal needs an Allow in the resource policy (implicit deny)")
}

/// The request context: the caller's keys, plus what AWS derives from the principal
/// and the organization.
fn context(org: &Organization, req: &Request) -> BTreeMap<String, Vec<String>> {
    let mut ctx: BTreeMap<String, Vec<String>> =
        req.context.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect();
    match &req.principal {
        Principal::Aws { arn, account } => {
            ctx.insert("aws:principalarn".into(), vec![arn.clone()]);
            ctx.insert("aws:principalaccount".into(), vec![account.clone()]);
            if org.accounts.contains(&account.as_str()) {
                ctx.insert("aws:principalorgid".into(), vec![org.id.to_string()]);
            }
            ctx.insert("aws:principalisawsservice".into(), vec!["false".into()]);
        }
        Principal::Service(name) => {
            ctx.insert("aws:principalservicename".into(), vec![name.clone()]);
            ctx.insert("aws:principalisawsservice".into(), vec!["true".into()]);
        }
    }
    ctx
}

/// The Sids of the statements with this effect that match the request.
fn matching(
    doc: &Value,
    effect: &str,
    req: &Request,
    ctx: &BTreeMap<String, Vec<String>>,
    resource_policy: bool,
) -> Result<Vec<String>, String> {
    matching_principal(doc, effect, req, ctx, resource_policy.then_some(principal_matches))
}

/// The Sids of the statements with this effect that match the request; a resource
/// policy's statements only where `principal` matches their Principal.
fn matching_principal(
    doc: &Value,
    effect: &str,
    req: &Request,
    ctx: &BTreeMap<String, Vec<String>>,
    principal: Option<fn(&Value, &Principal) -> bool>,
) -> Result<Vec<String>, String> {
    let list = match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        Value::Null => return Err("a policy without Statement".into()),
        one => vec![one.clone()],
    };
    let mut out = Vec::new();
    for (i, st) in list.iter().enumerate() {
        let sid = st["Sid"].as_str().map_or_else(|| format!("(statement {})", i + 1), str::to_string);
        if st["Effect"].as_str() != Some(effect) {
            continue;
        }
        if st.get("NotPrincipal").is_some() {
            return Err(format!("{sid}: NotPrincipal is not modelled"));
        }
        if let Some(matches) = principal
            && !matches(&st["Principal"], &req.principal)
        {
            continue;
        }
        if !action_matches(st, &req.action) || !resource_matches(st, &req.resource) {
            continue;
        }
        if conditions_hold(&st["Condition"], ctx).map_err(|e| format!("{sid}: {e}"))? {
            out.push(sid);
        }
    }
    Ok(out)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => vec![],
    }
}

/// Whether a Principal names this principal itself (its ARN, any principal, or the
/// service), rather than only its account: an account (`:root` or the id) hands
/// the decision to the account's identity policies (key-policy-default.html).
fn names_itself(p: &Value, who: &Principal) -> bool {
    if p.as_str() == Some("*") {
        return true;
    }
    match who {
        Principal::Aws { arn, .. } => strings(&p["AWS"]).iter().any(|a| a == "*" || a == arn),
        Principal::Service(name) => strings(&p["Service"]).iter().any(|s| s == name),
    }
}

fn principal_matches(p: &Value, who: &Principal) -> bool {
    if p.as_str() == Some("*") {
        return true;
    }
    match who {
        Principal::Aws { arn, account } => strings(&p["AWS"]).iter().any(|a| {
            a == "*"
                || a == arn
                || a == account
                || a.strip_suffix(":root").is_some_and(|x| x.ends_with(&format!("::{account}")))
        }),
        Principal::Service(name) => strings(&p["Service"]).iter().any(|s| s == name),
    }
}

fn action_matches(st: &Value, action: &str) -> bool {
    let lower = action.to_ascii_lowercase();
    let any = |v: &Value| strings(v).iter().any(|a| glob(&a.to_ascii_lowercase(), &lower));
    match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => any(a),
        (None, Some(n)) => !any(n),
        (None, None) => false,
    }
}

fn resource_matches(st: &Value, resource: &str) -> bool {
    let any = |v: &Value| strings(v).iter().any(|r| glob(r, resource));
    match (st.get("Resource"), st.get("NotResource")) {
        (Some(r), _) => any(r),
        (None, Some(n)) => !any(n),
        // Trust policies and resource policies may leave Resource out.
        (None, None) => true,
    }
}

/// Every operator block holds, and within one, every key.
fn conditions_hold(cond: &Value, ctx: &BTreeMap<String, Vec<String>>) -> Result<bool, String> {
    let Some(blocks) = cond.as_object() else { return Ok(true) };
    for (op, keys) in blocks {
        let Some(keys) = keys.as_object() else { return Err(format!("condition {op} is not an object")) };
        for (key, wanted) in keys {
            if !holds(op, &key.to_ascii_lowercase(), &strings(wanted), ctx)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn holds(op: &str, key: &str, wanted: &[String], ctx: &BTreeMap<String, Vec<String>>) -> Result<bool, String> {
    let (quantifier, rest) = match op.split_once(':') {
        Some((q @ ("ForAnyValue" | "ForAllValues"), rest)) => (Some(q), rest),
        Some(_) => return Err(format!("operator {op} is not modelled")),
        None => (None, op),
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let got = ctx.get(key);
    // Set operators on a missing key: ForAllValues holds (nothing to fail),
    // ForAnyValue does not (nothing to match); reference_policies_condition-single-vs-multi-valued-context-keys.html.
    if got.is_none_or(Vec::is_empty) {
        match quantifier {
            Some("ForAllValues") => return Ok(true),
            Some(_) => return Ok(false),
            None => {}
        }
    }
    if base == "Null" {
        let absent = got.is_none_or(Vec::is_empty);
        return Ok(wanted.iter().any(|w| (w == "true") == absent));
    }
    const KNOWN: &[&str] = &[
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnNotEquals",
        "ArnLike",
        "ArnNotLike",
        "Bool",
    ];
    if !KNOWN.contains(&base) {
        return Err(format!("operator {base} is not modelled"));
    }
    let negated = base.contains("Not");
    let Some(values) = got.filter(|v| !v.is_empty()) else {
        // A missing key: a negated operator holds, a positive one does not;
        // IfExists makes either hold (condition-operators, ...IfExists).
        return Ok(if_exists || negated);
    };
    let one = |v: &str| -> Result<bool, String> {
        let hit = |w: &String| match base {
            "StringEquals" | "StringNotEquals" | "ArnEquals" | "ArnNotEquals" => w == v,
            "StringLike" | "StringNotLike" => glob(w, v),
            "ArnLike" | "ArnNotLike" => arn_like(w, v),
            // Bool and the IgnoreCase operators.
            _ => w.eq_ignore_ascii_case(v),
        };
        let any = wanted.iter().any(hit);
        Ok(if negated { !any } else { any })
    };
    match quantifier {
        Some("ForAllValues") => {
            for v in values {
                if !one(v)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        // One value, or ForAnyValue: some value satisfies it.
        _ => {
            for v in values {
                if one(v)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

/// `*` matches any run of characters, `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// ArnLike compares the six colon-separated parts one by one, wildcards within each.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == a.len() && p.iter().zip(&a).all(|(x, y)| glob(x, y))
}

#[cfg(test)]
mod tests;
