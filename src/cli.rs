//! Command-line interface: argument definitions and the commands' bodies.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::aws::{Aws, Sessions, hinted};
use crate::engine::{apply, plan::Plan};
use crate::live::{Reader, compute};
use crate::lock::Lock;
use crate::model::{AccountRole, Desired};
use crate::render::document::{FORMAT_VERSION, PlanDocument};
use crate::render::{self, Format, human::Style};
use crate::report::Reporter;
use crate::services::organizations::{self, Waits};

/// `--format` of `sra plan` and `sra show` (the core's `Format`, as clap knows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

/// `--format` of `sra posture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PostureFormat {
    Human,
    Json,
    Markdown,
    Html,
}

/// `--fail-on` of `sra posture`: a severity label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
}

impl From<SeverityArg> for sra_core::posture::Severity {
    fn from(s: SeverityArg) -> Self {
        use sra_core::posture::Severity::*;
        match s {
            SeverityArg::Critical => Critical,
            SeverityArg::High => High,
            SeverityArg::Medium => Medium,
            SeverityArg::Low => Low,
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "sra",
    version,
    about = "Set up and keep the AWS Security Reference Architecture in an organization, from one reviewed plan file"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Never colour output (NO_COLOR is honoured too)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// `sra --profile P plan …`, as older scripts write it: the same as after the
    /// command, which is where help lists it (only the commands that call AWS take it)
    #[arg(long, hide = true)]
    pub profile: Option<String>,
    #[arg(long, hide = true, value_parser = region_arg)]
    pub region: Option<String>,
    #[arg(short, long, hide = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The options of the commands that call AWS (plan, apply, init): where the
/// management account's credentials come from, and how much to log.
#[derive(Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// AWS profile for the management account's credentials. As in the AWS CLI it
    /// wins over credentials in the environment; without it, AWS_PROFILE is read
    /// after them
    #[arg(long)]
    pub profile: Option<String>,
    /// Region of the calls to global services (STS, Organizations), as in the AWS
    /// CLI; default: the plan's home region. Where things are set up is the plan's
    /// home_region and governed_regions, never this option
    #[arg(long, env = "AWS_REGION", value_name = "REGION", value_parser = region_arg)]
    pub region: Option<String>,
    /// Log each AWS call to stderr (which account, region, operation); -vv adds the
    /// SDK's own log of every attempt and retry
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Cli {
    /// The AWS options in effect: those after the command, or before it as
    /// `sra --profile P plan …`; `None` for a command that makes no AWS call.
    pub fn aws_args(&self) -> Option<AwsArgs> {
        let given = match &self.command {
            Command::Plan { aws, .. }
            | Command::Apply { aws, .. }
            | Command::Init { aws, .. }
            | Command::Posture { aws, .. } => aws,
            _ => return None,
        };
        Some(AwsArgs {
            profile: self.profile.clone().or_else(|| given.profile.clone()),
            region: self.region.clone().or_else(|| given.region.clone()),
            verbose: self.verbose + given.verbose,
        })
    }

    /// The verbosity asked for, wherever it was given.
    pub fn verbosity(&self) -> u8 {
        self.aws_args().map_or(self.verbose, |a| a.verbose)
    }

    /// An AWS option given to a command that makes no AWS call is a usage error,
    /// not silently ignored.
    fn check_offline_options(&self) -> Result<()> {
        if self.aws_args().is_some() {
            return Ok(());
        }
        let given = [
            ("--profile", self.profile.is_some()),
            ("--region", self.region.is_some()),
            ("--verbose", self.verbose > 0),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, on)| *on) {
            return Err(hinted(
                format!("{flag} does nothing here: `sra {}` makes no AWS call", self.command.name()),
                "leave it out; only plan, apply, init and posture call AWS",
            ));
        }
        Ok(())
    }
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Validate { .. } => "validate",
            Command::Plan { .. } => "plan",
            Command::Apply { .. } => "apply",
            Command::Show { .. } => "show",
            Command::Init { .. } => "init",
            Command::Schema => "schema",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
            Command::Permissions { .. } => "permissions",
            Command::Posture { .. } => "posture",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a plan file offline; no AWS call is made
    Validate {
        /// The plan file (TOML)
        plan: PathBuf,
    },
    /// Show what apply would change: live state against the plan file. Makes no
    /// write call, so it runs with read-only credentials (`sra permissions plan`)
    Plan {
        /// The plan file (TOML)
        plan: PathBuf,
        /// Exit 2 when there are changes, 0 when there are none, 1 on error
        #[arg(long)]
        detailed_exitcode: bool,
        /// How to print the plan: for a person, for a program, or for a pull-request comment
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Also save the plan (JSON) for `sra apply FILE` and `sra show FILE`
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print new policy documents whole (by default each statement's id,
        /// effect and actions)
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// The organization's security posture in one place: what the services do
    /// not watch, the findings to look at first, active findings by account and
    /// the failing controls. Read-only: runs under `sra permissions plan`
    Posture {
        /// The plan file (TOML)
        plan: PathBuf,
        /// How to print it: for a person, for a program, for a pull-request or issue
        /// comment, or as one self-contained web page
        #[arg(long, value_enum, default_value_t = PostureFormat::Human)]
        format: PostureFormat,
        /// Write it here instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 2 when an active finding at this severity or above exists (a CI gate)
        #[arg(long, value_enum, value_name = "SEVERITY")]
        fail_on: Option<SeverityArg>,
        /// Show what changed since an earlier run's JSON (`--format json`)
        #[arg(long, value_name = "PREVIOUS.json")]
        compare: Option<PathBuf>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Make the changes: from a plan file (shows the plan and asks first), or
    /// exactly those of a saved plan with its reviewed values, refused if live state changed
    Apply {
        /// A plan file (TOML), or a plan saved by `sra plan --out` (JSON)
        plan: PathBuf,
        /// Apply without asking (for automation); a saved plan never asks
        #[arg(long)]
        auto_approve: bool,
        /// Allow replacing a security service's delegated administrator that is
        /// not Security Tooling (otherwise apply refuses)
        #[arg(long)]
        allow_admin_change: bool,
        /// Break the apply lock with this id (the policy sra-apply-lock) first:
        /// only when the run that took it died on another machine
        #[arg(long, value_name = "ID")]
        force_unlock: Option<String>,
        #[command(flatten)]
        waits: WaitArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Render a saved plan; makes no AWS call
    Show {
        /// A plan saved by `sra plan --out` (JSON)
        saved: PathBuf,
        /// How to print the plan: for a person, for a program, or for a pull-request comment
        #[arg(long, value_enum, default_value_t = FormatArg::Human)]
        format: FormatArg,
        /// Print new policy documents whole
        #[arg(long)]
        full: bool,
    },
    /// Write a plan file that describes the organization as it is (`sra plan` then
    /// shows no changes), each deviation from the SRA baseline a commented
    /// suggestion. Read-only: runs under `sra permissions plan`
    Init {
        /// Write here instead of stdout; an existing file is never overwritten
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The organization's home region (trail, aggregators)
        #[arg(long, default_value = "us-east-1", value_name = "REGION", value_parser = region_arg)]
        home_region: String,
        /// Regions to govern, comma-separated (default: the home region)
        #[arg(long, value_delimiter = ',', value_name = "REGIONS", value_parser = region_arg)]
        governed_regions: Vec<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Print the plan file's JSON Schema (for editors: Taplo, Even Better TOML)
    Schema,
    /// Print a shell completion script: `sra completions bash > /etc/bash_completion.d/sra`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `sra man > sra.1`
    Man,
    /// Print the IAM policy `sra plan` or `sra apply` needs in the management account
    Permissions {
        #[arg(value_enum)]
        command: PermissionsFor,
        /// The plan file: with `organization.plan_role`, the plan policy lets the
        /// caller assume only that read-only role
        plan: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PermissionsFor {
    Plan,
    Apply,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// How long to wait for AWS to create an account, in seconds
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    pub account_timeout: u64,
}

/// The man page: clap's sections, then EXIT STATUS and ENVIRONMENT, which clap
/// does not know.
fn man_page(cmd: clap::Command, w: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    // Every command on this one page (clap would point at sra-plan(1) and the
    // like, pages that are not installed).
    w.write_all(commands_section(&cmd).as_bytes())?;
    w.write_all(MAN_EXTRA.as_bytes())?;
    man.render_version_section(w)
}

/// The COMMANDS section: each command with its arguments and options.
fn commands_section(cmd: &clap::Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        let operands: Vec<String> = sub
            .get_positionals()
            .map(|a| {
                format!(
                    "<{}>",
                    a.get_value_names()
                        .and_then(|v| v.first())
                        .map_or(a.get_id().as_str(), |v| v.as_str())
                        .to_uppercase()
                )
            })
            .collect();
        out.push_str(&format!(".SS \"sra {} [OPTIONS] {}\"\n", sub.get_name(), roff_escape(&operands.join(" "))));
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            out.push_str(&format!("{}\n", roff_escape(&about.to_string())));
        }
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set() && a.get_id() != "help" && a.get_id() != "no_color")
        {
            let value = if arg.get_action().takes_values() {
                let name = arg
                    .get_value_names()
                    .and_then(|v| v.first())
                    .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string);
                format!(" <{name}>")
            } else {
                String::new()
            };
            let name = match (arg.get_short(), arg.get_long()) {
                (_, None) => format!("<{}>", arg.get_id().as_str().to_uppercase()),
                (Some(s), Some(l)) => format!("-{s}, --{l}{value}"),
                (None, Some(l)) => format!("--{l}{value}"),
            };
            out.push_str(&format!(".TP\n\\fB{}\\fR\n", roff_escape(&name)));
            let help = arg.get_long_help().or_else(|| arg.get_help()).map(ToString::to_string).unwrap_or_default();
            out.push_str(&format!("{}\n", roff_escape(&help)));
        }
    }
    out
}

/// Text as roff reads it literally: backslashes and hyphens escaped, no line
/// starting with a control character.
fn roff_escape(text: &str) -> String {
    text.replace('\\', "\\e")
        .replace('-', "\\-")
        .lines()
        .map(|l| if l.starts_with('.') || l.starts_with('\'') { format!("\\&{l}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

const MAN_EXTRA: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success; for \fBplan \-\-detailed\-exitcode\fR, no changes.
.TP
\fB1\fR
An error, a blocker, or a usage error (an unknown flag, a missing argument, a bad value).
.TP
\fB2\fR
\fBplan \-\-detailed\-exitcode\fR only: the plan has changes or manual steps.
.SH ENVIRONMENT
.TP
\fBAWS_PROFILE\fR, \fBAWS_ACCESS_KEY_ID\fR, \fBAWS_SECRET_ACCESS_KEY\fR, \fBAWS_SESSION_TOKEN\fR
The management account's credentials, read as the AWS CLI reads them; \fB\-\-profile\fR wins over them.
.TP
\fBAWS_REGION\fR
The default of \fB\-\-region\fR.
.TP
\fBAWS_ENDPOINT_URL\fR, \fBHTTP_PROXY\fR
Another endpoint for every AWS service (a local emulator; see docs/getting\-started.md).
.TP
\fBNO_COLOR\fR
Never colour output.
.SH FILES
.TP
\fIPLAN\fR.lock
Beside the plan file: the ids of its accounts, written by \fBapply\fR and \fBinit\fR; commit it with the plan file.
"#;

/// Exit codes of the contract.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;

/// Read and validate a plan file; the error is the rendered list of problems.
/// `target` as a path relative to the directory `base` (both made absolute first);
/// `target` unchanged when that cannot be worked out.
fn relative_to(target: &Path, base: &Path) -> PathBuf {
    let (Ok(target_abs), Ok(base_abs)) = (std::path::absolute(target), std::path::absolute(base)) else {
        return target.to_path_buf();
    };
    let (t, b): (Vec<_>, Vec<_>) = (target_abs.components().collect(), base_abs.components().collect());
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return target_abs;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

/// A region on the command line, checked like the plan file's (with a did-you-mean).
fn region_arg(s: &str) -> Result<String, String> {
    sra_core::plan_file::regions::parse(s)
}

pub fn load(path: &Path) -> Result<Desired> {
    let src = std::fs::read_to_string(path).map_err(|e| {
        hinted(
            format!("cannot read plan file {}: {e}", path.display()),
            "check the path; plans/example.toml shows every option",
        )
    })?;
    if looks_like_json(&src) {
        return Err(hinted(
            format!("{} is a saved plan (JSON), not a plan file (TOML)", path.display()),
            format!(
                "apply it with `sra apply {0}`, or render it with `sra show {0}`; `plan` and `validate` read the TOML plan file",
                path.display()
            ),
        ));
    }
    crate::plan_file::parse(&src).map_err(|diags| {
        let text = crate::diag::render(&path.display().to_string(), &src, &diags);
        anyhow::Error::new(PlanFileInvalid(text))
    })
}

/// Whether a file's text starts like a JSON document (a saved plan).
fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// A plan file with problems; its text lists all of them, located.
#[derive(Debug)]
pub struct PlanFileInvalid(pub String);

impl std::fmt::Display for PlanFileInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.trim_end())
    }
}

impl std::error::Error for PlanFileInvalid {}

fn style(cli: &Cli) -> Style {
    let full = matches!(cli.command, Command::Plan { full: true, .. } | Command::Show { full: true, .. });
    Style {
        color: render::use_color(cli.no_color, std::env::var_os("NO_COLOR"), std::io::stdout().is_terminal()),
        full,
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    cli.check_offline_options()?;
    let rep = Reporter::new(cli.verbosity());
    let conn = cli.aws_args().unwrap_or_default();
    match &cli.command {
        Command::Validate { plan } => {
            let desired = load(plan)?;
            println!(
                "{}: valid (home region {}, {} governed region{}, accounts: {})",
                plan.display(),
                desired.home_region,
                desired.governed_regions.len(),
                if desired.governed_regions.len() == 1 { "" } else { "s" },
                desired.accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Posture { plan, format, out, fail_on, compare, .. } => {
            let desired = load(plan)?;
            let previous = compare.as_deref().map(load_posture).transpose()?;
            let aws = Aws::load(conn.profile.as_deref(), &desired.home_region, conn.region.as_deref()).await?;
            let lock = read_lock(plan, &rep);
            let read = crate::posture::read(&aws, &desired, lock.as_ref(), &rep).await?;
            let doc = sra_core::posture::document(&read, previous.as_ref());
            let text = match format {
                PostureFormat::Human => sra_core::posture::render::human(&doc),
                PostureFormat::Json => sra_core::posture::render::json(&doc),
                PostureFormat::Markdown => sra_core::posture::render::markdown(&doc),
                PostureFormat::Html => sra_core::posture::render::html(&doc),
            };
            match out {
                Some(out) => {
                    std::fs::write(out, &text).map_err(|e| {
                        hinted(format!("cannot write {}: {e}", out.display()), "check the path and permissions")
                    })?;
                    rep.progress(format!("wrote the posture to {}", out.display()));
                }
                None => print!("{text}"),
            }
            let failed = fail_on.is_some_and(|s| sra_core::posture::fails(&doc, s.into()));
            if let Some(s) = fail_on.filter(|_| failed) {
                rep.progress(format!(
                    "--fail-on {}: active findings at that severity or above exist",
                    format!("{s:?}").to_lowercase()
                ));
            }
            Ok(ExitCode::from(if failed { EXIT_CHANGES } else { EXIT_OK }))
        }
        Command::Plan { plan, detailed_exitcode, format, out, .. } => {
            let desired = load(plan)?;
            let aws = Aws::load(conn.profile.as_deref(), &desired.home_region, conn.region.as_deref()).await?;
            let lock = read_lock(plan, &rep);
            let computed = compute(&aws, &desired, lock.as_ref(), Reader::Plan, &rep).await?;
            let doc = computed.document(&plan.display().to_string(), &desired);
            if let Some(out) = out {
                // The saved plan names its plan file relative to itself, so it
                // applies from any working directory.
                let mut saved = doc.clone();
                let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                saved.plan_file.path = relative_to(plan, dir).display().to_string();
                let text = render::render(&saved, Format::Json, style(&cli));
                std::fs::write(out, text).map_err(|e| {
                    hinted(
                        format!("cannot write the saved plan {}: {e}", out.display()),
                        "check the path and permissions",
                    )
                })?;
                rep.progress(format!(
                    "saved the plan to {}; apply it with: sra apply {}",
                    out.display(),
                    out.display()
                ));
            }
            print!("{}", render::render(&doc, (*format).into(), style(&cli)));
            check_blockers(&computed.plan)?;
            let differs = doc.has_changes() || doc.has_manual();
            Ok(ExitCode::from(if *detailed_exitcode && differs { EXIT_CHANGES } else { EXIT_OK }))
        }
        Command::Show { saved, format, .. } => {
            let doc = load_saved(saved)?;
            print!("{}", render::render(&doc, (*format).into(), style(&cli)));
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Init { out, home_region, governed_regions, .. } => {
            if let Some(path) = out
                && path.exists()
            {
                return Err(hinted(
                    format!("{} exists: sra init never overwrites a plan file", path.display()),
                    "choose another --out, or remove the file first",
                ));
            }
            let aws = Aws::load(conn.profile.as_deref(), home_region, conn.region.as_deref()).await?;
            let found = crate::init::init(&aws, home_region, governed_regions, &rep).await?;
            match out {
                Some(path) => {
                    std::fs::write(path, &found.text).map_err(|e| {
                        hinted(format!("cannot write {}: {e}", path.display()), "check the path and permissions")
                    })?;
                    rep.progress(format!("wrote {}; check it with: sra plan {}", path.display(), path.display()));
                    write_schema_beside(path, &rep);
                    if let Some(lock) = &found.lock {
                        record_lock_file(path, lock, &rep);
                    }
                }
                None => print!("{}", found.text),
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Schema => {
            println!("{}", serde_json::to_string_pretty(&crate::plan_file::schema::schema())?);
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "sra", &mut std::io::stdout());
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = std::io::stdout().lock();
            man_page(cmd, &mut out)?;
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Permissions { command, plan } => {
            let plan_role = match plan {
                Some(path) => load(path)?.plan_role,
                None => None,
            };
            print!("{}", crate::permissions::policy(*command == PermissionsFor::Apply, plan_role.as_deref()));
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Apply { plan, auto_approve, waits, allow_admin_change, force_unlock, .. } => {
            let waits = Waits { account_timeout: Duration::from_secs(waits.account_timeout) };
            let saved = if is_saved_plan(plan) { Some(load_saved(plan)?) } else { None };
            let (desired, plan_path) = match &saved {
                Some(doc) => saved_desired(plan, doc)?,
                None => (load(plan)?, plan.clone()),
            };
            let aws = Aws::load(conn.profile.as_deref(), &desired.home_region, conn.region.as_deref()).await?;
            // The lease before the first read: a plan read under it cannot be
            // stale against another run's writes.
            let hold = waits.account_timeout + LEASE_MARGIN;
            let lease = interruptible(take_lease(&aws, force_unlock.as_deref(), hold, &rep), &rep).await?;
            let work = async {
                match &saved {
                    Some(doc) => {
                        apply_saved(&aws, plan, doc, &plan_path, &desired, waits, *allow_admin_change, &rep).await
                    }
                    None => {
                        apply_file(&aws, &cli, &plan_path, &desired, waits, *auto_approve, *allow_admin_change, &rep)
                            .await
                    }
                }
            };
            let result = interruptible(work, &rep).await;
            if let Some(lease) = lease {
                lease.release(&rep).await;
            }
            result
        }
    }
}

/// How long the apply lease holds beyond the wait for new accounts, should its
/// holder die without releasing it (a run on the same machine breaks it at once).
const LEASE_MARGIN: Duration = Duration::from_secs(2 * 3600);

/// Take the apply lease (see `lease`), with the management account's
/// credentials. None when there is nothing to lock yet (no organization) or the
/// credentials are not the management account's (the plan then says so, as a
/// blocker, before any write).
async fn take_lease(
    aws: &Aws,
    force_unlock: Option<&str>,
    hold: Duration,
    rep: &Reporter,
) -> Result<Option<crate::lease::Lease>> {
    let unknown = crate::aws::Site { account: "(caller)".into(), region: aws.region.clone() };
    rep.debug("sts:GetCallerIdentity, organizations:DescribeOrganization (for the apply lock)");
    let (who, org) =
        tokio::join!(aws.sts().get_caller_identity().send(), aws.organizations().describe_organization().send());
    let who = who.map_err(|e| {
        crate::aws::call_error(
            e,
            "sts",
            "GetCallerIdentity",
            &unknown,
            "finding out which account the credentials belong to",
        )
    })?;
    let caller = who.account().unwrap_or_default();
    let org = match org {
        Ok(out) => out.organization().cloned(),
        // No organization yet: the first apply creates it, with nothing to lock.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_aws_organizations_not_in_use_exception()) => None,
        Err(e) => {
            let site = crate::aws::Site { account: caller.to_string(), region: aws.region.clone() };
            return Err(crate::aws::call_error(
                e,
                "organizations",
                "DescribeOrganization",
                &site,
                "reading the organization (for the apply lock)",
            )
            .into());
        }
    };
    // Not the management account, or an organization without all features: the
    // plan says so as a blocker before any write, so there is nothing to lock.
    let Some(org) = org.filter(|o| o.master_account_id() == Some(caller)) else { return Ok(None) };
    if org.feature_set().is_some_and(|f| f.as_str() != "ALL") {
        return Ok(None);
    }
    let req = crate::lease::Request { who: who.arn().unwrap_or(caller), hold, force_unlock };
    crate::lease::take(aws, caller, req, rep).await
}

/// Run `work`; on Ctrl-C stop it, and say what is still running at AWS and that
/// a rerun continues safely.
async fn interruptible<T>(work: impl std::future::Future<Output = Result<T>>, rep: &Reporter) -> Result<T> {
    tokio::select! {
        out = work => out,
        _ = tokio::signal::ctrl_c() => {
            let running = rep.still_running();
            let at_aws = if running.is_empty() {
                "nothing sra started is still running at AWS".to_string()
            } else {
                format!("still running at AWS: {}", running.join("; "))
            };
            Err(hinted(
                format!("interrupted: sra stopped before its next call; {at_aws}"),
                "rerun the same `sra apply` to continue: it reads live state again and picks up where this run stopped",
            ))
        }
    }
}

/// A saved plan's desired state and its plan file's path (relative to the saved plan).
fn saved_desired(saved: &Path, doc: &PlanDocument) -> Result<(Desired, PathBuf)> {
    let plan_path = saved.parent().unwrap_or(Path::new("")).join(&doc.plan_file.path);
    let desired = doc.desired().map_err(|e| {
        hinted(
            format!("cannot apply {}: {e}", saved.display()),
            "run `sra plan --out` again and have the new plan reviewed",
        )
    })?;
    Ok((desired, plan_path))
}

/// Apply a plan file: show the plan, ask, then make its changes.
#[allow(clippy::too_many_arguments)]
async fn apply_file(
    aws: &Aws,
    cli: &Cli,
    plan: &Path,
    desired: &Desired,
    waits: Waits,
    auto_approve: bool,
    allow_admin_change: bool,
    rep: &Reporter,
) -> Result<ExitCode> {
    let lock = read_lock(plan, rep);
    let computed = compute(aws, desired, lock.as_ref(), Reader::Apply, rep).await?;
    let doc = computed.document(&plan.display().to_string(), desired);
    print!("{}", render::human::plan(&doc, style(cli)));
    check_blockers(&computed.plan)?;
    check_destructive(&computed.plan, allow_admin_change)?;
    if !computed.plan.has_changes() {
        record_lock(plan, &computed.plan, rep);
        return Ok(ExitCode::from(EXIT_OK));
    }
    if !auto_approve {
        confirm().await?;
    }
    execute(aws, plan, desired, &computed.plan, waits, rep).await
}

/// Apply a saved plan: only if the plan file and the live state it was computed
/// from are unchanged; then exactly its changes.
#[allow(clippy::too_many_arguments)]
async fn apply_saved(
    aws: &Aws,
    saved: &Path,
    doc: &PlanDocument,
    plan_path: &Path,
    desired: &Desired,
    waits: Waits,
    allow_admin_change: bool,
    rep: &Reporter,
) -> Result<ExitCode> {
    // The saved plan is what was reviewed: its values run, whatever the file says now.
    if let Ok(now) = load(plan_path)
        && now.digest() != doc.plan_file.digest
    {
        rep.progress(format!(
            "note: {} changed since {} was saved; applying the saved plan's values, as reviewed \
             (plan the file again to apply the edit)",
            plan_path.display(),
            saved.display()
        ));
    }
    let lock = read_lock(plan_path, rep);
    let computed = compute(aws, desired, lock.as_ref(), Reader::Apply, rep).await?;
    if let (Some(made_for), Some(live)) = (&doc.organization_id, &computed.plan.organization_id)
        && made_for != live
    {
        return Err(hinted(
            format!(
                "{} was made for organization {made_for}, but these credentials are in organization {live}",
                saved.display()
            ),
            "use the management account's credentials of the organization the plan was made for, or plan this one",
        ));
    }
    let now = computed.document(&doc.plan_file.path, desired);
    let stale = doc.stale_against(&now);
    if !stale.is_empty() {
        return Err(hinted(
            format!("live state changed since {} was saved: {}", saved.display(), stale.join(", ")),
            "run `sra plan --out` again and have the new plan reviewed",
        ));
    }
    check_blockers(&computed.plan)?;
    check_destructive(&computed.plan, allow_admin_change)?;
    if !computed.plan.has_changes() {
        record_lock(plan_path, &computed.plan, rep);
        println!("No changes. Live state matches the plan.");
        return Ok(ExitCode::from(EXIT_OK));
    }
    execute(aws, plan_path, desired, &computed.plan, waits, rep).await
}

/// The plan file's JSON Schema beside it, for the `#:schema` line `sra init`
/// writes; a file already there is left alone (it only helps editors).
fn write_schema_beside(plan: &Path, rep: &Reporter) {
    let path = plan.parent().unwrap_or(Path::new("")).join(crate::init::SCHEMA_FILE);
    if path.exists() {
        return;
    }
    let schema = serde_json::to_string_pretty(&crate::plan_file::schema::schema()).unwrap_or_default() + "\n";
    match std::fs::write(&path, schema) {
        Ok(()) => rep.progress(format!("wrote {} for editors (the plan file's #:schema line)", path.display())),
        Err(e) => rep.progress(format!("could not write {} (it only helps editors): {e}", path.display())),
    }
}

/// The plan file's lock file, if there is a usable one: a broken one is only a
/// shortcut lost, never an error.
fn read_lock(plan: &Path, rep: &Reporter) -> Option<Lock> {
    crate::lock::read(plan).unwrap_or_else(|e| {
        rep.progress(format!("ignoring the lock file {e}"));
        None
    })
}

/// Record the ids of the plan's accounts in the lock file, once both exist.
fn record_lock(plan_path: &Path, p: &Plan, rep: &Reporter) {
    let (Some(org), Some(st), Some(la)) =
        (p.organization_id.clone(), p.ids.security_tooling.clone(), p.ids.log_archive.clone())
    else {
        return;
    };
    let lock = Lock {
        organization_id: org,
        accounts: [(AccountRole::SecurityTooling, st), (AccountRole::LogArchive, la)].into(),
    };
    record_lock_file(plan_path, &lock, rep);
}

fn record_lock_file(plan_path: &Path, lock: &Lock, rep: &Reporter) {
    match crate::lock::write(plan_path, lock) {
        Ok(Some(path)) => {
            rep.progress(format!("recorded the account ids in {}; commit it beside the plan file", path.display()))
        }
        Ok(None) => {}
        Err(e) => rep.progress(format!("could not write the lock file (it only saves time): {e}")),
    }
}

async fn execute(
    aws: &Aws,
    plan_path: &Path,
    desired: &Desired,
    plan: &Plan,
    waits: Waits,
    rep: &Reporter,
) -> Result<ExitCode> {
    let sessions = Sessions::new(aws.clone(), plan.caller_account.clone(), desired.access_role.clone());
    let done = apply::apply(plan, desired, &sessions, waits, rep).await?;
    rep.progress("checking that live state now matches the plan");
    let lock = read_lock(plan_path, rep);
    let after =
        compute(aws, desired, lock.as_ref(), Reader::Apply, rep).await.context("re-reading live state after apply")?;
    record_lock(plan_path, &after.plan, rep);
    if after.plan.has_changes() {
        let left: Vec<String> = after
            .plan
            .changes
            .iter()
            .filter(|c| c.action != crate::engine::plan::Action::NoOp)
            .map(|c| c.address.to_string())
            .collect();
        return Err(hinted(
            format!("apply ran {} steps but live state still differs from the plan: {}", done.steps, left.join(", ")),
            "run `sra plan` to see what differs; AWS may still be propagating a change, so rerunning apply is safe",
        ));
    }
    if let Some(root) = after.root_id.as_deref() {
        organizations::record_applied(&sessions, root, &desired.digest()).await?;
    }
    let s = plan.summary();
    println!("Apply complete: {} created, {} updated; live state matches the plan.", s.create, s.update);
    Ok(ExitCode::from(EXIT_OK))
}

/// An earlier `sra posture --format json`, for `--compare`.
fn load_posture(path: &Path) -> Result<sra_core::posture::PostureDocument> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| hinted(format!("cannot read {}: {e}", path.display()), "check the path"))?;
    serde_json::from_str(&text).map_err(|e| {
        hinted(
            format!("{} is not the JSON of sra posture: {e}", path.display()),
            "give --compare the output of an earlier `sra posture PLAN --format json`",
        )
    })
}

fn is_saved_plan(path: &Path) -> bool {
    std::fs::read_to_string(path).ok().is_some_and(|t| looks_like_json(&t))
}

fn load_saved(path: &Path) -> Result<PlanDocument> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| hinted(format!("cannot read the saved plan {}: {e}", path.display()), "check the path"))?;
    if !looks_like_json(&text) {
        return Err(hinted(
            format!("{} is a plan file (TOML), not a saved plan (JSON)", path.display()),
            format!(
                "plan it with `sra plan {0}`, or save a plan to show with `sra plan {0} --out plan.json`",
                path.display()
            ),
        ));
    }
    let not_ours = |e: serde_json::Error| {
        hinted(
            format!("{} is not a plan saved by this sra: {e}", path.display()),
            "save one with `sra plan PLAN --out FILE`",
        )
    };
    // The version first: an older document also lacks fields this one requires.
    let version = serde_json::from_str::<serde_json::Value>(&text).map_err(not_ours)?["format_version"].as_u64();
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(hinted(
            format!(
                "{} has plan format version {}; this sra reads {FORMAT_VERSION}",
                path.display(),
                version.map_or("(none)".to_string(), |v| v.to_string())
            ),
            "save the plan again with this sra",
        ));
    }
    let doc: PlanDocument = serde_json::from_str(&text).map_err(|e| {
        hinted(
            format!("{} is not a plan saved by this sra: {e}", path.display()),
            "save one with `sra plan PLAN --out FILE`",
        )
    })?;
    Ok(doc)
}

fn check_blockers(p: &Plan) -> Result<()> {
    match p.blockers.first() {
        None => Ok(()),
        Some(b) => Err(hinted(format!("cannot plan: {}", b.message), b.hint.clone())),
    }
}

fn check_destructive(p: &Plan, allowed: bool) -> Result<()> {
    if p.destructive.is_empty() || allowed {
        return Ok(());
    }
    Err(hinted(
        format!(
            "refusing destructive changes: {}",
            p.destructive.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        ),
        "another account administers the service now: check with its owners, then rerun with --allow-admin-change",
    ))
}

/// Ask for "yes". The answer is read on a thread of its own, so that Ctrl-C at
/// the prompt is seen (see `interruptible`).
async fn confirm() -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(hinted(
            "refusing to apply without confirmation: standard input is not a terminal",
            "review the plan above, then rerun with --auto-approve",
        ));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    let _ = err.flush();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer).map(|_| answer);
        let _ = tx.send(read);
    });
    let answer = rx.await.map_err(|_| anyhow::anyhow!("reading the answer failed"))??;
    if answer.trim() != "yes" {
        return Err(hinted("apply cancelled: nothing was changed", "answer 'yes' to apply, or use --auto-approve"));
    }
    Ok(())
}
