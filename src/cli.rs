//! Command-line interface: argument definitions and the commands' bodies.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::aws::{Aws, Sessions, hinted};
use crate::engine::{apply, diff::diff, plan::Plan};
use crate::model::Desired;
use crate::render::{self, human::Style};
use crate::report::Reporter;
use crate::services::organizations::{self, Waits};
use crate::services::{guardrails, log_archive};

#[derive(Parser, Debug)]
#[command(
    name = "sra",
    version,
    about = "Set up and keep the AWS Security Reference Architecture in an organization, from one reviewed plan file"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// AWS profile for the management account's credentials (as in the AWS CLI)
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Never colour output (NO_COLOR is honoured too)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Log each AWS call to stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a plan file offline; no AWS call is made
    Validate {
        /// The plan file (TOML)
        plan: PathBuf,
    },
    /// Show what apply would change: live state against the plan file
    Plan {
        plan: PathBuf,
        /// Exit 2 when there are changes, 0 when there are none, 1 on error
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Show the plan, ask for confirmation, and make the changes
    Apply {
        plan: PathBuf,
        /// Apply without asking (for automation)
        #[arg(long)]
        auto_approve: bool,
        #[command(flatten)]
        waits: WaitArgs,
    },
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// How long to wait for AWS to create an account, in seconds
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    pub account_timeout: u64,
}

/// Exit codes of the contract.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;

/// Read and validate a plan file; the error is the rendered list of problems.
pub fn load(path: &Path) -> Result<Desired> {
    let src = std::fs::read_to_string(path).map_err(|e| {
        hinted(
            format!("cannot read plan file {}: {e}", path.display()),
            "check the path; plans/example.toml shows every option",
        )
    })?;
    crate::plan_file::parse(&src).map_err(|diags| {
        let text = crate::diag::render(&path.display().to_string(), &src, &diags);
        anyhow::Error::new(PlanFileInvalid(text))
    })
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
    Style {
        color: render::use_color(
            cli.no_color,
            std::env::var_os("NO_COLOR"),
            std::io::stdout().is_terminal(),
        ),
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let rep = Reporter::new(cli.verbose);
    match &cli.command {
        Command::Validate { plan } => {
            let desired = load(plan)?;
            println!(
                "{}: valid (home region {}, {} governed region{}, accounts: {})",
                plan.display(),
                desired.home_region,
                desired.governed_regions.len(),
                if desired.governed_regions.len() == 1 { "" } else { "s" },
                desired
                    .accounts
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Plan {
            plan,
            detailed_exitcode,
        } => {
            let desired = load(plan)?;
            let aws = Aws::load(cli.profile.as_deref(), &desired.home_region).await;
            let p = compute(&aws, &desired, &rep).await?;
            print!("{}", render::human::plan(&p, style(&cli)));
            check_blockers(&p)?;
            Ok(ExitCode::from(if *detailed_exitcode && p.has_changes() {
                EXIT_CHANGES
            } else {
                EXIT_OK
            }))
        }
        Command::Apply {
            plan,
            auto_approve,
            waits,
        } => {
            let desired = load(plan)?;
            let aws = Aws::load(cli.profile.as_deref(), &desired.home_region).await;
            let p = compute(&aws, &desired, &rep).await?;
            print!("{}", render::human::plan(&p, style(&cli)));
            check_blockers(&p)?;
            if !p.has_changes() {
                return Ok(ExitCode::from(EXIT_OK));
            }
            if !auto_approve {
                confirm()?;
            }
            let waits = Waits {
                account_timeout: Duration::from_secs(waits.account_timeout),
            };
            let sessions = Sessions::new(aws.clone(), p.caller_account.clone(), desired.access_role.clone());
            let done = apply::apply(&p, &desired, &sessions, waits, &rep).await?;
            rep.progress("checking that live state now matches the plan");
            let after = compute(&aws, &desired, &rep)
                .await
                .context("re-reading live state after apply")?;
            if after.has_changes() {
                let left: Vec<String> = after
                    .changes
                    .iter()
                    .filter(|c| c.action != crate::engine::plan::Action::NoOp)
                    .map(|c| c.address.to_string())
                    .collect();
                return Err(hinted(
                    format!(
                        "apply ran {} steps but live state still differs from the plan: {}",
                        done.steps,
                        left.join(", ")
                    ),
                    "run `sra plan` to see what differs; AWS may still be propagating a change, so rerunning apply is safe",
                ));
            }
            let s = p.summary();
            println!(
                "Apply complete: {} created, {} updated; live state matches the plan.",
                s.create, s.update
            );
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}

async fn compute(aws: &Aws, desired: &Desired, rep: &Reporter) -> Result<Plan> {
    rep.progress("reading live state");
    let mut observed = organizations::observe(aws, desired, rep).await?;
    let plan = diff(desired, &observed);
    if !plan.blockers.is_empty() {
        return Ok(plan);
    }
    let sessions = Sessions::new(
        aws.clone(),
        observed.caller_account.clone(),
        desired.access_role.clone(),
    );
    observed.log_archive = log_archive::observe(&sessions, &desired.log_archive, &plan.ids, rep).await?;
    if desired.guardrails.enabled && observed.organization.is_some() {
        let root = observed.organization.as_ref().map(|o| o.root_id.clone());
        let mut targets: Vec<String> = root.into_iter().collect();
        targets.extend(
            desired
                .guardrail_ous()
                .iter()
                .filter_map(|p| observed.ous.get(p).cloned()),
        );
        observed.guardrails = guardrails::observe(&sessions, &targets, rep).await?;
    }
    Ok(diff(desired, &observed))
}

fn check_blockers(p: &Plan) -> Result<()> {
    match p.blockers.first() {
        None => Ok(()),
        Some(b) => Err(hinted(format!("cannot plan: {}", b.message), b.hint.clone())),
    }
}

fn confirm() -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(hinted(
            "refusing to apply without confirmation: standard input is not a terminal",
            "review the plan above, then rerun with --auto-approve",
        ));
    }
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\nDo you want to perform these actions? Only 'yes' will be accepted: "
    );
    let _ = err.flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        return Err(hinted(
            "apply cancelled: nothing was changed",
            "answer 'yes' to apply, or use --auto-approve",
        ));
    }
    Ok(())
}
