//! The plan file: TOML in, a validated [`Desired`] model out, or every problem
//! found, each located by line, column and key path.

mod baselines;
mod guardrails;
mod log_archive;
mod reader;
pub mod regions;
pub mod schema;
mod services;

use std::collections::BTreeMap;

use toml::Spanned;
use toml::de::DeTable;

use crate::diag::Diagnostic;
use crate::model::{AccountRole, Desired, DesiredAccount, OuPath, ROLE_TAG};
use reader::{Reader, Table};

/// The plan-file versions this build reads.
pub const SUPPORTED_VERSION: i64 = 1;
pub const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
pub const DEFAULT_OU: &str = "Security";

/// Parse and validate a plan file's text.
pub fn parse(src: &str) -> Result<Desired, Vec<Diagnostic>> {
    let (doc, syntax) = DeTable::parse_recoverable(src);
    if !syntax.is_empty() {
        let diags = syntax
            .into_iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                Diagnostic::new(span, "", format!("invalid TOML: {}", e.message().trim()))
                    .hint("fix the syntax first; see plans/example.toml for the format")
            })
            .collect();
        return Err(diags);
    }
    let mut r = Reader::default();
    let mut top = Table::new("", doc.span(), doc.get_ref());
    let desired = read_document(&mut r, &mut top, src);
    r.finish(top);
    let mut diags = r.diags;
    diags.sort_by_key(|d| d.span.start);
    match desired {
        Some(d) if diags.is_empty() => Ok(d),
        _ => Err(diags),
    }
}

fn read_document(r: &mut Reader, top: &mut Table, src: &str) -> Option<Desired> {
    let end = src.len()..src.len();
    match r.integer(top, "version") {
        Some(v) if *v.get_ref() == SUPPORTED_VERSION => {}
        Some(v) => r.error(
            Diagnostic::new(v.span(), "version", format!("unsupported plan-file version {}", v.get_ref())).hint(
                format!(
                    "this sra reads version {SUPPORTED_VERSION}; upgrade sra or write `version = {SUPPORTED_VERSION}`"
                ),
            ),
        ),
        None if top.keys().iter().any(|(k, _)| k == "version") => {}
        None => r.error(
            Diagnostic::new(0..0, "version", "missing `version`")
                .hint(format!("add `version = {SUPPORTED_VERSION}` at the top of the file")),
        ),
    }

    let org = read_organization(r, top, &end);
    let accounts = read_accounts(r, top, &end);
    let log_archive = log_archive::read(r, top);
    let guardrails = guardrails::read(r, top);
    let services = services::read(r, top);
    let baselines = baselines::read(r, top);
    let posture = baselines::read_posture(r, top);
    let (home_region, governed_regions, access_role, plan_role) = org?;
    let (mut log_archive, lock_span) = log_archive?;
    let services = services?;
    log_archive.config_delivery = crate::services::delegation::enabled(&services, "config");
    if let (Some(span), true) = (lock_span, log_archive.config_delivery && log_archive.enabled) {
        // AWS::Config::DeliveryChannel: "AWS Config does not support the delivery
        // channel to an Amazon S3 bucket where object lock is enabled."
        r.error(
            Diagnostic::new(
                span,
                "log_bucket.object_lock_mode",
                "AWS Config does not deliver to a bucket with Object Lock, and [services.config] delivers to the log bucket",
            )
            .hint("remove object_lock_mode and object_lock_days, or set enabled = false under [services.config]"),
        );
        return None;
    }
    let mut guardrails = guardrails?;
    let baselines = baselines?;
    guardrails::finish(r, &mut guardrails, &access_role, &home_region, &log_archive, &baselines);
    Some(Desired {
        home_region,
        governed_regions,
        access_role,
        plan_role,
        accounts: accounts?,
        log_archive,
        guardrails: guardrails.spec,
        services,
        baselines,
        posture: posture?,
    })
}

