//! `sra plan` at organization scale (issue #7). Not a timed test: it prints numbers.
//!
//!     cargo bench --bench scale
//!     SRA_BENCH_SIZES=10,1000 SRA_BENCH_REGIONS=1,4 cargo bench --bench scale
//!     SRA_BENCH_NEW=200 SRA_BENCH_NEW_REGIONS=4 cargo bench --bench scale
//!     SRA_BENCH_POSTURE=5000 SRA_BENCH_FINDINGS=100000 cargo bench --bench scale
//!
//! For each organization size and number of governed regions, on its own
//! emulator: `sra apply` sets up the SRA layout (direct, no added latency), the
//! emulator's seeding endpoint adds member accounts in the SRA state (members of
//! every service in every governed region), then `sra plan --detailed-exitcode`
//! runs through the proxy with 50 ms added per call and Security Hub's published
//! rate limits enforced. Printed per case: wall time, AWS calls by service and
//! operation, throttled calls, peak RSS of `sra`, the critical-path bound computed
//! from the run's own call trace (see tests/common/trace.rs) and the ratio of wall
//! time to it. Also: a full apply from an empty organization through the same
//! proxy (CreateAccount finishes at once), the apply that brings accounts which
//! joined after the last apply to their baselines, `sra posture` on an
//! organization with many findings, and plan without the lock file.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/proxy.rs"]
mod proxy;
#[path = "../tests/common/trace.rs"]
mod trace;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Emulator, MINIMAL, sra_at};
use proxy::{Faults, Proxy};

const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];
const LATENCY: Duration = Duration::from_millis(50);

fn list(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn plan_text(regions: usize) -> String {
    let list: Vec<String> = REGIONS[..regions].iter().map(|r| format!("\"{r}\"")).collect();
    MINIMAL.replace(
        "home_region = \"us-east-1\"",
        &format!("home_region = \"us-east-1\"\ngoverned_regions = [{}]", list.join(", ")),
    )
}

/// A finished command with its wall time and peak resident set size.
struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    wall: Duration,
    peak_rss_kib: i64,
}

/// Run `cmd`, measuring the wall time and its peak RSS: the kernel's high-water
/// mark of the process's own memory (VmHWM), read every 10 ms while it runs.
/// (wait4's ru_maxrss would not do: a child spawned with vfork, as Rust spawns,
/// is charged the parent's high-water mark, here the benchmark's own traces.)
fn measure(cmd: &mut Command) -> Measured {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("sra runs");
    let status_file = format!("/proc/{}/status", child.id());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0i64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let hwm = std::fs::read_to_string(&status_file).ok().and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                });
                if let Some(kib) = hwm {
                    peak = peak.max(kib);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        })
    };
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let mut stderr = String::new();
    let _ = err.read_to_string(&mut stderr);
    let status = child.wait().expect("sra was started");
    let wall = start.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    Measured {
        code: status.code().unwrap_or(-1),
        stdout: reader.join().unwrap(),
        stderr,
        wall,
        peak_rss_kib: watcher.join().unwrap(),
    }
}

fn upstream(emu: &Emulator) -> String {
    emu.url().trim_start_matches("http://").to_string()
}

