use super::*;
use crate::model::{LogArchiveSpec, ScpTarget};

fn ids() -> Ids {
    Ids::example()
}

struct Setup {
    spec: GuardrailSpec,
    la: LogArchiveSpec,
    ids: Ids,
    security: OuPath,
}

/// plans/example.toml's shape: break-glass role, Config on, guardrails on the root.
fn example() -> Setup {
    let la =
        LogArchiveSpec { break_glass_role: Some("SRABreakGlass".into()), config_delivery: true, ..Default::default() };
    Setup {
        spec: GuardrailSpec {
            enabled: true,
            attach_to: vec![ScpTarget::Root],
            exempt_roles: vec!["OrganizationAccountAccessRole".into(), "SRABreakGlass".into()],
            disabled: vec![],
            resource_control_policies: true,
        },
        la,
        ids: ids(),
        security: OuPath::parse("Security").unwrap(),
    }
}

fn world(s: &Setup) -> World<'_> {
    World {
        guardrails: &s.spec,
        log_archive: &s.la,
        ids: &s.ids,
        security_tooling_ou: &s.security,
        log_archive_ou: &s.security,
        baselines: Default::default(),
    }
}

fn run(s: &Setup) -> Proof {
    prove(&world(s))
}

fn failures(p: &Proof) -> Vec<String> {
    p.failed().map(|r| format!("{}: {}", r.name, r.note)).collect()
}

#[test]
fn the_catalog_reads_has_at_least_forty_cases_and_unique_names() {
    let c = catalog();
    let mut names: Vec<&str> = c.attack.iter().chain(&c.required).map(|x| x.name.as_str()).collect();
    assert!(c.attack.len() + c.required.len() >= 40, "{}", names.len());
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "two cases share a name");
    for case in &c.attack {
        assert!(!case.denied_by.is_empty(), "{} says nothing about what denies it", case.name);
    }
}

#[test]
fn the_example_plan_denies_every_attack_and_allows_every_required_request() {
    let p = run(&example());
    assert_eq!(failures(&p), Vec::<String>::new());
    assert_eq!(p.count("attack", "not guarded"), 0);
    assert!(p.count("attack", "denied") >= 55, "{}", p.summary());
    assert!(p.count("required", "allowed") >= 20, "{}", p.summary());
}

#[test]
fn a_minimal_plan_without_break_glass_or_config_still_holds_and_says_what_does_not_apply() {
    let mut s = example();
    s.la.break_glass_role = None;
    s.la.config_delivery = false;
    s.spec.exempt_roles = vec!["OrganizationAccountAccessRole".into()];
    s.ids.key_arn = None;
    s.ids.log_archive = None;
    s.ids.security_tooling = None;
    let p = run(&s);
    assert_eq!(failures(&p), Vec::<String>::new());
    assert!(p.count("attack", "not applicable") >= 3);
    assert!(p.rows.iter().any(|r| r.name.contains("Log Archive's root user deletes") && r.outcome == "denied"));
}

#[test]
fn guardrails_on_ous_leave_the_security_ou_to_the_bucket_and_key_policies() {
    let mut s = example();
    s.spec.attach_to =
        vec![ScpTarget::Ou(OuPath::parse("Workloads").unwrap()), ScpTarget::Ou(OuPath::parse("Sandbox").unwrap())];
    let p = run(&s);
    assert_eq!(failures(&p), Vec::<String>::new());
    let row = |name: &str| p.rows.iter().find(|r| r.name == name).unwrap().clone();
    // Defence in depth: the key policy still denies it without the SCP.
    let key = row("a Log Archive administrator schedules the trail key's deletion");
    assert_eq!(
        (key.outcome.as_str(), key.by.as_slice()),
        ("denied", &["key policy trail key policy DenyKeyTampering".to_string()][..])
    );
    // Nothing but an SCP guards this one: reported, not hidden.
    let pab = row("a Log Archive administrator turns off the account's S3 Block Public Access");
    assert_eq!(pab.outcome, "not guarded", "{pab:?}");
    assert!(p.summary().contains("not guarded by choice"), "{}", p.summary());
}

#[test]
fn exempting_roles_without_the_break_glass_role_locks_it_out_and_fails_naming_the_case() {
    let mut s = example();
    s.spec.exempt_roles = vec!["OrganizationAccountAccessRole".into()];
    let f = failures(&run(&s));
    assert_eq!(
        f,
        [
            "the break-glass role deletes a log file in an emergency: must be allowed, but is denied by scp sra-guardrails-logging ProtectLogBuckets",
            "the break-glass role changes the log bucket's policy: must be allowed, but is denied by scp sra-guardrails-logging ProtectLogBuckets",
        ]
    );
}

/// The holes of the guardrails before this catalog, rebuilt: every exempt role
/// exempt in every account, and ProtectAccessRole on the access role only. The
/// proof must catch them.
#[test]
fn the_old_exemption_in_every_account_is_caught() {
    let s = example();
    let world = world(&s);
    let (ids, mut docs) = documents(&world);
    for scp in &mut docs.scps {
        for st in scp.document["Statement"].as_array_mut().unwrap() {
            st["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = serde_json::json!([
                "arn:aws:iam::*:role/OrganizationAccountAccessRole",
                "arn:aws:iam::*:role/SRABreakGlass"
            ]);
        }
    }
    let f = failures(&prove_against(&world, &ids, &docs));
    assert!(f.iter().any(|x| x.starts_with("a role named like the break-glass role, outside Log Archive, deletes the GuardDuty detector: must be denied by scp:ProtectGuardDuty, but it is allowed")), "{f:#?}");
    assert!(
        f.iter()
            .any(|x| x
                .starts_with("a role named like the break-glass role, outside Log Archive, leaves the organization")),
        "{f:#?}"
    );
}

