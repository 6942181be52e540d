//! `sra init`: write a plan file that describes the organization as it is, so
//! that `sra plan` with it shows no changes, and that lists each deviation from
//! the SRA baseline as a commented suggestion the user can opt in to.
//!
//! The shell (`discover`) reads what the engine cannot guess: which accounts are
//! Security Tooling and Log Archive (by name, Control Tower's "Audit" included),
//! the OU each is in, and the organization trails that exist. Then the real
//! engine plans the SRA baseline against live state; every area with changes is
//! opted out (`opt_out`, pure) and planned again until nothing changes. `render`
//! (pure) writes the file; the loader reads it back before it is written.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::aws::{Aws, call_error, hinted};
use crate::engine::plan::{Action, Address, Change, Plan};
use crate::lock::Lock;
use crate::model::{AccountRole, Desired, OuPath, ROLE_TAG};
use crate::report::Reporter;

/// Names an existing account may have, per SRA role (Control Tower's first).
const NAMES: [(AccountRole, &[&str]); 2] = [
    (AccountRole::SecurityTooling, &["Audit", "Security Tooling", "SecurityTooling", "Security"]),
    (AccountRole::LogArchive, &["Log Archive", "LogArchive", "Log-Archive", "Logs"]),
];

/// Control Tower's role in the accounts it enrolls.
const CONTROL_TOWER_ROLE: &str = "AWSControlTowerExecution";

/// One area of the plan file that can be switched off as a whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    Trail,
    Guardrails,
    /// A `[services.<name>]` table.
    Service(String),
    /// `accounts.<role>.role_tag`.
    RoleTag(AccountRole),
    /// `[baselines]`.
    Baselines,
}

/// What init found, for the file's comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub organization_id: String,
    /// Per role: the account's id and name, when one matched.
    pub accounts: BTreeMap<AccountRole, (String, String)>,
    /// Organization trails: (name, bucket).
    pub trails: Vec<(String, String)>,
    pub control_tower: bool,
}

impl Found {
    /// The lock file for the plan, when both accounts were found: the plan file
    /// names them by the emails read with these ids, so the ids are right.
    pub fn lock(&self) -> Option<Lock> {
        let id = |role| self.accounts.get(&role).map(|(id, _)| id.clone());
        Some(Lock {
            organization_id: self.organization_id.clone(),
            accounts: [
                (AccountRole::SecurityTooling, id(AccountRole::SecurityTooling)?),
                (AccountRole::LogArchive, id(AccountRole::LogArchive)?),
            ]
            .into(),
        })
    }
}

/// What `sra init` found: the plan file's text, and its lock file.
pub struct Initialized {
    pub text: String,
    pub lock: Option<Lock>,
}

/// The plan-file service table a change's address belongs to.
fn service_key(address: &Address) -> Option<String> {
    match address {
        Address::DelegatedAdmin { service, .. }
        | Address::ServiceSettings { service, .. }
        | Address::Coverage { service, .. } => Some(service.to_string()),
        Address::ConfigRecorder { .. } => Some("config".into()),
        _ => None,
    }
}

fn area_of(change: &Change) -> Option<Area> {
    match &change.address {
        Address::KmsKey
        | Address::AccountPublicAccessBlock
        | Address::Bucket(_)
        | Address::Trail
        | Address::TrailLogGroup
        | Address::TrailLogsRole => Some(Area::Trail),
        Address::ScpPolicyType | Address::RcpPolicyType | Address::Guardrail(_) => Some(Area::Guardrails),
        Address::Account(role) if change.properties.iter().any(|p| p.name.starts_with("tags.") && p.changed()) => {
            Some(Area::RoleTag(*role))
        }
        Address::Baseline { .. } => Some(Area::Baselines),
        Address::TrustedAccess(principal) if principal == sra_core::services::ACCOUNT_MANAGEMENT => {
            Some(Area::Baselines)
        }
        Address::TrustedAccess(principal) => {
            crate::services::service_of_principal(principal).map(|s| Area::Service(s.into()))
        }
        other => service_key(other).map(Area::Service),
    }
}

