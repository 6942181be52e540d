//! The command line as users meet it: completions, man page, the plan-file
//! schema, and progress that stays plain when stderr is not a terminal.

use crate::common::{Emulator, MINIMAL, repo, sra_at};
use crate::{common, proxy};

#[test]
fn completions_generate_for_three_shells() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef sra"), ("fish", "complete -c sra")] {
        let out = sra_at("http://127.0.0.1:9", &["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}: {text}");
        for sub in ["validate", "plan", "apply", "show", "permissions", "schema"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let bad = sra_at("http://127.0.0.1:9", &["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1), "an unknown shell is a usage error: exit 1");
}

/// A usage error exits 1, never 2: with `--detailed-exitcode` 2 means "changes
/// present", and a mistyped flag in CI must not read as that. Help still exits 0.
#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let plan = repo().join("plans/minimal.toml");
    let plan = plan.to_str().unwrap();
    for args in [
        vec!["plan", plan, "--format", "yaml"],
        vec!["plan", plan, "--detailed-exitcode", "--no-such-flag"],
        vec!["plan"],
        vec!["no-such-command"],
    ] {
        let out = sra_at("http://127.0.0.1:9", &args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    for args in [vec!["--help"], vec!["plan", "--help"], vec!["--version"]] {
        let out = sra_at("http://127.0.0.1:9", &args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}: help goes to stdout");
    }
}

/// Regions on the command line are checked like the plan file's, before any call:
/// a typo is an error with the code it meant, never a call to a region that does
/// not exist.
#[test]
fn regions_on_the_command_line_are_checked_with_a_did_you_mean() {
    let wire = common::Tripwire::new();
    let plan = repo().join("plans/minimal.toml");
    let plan = plan.to_str().unwrap();
    for (args, wanted) in [
        (vec!["init", "--home-region", "us-est-1"], "did you mean `us-east-1`?"),
        (vec!["init", "--governed-regions", "us-east-1,EU-WEST-1"], "did you mean `eu-west-1`?"),
        (vec!["plan", plan, "--region", "eu-wset-1"], "did you mean `eu-west-1`?"),
    ] {
        let out = sra_at(&wire.url(), &args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("is not an AWS region code") && stderr.contains(wanted), "{args:?}: {stderr}");
    }
    assert_eq!(wire.hits(), 0, "no call was made");
}

/// One man page with every command, its operands and options, and EXIT STATUS;
/// no reference to a page that is not installed (sra-plan(1) and the like).
#[test]
fn man_page_is_one_page_with_every_command_and_exit_status() {
    let out = sra_at("http://127.0.0.1:9", &["man"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(".TH sra"), "{}", &text[..200.min(text.len())]);
    for sub in ["validate", "plan", "apply", "show", "init", "schema", "completions", "permissions"] {
        assert!(text.contains(&format!(".SS \"sra {sub} ")), "man page lacks {sub}");
    }
    assert!(!text.contains("(1)"), "a reference to another man page");
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT"] {
        assert!(text.contains(section), "man page lacks {section}");
    }
    // Operands are described, not only named.
    assert!(text.contains("The plan file (TOML)") && text.contains("A plan saved by"), "operands undescribed");
}

/// The AWS options belong to the commands that call AWS: help of an offline
/// command does not offer them, and giving one there is a usage error, not
/// silently ignored. Before the command (`sra -v plan`) they still work.
#[test]
fn aws_options_are_offered_only_where_aws_is_called() {
    let plan = repo().join("plans/minimal.toml");
    let plan = plan.to_str().unwrap();
    for (command, offered) in
        [("validate", false), ("show", false), ("schema", false), ("plan", true), ("apply", true), ("init", true)]
    {
        let out = sra_at("http://127.0.0.1:9", &[command, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in ["--profile", "--region", "--verbose"] {
            assert_eq!(help.contains(flag), offered, "{command} --help and {flag}: {help}");
        }
    }
    for args in [
        vec!["--profile", "x", "validate", plan],
        vec!["-v", "schema"],
        vec!["validate", plan, "--region", "us-east-1"],
    ] {
        let out = sra_at("http://127.0.0.1:9", &args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing runs");
    }
    let out = sra_at("http://127.0.0.1:9", &["-v", "validate", plan]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("makes no AWS call"));
}

#[test]
fn schema_command_prints_the_checked_in_schema() {
    let out = sra_at("http://127.0.0.1:9", &["schema"]).output().unwrap();
    assert!(out.status.success());
    let on_disk = std::fs::read_to_string(repo().join("docs/plan-file.schema.json")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), on_disk);
    let example = std::fs::read_to_string(repo().join("plans/example.toml")).unwrap();
    assert!(example.starts_with("#:schema ../docs/plan-file.schema.json"), "editors find the schema");
}

/// Lines of stderr about account creation, with the numbers that vary taken out
/// and repeats folded: what a CI log shows while sra waits.
fn account_lines(stderr: &str) -> String {
    let digits = |s: &str| {
        let mut out = String::new();
        for c in s.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }) {
            if !(c == '#' && out.ends_with('#')) {
                out.push(c);
            }
        }
        out
    };
    let mut out: Vec<String> = Vec::new();
    for line in stderr.lines().filter(|l| l.starts_with("account.")) {
        let line = match line.find(" into ou-") {
            Some(i) => format!("{} into [ou]", &line[..i]),
            None => line.to_string(),
        };
        let mut line = digits(&line);
        if let Some(i) = line.find("(car-") {
            let j = line[i..].find(')').map_or(line.len(), |j| i + j + 1);
            line.replace_range(i..j, "(request)");
        }
        if out.last() != Some(&line) {
            out.push(line);
        }
    }
    out.join("\n")
}

#[test]
fn progress_is_plain_lines_when_stderr_is_not_a_terminal() {
    let emu = Emulator::start();
    emu.configure(r#"{"create_account_delay_seconds": 1.5}"#);
    let plan = emu.plan_file(MINIMAL);
    let run = emu.run(&["apply", plan.to_str().unwrap(), "--auto-approve"]);
    run.expect_code(0);
    assert!(!run.stderr.contains('\u{1b}'), "no escape sequences: {:?}", run.stderr);
    assert!(!run.stderr.contains('\r'), "no carriage returns: {:?}", run.stderr);
    // The two accounts are made side by side: each one's lines in order, both
    // requests sent before either account is ready.
    let lines = account_lines(&run.stderr);
    for (role, name, email) in [
        ("security_tooling", "Security Tooling", "aws+security-tooling@example.com"),
        ("log_archive", "Log Archive", "aws+log-archive@example.com"),
    ] {
        let mut own: Vec<&str> = lines.lines().filter(|l| l.starts_with(&format!("account.{role}: "))).collect();
        own.dedup();
        assert_eq!(
            own,
            [
                format!("account.{role}: creating account \"{name}\" <{email}>"),
                format!("account.{role}: waiting for AWS to create the account (request): IN_PROGRESS, #s elapsed"),
                format!("account.{role}: created account # in #s"),
                format!("account.{role}: moving the account into its OU"),
            ],
            "{lines}"
        );
    }
    let first_created = lines.lines().position(|l| l.contains(": created account")).unwrap();
    assert_eq!(lines.lines().take(first_created).filter(|l| l.contains(": creating account")).count(), 2, "{lines}");
}

/// A read that takes a while says how far it got: where stderr is not a
/// terminal, a plain line every 10 seconds (none for a short read).
#[test]
fn a_long_read_reports_progress_every_ten_seconds() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL);
    emu.run(&["apply", plan.to_str().unwrap(), "--auto-approve"]).expect_code(0);
    let quick = emu.run(&["plan", plan.to_str().unwrap()]);
    assert!(!quick.stderr.contains("calls answered"), "{}", quick.stderr);

    let upstream = emu.url().trim_start_matches("http://").to_string();
    let faults = proxy::Faults { latency: std::time::Duration::from_secs(4), ..Default::default() };
    let slow = proxy::Proxy::start(&upstream, faults);
    let run = common::Run::from(sra_at(&slow.url(), &["plan", plan.to_str().unwrap()]).output().unwrap());
    run.expect_code(0);
    let ticks: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("reading live state: ")).collect();
    assert!(!ticks.is_empty(), "{}", run.stderr);
    assert!(ticks[0].ends_with("calls answered in 10s"), "{ticks:?}");
}
