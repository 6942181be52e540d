use std::process::ExitCode;

use clap::Parser;
use sra::cli::{Cli, EXIT_ERROR, PlanFileInvalid};

fn main() -> ExitCode {
    // A usage error exits 1 like any other error: 2 means "changes present" to
    // `--detailed-exitcode` (and to CI gates), so a mistyped flag must not read as it.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    if cli.verbosity() >= 2 {
        // -vv: the SDK's own log of each attempt, retry and credential refresh.
        use tracing_subscriber::prelude::*;
        let targets = tracing_subscriber::filter::Targets::new()
            .with_target("aws_smithy_runtime::client::retries", tracing::Level::DEBUG)
            .with_target("aws_smithy_runtime::client::orchestrator", tracing::Level::DEBUG)
            .with_target("aws_config", tracing::Level::INFO);
        let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false).with_target(true);
        tracing_subscriber::registry().with(layer.with_filter(targets)).init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    // Boxed: the command's future is large (every subcommand's state), too large
    // to sit on the main thread's stack in a debug build.
    match runtime.block_on(Box::pin(sra::cli::run(cli))) {
        Ok(code) => code,
        Err(err) => {
            if let Some(invalid) = err.downcast_ref::<PlanFileInvalid>() {
                eprintln!("{invalid}");
            } else {
                eprintln!("error: {err:#}");
                if let Some(hint) = sra::aws::hint_of(&err) {
                    eprintln!("  hint: {hint}");
                }
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}