/// One line per changed property, for a suggestion's comment.
fn describe(change: &Change) -> String {
    let verb = match change.action {
        Action::Create => "create",
        Action::Update => "update",
        Action::NoOp => "keep",
    };
    let changed = change.properties.iter().filter(|p| p.changed()).count();
    let mut props: Vec<String> = change
        .properties
        .iter()
        .filter(|p| p.changed())
        .take(3)
        .map(|p| {
            let show = |v: &Option<String>| {
                let v = v.as_deref().unwrap_or("(none)");
                let v = if v.starts_with('{') { "(policy document)".to_string() } else { v.replace('\n', " ") };
                if v.chars().count() > 60 { format!("{}…", v.chars().take(60).collect::<String>()) } else { v }
            };
            format!("{}: {} -> {}", p.name, show(&p.before), show(&p.after))
        })
        .collect();
    if changed > 3 {
        props.push(format!("… and {} more", changed - 3));
    }
    let verb =
        if change.action == Action::NoOp && !change.manual.is_empty() { "need a person to set up" } else { verb };
    let mut line = format!("would {verb} {}", change.address);
    if !props.is_empty() {
        line.push_str(&format!(" ({})", props.join("; ")));
    }
    if change.reason.starts_with("DESTRUCTIVE") {
        line.push_str(" [replaces another administrator: needs --allow-admin-change]");
    }
    line
}

