//! Bad input never panics and never reaches AWS: every broken plan file in
//! tests/bad_plans/ (its first line says what the message must contain) fails
//! `validate` and `plan` with exit 1, a located message and a hint; broken
//! environments fail with exit 1 and a hint; credentials never appear in output.

use crate::common;
use crate::common::{Emulator, MINIMAL, Run, Tripwire, sra_at};

/// The two kinds of file mixed up: a saved plan (JSON) given where the plan file
/// (TOML) belongs, and the other way round, name the command to use in one error
/// instead of a cascade of syntax errors, and call no AWS API.
#[test]
fn a_saved_plan_and_a_plan_file_mixed_up_name_the_command_to_use() {
    let wire = Tripwire::new();
    let dir = tempfile::tempdir().unwrap();
    let saved = common::write_temp(dir.path(), "plan.json", "{\n  \"format_version\": 2,\n  \"changes\": []\n}\n");
    let saved = saved.to_str().unwrap();
    for cmd in ["validate", "plan"] {
        let run = Run::from(sra_at(&wire.url(), &[cmd, saved]).output().unwrap());
        assert_eq!(run.code, 1, "{cmd}: {}", run.stderr);
        assert!(run.stderr.contains("is a saved plan (JSON), not a plan file (TOML)"), "{cmd}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("sra apply {saved}")), "{cmd}: {}", run.stderr);
        assert_eq!(run.stderr.matches("error").count(), 1, "{cmd}: one error, not a cascade\n{}", run.stderr);
    }
    let toml = common::write_temp(dir.path(), "org.toml", MINIMAL);
    let toml = toml.to_str().unwrap();
    let run = Run::from(sra_at(&wire.url(), &["show", toml]).output().unwrap());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is a plan file (TOML), not a saved plan (JSON)"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("sra plan {toml}")), "{}", run.stderr);
    assert_eq!(wire.hits(), 0, "no AWS call");
}

#[test]
fn every_broken_plan_file_is_refused_located_with_a_hint_and_no_aws_call() {
    let wire = Tripwire::new();
    let dir = common::repo().join("tests/bad_plans");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} files", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("first line: # expect: ...");
        for cmd in ["validate", "plan"] {
            let run = Run::from(sra_at(&wire.url(), &[cmd, path.to_str().unwrap()]).output().unwrap());
            let name = path.file_name().unwrap().to_string_lossy();
            assert_eq!(run.code, 1, "{cmd} {name}: exit 1\n{}", run.stderr);
            assert!(
                !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
                "{cmd} {name}: no panic\n{}",
                run.stderr
            );
            assert!(run.stderr.contains(expect), "{cmd} {name}: expected {expect:?} in\n{}", run.stderr);
            let located = format!("{}:", path.display());
            assert!(run.stderr.contains(&located), "{cmd} {name}: located\n{}", run.stderr);
            assert!(run.stderr.contains("hint:"), "{cmd} {name}: a hint\n{}", run.stderr);
            assert!(run.stdout.is_empty(), "{cmd} {name}: nothing on stdout\n{}", run.stdout);
        }
    }
    assert_eq!(wire.hits(), 0, "no AWS call for an invalid plan file");
}

