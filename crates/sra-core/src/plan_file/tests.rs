use super::*;
use crate::diag::line_col;

const MINIMAL: &str = r#"version = 1
[organization]
home_region = "us-east-1"
[accounts.security_tooling]
name = "Security Tooling"
email = "aws+security-tooling@example.com"
[accounts.log_archive]
name = "Log Archive"
email = "aws+log-archive@example.com"
"#;

/// Parse `src` and describe each problem as `line:col key: message | hint`.
fn problems(src: &str) -> Vec<String> {
    match parse(src) {
        Ok(_) => vec![],
        Err(diags) => diags
            .iter()
            .map(|d| {
                let (l, c) = line_col(src, d.span.start);
                format!("{l}:{c} {}: {} | {}", d.key, d.message, d.hint.clone().unwrap_or_default())
            })
            .collect(),
    }
}

/// Assert that `src` yields exactly problems containing each of `expect`, in order.
fn check(src: &str, expect: &[&str]) {
    let got = problems(src);
    assert_eq!(got.len(), expect.len(), "problems: {got:#?}");
    for (g, e) in got.iter().zip(expect) {
        assert!(g.contains(e), "expected {e:?} in {g:?}\nall: {got:#?}");
    }
}

#[test]
fn minimal_plan_gets_defaults() {
    let d = parse(MINIMAL).unwrap();
    assert_eq!(d.home_region, "us-east-1");
    assert_eq!(d.governed_regions, ["us-east-1"]);
    assert_eq!(d.access_role, "OrganizationAccountAccessRole");
    let st = d.account(AccountRole::SecurityTooling);
    assert_eq!(st.ou.to_string(), "Security");
    assert_eq!(st.tags.get("sra:account").unwrap(), "security-tooling");
    assert_eq!(d.ou_paths().len(), 1);
}

#[test]
fn shipped_plans_are_valid() {
    for path in ["plans/example.toml", "plans/minimal.toml"] {
        let src = std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(problems(&src), Vec::<String>::new(), "{path}");
    }
}

#[test]
fn nested_ou_paths_and_tags() {
    let src = MINIMAL.replace(
        "name = \"Log Archive\"",
        "name = \"Log Archive\"\nou = \"Infra/Logs\"\ntags = { team = \"platform\" }",
    );
    let d = parse(&src).unwrap();
    let la = d.account(AccountRole::LogArchive);
    assert_eq!(la.ou.to_string(), "Infra/Logs");
    assert_eq!(la.tags.get("team").unwrap(), "platform");
    let paths: Vec<String> = d.ou_paths().iter().map(|p| p.to_string()).collect();
    assert_eq!(paths, ["Infra", "Security", "Infra/Logs"]);
}

#[test]
fn malformed_toml_is_located() {
    check("version = 1\n[organization\n", &["2:14 : invalid TOML: unclosed table"]);
}

#[test]
fn all_problems_are_reported_at_once() {
    let src = r#"version = 1
[organization]
home_region = "us-esat-1"
governed_regions = ["us-west-2", "us-west-2", 5]
acess_role = "X"
[accounts.security_tooling]
name = ""
emial = "a@b.c"
[accounts.log_archive]
name = "Log Archive"
email = "not-an-email"
ou = "A//B"
"#;
    check(
        src,
        &[
            "3:15 organization.home_region: `us-esat-1` is not an AWS region | did you mean `us-east-1`?",
            "4:20 organization.governed_regions: the home region `us-esat-1` is not among",
            "4:34 organization.governed_regions: region `us-west-2` is listed twice",
            "4:47 organization.governed_regions: `organization.governed_regions` must hold only strings",
            "5:1 organization.acess_role: unknown key `acess_role` in [organization] | did you mean `access_role`?",
            "6:1 accounts.security_tooling.email: missing `accounts.security_tooling.email`",
            "7:8 accounts.security_tooling.name: `` is not a valid account name",
            "8:1 accounts.security_tooling.emial: unknown key `emial`",
            "11:9 accounts.log_archive.email: `not-an-email` is not a valid email",
            "12:6 accounts.log_archive.ou: `A//B` is not a valid OU path",
        ],
    );
}

#[test]
fn version_problems() {
    check(&MINIMAL.replace("version = 1", "version = 2"), &["1:11 version: unsupported plan-file version 2"]);
    check(
        &MINIMAL.replace("version = 1", "version = \"1\""),
        &["1:11 version: `version` must be an integer, found string"],
    );
    check(&MINIMAL.replace("version = 1\n", ""), &["1:1 version: missing `version`"]);
}