/// Switch off every area the plan would change, recording why. Returns whether
/// anything was switched off (then plan again: opting out can end other changes).
pub fn opt_out(desired: &mut Desired, plan: &Plan, notes: &mut BTreeMap<Area, Vec<String>>) -> bool {
    let mut any = false;
    // A manual item is a difference too (plan exits 2 on it): opt out of its area.
    for change in plan.changes.iter().filter(|c| c.action != Action::NoOp || !c.manual.is_empty()) {
        let Some(area) = area_of(change) else { continue };
        notes.entry(area.clone()).or_default().push(describe(change));
        let switched = match &area {
            Area::Trail => std::mem::replace(&mut desired.log_archive.enabled, false),
            Area::Guardrails => std::mem::replace(&mut desired.guardrails.enabled, false),
            Area::Baselines => std::mem::replace(&mut desired.baselines.enabled, false),
            Area::RoleTag(role) => {
                let account = desired.accounts.iter_mut().find(|a| a.role == *role).expect("both roles exist");
                account.tags.remove(ROLE_TAG).is_some()
            }
            Area::Service(name) => {
                let s = &mut desired.services;
                match name.as_str() {
                    "guardduty" => std::mem::replace(&mut s.guardduty.enabled, false),
                    "securityhub" => std::mem::replace(&mut s.securityhub.enabled, false),
                    "inspector" => std::mem::replace(&mut s.inspector.enabled, false),
                    "macie" => std::mem::replace(&mut s.macie, false),
                    "detective" => std::mem::replace(&mut s.detective, false),
                    other => s.delegated.insert(other.to_string(), false).is_none(),
                }
            }
        };
        any |= switched;
    }
    desired.log_archive.config_delivery = crate::services::delegation::enabled(&desired.services, "config");
    any
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn comment_block(out: &mut String, area: &Area, notes: &BTreeMap<Area, Vec<String>>, suggestion: &str) {
    let Some(lines) = notes.get(area) else { return };
    out.push_str(&format!("# Not the SRA baseline yet. Suggestion: {suggestion}; `sra plan` then shows:\n"));
    for line in lines.iter().take(12) {
        out.push_str(&format!("#   {line}\n"));
    }
    if lines.len() > 12 {
        out.push_str(&format!("#   ... and {} more\n", lines.len() - 12));
    }
}

/// The JSON Schema's file name that the plan file's `#:schema` line names,
/// beside the plan file (`sra init --out` writes it there).
pub const SCHEMA_FILE: &str = "sra-plan.schema.json";

/// The plan file's text.
pub fn render(desired: &Desired, found: &Found, notes: &BTreeMap<Area, Vec<String>>) -> String {
    let mut out = format!(
        "#:schema {SCHEMA_FILE}\n# (editors that read the line above check and complete keys; write the schema\n\
         # beside this file with `sra schema > {SCHEMA_FILE}`)\n"
    );
    out.push_str(&format!(
        "# Written by `sra init` from organization {}. With it, `sra plan` shows no\n\
         # changes. Each deviation from the SRA baseline is switched off below with a\n\
         # commented suggestion: opt in one at a time and review `sra plan`.\n",
        found.organization_id
    ));
    out.push_str("version = 1\n\n[organization]\n");
    out.push_str(&format!("home_region = {}\n", quote(&desired.home_region)));
    let regions: Vec<String> = desired.governed_regions.iter().map(|r| quote(r)).collect();
    out.push_str(&format!("governed_regions = [{}]\n", regions.join(", ")));
    if found.control_tower {
        out.push_str("# Control Tower's shared accounts were found: sra works through its execution role.\n");
    }
    out.push_str(&format!("access_role = {}\n", quote(&desired.access_role)));
    for account in &desired.accounts {
        out.push_str(&format!("\n[accounts.{}]\n", account.role.key()));
        match found.accounts.get(&account.role) {
            Some((id, name)) => out.push_str(&format!("# The existing account {id} (\"{name}\"), adopted by email.\n")),
            None => out.push_str(
                "# No such account yet: `sra apply` creates it. Use an address you own, unique across AWS.\n",
            ),
        }
        out.push_str(&format!(
            "name = {}\nemail = {}\nou = {}\n",
            quote(&account.name),
            quote(&account.email),
            quote(&account.ou.to_string())
        ));
        let user_tags: Vec<String> = account
            .tags
            .iter()
            .filter(|(k, _)| *k != ROLE_TAG)
            .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
            .collect();
        if !user_tags.is_empty() {
            out.push_str(&format!("tags = {{ {} }}\n", user_tags.join(", ")));
        }
        if !account.tags.contains_key(ROLE_TAG) {
            comment_block(&mut out, &Area::RoleTag(account.role), notes, "role_tag = true");
            out.push_str("role_tag = false\n");
        }
    }
    out.push_str("\n[trail]\n");
    for (name, bucket) in &found.trails {
        out.push_str(&format!("# Found: organization trail {} writing to bucket {}.\n", quote(name), quote(bucket)));
    }
    if !desired.log_archive.enabled && !found.trails.is_empty() {
        out.push_str(
            "# Warning: opting in makes a second organization trail next to the one above. Every\n\
             # account's management events are then delivered twice, and AWS bills each copy after\n\
             # the first (CloudTrail pricing); tools reading both see each event twice. Opt in when\n\
             # sra's trail is to replace it, and stop the old one once sra's delivers.\n",
        );
    }
    if !desired.log_archive.enabled {
        comment_block(
            &mut out,
            &Area::Trail,
            notes,
            "enabled = true (sra's trail, key and locked-down buckets in Log Archive)",
        );
    }
    out.push_str(&format!("enabled = {}\n", desired.log_archive.enabled));
    out.push_str("\n[guardrails]\n");
    if !desired.guardrails.enabled {
        comment_block(&mut out, &Area::Guardrails, notes, "enabled = true (docs/guardrails.md lists each policy)");
    }
    out.push_str(&format!("enabled = {}\n", desired.guardrails.enabled));
    out.push_str("\n[baselines]\n");
    if !desired.baselines.enabled {
        comment_block(
            &mut out,
            &Area::Baselines,
            notes,
            "enabled = true (EBS encryption by default, S3 account public access block and password policy in every account)",
        );
    }
    out.push_str(&format!("enabled = {}\n", desired.baselines.enabled));
    let s = &desired.services;
    let services: Vec<(&str, bool)> = vec![
        ("guardduty", s.guardduty.enabled),
        ("securityhub", s.securityhub.enabled),
        ("inspector", s.inspector.enabled),
        ("macie", s.macie),
        ("detective", s.detective),
        ("config", crate::services::delegation::enabled(s, "config")),
        ("cloudtrail", crate::services::delegation::enabled(s, "cloudtrail")),
        ("access_analyzer", crate::services::delegation::enabled(s, "access_analyzer")),
        ("trusted_advisor", crate::services::delegation::enabled(s, "trusted_advisor")),
    ];
    for (name, enabled) in services {
        out.push_str(&format!("\n[services.{name}]\n"));
        if !enabled {
            comment_block(&mut out, &Area::Service(name.into()), notes, "enabled = true");
        }
        out.push_str(&format!("enabled = {enabled}\n"));
    }
    out
}

/// The SRA baseline for this organization, with the accounts init found: the
/// loader's own reading of the smallest plan file, so every default is its.
pub fn baseline(
    home_region: &str,
    regions: &[String],
    found: &Found,
    emails: &BTreeMap<AccountRole, String>,
    ous: &BTreeMap<AccountRole, OuPath>,
) -> Result<Desired> {
    let access_role = if found.control_tower { CONTROL_TOWER_ROLE } else { "OrganizationAccountAccessRole" };
    let mut governed: Vec<String> = regions.to_vec();
    if !governed.iter().any(|r| r == home_region) {
        governed.insert(0, home_region.to_string());
    }
    let mut text = format!(
        "version = 1\n[organization]\nhome_region = {}\ngoverned_regions = [{}]\naccess_role = {}\n",
        quote(home_region),
        governed.iter().map(|r| quote(r)).collect::<Vec<_>>().join(", "),
        quote(access_role)
    );
    for role in AccountRole::ALL {
        let (default_name, default_email) = match role {
            AccountRole::SecurityTooling => ("Security Tooling", "aws+security-tooling@example.com"),
            AccountRole::LogArchive => ("Log Archive", "aws+log-archive@example.com"),
        };
        let name = found.accounts.get(&role).map_or(default_name, |(_, n)| n.as_str());
        let email = emails.get(&role).map_or(default_email, String::as_str);
        let ou = ous.get(&role).map_or("Security".to_string(), |p| p.to_string());
        text.push_str(&format!(
            "[accounts.{}]\nname = {}\nemail = {}\nou = {}\n",
            role.key(),
            quote(name),
            quote(email),
            quote(&ou)
        ));
    }
    crate::plan_file::parse(&text).map_err(|d| {
        hinted(
            format!(
                "the accounts found do not make a valid plan file:\n{}",
                crate::diag::render("(sra init)", &text, &d)
            ),
            "write the plan file by hand from plans/example.toml",
        )
    })
}

/// The OU path of an account, walked up to the root; None when it is the root.
async fn ou_path_of(
    orgs: &aws_sdk_organizations::Client,
    site: &crate::aws::Site,
    account: &str,
) -> Result<Option<OuPath>> {
    let mut names = Vec::new();
    let mut child = account.to_string();
    loop {
        let parents =
            orgs.list_parents().child_id(&child).send().await.map_err(|e| {
                call_error(e, "organizations", "ListParents", site, format!("finding where {account} is"))
            })?;
        let Some(parent) = parents.parents().first() else { break };
        let id = parent.id().unwrap_or_default().to_string();
        if parent.r#type().is_some_and(|t| t.as_str() == "ROOT") {
            break;
        }
        let ou = orgs.describe_organizational_unit().organizational_unit_id(&id).send().await.map_err(|e| {
            call_error(e, "organizations", "DescribeOrganizationalUnit", site, format!("naming OU {id}"))
        })?;
        names.push(ou.organizational_unit().and_then(|o| o.name()).unwrap_or_default().to_string());
        child = id;
    }
    names.reverse();
    Ok(if names.is_empty() { None } else { OuPath::parse(&names.join("/")) })
}