fn proxy_for(emu: &Emulator) -> Proxy {
    Proxy::start(
        &upstream(emu),
        Faults { latency: LATENCY, limits: proxy::published_limits(), trace_tokens: true, ..Default::default() },
    )
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

struct Row {
    accounts: usize,
    regions: usize,
    lock: bool,
    wall: Duration,
    calls: usize,
    throttled: usize,
    rss_mib: f64,
    bound: Duration,
    chain: usize,
    latency: Duration,
    /// The emulator's CPU time during the run.
    emulator_cpu: f64,
    exit: i32,
}

impl Row {
    fn print(&self) {
        println!(
            "| {:>5} | {:>2} | {:>4} | {:>7} | {:>6} | {:>3} | {:>6.1} | {:>7} ({:>3} calls) | {:>5.2} | {:>4} ms | {:>6.1} | {} |",
            self.accounts,
            self.regions,
            if self.lock { "yes" } else { "no" },
            secs(self.wall),
            self.calls,
            self.throttled,
            self.rss_mib,
            secs(self.bound),
            self.chain,
            self.wall.as_secs_f64() / self.bound.as_secs_f64().max(1e-9),
            self.latency.as_millis(),
            self.emulator_cpu,
            self.exit,
        );
    }
}

fn header() {
    println!(
        "| accounts | regions | lock | wall (s) | calls | throttled | peak RSS (MiB) | critical path (s) | wall / path | mean call | emulator CPU (s) | exit |"
    );
    println!("|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
}

/// One `sra plan` through a fresh proxy; prints its calls by operation to stderr.
fn plan_once(emu: &Emulator, plan: &Path, accounts: usize, regions: usize, lock: bool) -> Row {
    let proxy = proxy_for(emu);
    let cpu = emu.cpu_seconds();
    let run = measure(&mut sra_at(&proxy.url(), &["plan", "--detailed-exitcode", plan.to_str().unwrap()]));
    let emulator_cpu = emu.cpu_seconds() - cpu;
    if run.code != 0 {
        eprintln!(
            "warning: plan exited {} (expected 0: no changes)\n{}\n{}",
            run.code,
            tail(&run.stdout),
            tail(&run.stderr)
        );
    }
    let calls = proxy.calls();
    let ignore: Vec<&str> = REGIONS.to_vec();
    let path = trace::critical_path(&calls, &ignore);
    eprintln!("calls of {accounts} accounts, {regions} regions, lock {lock}:");
    for (op, n) in trace::by_operation(&calls) {
        eprintln!("  {n:>6}  {op}");
    }
    if let Ok(dir) = std::env::var("SRA_BENCH_TRACE") {
        // The timeline, for finding what waited on what: start and end (ms), call.
        let mut lines: Vec<(u128, String)> = calls
            .iter()
            .map(|c| {
                let line = format!("{:>7} {:>7} {}:{}", c.start.as_millis(), c.end.as_millis(), c.service, c.operation);
                (c.start.as_millis(), line)
            })
            .collect();
        lines.sort();
        let file = format!("{dir}/plan-{accounts}-{regions}-{}.txt", if lock { "lock" } else { "nolock" });
        let text: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
        std::fs::write(&file, text.join("\n")).unwrap();
    }
    let chain: Vec<String> =
        path.chain.iter().map(|&i| format!("{}:{}", calls[i].service, calls[i].operation)).collect();
    eprintln!("  critical path ({} calls): {}", chain.len(), summarize(&chain));
    Row {
        accounts,
        regions,
        lock,
        wall: run.wall,
        calls: calls.len(),
        throttled: proxy.rate_limited(),
        rss_mib: run.peak_rss_kib as f64 / 1024.0,
        bound: path.bound,
        chain: path.chain.len(),
        latency: trace::mean_latency(&calls),
        emulator_cpu,
        exit: run.code,
    }
}

/// A fresh emulator with the SRA layout applied (directly, no added latency) in
/// `regions` governed regions: the emulator, the plan file and its lock file.
fn sra_layout(regions: usize) -> (Emulator, std::path::PathBuf, String) {
    let emu = Emulator::start();
    let plan = emu.plan_file(&plan_text(regions));
    let setup = measure(&mut sra_at(&emu.url(), &["apply", "--auto-approve", plan.to_str().unwrap()]));
    assert_eq!(setup.code, 0, "setting up the SRA layout failed:\n{}", tail(&setup.stderr));
    let lock = std::fs::read_to_string(plan.with_extension("lock")).expect("apply wrote the lock file");
    (emu, plan, lock)
}

/// One run of `sra` through a fresh proxy: its measurements, its calls by
/// operation and critical path (printed to stderr under `label`) and the
/// emulator's CPU time meanwhile.
struct Traced {
    run: Measured,
    calls: usize,
    throttled: usize,
    path: trace::CriticalPath,
    emulator_cpu: f64,
}

fn traced(emu: &Emulator, args: &[&str], label: &str) -> Traced {
    let proxy = proxy_for(emu);
    let cpu = emu.cpu_seconds();
    let run = measure(&mut sra_at(&proxy.url(), args));
    let emulator_cpu = emu.cpu_seconds() - cpu;
    if run.code != 0 {
        eprintln!("warning: {label} exited {}\n{}", run.code, tail(&run.stderr));
    }
    let calls = proxy.calls();
    let path = trace::critical_path(&calls, &REGIONS);
    eprintln!("calls of {label}:");
    for (op, n) in trace::by_operation(&calls) {
        eprintln!("  {n:>6}  {op}");
    }
    let chain: Vec<String> =
        path.chain.iter().map(|&i| format!("{}:{}", calls[i].service, calls[i].operation)).collect();
    eprintln!("  critical path ({} calls): {}", chain.len(), summarize(&chain));
    Traced { run, calls: calls.len(), throttled: proxy.rate_limited(), path, emulator_cpu }
}

/// "a, b x3, c": runs of the same call folded.
fn summarize(chain: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chain.len() {
        let mut j = i;
        while j < chain.len() && chain[j] == chain[i] {
            j += 1;
        }
        out.push(if j - i > 1 { format!("{} x{}", chain[i], j - i) } else { chain[i].clone() });
        i = j;
    }
    out.join(" -> ")
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn seed(emu: &Emulator, lock: &str, members: usize, regions: usize) {
    seed_with(emu, lock, members, regions, true)
}

/// `baselines`: false for accounts that joined after the last apply (members of
/// every service by its auto-enable, no account baselines yet).
fn seed_with(emu: &Emulator, lock: &str, members: usize, regions: usize, baselines: bool) {
    seed_findings(emu, lock, members, regions, baselines, 0)
}

/// With `findings` Security Hub findings spread over the new accounts and regions.
fn seed_findings(emu: &Emulator, lock: &str, members: usize, regions: usize, baselines: bool, findings: usize) {
    let id = |key: &str| {
        lock.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .map(|v| v.trim_end_matches('"').to_string())
            .expect("the lock file names the account")
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let management = rt.block_on(async {
        let out = emu.orgs().await.describe_organization().send().await.unwrap();
        out.organization().unwrap().master_account_id().unwrap().to_string()
    });
    let body = serde_json::json!({
        "management": management,
        "admin": id("security_tooling"),
        "accounts": members,
        "regions": REGIONS[..regions],
        "baselines": baselines,
        "findings": findings,
    });
    let (status, answer) =
        common::http_within(emu.port, "POST", "/sra-emulator/seed", &body.to_string(), Duration::from_secs(900))
            .unwrap();
    assert_eq!(status, 200, "{answer}");
}

fn main() {
    let sizes = list("SRA_BENCH_SIZES", &[10, 1000, 5000]);
    let region_counts = list("SRA_BENCH_REGIONS", &[1, 4, 17]);
    println!("sra plan at scale: {} ms added per call, Security Hub rate limits enforced\n", LATENCY.as_millis());

    // A full apply from an empty organization, through the proxy.
    println!("## Full apply from an empty organization (CreateAccount delay 0)\n");
    println!(
        "| regions | wall (s) | calls | throttled | peak RSS (MiB) | calls in flight (s) | nothing in flight (s) | critical path (s) | exit |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &regions in &region_counts {
        let emu = Emulator::start();
        let plan = emu.plan_file(&plan_text(regions));
        let proxy = proxy_for(&emu);
        let run = measure(&mut sra_at(&proxy.url(), &["apply", "--auto-approve", plan.to_str().unwrap()]));
        if run.code != 0 {
            eprintln!("warning: apply exited {}\n{}", run.code, tail(&run.stderr));
        }
        let calls = proxy.calls();
        let path = trace::critical_path(&calls, &REGIONS);
        let busy = trace::busy(&calls);
        println!(
            "| {regions} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
            secs(run.wall),
            calls.len(),
            proxy.rate_limited(),
            run.peak_rss_kib as f64 / 1024.0,
            secs(busy),
            secs(run.wall.saturating_sub(busy)),
            secs(path.bound),
            run.code
        );
    }

    // New accounts brought to their baselines by one apply (issue #17).
    let new_accounts = list("SRA_BENCH_NEW", &[200]);
    let new_regions = list("SRA_BENCH_NEW_REGIONS", &[4]);
    println!("\n## sra apply bringing new accounts to their baselines\n");
    println!(
        "| new accounts | regions | wall (s) | calls | throttled | peak RSS (MiB) | critical path (s) | wall / path | emulator CPU (s) | then plan exits |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &accounts in &new_accounts {
        for &regions in &new_regions {
            let (emu, plan, lock) = sra_layout(regions);
            seed_with(&emu, &lock, accounts, regions, false);
            let label = format!("the apply of {accounts} new accounts, {regions} regions");
            let t = traced(&emu, &["apply", "--auto-approve", plan.to_str().unwrap()], &label);
            let after = measure(&mut sra_at(&emu.url(), &["plan", "--detailed-exitcode", plan.to_str().unwrap()]));
            println!(
                "| {accounts} | {regions} | {} | {} | {} | {:.1} | {} ({} calls) | {:.2} | {:.1} | {} |",
                secs(t.run.wall),
                t.calls,
                t.throttled,
                t.run.peak_rss_kib as f64 / 1024.0,
                secs(t.path.bound),
                t.path.chain.len(),
                t.run.wall.as_secs_f64() / t.path.bound.as_secs_f64().max(1e-9),
                t.emulator_cpu,
                after.code
            );
        }
    }

    // sra posture on a large organization with many findings (issue #18).
    let posture_sizes = list("SRA_BENCH_POSTURE", &[5000]);
    let posture_findings = list("SRA_BENCH_FINDINGS", &[100_000]);
    println!("\n## sra posture\n");
    println!(
        "| accounts | regions | findings | wall (s) | calls | throttled | peak RSS (MiB) | critical path (s) | wall / path | emulator CPU (s) | exit |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &accounts in &posture_sizes {
        for &findings in &posture_findings {
            let regions = 4;
            let (emu, plan, lock) = sra_layout(regions);
            let started = Instant::now();
            seed_findings(&emu, &lock, accounts.saturating_sub(3), regions, true, findings);
            eprintln!("seeded {accounts} accounts and {findings} findings in {:.1} s", started.elapsed().as_secs_f64());
            let label = format!("posture on {accounts} accounts, {findings} findings");
            let t = traced(&emu, &["posture", plan.to_str().unwrap(), "--format", "json"], &label);
            let total: u64 = serde_json::from_str::<serde_json::Value>(&t.run.stdout)
                .ok()
                .and_then(|d| d["by_severity"].as_object().map(|m| m.values().filter_map(|v| v.as_u64()).sum()))
                .unwrap_or(0);
            eprintln!("  posture counted {total} active findings");
            println!(
                "| {accounts} | {regions} | {findings} | {} | {} | {} | {:.1} | {} ({} calls) | {:.2} | {:.1} | {} |",
                secs(t.run.wall),
                t.calls,
                t.throttled,
                t.run.peak_rss_kib as f64 / 1024.0,
                secs(t.path.bound),
                t.path.chain.len(),
                t.run.wall.as_secs_f64() / t.path.bound.as_secs_f64().max(1e-9),
                t.emulator_cpu,
                t.run.code
            );
        }
    }

    println!("\n## sra plan of an organization in the SRA state\n");
    header();
    for &accounts in &sizes {
        for &regions in &region_counts {
            let (emu, plan, lock) = sra_layout(regions);
            let lock_path = plan.with_extension("lock");
            let started = Instant::now();
            seed(&emu, &lock, accounts.saturating_sub(3), regions);
            eprintln!("seeded {accounts} accounts in {regions} regions in {:.1} s", started.elapsed().as_secs_f64());
            plan_once(&emu, &plan, accounts, regions, true).print();
            if regions == *region_counts.last().unwrap() {
                std::fs::remove_file(&lock_path).unwrap();
                plan_once(&emu, &plan, accounts, regions, false).print();
            }
        }
    }
}
