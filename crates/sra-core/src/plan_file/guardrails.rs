//! `[guardrails]`: which SCPs, attached where, exempting whom.

use super::reader::{Reader, Table, did_you_mean};
use super::valid_role_name;
use crate::diag::Diagnostic;
use crate::model::{GuardrailSpec, LogArchiveSpec, OuPath, ScpTarget};
use crate::services::guardrails::{self, MAX_SCP_CHARS, MAX_SCPS_PER_TARGET, Refs};
use crate::services::log_archive::Ids;

/// What the section says; exemptions are finished once the access role is known.
pub struct Read {
    pub spec: GuardrailSpec,
    pub exempt_span: Option<std::ops::Range<usize>>,
    pub exempt_given: bool,
    pub span: std::ops::Range<usize>,
}

pub fn read(r: &mut Reader, top: &mut Table) -> Option<Read> {
    let mut out = Read {
        spec: GuardrailSpec {
            enabled: true,
            attach_to: vec![ScpTarget::Root],
            exempt_roles: vec![],
            disabled: vec![],
            resource_control_policies: true,
        },
        exempt_span: None,
        exempt_given: false,
        span: 0..0,
    };
    let Some(mut t) = r.table(top, "guardrails") else {
        return (!top.keys().iter().any(|(k, _)| k == "guardrails")).then_some(out);
    };
    out.span = t.span.clone();
    let mut ok = true;
    if let Some(e) = r.boolean(&mut t, "enabled") {
        out.spec.enabled = e.into_inner();
    }
    if let Some(e) = r.boolean(&mut t, "resource_control_policies") {
        out.spec.resource_control_policies = e.into_inner();
    }
    if let Some(list) = r.strings(&mut t, "attach_to") {
        out.spec.attach_to.clear();
        if list.get_ref().is_empty() {
            r.error(
                Diagnostic::new(list.span(), t.key_path("attach_to"), "guardrails.attach_to is empty")
                    .hint("attach to \"Root\" or to OU paths, or set enabled = false"),
            );
            ok = false;
        }
        for item in list.get_ref() {
            let target = if item.get_ref() == "Root" {
                Some(ScpTarget::Root)
            } else {
                OuPath::parse(item.get_ref()).map(ScpTarget::Ou)
            };
            match target {
                Some(t2) if !out.spec.attach_to.contains(&t2) => out.spec.attach_to.push(t2),
                Some(_) => {}
                None => {
                    r.error(
                        Diagnostic::new(item.span(), t.key_path("attach_to"), format!("`{}` is not \"Root\" or an OU path", item.get_ref()))
                            .hint("write \"Root\" for the organization root, or an OU path such as \"Workloads\" or \"Infra/Prod\""),
                    );
                    ok = false;
                }
            }
        }
    }
    if let Some(list) = r.strings(&mut t, "exempt_roles") {
        out.exempt_given = true;
        out.exempt_span = Some(list.span());
        for role in list.get_ref() {
            if valid_role_name(role.get_ref()) {
                out.spec.exempt_roles.push(role.get_ref().clone());
            } else {
                r.error(
                    Diagnostic::new(
                        role.span(),
                        t.key_path("exempt_roles"),
                        format!("`{}` is not a valid IAM role name", role.get_ref()),
                    )
                    .hint("list role names, e.g. \"OrganizationAccountAccessRole\""),
                );
                ok = false;
            }
        }
    }
    if let Some(list) = r.strings(&mut t, "disabled") {
        let names = guardrails::catalog::names();
        for name in list.get_ref() {
            if names.contains(&name.get_ref().as_str()) {
                out.spec.disabled.push(name.get_ref().clone());
            } else {
                let mut d = Diagnostic::new(
                    name.span(),
                    t.key_path("disabled"),
                    format!("there is no guardrail named `{}`", name.get_ref()),
                );
                d = match did_you_mean(name.get_ref(), &names) {
                    Some(best) => d.hint(format!("did you mean `{best}`?")),
                    None => d.hint(format!("guardrails: {}", names.join(", "))),
                };
                r.error(d);
                ok = false;
            }
        }
    }
    r.finish(t);
    ok.then_some(out)
}

/// Fill in default exemptions, then check what AWS and sra's own access need,
/// offline: each SCP within 5,120 characters, at most five SCPs per target, and no
/// Deny without the access role's exemption.
pub fn finish(
    r: &mut Reader,
    read: &mut Read,
    access_role: &str,
    home_region: &str,
    log_archive: &LogArchiveSpec,
    baselines: &crate::model::BaselineSpec,
) {
    let spec = &mut read.spec;
    if !read.exempt_given {
        spec.exempt_roles.push(access_role.to_string());
        if let Some(bg) = &log_archive.break_glass_role {
            spec.exempt_roles.push(bg.clone());
        }
    }
    if !spec.enabled {
        return;
    }
    // The longest ids AWS issues, so a plan that validates also fits once applied.
    let ids = Ids {
        partition: "aws-us-gov".into(),
        home_region: home_region.to_string(),
        management_account: "123456789012".into(),
        access_role: access_role.to_string(),
        org_id: Some(format!("o-{}", "x".repeat(32))),
        log_archive: Some("123456789012".into()),
        security_tooling: Some("123456789012".into()),
        key_arn: Some(format!("arn:aws-us-gov:kms:{home_region}:123456789012:key/mrk-{}", "0".repeat(32))),
    };
    let scps = guardrails::desired(spec, &Refs { ids: &ids, log_archive, baselines });
    let here = read.exempt_span.clone().unwrap_or(read.span.clone());
    if !guardrails::missing_exemptions(&scps, &ids.partition, access_role).is_empty() {
        r.error(
            Diagnostic::new(
                here.clone(),
                "guardrails.exempt_roles",
                format!("the guardrails would deny the role sra works through ({access_role})"),
            )
            .hint(format!(
                "add \"{access_role}\" to exempt_roles: without it sra could not repair what the guardrails protect"
            )),
        );
    }
    for scp in &scps {
        let size = guardrails::size(&scp.document);
        if size > MAX_SCP_CHARS {
            r.error(
                Diagnostic::new(
                    here.clone(),
                    "guardrails",
                    format!("the guardrail policy {} would be {size} characters; AWS allows {MAX_SCP_CHARS}", scp.name),
                )
                .hint(format!(
                    "it holds {}: leave some out with disabled = [...], or exempt fewer roles",
                    scp.guardrails.join(", ")
                )),
            );
        }
    }
    // AWS's FullAWSAccess stays attached next to sra's policies.
    let count = scps.iter().filter(|s| s.kind == guardrails::PolicyKind::Scp).count();
    if count + 1 > MAX_SCPS_PER_TARGET {
        r.error(
            Diagnostic::new(
                read.span.clone(),
                "guardrails",
                format!(
                    "{count} guardrail policies and FullAWSAccess exceed AWS's {MAX_SCPS_PER_TARGET} SCPs per target"
                ),
            )
            .hint("disable guardrails until fewer policies are needed"),
        );
    }
}