/// Read the organization and write the plan file's text.
pub async fn init(aws: &Aws, home_region: &str, regions: &[String], rep: &Reporter) -> Result<Initialized> {
    let orgs = aws.organizations();
    let who = aws.sts().get_caller_identity().send().await.map_err(|e| {
        call_error(
            e,
            "sts",
            "GetCallerIdentity",
            &crate::aws::Site { account: "(unknown)".into(), region: aws.region.clone() },
            "finding out who the credentials belong to",
        )
    })?;
    let site = crate::aws::Site { account: who.account().unwrap_or_default().to_string(), region: aws.region.clone() };
    rep.progress("reading the organization");
    let org = orgs
        .describe_organization()
        .send()
        .await
        .map_err(|e| call_error(e, "organizations", "DescribeOrganization", &site, "reading the organization"))?;
    let mut found = Found {
        organization_id: org.organization().and_then(|o| o.id()).unwrap_or_default().to_string(),
        ..Default::default()
    };
    let pages = orgs
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| call_error(e, "organizations", "ListAccounts", &site, "listing the accounts"))?;
    let all: Vec<(String, String, String)> = pages
        .iter()
        .flat_map(|p| p.accounts())
        .filter(|a| a.status().is_none_or(|s| s.as_str() == "ACTIVE"))
        .filter_map(|a| Some((a.id()?.to_string(), a.name()?.to_string(), a.email()?.to_string())))
        .collect();
    let mut emails = BTreeMap::new();
    let mut ous = BTreeMap::new();
    for (role, names) in NAMES {
        let hit = names.iter().find_map(|n| all.iter().find(|(_, name, _)| name.eq_ignore_ascii_case(n)));
        if let Some((id, name, email)) = hit {
            rep.progress(format!("accounts.{}: found {id} (\"{name}\")", role.key()));
            found.control_tower |= role == AccountRole::SecurityTooling && name == "Audit";
            found.accounts.insert(role, (id.clone(), name.clone()));
            emails.insert(role, email.clone());
            if let Some(path) = ou_path_of(&orgs, &site, id).await? {
                ous.insert(role, path);
            }
        }
    }
    let ct = aws_sdk_cloudtrail::Client::new(&aws.config);
    let trails = ct
        .describe_trails()
        .send()
        .await
        .map_err(|e| call_error(e, "cloudtrail", "DescribeTrails", &site, "finding the organization's trails"))?;
    found.trails = trails
        .trail_list()
        .iter()
        .filter(|t| t.is_organization_trail().unwrap_or(false))
        .map(|t| (t.name().unwrap_or_default().to_string(), t.s3_bucket_name().unwrap_or_default().to_string()))
        .collect();

    let mut desired = baseline(home_region, regions, &found, &emails, &ous)?;
    let mut notes = BTreeMap::new();
    for round in 1..=6 {
        rep.progress(format!("planning the SRA baseline against live state (round {round})"));
        let computed = crate::live::compute(aws, &desired, None, crate::live::Reader::Plan, rep).await?;
        if let Some(b) = computed.plan.blockers.first() {
            return Err(hinted(format!("cannot describe this organization: {}", b.message), b.hint.clone()));
        }
        if !opt_out(&mut desired, &computed.plan, &mut notes) {
            break;
        }
    }
    let text = render(&desired, &found, &notes);
    let reread = crate::plan_file::parse(&text).map_err(|d| {
        anyhow::anyhow!(
            "internal error: sra init wrote a plan file it cannot read: {}",
            crate::diag::render("init", &text, &d)
        )
    })?;
    if reread != desired {
        return Err(anyhow::anyhow!("internal error: the plan file sra init wrote reads back differently"));
    }
    Ok(Initialized { lock: found.lock(), text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::Property;

    fn change(address: Address, action: Action) -> Change {
        Change {
            address,
            action,
            id: None,
            properties: vec![Property { name: "x".into(), before: None, after: Some("y".into()) }],
            reason: String::new(),
            steps: vec![],
            manual: vec![],
        }
    }

    fn desired() -> Desired {
        baseline("us-east-1", &["us-east-1".into()], &Found::default(), &BTreeMap::new(), &BTreeMap::new()).unwrap()
    }

    /// A suggestion never drops changed properties silently: it says how many more.
    #[test]
    fn a_suggestion_says_how_many_more_properties_change() {
        let mut c = change(Address::Trail, Action::Update);
        c.properties =
            (0..5).map(|i| Property { name: format!("p{i}"), before: None, after: Some("v".into()) }).collect();
        let line = describe(&c);
        assert!(line.starts_with("would update trail (p0: (none) -> v; p1:"), "{line}");
        assert!(line.ends_with("; … and 2 more)"), "{line}");
    }

    #[test]
    fn each_changed_area_is_switched_off_with_a_note() {
        let mut d = desired();
        let plan = Plan {
            proof: None,
            notes: vec![],
            ids: Default::default(),
            organization_id: None,
            caller_account: "1".into(),
            changes: vec![
                change(Address::Trail, Action::Create),
                change(Address::DelegatedAdmin { service: "guardduty", region: "us-east-1".into() }, Action::Create),
                change(
                    Address::ConfigRecorder { account: AccountRole::LogArchive, region: "us-east-1".into() },
                    Action::Update,
                ),
                change(Address::Guardrail("x".into()), Action::NoOp),
                change(Address::TrustedAccess("macie.amazonaws.com".into()), Action::Create),
            ],
            blockers: vec![],
            destructive: vec![],
        };
        let mut notes = BTreeMap::new();
        assert!(opt_out(&mut d, &plan, &mut notes));
        assert!(!d.log_archive.enabled && !d.services.guardduty.enabled && !d.services.macie);
        assert!(!crate::services::delegation::enabled(&d.services, "config"));
        assert!(d.guardrails.enabled, "an unchanged area stays on");
        assert_eq!(notes[&Area::Trail], ["would create trail (x: (none) -> y)"]);
        assert!(!opt_out(&mut d, &plan, &mut notes), "a second pass switches nothing new");
    }

    #[test]
    fn rendered_file_reads_back_as_the_same_plan() {
        let mut d = desired();
        d.log_archive.enabled = false;
        d.services.detective = false;
        d.services.delegated.insert("trusted_advisor".into(), false);
        d.accounts[0].tags.remove(ROLE_TAG);
        d.accounts[1].ou = OuPath::parse("Infra/Logs").unwrap();
        let mut notes = BTreeMap::new();
        notes.insert(Area::Service("detective".into()), vec!["would create detective[\"us-east-1\"].settings".into()]);
        let found =
            Found { organization_id: "o-1".into(), trails: vec![("t".into(), "b".into())], ..Default::default() };
        let text = render(&d, &found, &notes);
        assert!(text.contains("# Not the SRA baseline yet. Suggestion: enabled = true"), "{text}");
        assert!(text.contains("#   would create detective[\"us-east-1\"].settings"), "{text}");
        assert!(text.contains("# Found: organization trail \"t\" writing to bucket \"b\"."), "{text}");
        assert!(text.starts_with("#:schema sra-plan.schema.json\n"), "{text}");
        assert!(text.contains("# Warning: opting in makes a second organization trail"), "{text}");
        assert_eq!(crate::plan_file::parse(&text).unwrap(), d);
    }
}