#[test]
fn duplicate_emails_differ_only_in_case() {
    let src = MINIMAL.replace("aws+log-archive@example.com", "AWS+Security-Tooling@example.com");
    check(
        &src,
        &[
            "accounts.log_archive.email: email `AWS+Security-Tooling@example.com` is already used by accounts.security_tooling",
        ],
    );
}

#[test]
fn missing_sections() {
    check("version = 1\n", &["missing section [organization]", "missing sections [accounts.security_tooling]"]);
    let src = MINIMAL
        .replace("[accounts.log_archive]\nname = \"Log Archive\"\nemail = \"aws+log-archive@example.com\"\n", "");
    check(&src, &["missing section [accounts.log_archive]"]);
}

#[test]
fn unknown_account_and_section() {
    let src = format!("{MINIMAL}[accounts.audit]\nname = \"x\"\n[sevices]\n");
    check(
        &src,
        &["accounts.audit: unknown key `audit` in [accounts]", "sevices: unknown key `sevices` at the top level"],
    );
}

#[test]
fn wrong_types() {
    let src = MINIMAL.replace("name = \"Log Archive\"", "name = 7\ntags = { a = 1 }");
    check(
        &src,
        &[
            "accounts.log_archive.name` must be a string, found integer",
            "accounts.log_archive.tags.a` must be a string",
        ],
    );
    check(
        &MINIMAL.replace("[organization]\n", "organization = 3\n[x]\n"),
        &["2:16 organization: `organization` must be a table", "3:2 x: unknown key `x` at the top level"],
    );
}

#[test]
fn reserved_tags_and_bad_role() {
    let src = MINIMAL
        .replace("home_region = \"us-east-1\"", "home_region = \"us-east-1\"\naccess_role = \"bad role\"")
        .replace(
            "name = \"Log Archive\"",
            "name = \"Log Archive\"\ntags = { \"aws:x\" = \"1\", \"sra:account\" = \"y\" }",
        );
    check(&src, &["not a valid IAM role name", "reserved by AWS", "is set by sra"]);
}

#[test]
fn empty_or_foreign_governed_regions() {
    let src = MINIMAL.replace("home_region = \"us-east-1\"", "home_region = \"us-east-1\"\ngoverned_regions = []");
    check(&src, &["governed_regions` is empty"]);
    let src = MINIMAL
        .replace("home_region = \"us-east-1\"", "home_region = \"us-east-1\"\ngoverned_regions = [\"eu-west-1\"]");
    check(&src, &["the home region `us-east-1` is not among the governed regions | add \"us-east-1\""]);
}

#[test]
fn email_rules() {
    for ok in ["a@b.co", "aws+security-tooling@example.com"] {
        assert!(valid_email(ok), "{ok}");
    }
    for bad in ["a@b.c".repeat(20).as_str(), "ab@c", "a b@c.de", "@b.com", "a@.com", "a@b@c.de", "abcdef"] {
        assert!(!valid_email(bad), "{bad}");
    }
}

#[test]
fn guardrails_defaults_and_choices() {
    let d = parse(MINIMAL).unwrap();
    assert!(d.guardrails.enabled);
    assert_eq!(d.guardrails.attach_to, [crate::model::ScpTarget::Root]);
    assert_eq!(d.guardrails.exempt_roles, ["OrganizationAccountAccessRole"]);
    let src = format!(
        "{MINIMAL}[log_bucket]\nbreak_glass_role = \"BreakGlass\"\n[guardrails]\nattach_to = [\"Root\", \"Workloads/Prod\"]\ndisabled = [\"ProtectMacie\"]\n"
    );
    let d = parse(&src).unwrap();
    assert_eq!(d.guardrails.exempt_roles, ["OrganizationAccountAccessRole", "BreakGlass"]);
    assert_eq!(d.guardrails.attach_to.len(), 2);
    assert_eq!(d.guardrail_ous()[0].to_string(), "Workloads/Prod");
}

#[test]
fn guardrail_problems() {
    let src = format!("{MINIMAL}[guardrails]\ndisabled = [\"ProtectMacei\"]\nattach_to = [\"A//B\"]\n");
    check(&src, &["did you mean `ProtectMacie`?", "`A//B` is not \"Root\" or an OU path"]);
    let src = format!("{MINIMAL}[guardrails]\nexempt_roles = [\"BreakGlass\"]\n");
    check(
        &src,
        &[
            "guardrails.exempt_roles: the guardrails would deny the role sra works through (OrganizationAccountAccessRole)",
        ],
    );
}

