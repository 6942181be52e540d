use super::*;
use crate::model::LogArchiveSpec;

fn ids() -> Ids {
    Ids::example()
}

fn spec() -> GuardrailSpec {
    GuardrailSpec {
        enabled: true,
        attach_to: vec![ScpTarget::Root],
        exempt_roles: vec!["OrganizationAccountAccessRole".into(), "BreakGlass".into()],
        disabled: vec![],
        resource_control_policies: true,
    }
}

fn scps(spec: &GuardrailSpec) -> Vec<Scp> {
    let la = LogArchiveSpec::default();
    desired(spec, &Refs { ids: &ids(), log_archive: &la, baselines: &Default::default() })
}

fn observed_converged(spec: &GuardrailSpec) -> ObservedGuardrails {
    let mut have = ObservedGuardrails { scp_type_enabled: true, rcp_type_enabled: true, ..Default::default() };
    for (i, s) in scps(spec).into_iter().enumerate() {
        have.policies.insert(
            s.name.to_string(),
            ObservedScp {
                id: format!("p-{i}"),
                description: s.description.into(),
                document: Some(s.document),
                targets: vec!["r-root".into()],
            },
        );
    }
    have
}

fn changes(spec: &GuardrailSpec, have: &ObservedGuardrails) -> Vec<String> {
    let la = LogArchiveSpec::default();
    let ous = BTreeMap::new();
    let places = Places { root: Some("r-root"), ous: &ous };
    diff(spec, &Refs { ids: &ids(), log_archive: &la, baselines: &Default::default() }, &places, have)
        .into_iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| {
            let ops: Vec<String> = c
                .steps
                .iter()
                .map(|s| match s {
                    Step::Guardrail { op, .. } => format!("{op:?}"),
                    other => format!("{other:?}"),
                })
                .collect();
            format!("{:?} {}: {}", c.action, c.address, ops.join(", "))
        })
        .collect()
}

#[test]
fn three_scps_and_the_rcp_every_scp_deny_exempts_the_access_role_and_all_fit() {
    let all = scps(&spec());
    let mut names: Vec<&str> = POLICIES.iter().map(|p| p.0).collect();
    names.push(perimeter::NAME);
    assert_eq!(all.iter().map(|s| s.name).collect::<Vec<_>>(), names);
    assert_eq!(all.iter().filter(|s| s.kind == PolicyKind::Rcp).count(), 1);
    let rcp = &all[3];
    assert_eq!(rcp.targets, [ScpTarget::Root]);
    for st in rcp.document["Statement"].as_array().unwrap() {
        // What AWS accepts in an RCP (orgs_manage_policies_rcps_syntax.html).
        assert_eq!((&st["Effect"], &st["Principal"]), (&serde_json::json!("Deny"), &serde_json::json!("*")));
        assert!(st.get("NotAction").is_none() && !st["Action"].as_array().unwrap().contains(&serde_json::json!("*")));
    }
    assert!(missing_exemptions(&all, "aws", "OrganizationAccountAccessRole").is_empty());
    for s in &all {
        assert!(size(&s.document) <= MAX_SCP_CHARS, "{} is {} chars", s.name, size(&s.document));
    }
    let logging = all.iter().find(|s| s.name == "sra-guardrails-logging").unwrap();
    let text = logging.document.to_string();
    assert!(text.contains("arn:aws:cloudtrail:us-east-1:111111111111:trail/sra-organization-trail"), "{text}");
    assert!(text.contains("arn:aws:s3:::sra-org-trail-logs-222222222222-us-east-1/*"), "{text}");
}

#[test]
fn removing_the_access_role_exemption_is_detected() {
    let mut s = spec();
    s.exempt_roles = vec!["BreakGlass".into()];
    let missing = missing_exemptions(&scps(&s), "aws", "OrganizationAccountAccessRole");
    assert_eq!(missing.len(), CATALOG.len(), "{missing:?}");
}