#[test]
fn a_missing_plan_file_is_an_error_with_a_hint() {
    let run = Run::from(sra_at("http://127.0.0.1:9", &["plan", "/nonexistent/plan.toml"]).output().unwrap());
    run.expect_code(1);
    assert!(run.stderr.contains("cannot read plan file /nonexistent/plan.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn broken_environments_fail_with_exit_1_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let plan = common::write_temp(dir.path(), "plan.toml", MINIMAL);
    let plan = plan.to_str().unwrap();
    let credentials = common::write_temp(
        dir.path(),
        "credentials",
        "[management]\naws_access_key_id = a\naws_secret_access_key = b\n\n[dev]\naws_access_key_id = c\naws_secret_access_key = d\n",
    );
    let cases: Vec<(&str, Run, &str)> = vec![
        (
            "endpoint refusing connections",
            Run::from(sra_at("http://127.0.0.1:9", &["plan", plan]).output().unwrap()),
            "could not reach the AWS endpoint",
        ),
        (
            "endpoint that does not resolve",
            Run::from(sra_at("http://sra-test.invalid:4566", &["plan", plan]).env("HTTP_PROXY", "").output().unwrap()),
            "could not reach the AWS endpoint",
        ),
        (
            "no credentials",
            Run::from(
                sra_at("http://127.0.0.1:9", &["plan", plan])
                    .env_remove("AWS_ACCESS_KEY_ID")
                    .env_remove("AWS_SECRET_ACCESS_KEY")
                    .output()
                    .unwrap(),
            ),
            "no usable credentials were found",
        ),
        (
            "a profile that does not exist",
            Run::from(
                sra_at("http://127.0.0.1:9", &["plan", plan, "--profile", "nope"])
                    .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
                    .output()
                    .unwrap(),
            ),
            "the profile `nope` (--profile) is not defined in /nonexistent/sra-test-config or",
        ),
        (
            "AWS_PROFILE naming no profile",
            Run::from(
                sra_at("http://127.0.0.1:9", &["plan", plan])
                    .env("AWS_PROFILE", "nope")
                    .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
                    .output()
                    .unwrap(),
            ),
            "hint: profiles found: management, dev",
        ),
    ];
    for (what, run, expect) in cases {
        assert_eq!(run.code, 1, "{what}: exit 1\n{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
        assert!(run.stderr.contains(expect), "{what}: expected {expect:?} in\n{}", run.stderr);
        assert!(run.stderr.contains("hint:"), "{what}: {}", run.stderr);
    }
}

#[test]
fn credentials_never_appear_in_output_or_saved_plans() {
    const SECRET: &str = "SRA-SENTINEL-SECRET-d8f1c2b7a9e04f3c";
    const TOKEN: &str = "SRA-SENTINEL-TOKEN-5e7a1b9c3d2f4a6b";
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL);
    let plan = plan.to_str().unwrap();
    let saved = emu.dir.path().join("plan.json");
    let with_secret = |args: &[&str]| {
        Run::from(emu.sra(args).env("AWS_SECRET_ACCESS_KEY", SECRET).env("AWS_SESSION_TOKEN", TOKEN).output().unwrap())
    };
    let runs = [
        with_secret(&["validate", plan]),
        with_secret(&["-vv", "plan", plan, "--out", saved.to_str().unwrap()]),
        with_secret(&["-vv", "plan", plan, "--format", "json"]),
        with_secret(&["-vv", "apply", plan, "--auto-approve"]),
        with_secret(&["show", saved.to_str().unwrap(), "--format", "markdown"]),
        with_secret(&["-vv", "plan", "/nonexistent.toml"]),
        with_secret(&["permissions", "apply"]),
    ];
    for run in &runs {
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(SECRET) && !text.contains(TOKEN), "a credential leaked:\n{text}");
            assert!(!text.contains("SRA-SENTINEL"), "a credential leaked:\n{text}");
        }
    }
    assert_eq!(runs[3].code, 0, "{}", runs[3].stderr);
    assert!(runs[1].stderr.contains("aws_smithy_runtime"), "-vv shows the SDK's log:\n{}", runs[1].stderr);
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    assert!(!saved_text.contains("SRA-SENTINEL"));
}

/// S3 Control sends to `<account-id>.<endpoint host>`: without the proxy set-up a
/// loopback endpoint cannot resolve it. The run fails at once (no retries of a
/// name that does not resolve) with a hint naming the set-up.
#[test]
fn s3_control_without_the_proxy_fails_at_once_naming_the_set_up() {
    let emu = Emulator::start();
    let plan = emu.plan_file(MINIMAL);
    let started = std::time::Instant::now();
    let run = Run::from(
        emu.sra(&["apply", plan.to_str().unwrap(), "--auto-approve"]).env("HTTP_PROXY", "").output().unwrap(),
    );
    run.expect_code(1);
    assert!(run.stderr.contains("the name does not resolve"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: could not reach S3 Control") && run.stderr.contains("HTTP_PROXY"),
        "{}",
        run.stderr
    );
    eprintln!("S3 Control unreachable reported after {:.1} s of apply", started.elapsed().as_secs_f64());
}