#[test]
fn oversize_guardrail_policy_is_named() {
    let roles: Vec<String> =
        (0..14).map(|i| format!("\"OrganizationAccountAccessRole-with-a-long-name-{i:02}-abcdefghij\"")).collect();
    let src =
        format!("{MINIMAL}[guardrails]\nexempt_roles = [\"OrganizationAccountAccessRole\", {}]\n", roles.join(", "));
    let got = problems(&src);
    assert!(!got.is_empty(), "expected an over-size error");
    assert!(got.iter().all(|p| p.contains("AWS allows 5120")), "{got:#?}");
    assert!(got.iter().any(|p| p.contains("the guardrail policy sra-guardrails-logging would be")), "{got:#?}");
    assert!(
        got.iter().any(|p| p.contains("it holds ProtectOrganizationTrail, ProtectLogBuckets, ProtectTrailKey")),
        "{got:#?}"
    );
}

/// The loader never panics, whatever it is given: the shipped plans mutated many
/// thousand ways (a fixed seed, so a failure replays), plus random bytes.
#[test]
fn mutated_plan_files_never_panic() {
    let seeds = [
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../plans/example.toml")).unwrap(),
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../plans/minimal.toml")).unwrap(),
    ];
    let mut state: u64 = _seed();
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: Vec<char> = "[]{}=\"'\\.,#\n \t0123456789-_:/@abcdefxyzé\u{0}\u{7f}".chars().collect();
    for i in 0..4000 {
        let mut text: Vec<char> = seeds[i % 2].chars().collect();
        for _ in 0..(1 + next() % 6) {
            let at = (next() as usize) % (text.len() + 1);
            match next() % 3 {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 => text.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                _ if at < text.len() => {
                    let len = ((next() as usize) % 40).min(text.len() - at);
                    let chunk: Vec<char> = text[at..at + len].to_vec();
                    let to = (next() as usize) % (text.len() + 1);
                    for (k, c) in chunk.into_iter().enumerate() {
                        text.insert((to + k).min(text.len()), c);
                    }
                }
                _ => {}
            }
        }
        let text: String = text.into_iter().collect();
        // Parsing, and rendering whatever problems it finds, must not panic.
        let result = std::panic::catch_unwind(|| {
            if let Err(diags) = parse(&text) {
                crate::diag::render("p.toml", &text, &diags);
            }
        });
        assert!(result.is_ok(), "the loader panicked on:\n{text}");
    }
}

const fn _seed() -> u64 {
    0x5eed_0f5a_b007_0001
}

