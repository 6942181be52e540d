//! Test support: a fresh emulator per test, the real `sra` binary, and SDK
//! clients for changing live state out of band.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

macro_rules! minimal_toml {
    () => {
        r#"version = 1
[organization]
home_region = "us-east-1"
[accounts.security_tooling]
name = "Security Tooling"
email = "aws+security-tooling@example.com"
[accounts.log_archive]
name = "Log Archive"
email = "aws+log-archive@example.com"
"#
    };
}

/// The smallest plan, with Trusted Advisor off: its trusted access is a manual
/// step (its console only), so with it on a plan never ends clean by apply alone.
pub const MINIMAL: &str = concat!(minimal_toml!(), "[services.trusted_advisor]\nenabled = false\n");

/// MINIMAL governing two regions: us-east-1 (home) and us-west-2.
pub fn two_regions() -> String {
    MINIMAL.replace(
        "home_region = \"us-east-1\"",
        "home_region = \"us-east-1\"\ngoverned_regions = [\"us-east-1\", \"us-west-2\"]",
    )
}

/// MINIMAL with Trusted Advisor on; `trusted_advisor_turned_on` does the manual
/// step as a person would.
pub const WITH_TRUSTED_ADVISOR: &str = minimal_toml!();

/// What a person does in the Trusted Advisor console (organizational view):
/// Trusted Advisor enables its trusted access with Organizations.
pub async fn trusted_advisor_turned_on(emu: &Emulator) {
    let orgs = emu.orgs().await;
    orgs.enable_aws_service_access().service_principal("reporting.trustedadvisor.amazonaws.com").send().await.unwrap();
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One moto server (with sra's extension) on a loopback port, killed on drop.
pub struct Emulator {
    pub port: u16,
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Emulator {
    pub fn start() -> Emulator {
        for _ in 0..3 {
            if let Some(e) = Self::try_start() {
                return e;
            }
        }
        panic!("the emulator did not start three times in a row");
    }

    fn try_start() -> Option<Emulator> {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("emulator.log")).unwrap();
        let child = Command::new(repo().join("tests/emulator/serve"))
            .args(["--port", &port.to_string()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("tests/emulator/serve runs");
        let mut emu = Emulator { port, child, dir };
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = emu.child.try_wait() {
                eprintln!("emulator exited early:\n{}", emu.log());
                return None;
            }
            if let Ok((200, body)) = http(port, "GET", "/sra-emulator/health", "") {
                // Another test's emulator may have taken the port between
                // free_port() and our bind: only ours counts.
                let pid = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| v["pid"].as_u64());
                if pid == Some(u64::from(emu.child.id())) {
                    return Some(emu);
                }
                eprintln!("port {port} answered by another emulator (pid {pid:?}); starting again on another port");
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the emulator did not answer on port {port}:\n{}", emu.log());
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("emulator.log")).unwrap_or_default()
    }

    /// Change the emulator's settings (see tests/emulator/sra_emulator/config.py).
    pub fn configure(&self, json: &str) {
        let (status, body) = http(self.port, "POST", "/sra-emulator/config", json).unwrap();
        assert_eq!(status, 200, "{body}");
    }

    /// Write a plan file into this test's directory.
    pub fn plan_file(&self, text: &str) -> PathBuf {
        let p = self.dir.path().join("plan.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The `sra` command, pointed at this emulator with dummy credentials.
    pub fn sra(&self, args: &[&str]) -> Command {
        sra_at(&self.url(), args)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.sra(args).output().unwrap())
    }

    pub async fn sdk(&self) -> aws_config::SdkConfig {
        self.sdk_as("test", "test", None).await
    }

    pub async fn sdk_as(&self, key: &str, secret: &str, token: Option<&str>) -> aws_config::SdkConfig {
        let creds =
            aws_sdk_organizations::config::Credentials::new(key, secret, token.map(str::to_string), None, "test");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(self.url())
            .credentials_provider(creds)
            .load()
            .await
    }

    /// Configuration for a member account, through its OrganizationAccountAccessRole.
    /// The two-region plan ([`two_regions`]) written and applied; its path.
    pub fn applied_two_regions(&self) -> String {
        let plan = self.plan_file(&two_regions()).to_str().unwrap().to_string();
        self.run(&["apply", &plan, "--auto-approve"]).expect_code(0);
        plan
    }

    pub async fn sdk_in(&self, account: &str) -> aws_config::SdkConfig {
        let sts = aws_sdk_sts::Client::new(&self.sdk().await);
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"))
            .role_session_name("test")
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        self.sdk_as(c.access_key_id(), c.secret_access_key(), Some(c.session_token())).await
    }

    /// Run Python with boto3 (from the emulator's virtualenv) against this emulator.
    /// `client(service, account, region)` gives a client in that account (through
    /// its OrganizationAccountAccessRole; the management account's own without
    /// one) that uses the emulator as HTTP proxy.
    pub fn boto3(&self, code: &str) -> String {
        let venv = std::env::var_os("SRA_EMULATOR_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("tests/emulator/.venv"));
        let prelude = format!(
            r#"
import json, boto3
from botocore.config import Config
URL = "{url}"
def client(service, account=None, region="us-east-1"):
    kw = dict(endpoint_url=URL, region_name=region, config=Config(proxies={{"http": URL}}))
    if account is None:
        return boto3.client(service, aws_access_key_id="test", aws_secret_access_key="test", **kw)
    sts = boto3.client("sts", aws_access_key_id="test", aws_secret_access_key="test", **kw)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{{account}}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
    return boto3.client(service, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"], **kw)
"#,
            url = self.url()
        );
        let out = Command::new(venv.join("bin/python")).arg("-c").arg(format!("{prelude}\n{code}")).output().unwrap();
        assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// CPU time the emulator process has used so far (user and system, every
    /// thread; Linux reports it in USER_HZ ticks, 100 a second). Python serves
    /// one request at a time under its global lock, so a run cannot take less
    /// wall time than the emulator's CPU time for its calls.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> =
            stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
        // After the command name: state is field 3, utime 14 and stime 15.
        let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(14) + ticks(15)) / 100.0
    }

    pub async fn orgs(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.sdk().await)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sra` with an endpoint and dummy credentials, isolated from the user's AWS files.
pub fn sra_at(endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sra"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", endpoint)
        // S3 Control's account-id host prefix cannot resolve on loopback: the
        // emulator also serves as the HTTP proxy (SDK-standard, not sra's code).
        .env("HTTP_PROXY", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_CONFIG_FILE", "/nonexistent/sra-test-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/sra-test-credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// A finished `sra` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        let run = Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert_words(&run.stderr);
        run
    }
}

impl Run {
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        assert!(!self.stderr.contains("panicked"), "sra panicked:\n{}", self.stderr);
        self
    }
}

/// A minimal HTTP/1.0 exchange on loopback (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    http_within(port, method, path, body, Duration::from_secs(10))
}

/// [`http`], waiting up to `timeout` for the answer (the benchmark's seeding of
/// thousands of accounts and findings takes longer than a test's call).
pub fn http_within(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(timeout))?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

/// A loopback port that counts connections and never answers: proves that a
/// command made no AWS call.
pub struct Tripwire {
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl Tripwire {
    pub fn new() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        Tripwire { port, hits }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

pub fn write_temp(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Progress lines that name a resource (`<address>: <what sra is doing>`) read as
/// words, never as Rust Debug text: checked on every run of `sra` in the tests.
pub fn assert_words(stderr: &str) {
    for line in stderr.lines() {
        let Some((address, text)) = line.split_once(": ") else { continue };
        if address.contains(' ') || ["error", "hint", "warning", "note"].contains(&address) {
            continue;
        }
        if let Some(debug) = sra::render::debug_text(text) {
            panic!("progress line reads as Rust Debug text ({debug}): {line}");
        }
    }
}

/// Parse a JSON document `sra` printed, and check it against docs/plan.schema.json.
pub fn valid_plan_json(json: &str) -> serde_json::Value {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("docs/plan.schema.json")).unwrap()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
    for change in doc["changes"].as_array().unwrap() {
        for step in change["steps"].as_array().unwrap().iter().filter_map(|t| t.as_str()) {
            assert_eq!(sra::render::debug_text(step), None, "a step reads as Rust Debug text: {step}");
            assert_eq!(sra::render::identifier_text(step), None, "a step is an identifier, not words: {step}");
        }
        let reason = change["reason"].as_str().unwrap();
        assert_eq!(sra::render::debug_text(reason), None, "a reason reads as Rust Debug text: {reason}");
    }
    doc
}

/// The addresses a plan document (JSON) changes, in its order: every change
/// that is not a no-op.
pub fn changed_addresses(doc: &serde_json::Value) -> Vec<String> {
    doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .map(|c| c["address"].as_str().unwrap().to_string())
        .collect()
}

/// Every account of the organization as (id, name, email, parent id).
pub async fn accounts(orgs: &aws_sdk_organizations::Client) -> Vec<(String, String, String, String)> {
    let pages: Vec<_> = orgs.list_accounts().into_paginator().send().try_collect().await.unwrap();
    let mut out = Vec::new();
    for a in pages.iter().flat_map(|p| p.accounts()) {
        let id = a.id().unwrap().to_string();
        let parents = orgs.list_parents().child_id(&id).send().await.unwrap();
        let parent = parents.parents()[0].id().unwrap().to_string();
        out.push((id, a.name().unwrap().to_string(), a.email().unwrap().to_string(), parent));
    }
    out
}