fn read_organization(
    r: &mut Reader,
    top: &mut Table,
    end: &std::ops::Range<usize>,
) -> Option<(String, Vec<String>, String, Option<String>)> {
    let Some(mut org) = r.table(top, "organization") else {
        if !top.keys().iter().any(|(k, _)| k == "organization") {
            r.error(
                Diagnostic::new(end.clone(), "organization", "missing section [organization]")
                    .hint("add [organization] with at least home_region = \"us-east-1\""),
            );
        }
        return None;
    };
    let home = r.string(&mut org, "home_region");
    let governed = r.strings(&mut org, "governed_regions");
    let access_role = r.string(&mut org, "access_role");
    let plan_role = r.string(&mut org, "plan_role");

    let mut ok = true;
    let home = match home {
        Some(h) => {
            ok &= check_region(r, &h, "organization.home_region");
            Some(h)
        }
        None => {
            if !org.keys().iter().any(|(k, _)| k == "home_region") {
                r.error(
                    Diagnostic::new(org.span.clone(), "organization.home_region", "missing `organization.home_region`")
                        .hint("name the region where the organization trail and aggregators live, e.g. home_region = \"us-east-1\""),
                );
            }
            ok = false;
            None
        }
    };

    let mut regions: Vec<String> = Vec::new();
    if let Some(list) = &governed {
        if list.get_ref().is_empty() {
            r.error(
                Diagnostic::new(
                    list.span(),
                    "organization.governed_regions",
                    "`organization.governed_regions` is empty",
                )
                .hint("list at least the home region, or remove the key to govern only the home region"),
            );
            ok = false;
        }
        for region in list.get_ref() {
            ok &= check_region(r, region, "organization.governed_regions");
            if regions.contains(region.get_ref()) {
                r.error(
                    Diagnostic::new(
                        region.span(),
                        "organization.governed_regions",
                        format!("region `{}` is listed twice", region.get_ref()),
                    )
                    .hint("remove the repeated entry"),
                );
                ok = false;
            } else {
                regions.push(region.get_ref().clone());
            }
        }
    }
    if let (Some(h), Some(list)) = (&home, &governed)
        && !list.get_ref().is_empty()
        && !regions.contains(h.get_ref())
    {
        r.error(
            Diagnostic::new(
                list.span(),
                "organization.governed_regions",
                format!("the home region `{}` is not among the governed regions", h.get_ref()),
            )
            .hint(format!("add \"{}\" to governed_regions", h.get_ref())),
        );
        ok = false;
    }

    let access_role = match access_role {
        Some(role) => {
            if !valid_role_name(role.get_ref()) {
                r.error(
                    Diagnostic::new(role.span(), "organization.access_role", format!("`{}` is not a valid IAM role name", role.get_ref()))
                        .hint("use 1 to 64 letters, digits or +=,.@_- (e.g. OrganizationAccountAccessRole, or AWSControlTowerExecution under Control Tower)"),
                );
                ok = false;
            }
            role.into_inner()
        }
        None => DEFAULT_ACCESS_ROLE.to_string(),
    };
    let plan_role = match plan_role {
        Some(role) if !valid_role_name(role.get_ref()) => {
            r.error(
                Diagnostic::new(
                    role.span(),
                    "organization.plan_role",
                    format!("`{}` is not a valid IAM role name", role.get_ref()),
                )
                .hint("use 1 to 64 letters, digits or +=,.@_- (e.g. SRAPlanReadOnly)"),
            );
            ok = false;
            None
        }
        Some(role) if *role.get_ref() == access_role => {
            r.error(
                Diagnostic::new(
                    role.span(),
                    "organization.plan_role",
                    "the plan role cannot be the access role, an administrator",
                )
                .hint("name a role of its own, e.g. SRAPlanReadOnly, or remove plan_role"),
            );
            ok = false;
            None
        }
        other => other.map(|r| r.into_inner()),
    };
    r.finish(org);
    let home = home?.into_inner();
    if regions.is_empty() {
        regions.push(home.clone());
    }
    ok.then_some((home, regions, access_role, plan_role))
}

fn check_region(r: &mut Reader, region: &Spanned<String>, key: &str) -> bool {
    if regions::is_known(region.get_ref()) {
        return true;
    }
    let mut d = Diagnostic::new(region.span(), key, format!("`{}` is not an AWS region", region.get_ref()));
    d = match regions::suggestion(region.get_ref()) {
        Some(best) => d.hint(format!("did you mean `{best}`?")),
        None => d.hint("use a region code such as us-east-1 or eu-west-1"),
    };
    r.error(d);
    false
}

fn read_accounts(r: &mut Reader, top: &mut Table, end: &std::ops::Range<usize>) -> Option<Vec<DesiredAccount>> {
    let Some(mut accounts) = r.table(top, "accounts") else {
        if !top.keys().iter().any(|(k, _)| k == "accounts") {
            r.error(
                Diagnostic::new(
                    end.clone(),
                    "accounts",
                    "missing sections [accounts.security_tooling] and [accounts.log_archive]",
                )
                .hint("add both sections with name and email; see plans/minimal.toml"),
            );
        }
        return None;
    };
    let mut out = Vec::new();
    let mut emails: Vec<(String, AccountRole)> = Vec::new();
    let mut ok = true;
    for role in AccountRole::ALL {
        let Some(mut t) = r.table(&mut accounts, role.key()) else {
            if !accounts.keys().iter().any(|(k, _)| k == role.key()) {
                r.error(
                    Diagnostic::new(
                        accounts.span.clone(),
                        format!("accounts.{}", role.key()),
                        format!("missing section [accounts.{}]", role.key()),
                    )
                    .hint("add it with name, email and ou; see plans/minimal.toml"),
                );
            }
            ok = false;
            continue;
        };
        match read_account(r, &mut t, role) {
            Some((account, email_span)) => {
                let lower = account.email.to_ascii_lowercase();
                if let Some((_, other)) = emails.iter().find(|(e, _)| *e == lower) {
                    r.error(
                        Diagnostic::new(email_span, t.key_path("email"), format!("email `{}` is already used by accounts.{}", account.email, other.key()))
                            .hint("every AWS account needs its own email address; plus addressing (aws+log-archive@example.com) gives distinct ones"),
                    );
                    ok = false;
                }
                emails.push((lower, role));
                out.push(account);
            }
            None => ok = false,
        }
        r.finish(t);
    }
    r.finish(accounts);
    ok.then_some(out)
}