/// Mutation test: take each statement out of each policy in turn; some case must
/// notice, or the statement is dead and should go.
#[test]
fn every_statement_of_every_policy_is_needed_by_some_case() {
    let s = example();
    let world = world(&s);
    let (ids, docs) = documents(&world);
    let baseline = prove_against(&world, &ids, &docs);
    assert_eq!(failures(&baseline), Vec::<String>::new());
    let mut dead = Vec::new();
    let mut tried = 0;
    let mut mutate = |label: String, f: &dyn Fn(&mut Documents)| {
        let mut d = docs.clone();
        f(&mut d);
        tried += 1;
        if prove_against(&world, &ids, &d).failed().count() == 0 {
            dead.push(label);
        }
    };
    for (si, scp) in docs.scps.iter().enumerate() {
        for (i, st) in scp.document["Statement"].as_array().unwrap().iter().enumerate() {
            mutate(format!("{} {}", scp.name, st["Sid"]), &|d: &mut Documents| {
                d.scps[si].document["Statement"].as_array_mut().unwrap().remove(i);
            });
        }
    }
    for (bi, (name, doc)) in docs.buckets.iter().enumerate() {
        for (i, st) in doc["Statement"].as_array().unwrap().iter().enumerate() {
            mutate(format!("{name} {}", st["Sid"]), &|d: &mut Documents| {
                d.buckets[bi].1["Statement"].as_array_mut().unwrap().remove(i);
            });
        }
    }
    for (i, st) in docs.key.as_ref().unwrap()["Statement"].as_array().unwrap().iter().enumerate() {
        mutate(format!("key {}", st["Sid"]), &|d: &mut Documents| {
            d.key.as_mut().unwrap()["Statement"].as_array_mut().unwrap().remove(i);
        });
    }
    assert_eq!(tried, 38, "statements tried: SCPs 14, RCP 2, bucket policies 9 + 5, key policy 8");
    assert_eq!(dead, Vec::<String>::new(), "statements no case needs");
}

/// Every case's `needs` is one the proof knows (it stops at an unknown one).
#[test]
fn every_need_is_known() {
    let known = [
        "config",
        "baselines.ebs_default_encryption",
        "baselines.s3_block_public_access",
        "baselines.password_policy",
        "baselines.security_contact",
        "baselines.config_recorders",
        "without baselines.config_recorders",
    ];
    let c = catalog();
    let unknown: Vec<&str> =
        c.attack.iter().chain(&c.required).filter_map(|x| x.needs.as_deref()).filter(|n| !known.contains(n)).collect();
    assert_eq!(unknown, Vec::<&str>::new());
}

/// docs/guardrails.md shows the catalog: every case, by name.
#[test]
fn the_docs_list_every_case() {
    let docs = include_str!("../../../../../../docs/guardrails.md");
    let c = catalog();
    let missing: Vec<&str> =
        c.attack.iter().chain(&c.required).map(|x| x.name.as_str()).filter(|n| !docs.contains(n)).collect();
    assert_eq!(missing, Vec::<&str>::new(), "regenerate the catalog table in docs/guardrails.md");
}

/// Without the RCP, the bucket and key policies still deny outsiders: the cases
/// hold on the layer that is left, and nothing fails.
#[test]
fn without_the_resource_control_policy_the_bucket_and_key_policies_still_hold() {
    let mut s = example();
    s.spec.resource_control_policies = false;
    let p = run(&s);
    assert_eq!(failures(&p), Vec::<String>::new());
    let row = p.rows.iter().find(|r| r.name == "someone outside the organization reads the logs").unwrap();
    assert_eq!(row.outcome, "denied");
    assert!(row.by.iter().all(|b| !b.starts_with("rcp")), "{row:?}");
}

/// The shipped plan files, and one with a break-glass role and guardrails on
/// several OUs, as `sra plan` reads them: no case fails.
#[test]
fn the_shipped_plans_and_a_break_glass_plan_on_several_ous_hold() {
    let example = include_str!("../../../../../../plans/example.toml");
    let minimal = include_str!("../../../../../../plans/minimal.toml");
    let several = example
        .replace("# break_glass_role = \"SRABreakGlass\"", "break_glass_role = \"SRABreakGlass\"")
        .replace("attach_to = [\"Root\"]", "attach_to = [\"Security\", \"Workloads\", \"Sandbox\"]")
        .replace(
            "exempt_roles = [\"OrganizationAccountAccessRole\"]",
            "exempt_roles = [\"OrganizationAccountAccessRole\", \"SRABreakGlass\"]",
        );
    assert!(several.contains("break_glass_role = \"SRABreakGlass\"") && several.contains("\"Sandbox\"]"));
    for (name, text) in [("example", example), ("minimal", minimal), ("break-glass on OUs", several.as_str())] {
        let d = crate::plan_file::parse(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let ids = Ids { access_role: d.access_role.clone(), ..ids() };
        let p = prove(&World {
            guardrails: &d.guardrails,
            log_archive: &d.log_archive,
            ids: &ids,
            security_tooling_ou: &d.account(crate::model::AccountRole::SecurityTooling).ou,
            log_archive_ou: &d.account(crate::model::AccountRole::LogArchive).ou,
            baselines: d.baselines.clone(),
        });
        assert_eq!(failures(&p), Vec::<String>::new(), "{name}");
        assert!(p.count("attack", "denied") >= 50, "{name}: {}", p.summary());
    }
}