/// The digest names the plan's meaning: comments, formatting and key order do not
/// change it, a value does, and it does not depend on how Rust prints the model.
#[test]
fn digest_is_the_meaning_not_the_text() {
    let digest = |src: &str| parse(src).unwrap().digest();
    let base = digest(MINIMAL);
    let reordered = r#"# the same plan, written differently
version = 1
[accounts.log_archive]
email = "aws+log-archive@example.com"   # comment
name  = "Log Archive"
[accounts.security_tooling]
email = "aws+security-tooling@example.com"
name = "Security Tooling"
[organization]
home_region = "us-east-1"
"#;
    assert_eq!(digest(reordered), base);
    assert_ne!(digest(&MINIMAL.replace("Log Archive", "Log Archive 2")), base);
    assert_ne!(digest(&format!("{MINIMAL}[services.macie]\nenabled = false\n")), base);
    assert_eq!(base.len(), 64);
    assert!(base.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn service_lists_name_their_bad_element_located_with_a_suggestion() {
    let src = format!(
        "{MINIMAL}[services.guardduty]\nruntime_monitoring_agents = [\"eks\", \"ecs_fargat\"]\nfeatures = [\"S3_DATA_EVENT\"]\n[services.inspector]\nscans = [\"ec3\"]\n"
    );
    check(
        &src,
        &[
            "11:37 services.guardduty.runtime_monitoring_agents: `ecs_fargat` is not a Runtime Monitoring agent GuardDuty manages | did you mean `ecs_fargate`?",
            "12:13 services.guardduty.features: `S3_DATA_EVENT` is not a GuardDuty protection feature | did you mean `S3_DATA_EVENTS`?",
            "14:10 services.inspector.scans: `ec3` is not an Inspector scan type",
        ],
    );
    let ok =
        parse(&format!("{MINIMAL}[services.guardduty]\nruntime_monitoring_agents = [\"ec2\", \"ec2\"]\n")).unwrap();
    assert_eq!(ok.services.guardduty.runtime_agents, ["ec2"], "each kept once");
    assert_eq!(parse(MINIMAL).unwrap().services.guardduty.runtime_agents, ["eks", "ecs_fargate", "ec2"]);
}

#[test]
fn log_readers_and_the_plan_role() {
    let src = format!(
        "{MINIMAL}\n[log_bucket]\nreaders = [\"arn:aws:iam::123456789012:role/SecurityAudit\", \"SecurityAudit\", \"arn:aws:iam::12345:root\"]\n"
    );
    let got = problems(&src);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        got.iter().all(|p| p.contains("log_bucket.readers: `") && p.contains("is not an IAM principal ARN")),
        "{got:#?}"
    );
    let d = parse(&format!("{MINIMAL}\n[log_bucket]\nreaders = []\n")).unwrap();
    assert_eq!(d.log_archive.readers, Some(vec![]), "an empty list means nobody");
    assert_eq!(parse(MINIMAL).unwrap().log_archive.readers, None, "by default Security Tooling");

    let src = MINIMAL.replace(
        "home_region = \"us-east-1\"",
        "home_region = \"us-east-1\"\nplan_role = \"OrganizationAccountAccessRole\"",
    );
    check(&src, &["the plan role cannot be the access role"]);
    let src =
        MINIMAL.replace("home_region = \"us-east-1\"", "home_region = \"us-east-1\"\nplan_role = \"SRAPlanReadOnly\"");
    assert_eq!(parse(&src).unwrap().plan_role.as_deref(), Some("SRAPlanReadOnly"));
    // Absent, they are absent from the serialized model: the digests of plans
    // written before them (saved plans, the root's applied-digest tag) still hold.
    let model = serde_json::to_string(&parse(MINIMAL).unwrap()).unwrap();
    assert!(!model.contains("plan_role") && !model.contains("readers"), "{model}");
}

#[test]
fn baselines_default_on_and_their_problems_are_located() {
    let d = parse(MINIMAL).unwrap();
    assert!(d.baselines.enabled && d.baselines.ebs_default_encryption && d.baselines.password_policy);
    assert_eq!(d.baselines.security_contact, None);
    let model = serde_json::to_string(&d).unwrap();
    assert!(!model.contains("baselines"), "the default keeps older plan files' digests: {model}");

    let src = format!(
        "{MINIMAL}[baselines]\nebs_default_encryption = false\nexclude_ous = [\"Sandbox\", \"Workloads/Dev\"]\n\
         [baselines.security_contact]\nname = \"Security Operations\"\ntitle = \"Security team\"\n\
         email = \"security@example.com\"\nphone = \"+1-555-0100\"\n"
    );
    let d = parse(&src).unwrap();
    assert!(!d.baselines.ebs_default_encryption);
    assert_eq!(d.baselines.exclude_ous.iter().map(|p| p.to_string()).collect::<Vec<_>>(), ["Sandbox", "Workloads/Dev"]);
    assert_eq!(d.baselines.security_contact.as_ref().unwrap().phone, "+1-555-0100");

    let src = format!(
        "{MINIMAL}[baselines]\nebs = true\nexclude_ous = [\"/\"]\n[baselines.security_contact]\nname = \"Sec\"\n\
         title = \"Security team\"\nemail = \"not-an-address\"\nphone = \"call me\"\n"
    );
    let got = problems(&src);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(got[0].starts_with("11:1 baselines.ebs: unknown key `ebs`"), "{got:#?}");
    assert!(got[1].contains("baselines.exclude_ous: `/` is not a valid OU path"), "{got:#?}");
    assert!(
        got[2].contains("baselines.security_contact.email: `not-an-address` is not a valid contact email"),
        "{got:#?}"
    );
    assert!(
        got[3].contains("baselines.security_contact.phone: `call me`") && got[3].contains("+1-555-0100"),
        "{got:#?}"
    );
    check(
        &format!("{MINIMAL}[baselines.security_contact]\nname = \"Sec\"\n"),
        &[
            "missing `baselines.security_contact.title`",
            "missing `baselines.security_contact.email`",
            "missing `baselines.security_contact.phone`",
        ],
    );
}

#[test]
fn posture_critical_ous_are_paths_and_the_default_keeps_the_digest() {
    let d = parse(MINIMAL).unwrap();
    assert!(d.posture.critical_ous.is_empty());
    let model = serde_json::to_string(&d).unwrap();
    assert!(!model.contains("posture"), "the default keeps older plan files' digests: {model}");
    let d =
        parse(&format!("{MINIMAL}[posture]\ncritical_ous = [\"Workloads/Prod\", \"Workloads/Prod\", \"Payments\"]\n"))
            .unwrap();
    assert_eq!(
        d.posture.critical_ous.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        ["Workloads/Prod", "Payments"]
    );
    let got = problems(&format!("{MINIMAL}[posture]\ncritical_ous = [\"//\"]\nrank = 1\n"));
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got.iter().any(|p| p.contains("posture.critical_ous: `//` is not a valid OU path")), "{got:#?}");
    assert!(got.iter().any(|p| p.contains("posture.rank: unknown key `rank`")), "{got:#?}");
}