fn read_account(r: &mut Reader, t: &mut Table, role: AccountRole) -> Option<(DesiredAccount, std::ops::Range<usize>)> {
    let name = r.string(t, "name");
    let email = r.string(t, "email");
    let ou = r.string(t, "ou");
    let tags = r.string_map(t, "tags");
    let role_tag = r.boolean(t, "role_tag").map(|b| b.into_inner()).unwrap_or(true);
    let mut ok = true;

    for (key, value) in [("name", &name), ("email", &email)] {
        if value.is_none() && !t.keys().iter().any(|(k, _)| k == key) {
            r.error(
                Diagnostic::new(t.span.clone(), t.key_path(key), format!("missing `{}`", t.key_path(key)))
                    .hint(format!("add {key} = \"...\" to [accounts.{}]", role.key())),
            );
        }
    }
    if let Some(n) = &name {
        let len = n.get_ref().chars().count();
        if n.get_ref().trim().is_empty() || len > 50 || !n.get_ref().chars().all(|c| (' '..='~').contains(&c)) {
            r.error(
                Diagnostic::new(n.span(), t.key_path("name"), format!("`{}` is not a valid account name", n.get_ref()))
                    .hint("AWS account names are 1 to 50 printable ASCII characters, not all blank"),
            );
            ok = false;
        }
    }
    if let Some(e) = &email
        && !valid_email(e.get_ref())
    {
        r.error(
            Diagnostic::new(e.span(), t.key_path("email"), format!("`{}` is not a valid email address", e.get_ref()))
                .hint("AWS needs 6 to 64 characters of the form local@domain.tld"),
        );
        ok = false;
    }
    let ou_path = match &ou {
        Some(o) => match OuPath::parse(o.get_ref()) {
            Some(p) if p.segments().iter().all(|s| s.chars().count() <= 128) => Some(p),
            _ => {
                r.error(
                    Diagnostic::new(o.span(), t.key_path("ou"), format!("`{}` is not a valid OU path", o.get_ref()))
                        .hint("write OU names from the root down, separated by `/`, e.g. \"Security\" or \"Infra/Security\""),
                );
                ok = false;
                None
            }
        },
        None => OuPath::parse(DEFAULT_OU),
    };
    let mut tag_map = BTreeMap::new();
    for (k, v) in tags.unwrap_or_default() {
        let key_path = format!("{}.{}", t.key_path("tags"), k.get_ref());
        if k.get_ref() == ROLE_TAG {
            r.error(
                Diagnostic::new(k.span(), key_path, format!("the tag `{ROLE_TAG}` is set by sra"))
                    .hint("remove it; sra tags each account with its SRA role"),
            );
            ok = false;
        } else if k.get_ref().to_ascii_lowercase().starts_with("aws:") {
            r.error(
                Diagnostic::new(k.span(), key_path, "tag keys starting with `aws:` are reserved by AWS")
                    .hint("choose another prefix"),
            );
            ok = false;
        } else if k.get_ref().is_empty() || k.get_ref().chars().count() > 128 || v.get_ref().chars().count() > 256 {
            r.error(
                Diagnostic::new(k.span(), key_path, "tag keys are 1 to 128 characters and values at most 256")
                    .hint("shorten the tag"),
            );
            ok = false;
        } else {
            tag_map.insert(k.into_inner(), v.into_inner());
        }
    }
    if role_tag {
        tag_map.insert(ROLE_TAG.to_string(), role.tag_value().to_string());
    }
    let (name, email) = (name?, email?);
    if !ok {
        return None;
    }
    let span = email.span();
    Some((
        DesiredAccount { role, name: name.into_inner(), email: email.into_inner(), ou: ou_path?, tags: tag_map },
        span,
    ))
}

/// The pattern AWS Organizations' CreateAccount applies to Email.
pub fn valid_email(email: &str) -> bool {
    let len = email.chars().count();
    if !(6..=64).contains(&len) || email.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    match domain.rsplit_once('.') {
        Some((host, tld)) => !host.is_empty() && !tld.is_empty(),
        None => false,
    }
}

/// IAM role names: 1-64 of `[\w+=,.@-]`.
pub fn valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

#[cfg(test)]
mod tests;