#[test]
fn disabled_guardrails_leave_their_statements_out_and_empty_policies_go() {
    let mut s = spec();
    s.disabled = vec!["DenyLeaveOrganization".into(), "ProtectAccessRole".into(), "ProtectMacie".into()];
    let all = scps(&s);
    assert_eq!(all.len(), 3, "two SCPs and the RCP");
    let sec = all.iter().find(|p| p.name == "sra-guardrails-security-services").unwrap();
    assert!(!sec.guardrails.contains(&"ProtectMacie"));
    assert!(!sec.document.to_string().contains("macie2"));
}

#[test]
fn nothing_there_enables_scps_creates_and_attaches() {
    let got = changes(&spec(), &ObservedGuardrails::default());
    assert_eq!(got[0], "Create guardrails.policy_type: EnablePolicyType { root: Known(\"r-root\"), kind: Scp }");
    assert_eq!(got[1], "Create guardrails.rcp_policy_type: EnablePolicyType { root: Known(\"r-root\"), kind: Rcp }");
    assert_eq!(got.len(), 6);
    assert!(got[2].ends_with("Create, Attach { target: Known(\"r-root\"), label: \"Root\" }"), "{got:?}");

    let mut off = spec();
    off.resource_control_policies = false;
    let got = changes(&off, &ObservedGuardrails::default());
    assert_eq!(got.len(), 4, "no RCP, and RCPs are not enabled: {got:?}");
}

#[test]
fn converged_has_no_changes() {
    let s = spec();
    assert_eq!(changes(&s, &observed_converged(&s)), Vec::<String>::new());
}

#[test]
fn detached_edited_or_extended_guardrails_are_drift() {
    let s = spec();
    let mut have = observed_converged(&s);
    have.policies.get_mut("sra-guardrails-logging").unwrap().targets.clear();
    assert_eq!(
        changes(&s, &have),
        ["Update guardrail[\"sra-guardrails-logging\"]: Attach { target: Known(\"r-root\"), label: \"Root\" }"]
    );

    let mut have = observed_converged(&s);
    let doc = have.policies.get_mut("sra-guardrails-organization").unwrap().document.as_mut().unwrap();
    doc["Statement"][0]["Action"] = serde_json::json!("organizations:DescribeOrganization");
    assert_eq!(changes(&s, &have), ["Update guardrail[\"sra-guardrails-organization\"]: Update"]);

    let mut have = observed_converged(&s);
    let doc = have.policies.get_mut("sra-guardrails-security-services").unwrap().document.as_mut().unwrap();
    doc["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
    assert_eq!(changes(&s, &have), ["Update guardrail[\"sra-guardrails-security-services\"]: Update"]);

    let mut have = observed_converged(&s);
    have.policies.get_mut("sra-guardrails-logging").unwrap().targets.push("ou-extra".into());
    assert_eq!(changes(&s, &have), ["Update guardrail[\"sra-guardrails-logging\"]: Detach { target: \"ou-extra\" }"]);
}

#[test]
fn statement_order_is_not_drift() {
    let s = spec();
    let mut have = observed_converged(&s);
    let doc = have.policies.get_mut("sra-guardrails-security-services").unwrap().document.as_mut().unwrap();
    doc["Statement"].as_array_mut().unwrap().reverse();
    assert_eq!(changes(&s, &have), Vec::<String>::new());
}

#[test]
fn over_the_per_target_limit_is_reported() {
    let s = spec();
    let la = LogArchiveSpec::default();
    let ous = BTreeMap::new();
    let places = Places { root: Some("r-root"), ous: &ous };
    let mut have = ObservedGuardrails::default();
    have.attached_counts.insert("r-root".into(), 3);
    let over = over_limit(&s, &Refs { ids: &ids(), log_archive: &la, baselines: &Default::default() }, &places, &have);
    assert_eq!(over, ["Root holds 3 SCPs; sra's would make 6"]);
}
